"""The donor's impact report and the warranty's end, as pure rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from flows.impact import impact_of, settled
from flows.records import Device, DeviceCategory, DeviceId, DeviceState, PlaceId
from flows.warranty import under_warranty, warranty_end
from tests.storage.test_lots import DRAFT

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def device(n: int, category: DeviceCategory, state: DeviceState, place: int = 1) -> Device:
    return Device(id=DeviceId(n), label=f"HA-{n}", lot_id=None, category=category,
                  kind=category.value, model="", serial=None, state=state,
                  place_id=PlaceId(place), created_at=NOW, updated_at=NOW)


def test_a_lot_is_settled_only_when_every_declared_device_is_registered_and_settled():
    lot = replace(DRAFT, items=((DeviceCategory.LAPTOP, 2),))
    one = [device(1, DeviceCategory.LAPTOP, DeviceState.HANDED_OVER)]
    assert not settled(lot, one)  # the second laptop is not registered yet
    two = [*one, device(2, DeviceCategory.LAPTOP, DeviceState.READY)]
    assert not settled(lot, two)
    assert settled(lot, [*one, device(2, DeviceCategory.LAPTOP, DeviceState.RECYCLED)])


def test_co2e_counts_the_devices_handed_over_with_their_category_s_factor():
    found = impact_of([device(1, DeviceCategory.LAPTOP, DeviceState.HANDED_OVER, 1),
                       device(2, DeviceCategory.SCREEN, DeviceState.HANDED_OVER, 2),
                       device(3, DeviceCategory.PRINTER, DeviceState.HANDED_OVER, 2),
                       device(4, DeviceCategory.LAPTOP, DeviceState.PARTS)],
                      lambda place: {1: "CC A", 2: "CC B"}[place])
    assert found.handed_over == (("CC B", 2), ("CC A", 1))
    assert (found.parts, found.recycled, found.pending) == (1, 0, 0)
    assert found.co2e_kg == 156 + 200  # printers: no factor, not counted
    assert [c for c, _f in found.factors] == [DeviceCategory.LAPTOP, DeviceCategory.SCREEN]


def test_the_warranty_ends_the_same_day_months_later_or_the_month_s_last():
    assert warranty_end(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert under_warranty(date(2026, 11, 23), 6, date(2027, 5, 23))
    assert not under_warranty(date(2026, 11, 23), 6, date(2027, 5, 24))
