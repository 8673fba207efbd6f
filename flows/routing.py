"""Routing: which place of the network serves a request, and why.

The field asked for "one trusted contact": a beneficiary should come to one place, ideally the
one where they were prescribed. So, in this order, the first place with the device in stock:

1. the prescriber's own structure, when it is a distribution place;
2. a distribution place in the beneficiary's commune;
3. a distribution place in the beneficiary's intercommunality (EPCI);
4. the place that covers that EPCI (hubs first).

Nothing in reach has stock: the request waits, and is routed again when stock arrives. Places
that already refused the request are skipped. Pure: the caller passes a stock snapshot read
in the same transaction as the reservation that follows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from flows.records import Place, PlaceId, PlaceKind

DISTRIBUTING = frozenset({PlaceKind.HUB, PlaceKind.RELAY})
"""Kinds of place that hand equipment over to beneficiaries."""

Stock = Mapping[tuple[PlaceId, str], int]
"""Available units by (place, kind of device)."""


class Reason(StrEnum):
    """Why a place was chosen (stored with the request: never rename a value)."""

    OWN_PLACE = "own_place"
    SAME_COMMUNE = "same_commune"
    SAME_EPCI = "same_epci"
    COVERING = "covering"


@dataclass(frozen=True)
class Routed:
    """The place that will serve the request, and the rule that chose it."""

    place: Place
    reason: Reason


@dataclass(frozen=True)
class NoStock:
    """Nothing in reach has the device: the request goes on the waiting list."""


Route = Routed | NoStock


@dataclass(frozen=True)
class Reach:
    """The places :func:`route` may choose for someone living in ``commune``: the
    prescriber's own place, the places of that commune, of its EPCI, and those covering its
    EPCI. Routing among only these gives the same answer as among every place of the
    network, so a request reads a few places, not a country's."""

    commune: str
    epci: str | None
    own_place: PlaceId | None = None


def route(
    kind: str,
    commune: str,
    places: Sequence[Place],
    stock: Stock,
    epci_of: Callable[[str], str | None],
    own_place: PlaceId | None = None,
    exclude: Collection[PlaceId] = (),
) -> Route:
    """The place that serves a request for ``kind`` for someone living in ``commune``."""
    candidates = [
        p for p in places
        if p.kind in DISTRIBUTING and p.id not in exclude and stock.get((p.id, kind), 0) > 0
    ]
    if not candidates:
        return NoStock()
    epci = epci_of(commune)

    def best(matching: list[Place]) -> Place | None:
        """Among equals, the place with the most units, then the oldest: a stable choice."""
        if not matching:
            return None
        return min(matching, key=lambda p: (-stock.get((p.id, kind), 0), p.id))

    rules: list[tuple[Reason, Callable[[Place], bool]]] = [
        (Reason.OWN_PLACE, lambda p: own_place is not None and p.id == own_place),
        (Reason.SAME_COMMUNE, lambda p: p.commune == commune),
        (Reason.SAME_EPCI, lambda p: epci is not None and epci_of(p.commune) == epci),
        (Reason.COVERING, lambda p: epci is not None and epci in p.covers_epci),
    ]
    for reason, fits in rules:
        if reason is Reason.COVERING:
            hubs = [p for p in candidates if fits(p) and p.kind is PlaceKind.HUB]
            chosen = best(hubs) or best([p for p in candidates if fits(p)])
        else:
            chosen = best([p for p in candidates if fits(p)])
        if chosen is not None:
            return Routed(chosen, reason)
    return NoStock()
