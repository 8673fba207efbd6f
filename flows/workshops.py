"""Workshops: the Linux Mint series, booking without overbooking, and when to remind.

Pure rules, no I/O. The database enforces the seat count atomically (``booked < seats`` in the
same UPDATE); these functions decide what to offer and say why something is refused. Reminder
times are computed in the network's local time (wall clock), so "two days before at 14 h"
stays 14 h across a change to or from summer time, and none falls in the quiet hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from flows.answers import (
    Accepted,
    DateAnswer,
    Input,
    Integer,
    OneOf,
    Rejected,
    SomeOf,
    Verdict,
    clean_text,
)
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice
from flows.records import PlaceId, Workshop
from flows.text import Msg, _, verbatim

# --- The series -----------------------------------------------------------------------------

TOPIC_LABELS: dict[str, Msg] = {
    "getting_started": _("Prise en main de l'ordinateur"),
    "internet_email": _("Internet et courriel"),
    "public_services": _("Démarches en ligne"),
    "safety": _("Sécurité et arnaques"),
    "video_calls": _("Appels vidéo"),
    "photos_documents": _("Photos et documents"),
    "autonomy": _("Devenir autonome"),
}
"""Stored topic codes (never rename one) and their labels."""

LINUX_MINT_SERIES: tuple[str, ...] = tuple(TOPIC_LABELS)
"""The seven sessions for a new computer under Linux Mint, in the order they are best taken."""


def topic_label(topic: str) -> Msg:
    """The label of a topic; an unknown code is shown as it is."""
    return TOPIC_LABELS.get(topic) or verbatim(topic)


def next_in_series(attended: Iterable[str]) -> str | None:
    """The first topic of the series not booked yet (what to suggest first)."""
    done = set(attended)
    return next((t for t in LINUX_MINT_SERIES if t not in done), None)


# --- Booking --------------------------------------------------------------------------------


class Refusal(StrEnum):
    """Why a session cannot be booked."""

    STARTED = "started"
    FULL = "full"
    ALREADY = "already"


def free_seats(workshop: Workshop) -> int:
    """Seats still free (never negative)."""
    return max(0, workshop.seats - workshop.booked)


def refusal(workshop: Workshop, now: datetime, booked_ids: Iterable[int]) -> Refusal | None:
    """Why ``workshop`` cannot be booked now, or None when it can (the seat is then taken
    atomically by storage, which may still answer "full" to the slower of two people)."""
    if workshop.starts_at <= now:
        return Refusal.STARTED
    if workshop.id in set(booked_ids):
        return Refusal.ALREADY
    if free_seats(workshop) <= 0:
        return Refusal.FULL
    return None


def offer(
    workshops: Sequence[Workshop],
    now: datetime,
    *,
    home: PlaceId | None,
    nearby: Iterable[PlaceId],
    booked_ids: Iterable[int] = (),
    topic: str | None = None,
    limit: int = 5,
) -> list[Workshop]:
    """Sessions to offer: bookable ones of the person's place first, then of their EPCI."""
    near = set(nearby)
    booked = set(booked_ids)
    usable = [
        w for w in workshops
        if refusal(w, now, booked) is None and (w.place_id == home or w.place_id in near)
        and (topic is None or w.topic == topic)
    ]
    usable.sort(key=lambda w: (w.place_id != home, w.starts_at, w.id))
    return usable[:limit]


# --- Reminders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offset:
    """When to remind, relative to the session.

    ``days`` before at the local time ``at`` (or the session's own time when ``at`` is None),
    or, when ``minutes`` is set, that many minutes before the start.
    """

    days: int = 0
    at: time | None = None
    minutes: int | None = None


_OFFSET = re.compile(
    r"(?:(?P<d>\d{1,2})d(?:@(?P<h>\d{1,2}):(?P<m>\d{2}))?|(?P<n>\d{1,4})(?P<u>[hm]))"
)

DEFAULT_OFFSETS = "2d,0d@08:00"
"""Two days before at the session's time, and the morning of the day."""


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """Read ``2d,0d@08:00,3h,30m``; raises ValueError naming the bad part."""
    offsets = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        found = _OFFSET.fullmatch(part)
        if found is None:
            raise ValueError(f"bad reminder offset {part!r}")
        if found["d"] is not None:
            at = None
            if found["h"] is not None:
                hour, minute = int(found["h"]), int(found["m"])
                if hour > 23 or minute > 59:
                    raise ValueError(f"bad time in reminder offset {part!r}")
                at = time(hour, minute)
            offsets.append(Offset(days=int(found["d"]), at=at))
        else:
            n = int(found["n"])
            offsets.append(Offset(minutes=n * 60 if found["u"] == "h" else n))
    if not offsets:
        raise ValueError("no reminder offset")
    return tuple(offsets)


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing is sent (default 21:00-08:00); ``start == end``: none."""

    start: time = time(21)
    end: time = time(8)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Read ``21:00-08:00``; raises ValueError when malformed."""
        found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if found is None:
            raise ValueError(f"bad quiet hours {text!r}")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"bad quiet hours {text!r}")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        """True when ``moment`` falls in the quiet hours, in local time."""
        local = moment.astimezone(tz).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def postpone(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """``moment`` itself, or the end of the quiet hours it falls in (the morning)."""
        if not self.contains(moment, tz):
            return moment
        local = moment.astimezone(tz)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=tz)


DEFAULT_REMINDERS = parse_offsets(DEFAULT_OFFSETS)
DEFAULT_QUIET_HOURS = QuietHours()


def reminder_time(
    starts_at: datetime, offset: Offset, tz: ZoneInfo, quiet: QuietHours
) -> datetime | None:
    """When to send one reminder (UTC), out of quiet hours; None if that is not before the
    start (a reminder after the session has begun is useless)."""
    if offset.minutes is not None:
        due = starts_at - timedelta(minutes=offset.minutes)
    else:
        local = starts_at.astimezone(tz)
        day: date = local.date() - timedelta(days=offset.days)
        at = offset.at or local.time().replace(tzinfo=None)
        due = datetime.combine(day, at, tzinfo=tz)
    due = quiet.postpone(due, tz)
    if due >= starts_at:
        return None
    return due.astimezone(UTC)


def reminder_times(
    starts_at: datetime,
    offsets: Sequence[Offset],
    tz: ZoneInfo,
    quiet: QuietHours,
    now: datetime,
) -> list[datetime]:
    """The distinct future reminder times of one booking, earliest first."""
    times = {reminder_time(starts_at, o, tz, quiet) for o in offsets}
    return sorted(t for t in times if t is not None and t > now)


@dataclass(frozen=True)
class ReminderPolicy:
    """The settings that decide reminder times, read once by ``bot/``."""

    offsets: tuple[Offset, ...]
    quiet: QuietHours
    tz: ZoneInfo

    def times(self, starts_at: datetime, now: datetime) -> list[datetime]:
        """The future reminder times of a session booked now."""
        return reminder_times(starts_at, self.offsets, self.tz, self.quiet, now)

    def may_send(self, now: datetime) -> bool:
        """Nothing goes out during the quiet hours (e.g. after a night-long outage)."""
        return not self.quiet.contains(now, self.tz)


# --- Publishing a session (place staff) -----------------------------------------------------


@dataclass(frozen=True)
class TimeAnswer:
    """A time of day such as ``14h``, ``14 h 30``, ``9:15``; stored as ``HH:MM``."""

    earliest: int = 7
    latest: int = 21
    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        typed = clean_text(given.text).lower().replace(" ", "")
        found = re.fullmatch(r"(\d{1,2})(?:[h:.](\d{2})?)?", typed)
        if found is None:
            return Rejected(_("Écrivez une heure comme 14 h 30."))
        hour, minute = int(found[1]), int(found[2] or 0)
        if minute > 59 or not self.earliest <= hour <= self.latest:
            return Rejected(_("Écrivez une heure entre {a} h et {b} h.", a=self.earliest,
                              b=self.latest))
        return Accepted(f"{hour:02d}:{minute:02d}")

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(str(value).replace(":", " h ")) if value else _("(non renseigné)")


@dataclass(frozen=True)
class PublishWorkshop(Effect):
    """Add a session at the staff member's place (date and time in local time)."""

    topic: str
    day: str
    at: str
    minutes: int
    seats: int


PUBLISH_FLOW_NAME = "workshop.publish"


def local_start(day: str, at: str, tz: ZoneInfo) -> datetime:
    """The aware start of a session from its stored date and ``HH:MM`` local time."""
    hour, minute = (int(x) for x in at.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=tz)


def _finish_publish(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[PublishWorkshop(
        answers["topic"], answers["day"], answers["at"], int(answers["minutes"]),
        int(answers["seats"]),
    )])


DURATIONS = {"60": _("1 heure"), "90": _("1 heure 30"), "120": _("2 heures")}

PUBLISH_FLOW = Flow(
    name=PUBLISH_FLOW_NAME,
    first="topic",
    confirm=True,
    finish=_finish_publish,
    intro=_("Nouvelle séance d'atelier dans votre lieu."),
    steps={
        "topic": Step(
            ask=_("Quel thème ?"),
            answer=OneOf([Choice(code, label) for code, label in TOPIC_LABELS.items()]),
            label=_("Thème"),
            next="day",
        ),
        "day": Step(
            ask=_("Quel jour ? (par exemple 25/12)"),
            answer=DateAnswer(not_before_days=1, not_after_days=365),
            label=_("Jour"),
            next="at",
        ),
        "at": Step(
            ask=_("À quelle heure ? (par exemple 14 h 30)"),
            answer=TimeAnswer(),
            label=_("Heure"),
            next="minutes",
        ),
        "minutes": Step(
            ask=_("Quelle durée ?"),
            answer=OneOf([Choice(k, v) for k, v in DURATIONS.items()]),
            label=_("Durée"),
            next="seats",
        ),
        "seats": Step(
            ask=_("Combien de places ?"),
            answer=Integer(1, 30),
            label=_("Places"),
            next=None,
        ),
    },
)


# --- Attendance (place staff) ---------------------------------------------------------------

ATTENDANCE_FLOW_NAME = "workshop.attendance"


@dataclass(frozen=True)
class SaveAttendance(Effect):
    """Who came to ``workshop`` (their join codes); everyone else booked did not."""

    workshop: int
    present: tuple[str, ...]


def _people(ctx: Ctx) -> list[Choice]:
    """Those booked on the session, by first name or code (loaded as facts)."""
    return [Choice(ref, verbatim(name)) for ref, name in ctx.facts.get("people", ())]


def _ask_attendance(ctx: Ctx, answers: Answers) -> Msg:
    return _("Qui est venu à la séance « {topic} » du {when} ? Touchez chaque personne "
             "venue, puis « Valider » (personne : « Valider » seul).",
             topic=topic_label(str(ctx.facts.get("topic", ""))),
             when=ctx.facts.get("when", ""))


def _finish_attendance(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[SaveAttendance(int(answers["workshop"]),
                                           tuple(answers.get("present") or ()))])


ATTENDANCE_FLOW = Flow(
    name=ATTENDANCE_FLOW_NAME,
    first="present",
    finish=_finish_attendance,
    steps={
        "present": Step(
            ask=_ask_attendance,
            answer=SomeOf(_people, optional=True),
            help=_("Touchez le nom de chaque personne venue : une coche apparaît. Ou écrivez "
                   "leurs numéros, par exemple 1, 3. Puis « Valider »."),
        ),
    },
)
