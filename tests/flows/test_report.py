"""The activity report: counts per month (local time) and intercommunality, weights and CO2e
from stated factors, and small counts masked in every figure."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows import report as rp
from flows.report import Event, Indicator

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GAP, BUECH = "200067825", "200067445"


def at(month: int, day: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def test_the_last_twelve_months_end_with_the_current_one():
    months = rp.last_months(NOW, PARIS)
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12


def test_months_are_local_months():
    # 31 October 23:30 UTC is already 1 November 00:30 in Paris.
    assert rp.month_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), PARIS) == "2026-11"
    assert rp.month_of(datetime(2026, 10, 31, 22, 30, tzinfo=UTC), PARIS) == "2026-10"


def test_counts_per_month_and_epci_with_weights_and_co2e():
    events = [
        Event(Indicator.LOTS, at(11), GAP),
        Event(Indicator.ITEMS, at(11), GAP, 10, "laptop"),      # 10 × 2.0 kg
        Event(Indicator.ITEMS, at(11), GAP, 2, "screen"),       # 2 × 4.5 kg
        Event(Indicator.HANDED_OVER, at(11), GAP, 1, "laptop"),  # 156 kg CO2e
        Event(Indicator.HANDED_OVER, at(10), BUECH, 1, "desktop"),  # 250 kg CO2e
        Event(Indicator.HANDED_OVER, at(10), BUECH, 1, "phone"),    # unknown: as a laptop
        Event(Indicator.REQUESTS, at(10), BUECH, 7),
        Event(Indicator.REQUESTS, at(11, year=2025), GAP),      # 13 months ago: left out
    ]
    report = rp.build(events, {BUECH: 3}, NOW, PARIS)
    assert report.count(Indicator.ITEMS) == 12
    assert report.count(Indicator.HANDED_OVER) == 3
    assert report.count(Indicator.HANDED_OVER, "2026-10", BUECH) == 2
    assert report.count(Indicator.REQUESTS) == 7
    assert report.weight("2026-11", GAP) == pytest.approx(29.0)
    assert report.co2e() == pytest.approx(156 + 250 + 156)
    assert report.waiting_now() == 3
    assert report.epcis == (BUECH, GAP)


@pytest.mark.parametrize(("n", "shown"), [(0, "0"), (1, "< 5"), (4, "< 5"), (5, "5"),
                                          (120, "120")])
def test_counts_from_1_to_4_are_masked(n: int, shown: str):
    assert rp.shown(n) == shown


def test_derived_figures_are_masked_with_their_count():
    assert rp.shown_derived(7.9, 3) is None
    assert rp.shown_derived(20.4, 10) == "20"
    assert rp.shown_derived(0.0, 0) == "0"


def test_every_factor_states_its_source():
    assert all(f.source for f in rp.CO2E_AVOIDED_KG.values())
    assert rp.DEFAULT_CO2E.assumed and rp.WEIGHT_SOURCE.assumed
    assert set(rp.WEIGHT_KG) >= {"laptop", "desktop", "screen", "tablet", "smartphone"}


def test_the_funders_csv_masks_small_cells_and_adds_totals():
    events = [Event(Indicator.REQUESTS, at(11), GAP, 6),
              Event(Indicator.REQUESTS, at(11), BUECH, 2),
              Event(Indicator.ITEMS, at(11), BUECH, 3, "laptop"),
              Event(Indicator.HANDED_OVER, at(11), GAP, 6, "laptop")]
    report = rp.build(events, {GAP: 1}, NOW, PARIS)
    data = rp.report_csv(report, header={"month": "Mois"}, epci_name={GAP: "Gap",
                                                                       BUECH: "Buëch"}.get,
                         total="Total", masked="masqué", notes=["Facteurs : ..."])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Mois" and rows[0][2] == "lots"
    col = {name: i for i, name in enumerate(rp.COLUMNS)}
    november = {r[1]: r for r in rows if r and r[0] == "2026-11"}
    assert november["Gap"][col["requests"]] == "6"
    assert november["Gap"][col["co2e_kg"]] == str(6 * 156)
    assert november["Gap"][col["waiting_now"]] == "< 5"
    assert november["Buëch"][col["requests"]] == "< 5"
    assert november["Buëch"][col["items"]] == "< 5"
    assert november["Buëch"][col["weight_kg"]] == "masqué"
    assert november["Total"][col["requests"]] == "8"
    assert sum(1 for r in rows if len(r) > 1 and r[1] == "Total") == 12
    assert rows[-1] == ["Facteurs : ..."]
