"""One-time join codes: what place staff hand to a beneficiary with the computer.

A code is random, short and easy to copy by hand: six characters from an alphabet without
the look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B), after the fixed word ``REJ`` (for "réemploi").
It carries nothing about the person. It works once and expires (30 days by default).

Three spellings of the same code: ``REJ7K3M9P`` (canonical, stored, and the Telegram deep-link
parameter: letters and digits only), ``REJ 7K3 M9P`` (printed for people: the first word is a
command the router recognises when typed), and whatever a person types (case, spaces, dashes
and the ``REJ`` word are all optional when read back).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flows.records import PlaceId

PREFIX = "REJ"
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
"""25 symbols without look-alikes: 25**6 is about 2.4 * 10**8 codes."""
LENGTH = 6
DEFAULT_VALIDITY = timedelta(days=30)

_TYPED = re.compile(r"[^A-Z0-9]")


def new_code() -> str:
    """A fresh canonical code such as ``REJ7K3M9P`` (cryptographically random)."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not body.startswith(PREFIX):  # "REJ" + body must never read as a shorter code
            return PREFIX + body


def printed(code: str) -> str:
    """The code as shown to people: ``REJ 7K3 M9P``."""
    body = code.removeprefix(PREFIX)
    return f"{PREFIX} {body[:3]} {body[3:]}"


def read(typed: str) -> str | None:
    """The canonical code a person meant, or None if it cannot be one of ours.

    Accepts ``rej 7k3 m9p``, ``REJ-7K3-M9P``, ``/start REJ7K3M9P`` or just ``7K3M9P``.
    """
    text = typed.strip().upper()
    if text.startswith("/START"):
        text = text[len("/START"):]
    compact = _TYPED.sub("", text)
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX):]
    if len(compact) != LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return PREFIX + compact


@dataclass(frozen=True)
class CodeState:
    """What storage knows about a code when someone tries to use it."""

    place_id: PlaceId
    expires_at: datetime
    used: bool


class Verdict(StrEnum):
    """Why a code can or cannot be used."""

    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def check(state: CodeState | None, now: datetime) -> Verdict:
    """Whether a code may be used now: unknown, already used, expired, or ok."""
    if state is None:
        return Verdict.UNKNOWN
    if state.used:
        return Verdict.USED
    if now >= state.expires_at:
        return Verdict.EXPIRED
    return Verdict.OK


def telegram_link(bot_username: str, code: str) -> str:
    """The deep link that opens the bot on Telegram and sends ``/start <code>``."""
    return f"https://t.me/{bot_username}?start={code}"
