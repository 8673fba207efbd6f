"""Opening hours in OSM syntax: what is read, what is refused, open now, next opening (DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Renderer
from flows.opening_hours import (
    HoursError,
    OpeningHours,
    describe,
    easter,
    french_holidays,
    parse_hours,
    plain_french,
)

PARIS = ZoneInfo("Europe/Paris")
TYPICAL = "Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00; PH off"


def hours(text: str) -> OpeningHours:
    parsed = parse_hours(text)
    assert isinstance(parsed, OpeningHours), parsed
    return parsed


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(("text", "stored"), [
    (TYPICAL, TYPICAL),
    ("mo-fr 09:00-12:00, 14:00-17:00", "Mo-Fr 09:00-12:00,14:00-17:00"),
    ("Mo,We,Fr 08:30-12:30", "Mo,We,Fr 08:30-12:30"),
    ("Mo-We,Fr 10:00-12:00", "Mo-We,Fr 10:00-12:00"),
    ("Tu-Sa 10:00-18:00; Th closed", "Tu-Sa 10:00-18:00; Th off"),
    ("10:00-16:00", "Mo-Su 10:00-16:00"),
    ("Sa-Mo 10:00-12:00", "Mo,Sa-Su 10:00-12:00"),
    ("Fr 22:00-02:00", "Fr 22:00-02:00"),
    ("Mo-Fr 09:00-24:00", "Mo-Fr 09:00-24:00"),
    ("24/7", "24/7"),
])
def test_the_usual_subset_is_read_and_stored_normalised(text: str, stored: str):
    assert hours(text).text == stored


@pytest.mark.parametrize("text", [
    "", "   ", "Jan-Mar Mo 10:00-12:00", "Mo-Fr", "Mo 25:00-26:00", "Mo 09:60-10:00",
    "Mo 09:00-12:00,11:00-13:00", "Sa[1] 10:00-12:00", "SH off", "Mo 9h-12h",
    'Mo 10:00-12:00 "sur rendez-vous"', "x" * 300,
])
def test_what_is_not_the_subset_is_refused_with_a_reason(text: str):
    parsed = parse_hours(text)
    assert isinstance(parsed, HoursError)
    assert parsed.reason.msgid


@pytest.mark.parametrize(("text", "moment", "is_open"), [
    (TYPICAL, local(2026, 11, 23, 9, 0), True),      # Monday, opening minute
    (TYPICAL, local(2026, 11, 23, 12, 0), False),    # closing minute is closed
    (TYPICAL, local(2026, 11, 23, 13, 59), False),   # lunch break
    (TYPICAL, local(2026, 11, 23, 16, 59), True),
    (TYPICAL, local(2026, 11, 28, 11, 0), True),     # Saturday morning
    (TYPICAL, local(2026, 11, 29, 11, 0), False),    # Sunday
    (TYPICAL, local(2026, 11, 11, 10, 0), False),    # Armistice, a Wednesday holiday
    (TYPICAL, local(2026, 5, 14, 10, 0), False),     # Ascension, from Easter
    (TYPICAL, local(2026, 5, 13, 10, 0), True),      # the day before
    ("Mo-Fr 09:00-12:00; PH 10:00-11:00", local(2026, 5, 1, 10, 30), True),
    ("Fr 22:00-02:00", local(2026, 11, 28, 1, 30), True),   # Saturday night, from Friday
    ("Fr 22:00-02:00", local(2026, 11, 28, 2, 0), False),
    ("Tu-Sa 10:00-18:00; Th off", local(2026, 11, 26, 11, 0), False),  # later rule wins
    ("24/7", local(2026, 12, 25, 3, 0), True),
])
def test_open_now(text: str, moment: datetime, is_open: bool):
    assert hours(text).is_open(moment, PARIS) is is_open


def test_open_now_reads_the_wall_clock_on_both_sides_of_summer_time():
    daily = hours("Mo-Su 09:00-12:00")
    # Sunday 29 March 2026: clocks go forward; 09:30 local is 07:30 UTC (08:30 UTC on Sat.).
    assert daily.is_open(datetime(2026, 3, 29, 7, 30, tzinfo=UTC), PARIS)
    assert not daily.is_open(datetime(2026, 3, 28, 7, 30, tzinfo=UTC), PARIS)
    # Sunday 25 October 2026: clocks go back; 09:30 local is 08:30 UTC again.
    assert daily.is_open(datetime(2026, 10, 25, 8, 30, tzinfo=UTC), PARIS)
    assert not daily.is_open(datetime(2026, 10, 24, 10, 30, tzinfo=UTC), PARIS)


@pytest.mark.parametrize(("text", "after", "expected"), [
    (TYPICAL, local(2026, 11, 23, 11, 30), local(2026, 11, 23, 14, 0)),
    (TYPICAL, local(2026, 11, 23, 9, 0), local(2026, 11, 23, 14, 0)),   # open: the next one
    (TYPICAL, local(2026, 11, 28, 12, 0), local(2026, 11, 30, 9, 0)),   # weekend
    (TYPICAL, local(2026, 11, 10, 18, 30), local(2026, 11, 12, 9, 0)),  # skips 11 November
    (TYPICAL, local(2026, 12, 24, 18, 0), local(2026, 12, 26, 10, 0)),  # Christmas, then Sat.
    # Summer time begins on Sunday 29 March 2026: same wall-clock hour, one hour less of UTC.
    ("Mo-Su 09:00-12:00", local(2026, 3, 28, 12, 0), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    # It ends on Sunday 25 October 2026.
    ("Mo-Su 09:00-12:00", local(2026, 10, 24, 12, 0), datetime(2026, 10, 25, 8, 0,
                                                               tzinfo=UTC)),
    ("Mo 22:00-24:00; Tu 00:00-02:00", local(2026, 11, 23, 23, 0), local(2026, 11, 30, 22, 0)),
])
def test_next_opening(text: str, after: datetime, expected: datetime):
    found = hours(text).next_opening(after, PARIS)
    assert found == expected


def test_a_place_always_closed_never_opens():
    assert hours("Mo-Su off").next_opening(local(2026, 11, 23, 9, 0), PARIS) is None


def test_closes_at_gives_the_end_of_the_current_span():
    assert hours(TYPICAL).closes_at(local(2026, 11, 23, 15, 0), PARIS) == local(2026, 11, 23,
                                                                                17, 0)
    assert hours(TYPICAL).closes_at(local(2026, 11, 23, 13, 0), PARIS) is None


@pytest.mark.parametrize(("year", "sunday"), [
    (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
    (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)),
])
def test_easter(year: int, sunday: date):
    assert easter(year) == sunday


def test_eleven_public_holidays():
    holidays = french_holidays(2026)
    assert len(holidays) == 11
    assert {date(2026, 4, 6), date(2026, 5, 25), date(2026, 7, 14)} <= holidays


def test_hours_are_described_in_the_readers_language():
    renderer = Renderer(("fr", "en"), "fr", PARIS)
    text = describe(hours(TYPICAL))
    assert renderer.text(text, "fr") == ("lun.–ven. 09:00–12:00, 14:00–17:00 ; "
                                         "sam. 10:00–12:00 ; jours fériés : fermé")
    assert "Mon" in renderer.text(text, "en")
    assert plain_french(hours(TYPICAL)) == ("lun.-ven. 09:00-12:00, 14:00-17:00 ; "
                                            "sam. 10:00-12:00 ; jours fériés : fermé")
