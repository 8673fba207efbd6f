"""Settings, read once at start from the environment and an optional ``.env`` file.

Every variable is documented in ``.env.example``. A missing or malformed value raises
:class:`SettingsError` with one line naming the variable and what is expected; the entry point
prints it and exits with status 2, without a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.messages import UserKey, is_user_key
from flows.payments import VAT_MENTION, MoneyConfig, WhenEmpty
from flows.workshops import (
    DEFAULT_OFFSETS,
    DEFAULT_QUIET_HOURS,
    DEFAULT_REMINDERS,
    Offset,
    QuietHours,
    parse_offsets,
)
from handlers.phones import check_french_phone

LANGUAGES = ("fr", "en")


class SettingsError(Exception):
    """One setting is missing or malformed; the message names it and what is expected."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    webhook_url: str | None
    webhook_secret: str | None
    api_base_url: str | None
    # Adapter details; see _telegram_details.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    messages_per_second: float = 30.0
    chat_messages_per_second: float = 1.0


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user_id: str
    access_token: str | None
    password: str | None
    device_name: str
    # Adapter details; see _matrix_details.
    store_path: Path = Path("var/matrix")
    messages_per_second: float = 5.0


@dataclass(frozen=True)
class SmsSettings:
    """SMS Gateway for Android (the network's own phone and SIM), through its REST API."""

    gateway_url: str
    """The API's root: ``http://<phone>:8080`` (the app's local server) or
    ``https://api.sms-gate.app/3rdparty/v1`` (its cloud, or a private server's)."""
    login: str | None
    password: str
    """With ``login``: Basic authentication; alone: a JWT token."""
    webhook_secret: str
    """The app's webhook signing key: every incoming SMS is checked with it."""
    sender: str | None = None
    """The network's SMS number (E.164), shown to staff."""
    webhook_url: str | None = None
    """Where the gateway posts incoming SMS; registered at start when set."""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8444
    check_seconds: int = 30
    """How often the gateway is asked how the SMS sent went."""


@dataclass(frozen=True)
class WebSettings:
    """The public pages, health and metrics server (``bot/web.py``)."""

    port: int
    listen: str = "127.0.0.1"
    proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"})
    """Peers whose ``X-Forwarded-For`` is believed (the reverse proxy): the client address
    the pages' rate limit counts is then the one the proxy saw."""


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP relay e-mails go through (``bot/mail.py``); absent: e-mail is off."""

    host: str
    port: int
    security: str
    """``starttls`` (the submission port, 587), ``tls`` (implicit TLS, 465) or ``none`` (a
    relay on this machine)."""
    sender: str
    """The From address, which also gets the relay's late bounces."""
    user: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    """Certificates to trust for the relay, besides the system's (a network's own CA)."""
    timeout: float = 30.0


SMTP_SECURITY = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class Settings:
    database: Path | str
    """An SQLite file, or a ``postgresql://`` URL."""
    coordinators: tuple[UserKey, ...]
    default_lang: str
    timezone: ZoneInfo
    conversation_ttl: timedelta
    telegram: TelegramSettings | None
    matrix: MatrixSettings | None
    demo: bool
    log_level: str
    # After-donation service (beneficiaries, workshops); see _service_settings.
    reminder_offsets: tuple[Offset, ...] = DEFAULT_REMINDERS
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    join_code_days: int = 30
    telegram_bot_username: str | None = None
    booklet_url: str | None = None
    warranty_months: int = 6
    transfer_days: int = 7
    beneficiary_retention_days: int = 183
    workshop_path: int = 7
    """Workshops in a beneficiary's getting-started path ("3 ateliers sur 7")."""
    reminders_every_seconds: int = 300
    access_request_retention_days: int = 90
    # Operations; see _operation_settings.
    backup_dir: Path | None = None
    backup_keep: int = 14
    pg_bindir: Path | None = None
    web: WebSettings | None = None
    """The web server; ``None`` (no ``FILIERE_WEB_PORT``): off."""
    public_url: str | None = None
    """Where people reach the pages (``FILIERE_WEB_BASE_URL``): certificates then carry a QR
    code and a link to their check."""
    smtp: SmtpSettings | None = None
    """The e-mail relay; ``None`` (no ``SMTP_HOST``): no e-mail is queued or sent."""
    sms: SmsSettings | None = None
    """The SMS gateway; ``None`` (no ``SMS_GATEWAY_URL``): no SMS."""
    money: MoneyConfig = field(default_factory=MoneyConfig)
    """Receipts' legal mentions, the solidarity fund's warnings, the mediation rate."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Read ``KEY=value`` lines (``#`` comments, optional quotes); no variable expansion."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        return values
    except OSError as exc:  # unreadable by this user: the settings would be silently wrong
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                            f"offset {exc.start})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Build the settings; the process environment wins over ``.env``."""
    merged: dict[str, str] = read_dotenv(dotenv) if dotenv else {}
    merged.update(os.environ if env is None else env)

    def get(name: str, default: str | None = None) -> str | None:
        value = merged.get(name, "").strip()
        return value or default

    named = get("FILIERE_DATABASE", "var/filiere.sqlite3") or ""
    database: Path | str = named if named.startswith(("postgresql://", "postgres://")) \
        else Path(named)

    coordinators: list[UserKey] = []
    for item in (get("FILIERE_COORDINATORS", "cli:coord") or "").split(","):
        item = item.strip()
        if not item:
            continue
        if not is_user_key(item):
            raise SettingsError(
                f"FILIERE_COORDINATORS: {item!r} is not a user key; expected a comma-separated "
                "list like tg:123456,mx:@ana:example.org,cli:coord"
            )
        coordinators.append(UserKey(item))

    lang = get("FILIERE_DEFAULT_LANGUAGE", "fr") or "fr"
    if lang not in LANGUAGES:
        raise SettingsError(f"FILIERE_DEFAULT_LANGUAGE: expected one of {', '.join(LANGUAGES)}, "
                            f"got {lang!r}")

    tz_name = get("FILIERE_TIMEZONE", "Europe/Paris") or "Europe/Paris"
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"FILIERE_TIMEZONE: {tz_name!r} is not a time zone; expected e.g. Europe/Paris"
        ) from None

    ttl_text = get("FILIERE_CONVERSATION_TTL_HOURS", "24") or "24"
    if not ttl_text.isdigit() or not 1 <= int(ttl_text) <= 24 * 30:
        raise SettingsError(
            f"FILIERE_CONVERSATION_TTL_HOURS: expected whole hours between 1 and 720, "
            f"got {ttl_text!r}"
        )

    telegram = None
    token = get("TELEGRAM_BOT_TOKEN")
    if token:
        head, sep, tail = token.partition(":")
        if not (sep and head.isdigit() and len(tail) >= 20):
            raise SettingsError("TELEGRAM_BOT_TOKEN: expected the token given by @BotFather, "
                                "like 123456789:AAE...")
        webhook = get("TELEGRAM_WEBHOOK_URL")
        if webhook and not webhook.startswith("https://"):
            raise SettingsError("TELEGRAM_WEBHOOK_URL: expected an https:// URL")
        secret = get("TELEGRAM_WEBHOOK_SECRET")
        if webhook and not secret:
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL "
                                "(1-256 characters A-Z a-z 0-9 _ -)")
        telegram = TelegramSettings(token, webhook, secret, get("TELEGRAM_API_BASE_URL"),
                                    **_telegram_details(get))

    matrix = None
    homeserver = get("MATRIX_HOMESERVER")
    if homeserver:
        if not homeserver.startswith(("https://", "http://")):
            raise SettingsError("MATRIX_HOMESERVER: expected a URL like https://matrix.example.org")
        user_id = get("MATRIX_USER_ID")
        if not user_id or not user_id.startswith("@") or ":" not in user_id:
            raise SettingsError("MATRIX_USER_ID: expected a full Matrix id like "
                                "@filiere-bot:example.org")
        access_token, password = get("MATRIX_ACCESS_TOKEN"), get("MATRIX_PASSWORD")
        if not access_token and not password:
            raise SettingsError("MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD: one is required with "
                                "MATRIX_HOMESERVER")
        matrix = MatrixSettings(homeserver, user_id, access_token, password,
                                get("MATRIX_DEVICE_NAME", "filiere-bot") or "filiere-bot",
                                **_matrix_details(get))

    sms = _sms_settings(get)
    if (sms is not None and telegram is not None and telegram.webhook_url
            and (telegram.webhook_listen, telegram.webhook_port)
            == (sms.webhook_listen, sms.webhook_port)):
        raise SettingsError("SMS_WEBHOOK_PORT: the Telegram webhook already listens on "
                            f"{sms.webhook_listen}:{sms.webhook_port}; give SMS another port")

    demo_text = (get("FILIERE_DEMO", "auto") or "auto").lower()
    if demo_text not in ("auto", "yes", "no"):
        raise SettingsError(f"FILIERE_DEMO: expected auto, yes or no, got {demo_text!r}")
    demo = demo_text == "yes" or (demo_text == "auto" and not telegram and not matrix
                                  and not sms)

    log_level = (get("FILIERE_LOG_LEVEL", "WARNING") or "WARNING").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError("FILIERE_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR")

    return Settings(
        database=database,
        coordinators=tuple(coordinators),
        default_lang=lang,
        timezone=timezone,
        conversation_ttl=timedelta(hours=int(ttl_text)),
        telegram=telegram,
        matrix=matrix,
        demo=demo,
        log_level=log_level,
        **_service_settings(get),
        **_operation_settings(get),
        **_web_settings(get, telegram, sms),
        smtp=_smtp_settings(get),
        sms=sms,
        money=_money_settings(get),
    )


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _smtp_settings(get: Callable[[str, str], str | None]) -> SmtpSettings | None:
    """The SMTP relay for e-mails: off unless ``SMTP_HOST`` is set."""
    host = get("SMTP_HOST", "") or None
    if host is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9.\-]+|\[?[0-9A-Fa-f:.]+\]?", host):
        raise SettingsError(f"SMTP_HOST: expected a host name like smtp.example.org, "
                            f"got {host!r}")
    host = host.strip("[]")
    security = (get("SMTP_SECURITY", "starttls") or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise SettingsError(f"SMTP_SECURITY: expected starttls, tls or none, got {security!r}")
    port_text = get("SMTP_PORT", str(SMTP_SECURITY[security])) or ""
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"SMTP_PORT: expected a TCP port, got {port_text!r}")
    sender = get("SMTP_FROM", "") or ""
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", sender):
        raise SettingsError("SMTP_FROM: required with SMTP_HOST, the address e-mails come "
                            f"from, like reemploi@example.org, got {sender!r}")
    user, password = get("SMTP_USER", "") or None, get("SMTP_PASSWORD", "") or None
    if (user is None) != (password is None):
        raise SettingsError("SMTP_USER and SMTP_PASSWORD: give both, or neither")
    if user is not None and security == "none" and host not in LOOPBACK:
        raise SettingsError("SMTP_SECURITY: none would send SMTP_PASSWORD in clear to "
                            f"{host}; use starttls or tls")
    ca_text = get("SMTP_CA_FILE", "") or None
    ca_file = None if ca_text is None else Path(ca_text)
    if ca_file is not None and not ca_file.is_file():
        raise SettingsError(f"SMTP_CA_FILE: no such file: {ca_text}")
    return SmtpSettings(host, int(port_text), security, sender, user, password, ca_file)


def _operation_settings(get: Callable[[str, str], str | None]) -> dict[str, Any]:
    """Backups: where the daily copy goes and how many are kept; PostgreSQL's tools."""
    backup_dir = get("FILIERE_BACKUP_DIR", "") or None
    pg_bindir = get("FILIERE_PG_BINDIR", "") or None
    if pg_bindir is not None and not Path(pg_bindir).is_absolute():
        raise SettingsError(f"FILIERE_PG_BINDIR: expected an absolute folder like "
                            f"/usr/lib/postgresql/15/bin, got {pg_bindir!r}")
    return {
        "backup_dir": None if backup_dir is None else Path(backup_dir),
        "backup_keep": _whole(get, "FILIERE_BACKUP_KEEP", 14, 3650),
        "pg_bindir": None if pg_bindir is None else Path(pg_bindir),
    }


def _whole(get: Callable[[str, str], str | None], name: str, default: int, high: int) -> int:
    text = get(name, str(default)) or str(default)
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise SettingsError(f"{name}: expected a whole number between 1 and {high}, "
                            f"got {text!r}")
    return int(text)


def _money_settings(get: Callable[[str, str], str | None]) -> MoneyConfig:
    """Receipts' legal mentions, the fund's warning threshold and what happens once it is
    empty, and what an hour of mediation costs (whole euros)."""
    when = get("FILIERE_FUND_WHEN_EMPTY", "waiting") or "waiting"
    try:
        when_empty = WhenEmpty(when)
    except ValueError:
        raise SettingsError("FILIERE_FUND_WHEN_EMPTY: expected waiting or next_tier, "
                            f"got {when!r}") from None
    default = MoneyConfig()
    return MoneyConfig(
        legal_name=(get("FILIERE_LEGAL_NAME", "") or default.legal_name).strip(),
        legal_address=(get("FILIERE_LEGAL_ADDRESS", "") or "").strip(),
        legal_id=(get("FILIERE_LEGAL_ID", "") or "").strip(),
        vat_mention=(get("FILIERE_VAT_MENTION", "") or VAT_MENTION).strip(),
        fund_low_cents=100 * _whole(get, "FILIERE_FUND_LOW_EUROS", 500, 1_000_000),
        when_empty=when_empty,
        mediation_cents_per_hour=100 * _whole(get, "FILIERE_MEDIATION_EUROS_PER_HOUR", 60,
                                              1000),
        reservation_days=_whole(get, "FILIERE_RESERVATION_DAYS", 3, 30),
    )


def _service_settings(get: Callable[[str, str], str | None]) -> dict[str, Any]:
    """Settings of the after-donation service: reminders, quiet hours, codes, retention."""
    offsets_text = get("FILIERE_REMINDER_OFFSETS", DEFAULT_OFFSETS) or DEFAULT_OFFSETS
    try:
        offsets = parse_offsets(offsets_text)
    except ValueError:
        raise SettingsError(
            f"FILIERE_REMINDER_OFFSETS: expected a comma-separated list like 2d,0d@08:00,3h "
            f"(days before at the session's time, days before at a time, hours or minutes "
            f"before), got {offsets_text!r}"
        ) from None
    quiet_text = get("FILIERE_QUIET_HOURS", "21:00-08:00") or "21:00-08:00"
    try:
        quiet = QuietHours.parse(quiet_text)
    except ValueError:
        raise SettingsError(f"FILIERE_QUIET_HOURS: expected HH:MM-HH:MM like 21:00-08:00, "
                            f"got {quiet_text!r}") from None
    username = (get("TELEGRAM_BOT_USERNAME", "") or "").removeprefix("@") or None
    if username is not None and not re.fullmatch(r"[A-Za-z0-9_]{5,32}", username):
        raise SettingsError("TELEGRAM_BOT_USERNAME: expected the bot's username given by "
                            "@BotFather, like filiere05_bot")
    booklet = get("FILIERE_BOOKLET_URL", "") or None
    if booklet is not None and not booklet.startswith(("https://", "http://")):
        raise SettingsError("FILIERE_BOOKLET_URL: expected an https:// link to the "
                            "getting-started booklet")
    return {
        "reminder_offsets": offsets,
        "quiet_hours": quiet,
        "join_code_days": _whole(get, "FILIERE_JOIN_CODE_DAYS", 30, 365),
        "telegram_bot_username": username,
        "booklet_url": booklet,
        "workshop_path": _whole(get, "FILIERE_WORKSHOP_PATH", 7, 30),
        # The warranty of a device handed over, printed on its handover kit.
        "warranty_months": _whole(get, "FILIERE_WARRANTY_MONTHS", 6, 60),
        # What a prescriber is told a volunteer driver takes to bring a device to their
        # place: an honest delay, not a promise (handlers/transfers.py).
        "transfer_days": _whole(get, "FILIERE_TRANSFER_DAYS", 7, 60),
        "beneficiary_retention_days": _whole(get, "FILIERE_BENEFICIARY_RETENTION_DAYS", 183,
                                             3650),
        # Who asked for an access that was refused or withdrawn: name, function, phone,
        # structure and address are blanked this long after the decision.
        "access_request_retention_days": _whole(get, "FILIERE_ACCESS_REQUEST_RETENTION_DAYS",
                                                90, 3650),
        # How often the reminders job looks for due reminders; its first run comes this long
        # after start. Shortened by the process-kill test, whose runs last a few seconds.
        "reminders_every_seconds": _whole(get, "FILIERE_REMINDERS_EVERY_SECONDS", 300, 3600),
    }


def _web_settings(get: Callable[[str, str], str | None], telegram: TelegramSettings | None,
                  sms: SmsSettings | None = None) -> dict[str, Any]:
    """The public pages' server: off unless ``FILIERE_WEB_PORT`` is set."""
    base = get("FILIERE_WEB_BASE_URL", "") or None
    if base is not None:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base):
            raise SettingsError("FILIERE_WEB_BASE_URL: expected the pages' public address, "
                                f"like https://reemploi.example.org, got {base!r}")
        base = base.rstrip("/")
    port_text = get("FILIERE_WEB_PORT", "") or ""
    if not port_text:
        return {"web": None, "public_url": base}
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"FILIERE_WEB_PORT: expected a TCP port, got {port_text!r}")
    listen = get("FILIERE_WEB_LISTEN", "127.0.0.1") or "127.0.0.1"
    proxies_text = get("FILIERE_WEB_PROXIES", "127.0.0.1,::1") or ""
    try:
        proxies = frozenset(str(ipaddress.ip_address(p.strip()))
                            for p in proxies_text.split(",") if p.strip())
    except ValueError:
        raise SettingsError("FILIERE_WEB_PROXIES: expected the reverse proxy's IP addresses, "
                            f"comma-separated, like 127.0.0.1,::1, got {proxies_text!r}") from None
    web = WebSettings(int(port_text), listen, proxies)
    if (telegram is not None and telegram.webhook_url and telegram.webhook_port == web.port
            and telegram.webhook_listen == web.listen):
        raise SettingsError("FILIERE_WEB_PORT: the Telegram webhook already listens on "
                            f"{web.listen}:{web.port}; give the pages another port (one "
                            "reverse proxy serves both under one address: see the README)")
    if sms is not None and sms.webhook_port == web.port and sms.webhook_listen == web.listen:
        raise SettingsError("FILIERE_WEB_PORT: the SMS webhook already listens on "
                            f"{web.listen}:{web.port}; give the pages another port")
    return {"web": web, "public_url": base}


def _rate(get: Callable[[str, str], str | None], name: str, default: float) -> float:
    text = get(name, str(default)) or str(default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1000:
        raise SettingsError(f"{name}: expected messages per second between 0 (no pacing) and "
                            f"1000, like {default}, got {text!r}")
    return value


def _telegram_details(get: Callable[[str, str], str | None]) -> dict[str, Any]:
    """Webhook listener and flood-limit pacing of the Telegram adapter."""
    port_text = get("TELEGRAM_WEBHOOK_PORT", "8443") or "8443"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"TELEGRAM_WEBHOOK_PORT: expected a TCP port, got {port_text!r}")
    return {
        "webhook_listen": get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1") or "127.0.0.1",
        "webhook_port": int(port_text),
        "messages_per_second": _rate(get, "TELEGRAM_MESSAGES_PER_SECOND", 30.0),
        "chat_messages_per_second": _rate(get, "TELEGRAM_CHAT_MESSAGES_PER_SECOND", 1.0),
    }


def _matrix_details(get: Callable[[str, str], str | None]) -> dict[str, Any]:
    """Where the Matrix session and keys are kept, and the bot's own pacing."""
    return {
        "store_path": Path(get("MATRIX_STORE_PATH", "var/matrix") or "var/matrix"),
        "messages_per_second": _rate(get, "MATRIX_MESSAGES_PER_SECOND", 5.0),
    }


def _sms_settings(get: Callable[[str, str], str | None]) -> SmsSettings | None:
    """SMS Gateway for Android: off unless ``SMS_GATEWAY_URL`` is set."""
    url = get("SMS_GATEWAY_URL", "") or None
    if url is None:
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise SettingsError("SMS_GATEWAY_URL: expected the gateway's API address, like "
                            "http://192.168.1.20:8080 (the phone's local server) or "
                            f"https://api.sms-gate.app/3rdparty/v1, got {url!r}")
    password = get("SMS_GATEWAY_PASSWORD", "") or None
    if password is None:
        raise SettingsError("SMS_GATEWAY_PASSWORD: required with SMS_GATEWAY_URL (the "
                            "password the app shows, or a JWT token without SMS_GATEWAY_LOGIN)")
    secret = get("SMS_WEBHOOK_SECRET", "") or None
    if secret is None:
        raise SettingsError("SMS_WEBHOOK_SECRET: required with SMS_GATEWAY_URL (the app's "
                            "Settings > Webhooks > Signing Key): unsigned SMS are refused")
    sender_text = get("SMS_SENDER_PHONE", "") or None
    sender = None
    if sender_text is not None:
        sender = check_french_phone(sender_text)
        if sender is None:
            raise SettingsError("SMS_SENDER_PHONE: expected the French mobile number of the "
                                f"gateway's SIM, like 06 12 34 56 78, got {sender_text!r}")
    hook = get("SMS_WEBHOOK_URL", "") or None
    if hook is not None and not re.fullmatch(r"https?://[^\s?#]+", hook):
        raise SettingsError("SMS_WEBHOOK_URL: expected the address the gateway posts incoming "
                            f"SMS to, like https://bot.example.org/sms, got {hook!r}")
    port_text = get("SMS_WEBHOOK_PORT", "8444") or "8444"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"SMS_WEBHOOK_PORT: expected a TCP port, got {port_text!r}")
    return SmsSettings(
        gateway_url=url.rstrip("/"), login=get("SMS_GATEWAY_LOGIN", "") or None,
        password=password, webhook_secret=secret, sender=sender, webhook_url=hook,
        webhook_listen=get("SMS_WEBHOOK_LISTEN", "127.0.0.1") or "127.0.0.1",
        webhook_port=int(port_text),
        check_seconds=_whole(get, "SMS_CHECK_SECONDS", 30, 3600),
    )
