"""Rendering: message ids to text in the reader's language, with babel for dates and money.

Catalogs live in ``locales/<lang>/LC_MESSAGES/filiere.po`` and are compiled to ``.mo`` by the
set-up (``make locales``); French is the source language, so a missing French catalog still
renders correctly, and a missing English one falls back to French rather than failing.
"""

from __future__ import annotations

import gettext
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from flows.messages import Attachment, Outgoing, UserKey, platform_of
from flows.opening_hours import clock_words
from flows.text import ByGesture, Clock, Day, Lines, Money, Msg, When, _

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "filiere"

DATETIME_PATTERNS = {"fr": "EEEE d MMMM 'à' H 'h' mm", "en": "EEEE d MMMM 'at' HH:mm"}
DATE_PATTERNS = {"fr": "EEEE d MMMM y", "en": "EEEE d MMMM y"}
BUTTON_PLATFORMS = frozenset({"tg"})
"""Platforms whose choices are buttons to touch (elsewhere: a numbered list, answered by
writing): :class:`flows.text.ByGesture` is worded after it."""


@dataclass(frozen=True)
class Rendered:
    """A message ready for a platform: plain text, choice labels, optional file."""

    to: UserKey
    text: str
    choices: tuple[tuple[str, str], ...]
    attachment: Attachment | None
    # The outbox row it comes from ("outbox:42"): a transport uses it to make a retry
    # idempotent (Matrix transaction ids, parts of a split Telegram text already sent).
    ref: str | None = None
    replaces: str | None = None
    """The platform's id of one of the bot's messages to edit instead (``Outgoing``)."""


def numbered(choices: tuple[tuple[str, str], ...]) -> list[str]:
    """Choices as numbered lines ("1. Je viens"), the way every platform without buttons
    shows them (the console, Matrix, SMS): the person answers with the number or the label,
    which the router reads back (``flows.answers.match_choice``)."""
    return [f"{number}. {label}" for number, (_id, label) in enumerate(choices, start=1)]


def spoken_time(minutes: int, lang: str) -> str:
    """A time of day as it is said: "9 heures", "14 heures 30", "midi" / "9 am", "2:30 pm",
    "noon". A grammar per language, like the date patterns above."""
    hour, minute = divmod(minutes % (24 * 60), 60)
    if lang == "en":
        if minute == 0 and hour in (0, 12):
            return "noon" if hour == 12 else "midnight"
        h12, half = hour % 12 or 12, "am" if hour < 12 else "pm"
        return f"{h12} {half}" if minute == 0 else f"{h12}:{minute:02d} {half}"
    if minute == 0 and hour in (0, 12):
        return "midi" if hour == 12 else "minuit"
    word = "heure" if hour <= 1 else "heures"
    return f"{hour} {word}" if minute == 0 else f"{hour} {word} {minute:02d}"


class Renderer:
    """Renders :class:`flows.text.Msg` values in one of the supported languages."""

    def __init__(self, languages: tuple[str, ...], default: str, tz: ZoneInfo,
                 locales_dir: Path = LOCALES_DIR) -> None:
        self.default = default
        self.tz = tz
        self._catalogs: dict[str, gettext.NullTranslations] = {}
        for lang in languages:
            try:
                self._catalogs[lang] = gettext.translation(DOMAIN, locales_dir, [lang])
            except FileNotFoundError:
                if lang != "fr":
                    log.warning("no compiled catalog for %s: run `make locales`", lang)
                self._catalogs[lang] = gettext.NullTranslations()

    def lang(self, lang: str | None) -> str:
        return lang if lang in self._catalogs else self.default

    def text(self, value: Any, lang: str, platform: str | None = None) -> str:
        """Render a text value (a message, an amount, a date, lines, or a plain value) for a
        reader of ``platform`` (``None``: one who writes their answers)."""
        lang = self.lang(lang)
        match value:
            case Msg():
                return self._msg(value, lang, platform)
            case ByGesture(buttons, typed):
                return self.text(buttons if platform in BUTTON_PLATFORMS else typed, lang,
                                 platform)
            case Money(cents):
                return format_currency(cents / 100, "EUR", locale=lang)
            case When(at, True):
                local = at.astimezone(self.tz)
                return self.text(_("{day} à {time}",
                                   day=format_date(local, "EEEE d MMMM", locale=lang),
                                   time=clock_words(local.hour * 60 + local.minute)),
                                 lang, platform)
            case When(at):
                return format_datetime(at.astimezone(self.tz), DATETIME_PATTERNS[lang],
                                       locale=lang)
            case Day(day):
                return format_date(day, DATE_PATTERNS[lang], locale=lang)
            case Clock(minutes):
                return spoken_time(minutes, lang)
            case Lines(items):
                return "\n".join(self.text(item, lang, platform) for item in items)
            case None:
                return ""
        return str(value)

    def _msg(self, msg: Msg, lang: str, platform: str | None) -> str:
        catalog = self._catalogs[lang]
        if msg.plural is not None and msg.n is not None:
            template = catalog.ngettext(msg.msgid, msg.plural, msg.n)
        else:
            template = catalog.gettext(msg.msgid)
        params = {key: self.text(value, lang, platform) for key, value in msg.params.items()}
        try:
            return template.format_map(params)
        except (KeyError, IndexError, ValueError):
            log.error("bad translation for %r in %s", msg.msgid[:40], lang)
            return msg.msgid.format_map(params)

    def translator(self, lang: str) -> Any:
        """A one-argument function rendering messages in ``lang`` (for matching labels)."""
        return lambda msg: self.text(msg, lang)

    def render(self, message: Outgoing, lang: str | None, ref: str | None = None) -> Rendered:
        """Render a whole outgoing message for its recipient (``ref``: its outbox row)."""
        code = self.lang(lang)
        platform = platform_of(message.to)
        text = "\n\n".join(self.text(part, code, platform) for part in message.texts)
        choices = tuple((c.id, self.text(c.label, code, platform)) for c in message.choices)
        return Rendered(message.to, text, choices, message.attachment, ref, message.replaces)
