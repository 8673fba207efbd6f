"""Opening hours in OpenStreetMap ``opening_hours`` syntax: read, render, is it open now.

The national schema of digital-mediation places stores hours in that syntax ("Mo-Fr
09:00-12:00,14:00-17:00; Sa 10:00-12:00; PH off"), so the network stores the same string and
answers two questions from it: is this place open now, and when does it next open.

Only the subset places actually use is read: rules separated by ``;``; days ``Mo``..``Su``,
ranges (``Mo-Fr``) and lists (``Mo,We,Fr``); ``PH`` for French public holidays; times
``HH:MM-HH:MM`` separated by commas (``24:00`` and spans past midnight allowed); ``off`` or
``closed``; ``24/7``. A later rule replaces earlier ones for the days it names, as in OSM.
Anything else (months, weeks, school holidays, comments) is refused with a reason rather than
misread. Times are wall-clock times of the place, so they hold across summer time changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from flows.text import Clock, Msg, _

DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
"""OSM weekday codes, Monday first (``date.weekday()`` order)."""

MAX_LENGTH = 255
DAY_MINUTES = 24 * 60

DAY_LABELS: tuple[Msg, ...] = (
    _("lun."), _("mar."), _("mer."), _("jeu."), _("ven."), _("sam."), _("dim."),
)

FRENCH_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
"""For the plain copy stored beside the OSM string (see :func:`plain_french`)."""

_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_DAYSPEC = rf"(?:{_DAY}(?:\s*-\s*{_DAY})?|PH)"
_RULE = re.compile(rf"(?P<days>{_DAYSPEC}(?:\s*,\s*{_DAYSPEC})*)?\s*(?P<rest>.*)", re.IGNORECASE)
_SPAN = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True)
class Span:
    """Open from ``start`` to ``end``, in minutes after midnight; ``end`` may pass 1440."""

    start: int
    end: int


@dataclass(frozen=True)
class Rule:
    """Which days a rule speaks of, and its spans there (none: closed those days)."""

    weekdays: frozenset[int]
    holidays: bool
    spans: tuple[Span, ...]

    def matches(self, day: date) -> bool:
        """Whether this rule speaks of ``day`` (a weekday it names, or a holiday if PH)."""
        return day.weekday() in self.weekdays or (self.holidays and is_holiday(day))


@dataclass(frozen=True)
class OpeningHours:
    """Parsed opening hours; ``text`` is the normalised OSM string to store."""

    rules: tuple[Rule, ...]
    text: str

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The spans a day opens with (the last rule naming the day wins)."""
        spans: tuple[Span, ...] = ()
        for rule in self.rules:
            if rule.matches(day):
                spans = rule.spans
        return spans

    def is_open(self, at: datetime, tz: ZoneInfo) -> bool:
        """Whether the place is open at ``at`` (local wall-clock time of ``tz``)."""
        local = at.astimezone(tz)
        minute = local.hour * 60 + local.minute
        if any(s.start <= minute < s.end for s in self.spans_on(local.date())):
            return True
        before = self.spans_on(local.date() - timedelta(days=1))
        return any(s.end > DAY_MINUTES and minute < s.end - DAY_MINUTES for s in before)

    def next_opening(self, after: datetime, tz: ZoneInfo, days: int = 400) -> datetime | None:
        """The next moment strictly after ``after`` when the place opens; None if never."""
        local_day = after.astimezone(tz).date()
        for offset in range(days):
            day = local_day + timedelta(days=offset)
            for span in sorted(self.spans_on(day), key=lambda s: s.start):
                start = _at(day, span.start, tz)
                if start > after and not self.is_open(start - timedelta(minutes=1), tz):
                    return start
        return None

    def closes_at(self, at: datetime, tz: ZoneInfo) -> datetime | None:
        """When the span open at ``at`` ends (None when closed at ``at``)."""
        if not self.is_open(at, tz):
            return None
        local = at.astimezone(tz)
        minute = local.hour * 60 + local.minute
        candidates = [_at(local.date(), s.end, tz) for s in self.spans_on(local.date())
                      if s.start <= minute < s.end]
        yesterday = local.date() - timedelta(days=1)
        candidates += [_at(yesterday, s.end, tz) for s in self.spans_on(yesterday)
                       if s.end > DAY_MINUTES and minute < s.end - DAY_MINUTES]
        return min(candidates) if candidates else None


@dataclass(frozen=True)
class HoursError:
    """Why a text is not opening hours this module reads."""

    reason: Msg


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The aware moment ``minutes`` after local midnight of ``day`` (wall clock)."""
    extra, minutes = divmod(minutes, DAY_MINUTES)
    return datetime.combine(day + timedelta(days=extra), time(minutes // 60, minutes % 60),
                            tzinfo=tz)


def parse_hours(text: str) -> OpeningHours | HoursError:
    """Read OSM opening hours (the subset described above), or say why not."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return HoursError(_("Les horaires sont vides."))
    if len(cleaned) > MAX_LENGTH:
        return HoursError(_("Horaires trop longs ({n} caractères au plus).", n=MAX_LENGTH))
    if cleaned == "24/7":
        always = Rule(frozenset(range(7)), False, (Span(0, DAY_MINUTES),))
        return OpeningHours((always,), "24/7")
    rules: list[Rule] = []
    texts: list[str] = []
    for part in (p.strip() for p in cleaned.split(";")):
        if not part:
            continue
        parsed = _rule(part)
        if isinstance(parsed, HoursError):
            return parsed
        rules.append(parsed)
        texts.append(_rule_text(parsed))
    if not rules:
        return HoursError(_("Les horaires sont vides."))
    return OpeningHours(tuple(rules), "; ".join(texts))


def _rule(part: str) -> Rule | HoursError:
    found = _RULE.fullmatch(part)
    assert found is not None  # both groups are optional: any text matches
    days, rest = found["days"], found["rest"].strip()
    weekdays, holidays = (_days(days) if days else (frozenset(range(7)), False))
    if rest.lower() in ("off", "closed"):
        return Rule(weekdays, holidays, ())
    if not rest:
        return HoursError(_("« {part} » : il manque les heures (par exemple 09:00-12:00) ou "
                            "« off ».", part=part))
    spans: list[Span] = []
    for piece in (p.strip() for p in rest.split(",")):
        span = _SPAN.fullmatch(piece)
        if span is None:
            return HoursError(_("« {part} » n'est pas compris. Écrivez par exemple : Mo-Fr "
                                "09:00-12:00,14:00-17:00; Sa 10:00-12:00; PH off", part=part))
        h1, m1, h2, m2 = (int(g) for g in span.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
            return HoursError(_("« {part} » : heure impossible.", part=part))
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= DAY_MINUTES:
            return HoursError(_("« {part} » : heure impossible.", part=part))
        if end <= start:
            end += DAY_MINUTES  # past midnight: "22:00-02:00"
        spans.append(Span(start, end))
    spans.sort(key=lambda s: s.start)
    if any(a.end > b.start for a, b in pairwise(spans)):
        return HoursError(_("« {part} » : des plages se chevauchent.", part=part))
    return Rule(weekdays, holidays, tuple(spans))


def _days(text: str) -> tuple[frozenset[int], bool]:
    codes = [c.capitalize() for c in DAY_CODES]
    weekdays: set[int] = set()
    holidays = False
    for piece in (p.strip() for p in text.split(",")):
        if piece.upper() == "PH":
            holidays = True
            continue
        ends = [p.strip().capitalize() for p in piece.split("-")]
        first = codes.index(ends[0])
        last = codes.index(ends[-1])
        day = first
        weekdays.add(day)
        while day != last:
            day = (day + 1) % 7  # "Sa-Mo" wraps over the week end
            weekdays.add(day)
    return frozenset(weekdays), holidays


def _day_groups(weekdays: frozenset[int]) -> list[tuple[int, int]]:
    """Consecutive runs of weekdays, Monday first: {0,1,2,4} -> [(0, 2), (4, 4)]."""
    runs: list[tuple[int, int]] = []
    for day in sorted(weekdays):
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _hhmm(minutes: int) -> str:
    """``HH:MM`` of a span bound; an end past midnight shows its time on the next day."""
    if minutes > DAY_MINUTES:
        minutes -= DAY_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _spans_text(spans: tuple[Span, ...]) -> str:
    return ",".join(f"{_hhmm(s.start)}-{_hhmm(s.end)}" for s in spans) or "off"


def _rule_text(rule: Rule) -> str:
    """The rule in normalised OSM syntax (what is stored)."""
    days = [DAY_CODES[a] if a == b else f"{DAY_CODES[a]}-{DAY_CODES[b]}"
            for a, b in _day_groups(rule.weekdays)]
    if rule.holidays:
        days.append("PH")
    selector = ",".join(days)
    if len(rule.weekdays) == 7 and not rule.holidays:
        selector = "Mo-Su"
    return f"{selector} {_spans_text(rule.spans)}"


def describe(hours: OpeningHours) -> Msg:
    """The hours in plain words of the reader's language: "lun.–ven. 09:00–12:00 ; …"."""
    parts: dict[str, object] = {}
    for index, rule in enumerate(hours.rules):
        day_parts: dict[str, object] = {}
        for j, (a, b) in enumerate(_day_groups(rule.weekdays)):
            day_parts[f"d{j}"] = DAY_LABELS[a] if a == b else Msg(
                "{a}–{b}", {"a": DAY_LABELS[a], "b": DAY_LABELS[b]})
        if rule.holidays:
            day_parts[f"d{len(day_parts)}"] = _("jours fériés")
        if len(rule.weekdays) == 7 and not rule.holidays:
            day_parts = {"d0": _("tous les jours")}
        days = Msg(", ".join("{" + k + "}" for k in day_parts), day_parts)
        if rule.spans:
            times = ", ".join(f"{_hhmm(s.start)}–{_hhmm(s.end)}" for s in rule.spans)
            parts[f"r{index}"] = Msg("{days} {times}", {"days": days, "times": times})
        else:
            parts[f"r{index}"] = _("{days} : fermé", days=days)
    return Msg(" ; ".join("{" + k + "}" for k in parts), parts)


def plain_french(hours: OpeningHours) -> str:
    """A plain French copy of the hours, stored in the free-text column that older screens
    (pickup notices) show as it is; the network's own language, like its place names."""
    rules = []
    for rule in hours.rules:
        days = [FRENCH_DAYS[a] if a == b else f"{FRENCH_DAYS[a]}-{FRENCH_DAYS[b]}"
                for a, b in _day_groups(rule.weekdays)]
        if rule.holidays:
            days.append("jours fériés")
        if len(rule.weekdays) == 7 and not rule.holidays:
            days = ["tous les jours"]
        times = ", ".join(f"{_hhmm(s.start)}-{_hhmm(s.end)}" for s in rule.spans) or ": fermé"
        rules.append(f"{', '.join(days)} {times}")
    return " ; ".join(rules)


# --- French public holidays ------------------------------------------------------------------


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar, anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_holidays(year: int) -> frozenset[date]:
    """The eleven public holidays of metropolitan France in ``year``."""
    sunday = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = [sunday + timedelta(days=n) for n in (1, 39, 50)]
    return frozenset([date(year, m, d) for m, d in fixed] + moving)


def is_holiday(day: date) -> bool:
    """Whether ``day`` is a public holiday in metropolitan France."""
    return day in french_holidays(day.year)


# --- In plain words, for beneficiaries -------------------------------------------------------

DAY_NAMES: tuple[Msg, ...] = (
    _("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"),
    _("dimanche"),
)


def clock_words(minutes: int) -> Clock:
    """A time of day as it is said ("9 heures", "midi"), rendered in the reader's language."""
    return Clock(minutes % DAY_MINUTES)


def _and(items: list[Msg]) -> Msg:
    """"a", "a et b", "a, b et c"."""
    if len(items) == 1:
        return items[0]
    head = Msg(", ".join("{i" + str(i) + "}" for i in range(len(items) - 1)),
               {f"i{i}": item for i, item in enumerate(items[:-1])})
    return _("{a} et {b}", a=head, b=items[-1])


def _days_words(rule: Rule) -> Msg:
    if len(rule.weekdays) == 7:
        return _("tous les jours")
    groups: list[Msg] = []
    for a, b in _day_groups(rule.weekdays):
        if a == b:
            groups.append(_("le {day}", day=DAY_NAMES[a]))
        elif b == a + 1:
            groups += [_("le {day}", day=DAY_NAMES[a]), _("le {day}", day=DAY_NAMES[b])]
        else:
            groups.append(_("du {first} au {last}", first=DAY_NAMES[a], last=DAY_NAMES[b]))
    if rule.holidays:
        groups.append(_("les jours fériés"))
    return _and(groups)


def in_words(hours: OpeningHours) -> tuple[Msg, ...]:
    """The hours as short phrases, one per rule: "du mardi au vendredi, de 9 heures à midi
    et de 14 heures à 17 heures", "fermé les jours fériés" (a bulleted list reads best)."""
    phrases: list[Msg] = []
    for rule in hours.rules:
        if not rule.weekdays and not rule.holidays:
            continue
        if not rule.spans:
            phrases.append(_("fermé {days}", days=_days_words(rule)))
            continue
        times = _and([_("de {start} à {end}", start=clock_words(s.start),
                        end=clock_words(s.end)) for s in rule.spans])
        phrases.append(_("{days}, {times}", days=_days_words(rule), times=times))
    return tuple(phrases)


def when_words(moment: datetime, now: datetime, tz: ZoneInfo) -> Msg:
    """A moment soon, as it is said: "aujourd'hui à 14 heures", "demain à 9 heures",
    "mardi à 9 heures"."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    at = clock_words(local.hour * 60 + local.minute)
    days = (local.date() - today).days
    if days == 0:
        return _("aujourd'hui à {time}", time=at)
    if days == 1:
        return _("demain à {time}", time=at)
    return _("{day} à {time}", day=DAY_NAMES[local.weekday()], time=at)
