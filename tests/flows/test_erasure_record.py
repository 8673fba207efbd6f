"""Reading erasure records typed by staff: local times, serial numbers, and bulk CSV files."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows.erasure import MediumKind, Method, Result
from flows.erasure_record import CSV_COLUMNS, CSV_EXAMPLE, normalize_serial, parse_csv, read_when
from flows.records import DeviceCategory

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 13:00 in Paris
PARIS = ZoneInfo("Europe/Paris")
HEADER = ";".join(CSV_COLUMNS)


def row(**changes: str) -> str:
    values = dict(zip(CSV_COLUMNS, CSV_EXAMPLE.splitlines()[1].split(";"), strict=True))
    values.update(changes)
    return ";".join(values[c] for c in CSV_COLUMNS)


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("24/11/2026 09:05", (2026, 11, 24, 9, 5)),
        ("24/11 9h05", (2026, 11, 24, 9, 5)),
        ("24-11-26 9:05", (2026, 11, 24, 9, 5)),
        ("2026-11-24 09:05", (2026, 11, 24, 9, 5)),
        ("hier à 14h", (2026, 11, 23, 14, 0)),
        ("aujourd'hui 8h", (2026, 11, 24, 8, 0)),
        ("10h", (2026, 11, 24, 10, 0)),
    ],
)
def test_staff_type_local_times(typed: str, local: tuple[int, ...]):
    moment = read_when(typed, NOW, PARIS)
    assert moment is not None
    assert (moment.year, moment.month, moment.day, moment.hour, moment.minute) == local
    assert moment.utcoffset() is not None


@pytest.mark.parametrize("typed", ["31/02 10h", "25:00", "demain", "", "24/11/2026"])
def test_unreadable_times_are_refused(typed: str):
    assert read_when(typed, NOW, PARIS) is None


def test_typed_times_are_read_on_the_clocks_of_the_networks_time_zone():
    noumea = ZoneInfo("Pacific/Noumea")  # UTC+11: NOW is 23:00 there, 01:00 two hours later
    assert read_when("10h", NOW, noumea) == datetime(2026, 11, 24, 10, 0, tzinfo=noumea)
    later = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert read_when("aujourd'hui 0h30", later, noumea) == datetime(2026, 11, 25, 0, 30,
                                                                    tzinfo=noumea)
    assert read_when("hier 22h", later, noumea) == datetime(2026, 11, 24, 22, 0, tzinfo=noumea)


def test_maintenant_is_now():
    assert read_when("maintenant", NOW, PARIS) == NOW


def test_serial_numbers_are_compared_without_spaces_or_case():
    assert normalize_serial(" pf-1abc 23 ") == "PF-1ABC23"


def test_a_good_csv_gives_every_record():
    text = f"{HEADER}\n{row()}\n{row(device_serial='x2', medium_kind='hdd')}"
    result = parse_csv(text, NOW, PARIS)
    assert result.errors == ()
    assert [r.line for r in result.rows] == [2, 3]
    first = result.rows[0].record
    assert result.rows[0].lot_ref == "LOT-2026-0001"
    assert first.device_category is DeviceCategory.LAPTOP
    assert (first.medium_kind, first.method, first.result) == (
        MediumKind.SSD, Method.OVERWRITE, Result.VERIFIED)
    assert result.rows[1].record.device_serial == "X2"


def test_commas_work_as_separators_too():
    text = f"{HEADER}\n{row()}".replace(";", ",")
    assert parse_csv(text, NOW, PARIS).errors == ()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (row(lot="LOT-26-1"), "référence de lot"),
        (row(method="magic"), "inconnu"),
        (row(method="destruction"), "destruction"),
        (row(result="destroyed"), "destruction"),
        (row(device_serial=""), "numéro de série"),
        (row(tool=""), "outil"),
        (row(started_at="hier"), "date illisible"),
        (row(started_at="24/11/2026 11:00", ended_at="24/11/2026 10:00"), "impossibles"),
        (row(started_at="24/11/2026 15:00", ended_at="24/11/2026 16:00"), "impossibles"),
        (row(started_at="24/11/2024 09:00"), "impossibles"),
        ("LOT-2026-0001;laptop", "colonnes"),
    ],
)
def test_a_bad_row_is_refused_with_its_line_number(bad: str, reason: str):
    result = parse_csv(f"{HEADER}\n{row()}\n{bad}\n{row(device_serial='x3')}", NOW, PARIS)
    assert [line for line, _ in result.errors] == [3]
    assert reason in result.errors[0][1].msgid
    assert [r.line for r in result.rows] == [2, 4]


def test_the_header_is_required():
    result = parse_csv(row(), NOW, PARIS)
    assert [line for line, _ in result.errors] == [1]
    assert parse_csv("", NOW, PARIS).errors[0][0] == 1
    assert parse_csv(HEADER, NOW, PARIS).errors[0][0] == 2
