"""Transfers: a device carried by a volunteer driver from the place that has it to the place
where it is needed (``flows/transfer_lifecycle.py`` for its states).

Drivers see open transfers by route: the intercommunality of departure and of arrival (the
network's roads, Gap–Briançon–Sisteron, run between them); who carries what is a driver's own
business, never the person's for whom the device travels (a transfer names a request, not a
person).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.messages import UserKey
from flows.records import DeviceId, Place, PlaceId, RequestId
from flows.territory import Territory
from flows.transfer_lifecycle import TransferStatus


@dataclass(frozen=True)
class Transfer:
    """A device carried from one place to another."""

    id: int
    device_id: DeviceId | None
    kind: str | None
    request_id: RequestId | None
    from_place: PlaceId
    to_place: PlaceId
    status: TransferStatus
    route: str | None
    driver: UserKey | None
    created_at: datetime



def epci_of(territory: Territory, place: Place) -> str:
    """The SIREN of a place's intercommunality ("" when its commune is unknown)."""
    commune = territory.commune(place.commune)
    return commune.epci if commune is not None else ""


def route_of(territory: Territory, origin: Place, destination: Place) -> str:
    """The route a transfer is on: ``<SIREN of departure>-<SIREN of arrival>``."""
    return f"{epci_of(territory, origin)}-{epci_of(territory, destination)}"


def route_name(territory: Territory, route: str | None) -> str:
    """A route as drivers read it: "CC Buëch-Dévoluy → CA Gap-Tallard-Durance"."""
    names = []
    for siren in (route or "-").split("-", 1):
        epci = territory.epci(siren)
        names.append(epci.name if epci is not None else "?")
    return " → ".join(names)


__all__ = ["Transfer", "epci_of", "route_name", "route_of"]
