"""Running the network: members and referents, managed places, series of workshops.

Pure rules the coordination handlers apply. A structure's referent is the person the
coordinator named for it, or else its first approved member: they may approve the staff of
their own structure, as national digital-aid services do, so the coordinator is not the
bottleneck. A structure is its name (folded: case, accents and dashes do not matter) in its
commune.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from flows.messages import UserKey
from flows.normalize import fold
from flows.opening_hours import HoursError, OpeningHours, parse_hours, plain_french
from flows.records import AccessRequest, Place, PlaceId, PlaceKind, Role
from flows.workshops import local_start

MEMBERS_SHOWN = 20
"""A longer list is unusable in a chat: filter by role."""


@dataclass(frozen=True)
class Member:
    """An approved professional: the account, its role and place, and the approved request.

    ``number`` is a short stable id for buttons (the account's row number); demo accounts
    have no request.
    """

    number: int
    user: UserKey
    role: Role
    place_id: PlaceId | None
    request: AccessRequest | None = None

    @property
    def structure(self) -> str | None:
        """The structure key of the member, if they came through a request."""
        if self.request is None:
            return None
        return structure_key(self.request.structure, self.request.commune)


@dataclass(frozen=True)
class ManagedPlace:
    """A place as the coordination sees it: closed ones included, SIRET, last change."""

    place: Place
    active: bool
    siret: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class PlaceChange:
    """A place as it will be saved: ``id`` None creates it."""

    id: PlaceId | None
    name: str
    kind: PlaceKind
    commune: str
    address: str
    osm_hours: str
    covers: tuple[str, ...]
    siret: str | None = None
    active: bool = True
    legacy_hours: str = ""
    """Free-text hours of a place that has no OSM hours yet (kept until it gets some)."""

    @property
    def plain_hours(self) -> str:
        """The plain copy of the hours for the free-text column older screens show."""
        hours = hours_of(self.osm_hours)
        return plain_french(hours) if hours else self.legacy_hours

    @classmethod
    def of(cls, managed: ManagedPlace) -> PlaceChange:
        """A managed place as it stands, to change one thing of it."""
        p = managed.place
        return cls(p.id, p.name, p.kind, p.commune, p.address, p.osm_hours, p.covers_epci,
                   managed.siret, managed.active, p.opening_hours)


def structure_key(structure: str, commune: str) -> str:
    """Two requests name the same structure when their folded names and communes match."""
    return f"{fold(structure)}@{commune}"


def referent(key: str, named: Mapping[str, UserKey], members: Iterable[Member]) -> UserKey | None:
    """The referent of a structure: the one named, else its first approved member."""
    current = [m for m in members if m.structure == key]
    users = {m.user for m in current}
    if key in named and named[key] in users:
        return named[key]
    dated = [m for m in current if m.request is not None]
    return min(dated, key=_approved_when).user if dated else None


def _approved_when(member: Member) -> tuple[datetime, int]:
    assert member.request is not None
    return member.request.decided_at or member.request.created_at, member.request.id


def may_decide(decider: UserKey, request: AccessRequest, named: Mapping[str, UserKey],
               members: Iterable[Member]) -> bool:
    """A referent decides the requests of their own structure, never their own request."""
    if request.user == decider:
        return False
    return referent(structure_key(request.structure, request.commune), named,
                    members) == decider


def hours_of(place_hours: str) -> OpeningHours | None:
    """Parsed OSM hours of a place, None when it has none (or older free text)."""
    if not place_hours:
        return None
    parsed = parse_hours(place_hours)
    return None if isinstance(parsed, HoursError) else parsed


# --- A series of workshop sessions ----------------------------------------------------------


class Rhythm(StrEnum):
    """How often the sessions of a series follow each other (stored in conversations)."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"


RHYTHM_DAYS = {Rhythm.WEEKLY: 7, Rhythm.FORTNIGHTLY: 14}


def series_starts(first: date, at: str, rhythm: Rhythm, count: int,
                  tz: ZoneInfo) -> list[datetime]:
    """The start of each session: same local time every week (or two), whatever the DST."""
    step = RHYTHM_DAYS[rhythm]
    return [local_start((first + timedelta(days=step * i)).isoformat(), at, tz)
            for i in range(count)]


def members_of_role(members: Sequence[Member], role: Role | None) -> list[Member]:
    """The members with one role (all when ``role`` is None), newest accounts first."""
    chosen = [m for m in members if role is None or m.role is role]
    return sorted(chosen, key=lambda m: -m.number)
