"""Workshop rules: booking without overbooking, and reminder times in local time.

Reminder times are a table: each row is a session (local time in Paris), the offsets and the
quiet hours, and the reminders expected (local time). Rows cover the quiet hours and both
changes of time in 2026 (29 March: 02:00 -> 03:00; 25 October: 03:00 -> 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.records import PlaceId, Workshop
from flows.workshops import (
    DEFAULT_OFFSETS,
    LINUX_MINT_SERIES,
    TOPIC_LABELS,
    Offset,
    QuietHours,
    Refusal,
    ReminderPolicy,
    free_seats,
    next_in_series,
    offer,
    parse_offsets,
    refusal,
    reminder_time,
    reminder_times,
)

PARIS = ZoneInfo("Europe/Paris")
NIGHT = QuietHours(time(21), time(8))
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def local(text: str) -> datetime:
    """'2026-11-26 14:00' in Paris, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def shown(moments: list[datetime]) -> list[str]:
    return [m.astimezone(PARIS).strftime("%Y-%m-%d %H:%M %Z") for m in moments]


REMINDER_TABLE = [
    # (session, offsets, quiet hours, expected reminders in Paris time)
    ("2026-11-26 14:00", DEFAULT_OFFSETS, NIGHT,
     ["2026-11-24 14:00 CET", "2026-11-26 08:00 CET"]),
    # Two days before the switch to summer time: still 14:00 on the wall clock (47 h before).
    ("2026-03-30 14:00", DEFAULT_OFFSETS, NIGHT,
     ["2026-03-28 14:00 CET", "2026-03-30 08:00 CEST"]),
    # The morning of the switch itself.
    ("2026-03-29 10:00", DEFAULT_OFFSETS, NIGHT,
     ["2026-03-27 10:00 CET", "2026-03-29 08:00 CEST"]),
    # Two days before the switch back to winter time: 14:00 again (49 h before).
    ("2026-10-26 14:00", DEFAULT_OFFSETS, NIGHT,
     ["2026-10-24 14:00 CEST", "2026-10-26 08:00 CET"]),
    ("2026-10-25 09:00", DEFAULT_OFFSETS, NIGHT,
     ["2026-10-23 09:00 CEST", "2026-10-25 08:00 CET"]),
    # An evening session: two days before at 21:30 is in the quiet hours -> next morning.
    ("2026-11-26 21:30", DEFAULT_OFFSETS, NIGHT,
     ["2026-11-25 08:00 CET", "2026-11-26 08:00 CET"]),
    # Postponed across the switch to summer time.
    ("2026-03-30 22:00", "2d", NIGHT, ["2026-03-29 08:00 CEST"]),
    # An early session: "the morning of the day at 08:00" would be after it -> dropped;
    # two days before at 07:30 is in the quiet hours -> 08:00.
    ("2026-11-26 07:30", DEFAULT_OFFSETS, NIGHT, ["2026-11-24 08:00 CET"]),
    # Hours before: 3 h before 10:00 is 07:00, in the quiet hours -> 08:00 the same day.
    ("2026-11-26 10:00", "3h", NIGHT, ["2026-11-26 08:00 CET"]),
    ("2026-11-26 14:00", "90m", NIGHT, ["2026-11-26 12:30 CET"]),
    # Two offsets that land on the same minute give one reminder.
    ("2026-11-26 09:00", "0d@08:00,1h", NIGHT, ["2026-11-26 08:00 CET"]),
    # Other quiet hours, and none at all.
    ("2026-11-26 07:30", "1h", QuietHours(time(22), time(6)), ["2026-11-26 06:30 CET"]),
    ("2026-11-26 07:30", "1h", QuietHours(time(0), time(0)), ["2026-11-26 06:30 CET"]),
    ("2026-11-26 14:00", "1d@12:00", QuietHours(time(12), time(14)),
     ["2026-11-25 14:00 CET"]),
]


@pytest.mark.parametrize(("session", "offsets", "quiet", "expected"), REMINDER_TABLE)
def test_reminder_times(session: str, offsets: str, quiet: QuietHours, expected: list[str]):
    times = reminder_times(local(session), parse_offsets(offsets), PARIS, quiet, NOW)
    assert shown(times) == expected
    assert all(t.tzinfo is UTC for t in times)


def test_the_two_days_reminder_keeps_the_wall_clock_across_the_time_changes():
    spring = local("2026-03-30 14:00")
    autumn = local("2026-10-26 14:00")
    two_days = Offset(days=2)
    assert spring - reminder_time(spring, two_days, PARIS, NIGHT) == timedelta(hours=47)
    assert autumn - reminder_time(autumn, two_days, PARIS, NIGHT) == timedelta(hours=49)


def test_reminders_already_past_when_booking_are_not_planned():
    session = local("2026-11-26 14:00")
    booked_the_day_before = local("2026-11-25 10:00")
    times = reminder_times(session, parse_offsets(DEFAULT_OFFSETS), PARIS, NIGHT,
                           booked_the_day_before)
    assert shown(times) == ["2026-11-26 08:00 CET"]


def test_nothing_is_sent_in_the_quiet_hours():
    policy = ReminderPolicy(parse_offsets(DEFAULT_OFFSETS), NIGHT, PARIS)
    assert not policy.may_send(local("2026-11-24 21:00"))
    assert not policy.may_send(local("2026-11-24 23:59"))
    assert not policy.may_send(local("2026-11-25 07:59"))
    assert policy.may_send(local("2026-11-25 08:00"))
    assert policy.may_send(local("2026-11-24 20:59"))


def test_offsets_and_quiet_hours_are_read_from_settings_text():
    assert parse_offsets("2d, 0d@08:00 ,3h,30m") == (
        Offset(days=2), Offset(days=0, at=time(8)), Offset(minutes=180), Offset(minutes=30)
    )
    assert QuietHours.parse("21:00-08:00") == NIGHT
    for bad in ("", "2x", "0d@25:00", "d", "2d@8"):
        with pytest.raises(ValueError):
            parse_offsets(bad)
    for bad in ("21-8", "25:00-08:00", "nuit"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


# --- booking ----------------------------------------------------------------------------------


def session(wid: int, place: int, starts: str, seats: int = 8, booked: int = 0,
            topic: str = "getting_started") -> Workshop:
    return Workshop(wid, PlaceId(place), topic, local(starts), 120, seats, booked)


def test_a_full_session_is_refused():
    now = local("2026-11-20 10:00")
    assert refusal(session(1, 1, "2026-11-26 14:00", seats=8, booked=8), now, []) is Refusal.FULL
    assert free_seats(session(1, 1, "2026-11-26 14:00", seats=8, booked=9)) == 0


def test_a_started_session_is_refused():
    now = local("2026-11-26 14:00")
    assert refusal(session(1, 1, "2026-11-26 14:00"), now, []) is Refusal.STARTED


def test_a_session_is_booked_once():
    now = local("2026-11-20 10:00")
    assert refusal(session(1, 1, "2026-11-26 14:00"), now, [1]) is Refusal.ALREADY
    assert refusal(session(1, 1, "2026-11-26 14:00"), now, [2]) is None


def test_sessions_of_ones_own_place_come_first_then_the_nearby_ones():
    now = local("2026-11-20 10:00")
    sessions = [
        session(1, 2, "2026-11-21 10:00"),             # nearby, soonest
        session(2, 1, "2026-11-28 10:00"),             # own place
        session(3, 1, "2026-11-24 10:00"),             # own place, sooner
        session(4, 3, "2026-11-22 10:00"),             # elsewhere: never offered
        session(5, 1, "2026-11-23 10:00", booked=8),   # full
        session(6, 1, "2026-11-19 10:00"),             # past
        session(7, 1, "2026-11-25 10:00"),             # already booked
        session(8, 2, "2026-11-26 10:00", topic="safety"),
    ]
    offered = offer(sessions, now, home=PlaceId(1), nearby=[PlaceId(2)], booked_ids=[7])
    assert [w.id for w in offered] == [3, 2, 1, 8]
    only_safety = offer(sessions, now, home=PlaceId(1), nearby=[PlaceId(2)], topic="safety")
    assert [w.id for w in only_safety] == [8]
    assert len(offer(sessions, now, home=PlaceId(1), nearby=[PlaceId(2)], limit=2)) == 2


def test_the_linux_mint_series_has_seven_sessions_in_order():
    assert LINUX_MINT_SERIES[0] == "getting_started"
    assert LINUX_MINT_SERIES[-1] == "autonomy"
    assert len(LINUX_MINT_SERIES) == 7 and set(LINUX_MINT_SERIES) == set(TOPIC_LABELS)
    assert next_in_series([]) == "getting_started"
    assert next_in_series(["getting_started", "safety"]) == "internet_email"
    assert next_in_series(LINUX_MINT_SERIES) is None


def test_now_is_the_reference_for_past_reminders():
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert reminder_times(local("2026-11-26 14:00"), parse_offsets("2d"), PARIS, NIGHT, first)
