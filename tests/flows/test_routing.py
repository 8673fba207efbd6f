"""Routing, rule by rule: own structure, same commune, same EPCI, covering place, waiting."""

from __future__ import annotations

import pytest

from flows.records import Place, PlaceId, PlaceKind
from flows.routing import NoStock, Reason, Routed, route

# Two intercommunalities: "A" (communes a1, a2, a3) and "B" (communes b1, b2).
EPCI = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B"}


def place(pid: int, kind: PlaceKind, commune: str, covers: tuple[str, ...] = ()) -> Place:
    return Place(PlaceId(pid), f"place {pid}", kind, commune, "", "", covers)


FRANCE_SERVICES = place(1, PlaceKind.RELAY, "a1")
LIBRARY = place(2, PlaceKind.RELAY, "a2")
HUB = place(3, PlaceKind.HUB, "b1", covers=("A", "B"))
RELAY_COVERING = place(4, PlaceKind.RELAY, "b2", covers=("A",))
RECONDITIONER = place(5, PlaceKind.RECONDITIONER, "a3")
COLLECTION = place(6, PlaceKind.COLLECTION, "a3")
PLACES = [FRANCE_SERVICES, LIBRARY, HUB, RELAY_COVERING, RECONDITIONER, COLLECTION]


def stock(**units: int) -> dict[tuple[PlaceId, str], int]:
    """``stock(p1=2, p3=1)``: laptops available at places 1 and 3."""
    return {(PlaceId(int(k[1:])), "laptop"): n for k, n in units.items()}


def where(commune: str, available: dict, own: int | None = None,
          exclude: tuple[int, ...] = ()) -> tuple[int, Reason] | None:
    found = route("laptop", commune, PLACES, available, EPCI.get,
                  PlaceId(own) if own else None, [PlaceId(e) for e in exclude])
    if isinstance(found, NoStock):
        return None
    assert isinstance(found, Routed)
    return found.place.id, found.reason


@pytest.mark.parametrize(
    ("case", "commune", "available", "own", "exclude", "expected"),
    [
        ("own structure first, even far from the beneficiary",
         "b2", stock(p1=1, p3=5, p4=5), 1, (), (1, Reason.OWN_PLACE)),
        ("own structure without stock: next rule",
         "a2", stock(p2=1), 1, (), (2, Reason.SAME_COMMUNE)),
        ("a place in the beneficiary's commune",
         "a2", stock(p1=3, p2=1, p3=9), None, (), (2, Reason.SAME_COMMUNE)),
        ("a place of the same EPCI when none in the commune",
         "a3", stock(p1=1, p3=9), None, (), (1, Reason.SAME_EPCI)),
        ("the same EPCI: the place with the most units",
         "a3", stock(p1=1, p2=2), None, (), (2, Reason.SAME_EPCI)),
        ("the hub covering the EPCI, before a covering relay",
         "a3", stock(p3=1, p4=4), None, (), (3, Reason.COVERING)),
        ("a covering relay when the hub has none",
         "a3", stock(p4=1), None, (), (4, Reason.COVERING)),
        ("no stock in reach: the waiting list",
         "a3", stock(), None, (), None),
        ("reconditioners and collection points never hand over",
         "a3", stock(p5=4, p6=4), None, (), None),
        ("a place that refused is skipped",
         "a2", stock(p2=1, p1=1), None, (2,), (1, Reason.SAME_EPCI)),
        ("own structure that refused is skipped too",
         "a1", stock(p1=1, p3=1), 1, (1,), (3, Reason.COVERING)),
        ("every place in reach refused: the waiting list",
         "a2", stock(p2=1), None, (2,), None),
    ],
)
def test_routing_rules_in_order(case, commune, available, own, exclude, expected) -> None:
    assert where(commune, available, own, exclude) == expected, case


def test_a_place_outside_the_beneficiarys_epci_and_not_covering_it_is_out_of_reach() -> None:
    # For someone in b1 (EPCI B): place 4 is in b2, the same EPCI; place 1 is in A and
    # covers nothing, so it is out of reach however many units it has.
    assert where("b1", stock(p4=3)) == (4, Reason.SAME_EPCI)
    assert where("b1", stock(p1=3)) is None


def test_a_commune_unknown_to_the_territory_only_matches_by_commune() -> None:
    assert where("zz", stock(p1=1)) is None


def test_another_kind_of_device_does_not_count() -> None:
    available = {(PlaceId(2), "tablet"): 3}
    assert where("a2", available) is None
