"""The records the flows read and the repositories return: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NewType

from flows.messages import UserKey

AccessRequestId = NewType("AccessRequestId", int)
PlaceId = NewType("PlaceId", int)


class Role(StrEnum):
    """Professional roles granted by the network (stored: never rename a value)."""

    PRESCRIBER = "prescriber"
    PLACE_STAFF = "place_staff"
    RECONDITIONER = "reconditioner"


class AccessStatus(StrEnum):
    """Life of an access request (stored: never rename a value)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class PlaceKind(StrEnum):
    """Kinds of place of the hub-and-spoke network (stored: never rename a value)."""

    HUB = "hub"
    RELAY = "relay"
    RECONDITIONER = "reconditioner"
    COLLECTION = "collection"


@dataclass(frozen=True)
class User:
    """Someone who talked to the bot; ``role`` is set once a coordinator approved them."""

    key: UserKey
    lang: str | None
    created_at: datetime
    role: Role | None = None
    place_id: PlaceId | None = None
    is_coordinator: bool = False

    @property
    def is_professional(self) -> bool:
        """Approved professionals (and coordinators) may use the professional doors."""
        return self.role is not None or self.is_coordinator


@dataclass(frozen=True)
class AccessRequest:
    """A professional's request for access, approved or rejected by a coordinator."""

    id: AccessRequestId
    user: UserKey
    role: Role
    structure: str
    address: str
    commune: str  # INSEE code
    contact_name: str
    function: str
    phone: str  # E.164
    status: AccessStatus
    created_at: datetime
    decided_by: UserKey | None = None
    decided_at: datetime | None = None

    def as_answers(self) -> dict[str, Any]:
        """The answers that produced this request (to prefill a new one)."""
        return {
            "role": self.role.value,
            "structure": self.structure,
            "address": self.address,
            "commune": self.commune,
            "contact": self.contact_name,
            "function": self.function,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class Place:
    """A place of the network: hub, relay point, reconditioner or collection point."""

    id: PlaceId
    name: str
    kind: PlaceKind
    commune: str  # INSEE code
    address: str
    opening_hours: str
    covers_epci: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workshop:
    """A scheduled getting-started workshop session at a place."""

    id: int
    place_id: PlaceId
    topic: str
    starts_at: datetime
    minutes: int
    seats: int
    booked: int = 0
