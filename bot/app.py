"""The composition root: open storage, load the territory, build the router and dispatcher.

This is the one place where features are composed and dependencies handed out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot import backups
from bot.dispatcher import Dispatcher, Transport
from bot.i18n import Renderer
from bot.settings import LANGUAGES, Settings
from flows.beneficiary import BeneficiaryConfig
from flows.messages import Outgoing, UserKey, platform_of
from flows.sms_text import SmsConfig
from flows.territory import Territory
from flows.text import Msg
from flows.workshops import ReminderPolicy
from handlers import access as access_handlers
from handlers import (
    beneficiary_jobs,
    beneficiary_nearby,
    bookings,
    coordination,
    devices,
    donations,
    handover,
    help_relay,
    home,
    impact,
    joining,
    mail,
    maintenance,
    payments,
    place_tools,
    privacy,
    public_sale,
    reconditioning,
    requests,
    sms_people,
    transfers,
    warranty,
)
from handlers.core import Core, CoreConfig
from handlers.emails import check_email
from handlers.phones import check_french_phone
from handlers.session import Env, Feature
from storage import territory as territory_store
from storage.db import start_failure
from storage.demo import seed_demo
from storage.engines import AnyDatabase, open_database, shown
from storage.sqlite import SqliteStorage

if TYPE_CHECKING:
    from bot.mail import MailSender
    from bot.metrics import Metrics

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """Everything a running bot is made of; adapters only need ``core`` and ``dispatcher``."""

    settings: Settings
    db: AnyDatabase
    storage: SqliteStorage
    renderer: Renderer
    core: Core
    dispatcher: Dispatcher
    metrics: Metrics | None = None
    """What the process counts, for ``/metrics``: only when the web server is on."""
    mail: MailSender | None = None
    """Sends the e-mails queued (``bot/mail.py``): only when an SMTP relay is configured."""

    async def close(self) -> None:
        await self.db.close()


FEATURES = (home, access_handlers, requests, joining, bookings, help_relay, place_tools,
            beneficiary_jobs, beneficiary_nearby, donations, devices, reconditioning, handover,
            maintenance, coordination, privacy, mail, sms_people, payments, public_sale, impact,
            warranty, transfers)
"""Every feature module of the bot; each has ``feature(env)`` (no two declare the same
action, command or effect)."""


def features(env: Env) -> list[Feature]:
    return [module.feature(env) for module in FEATURES]


def environment(settings: Settings, territory: Territory) -> Env:
    """What the features read from the settings, once."""
    return Env(
        territory=territory,
        coordinators=tuple(settings.coordinators),
        timezone=settings.timezone,
        access_requests_kept=timedelta(days=settings.access_request_retention_days),
        conversation_ttl=settings.conversation_ttl,
        beneficiaries=BeneficiaryConfig(
            policy=ReminderPolicy(settings.reminder_offsets, settings.quiet_hours,
                                  settings.timezone),
            code_validity=timedelta(days=settings.join_code_days),
            telegram_bot=settings.telegram_bot_username,
            booklet_url=settings.booklet_url,
            retention=timedelta(days=settings.beneficiary_retention_days),
            path_length=settings.workshop_path,
            reminders_every=timedelta(seconds=settings.reminders_every_seconds),
        ),
        public_url=settings.public_url,
        mail=settings.smtp is not None,
        sms=SmsConfig(settings.sms.sender) if settings.sms is not None else None,
        warranty_months=settings.warranty_months,
        money=settings.money,
        transfer_days=settings.transfer_days,
    )


async def build(
    settings: Settings,
    transports: dict[str, Transport],
    *,
    database: Path | str | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> App:
    """Open the database (migrating it), load the territory and demo data, wire everything.

    Raises :class:`storage.db.CannotOpen` when the database cannot be written at start, or
    is damaged.
    """
    target = database or settings.database
    db = await open_database(target)
    storage = SqliteStorage(db, frozenset(settings.coordinators))
    try:
        async with db.transaction() as conn:
            if not await territory_store.is_loaded(conn):
                count = await territory_store.replace_territory(
                    conn, territory_store.shipped_territory(), clock()
                )
                log.info("territory loaded: %s communes", count)
        if settings.demo:
            async with storage.transaction() as uow:
                if await seed_demo(uow, clock(), settings.timezone):
                    log.info("demo data seeded")
        territory = await territory_store.load_territory(db.conn)
    except Exception as exc:
        # Locked past the busy timeout, full, or a file whose pages are damaged: one line
        # for the operator. Anything else is a bug and keeps its traceback.
        failure = start_failure(shown(target), exc)
        if failure is None:
            raise
        await db.close()
        raise failure from exc
    renderer = Renderer(LANGUAGES, settings.default_lang, settings.timezone)
    metrics = None
    if settings.web is not None:  # (prometheus_client is imported only then)
        from bot.metrics import Metrics

        metrics = Metrics()
    dispatcher = Dispatcher(storage, renderer, transports, clock, metrics)
    async def tell_directly(to: UserKey, text: Msg, lang: str) -> None:
        """When the database cannot take a write, the outbox cannot either: say it now."""
        transport = transports.get(platform_of(to))
        if transport is None:
            return
        try:
            await transport.send(renderer.render(Outgoing(to, (text,)), lang))
        except Exception:
            log.warning("could not tell %s that the service is unavailable", to, exc_info=True)

    core = Core(
        storage,
        territory,
        CoreConfig(
            coordinators=settings.coordinators,
            default_lang=settings.default_lang,
            languages=LANGUAGES,
            conversation_ttl=settings.conversation_ttl,
            timezone=settings.timezone,
        ),
        [*features(environment(settings, territory)), backups.feature(settings, target)],
        clock=clock,
        translator=renderer.translator,
        check_phone=check_french_phone,
        check_email=check_email,
        wake=dispatcher.wake,
        unavailable=tell_directly,
        copies=mail.copy_notices if settings.smtp is not None else None,
    )
    sender = None
    if settings.smtp is not None:  # (aiosmtplib is imported only then)
        from bot.mail import MailSender, SmtpRelay

        sender = MailSender(storage, renderer, SmtpRelay(settings.smtp), settings.smtp.sender,
                            settings.coordinators, clock, dispatcher.wake)
    return App(settings, db, storage, renderer, core, dispatcher, metrics, sender)
