"""The records the flows read and the repositories return: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NewType

from flows.erasure import Level, Measure, MediumKind, Method, Questionnaire, Result
from flows.messages import UserKey

AccessRequestId = NewType("AccessRequestId", int)
PlaceId = NewType("PlaceId", int)
RequestId = NewType("RequestId", int)


class Role(StrEnum):
    """Professional roles granted by the network (stored: never rename a value)."""

    PRESCRIBER = "prescriber"
    PLACE_STAFF = "place_staff"
    RECONDITIONER = "reconditioner"


class RefuseReason(StrEnum):
    """Why a place refuses a request (stored in the request's history)."""

    NO_STOCK = "stock"
    UNFIT = "unfit"
    TOO_FAR = "far"
    OTHER = "other"


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
    unreached: bool = False
    """The platform last refused the bot's messages to them (blocked, or never opened):
    writing again lifts it."""

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
    osm_hours: str = ""
    """Opening hours in OpenStreetMap syntax (``flows.opening_hours``); "" when not given."""


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


# --- After-donation service (beneficiaries, bookings, reminders, help) ----------------------


@dataclass(frozen=True)
class Beneficiary:
    """Someone who received a computer and joined with a code: the least we can keep.

    ``ref`` is the join code they used: place staff see it (or the first name, if given)
    on the list of who is coming, and nothing else.
    """

    key: UserKey
    place_id: PlaceId | None
    ref: str
    first_name: str | None
    reminders: bool
    joined_at: datetime
    paused_at: datetime | None = None
    """Since when the bot writes no more on its own (two sessions missed in a row): it
    said once "we are here when you want", and waits for the person to come back."""


@dataclass(frozen=True)
class Booking:
    """A seat a beneficiary booked; ``coming`` is their answer to a reminder, if any."""

    workshop: Workshop
    user: UserKey
    booked_at: datetime
    coming: bool | None = None


@dataclass(frozen=True)
class Attendee:
    """One line of "who is coming" for place staff: a first name or a code, nothing more;
    ``ref`` (their join code) tells two people apart on the attendance buttons."""

    name: str
    coming: bool | None
    ref: str = ""
    attended: bool | None = None
    """Recorded by the place after the session: came, did not, or not recorded yet."""


@dataclass(frozen=True)
class DueReminder:
    """A reminder whose time has come, with what its message needs."""

    id: int
    user: UserKey
    workshop: Workshop


@dataclass(frozen=True)
class RemoteHelp:
    """How a place helps from a distance: a procedure (RustDesk, video room...) and a link."""

    place_id: PlaceId
    instructions: str
    link: str


class TicketStatus(StrEnum):
    """Life of a help ticket (stored: never rename a value)."""

    OPEN = "open"
    TAKEN = "taken"
    CLOSED = "closed"


@dataclass(frozen=True)
class HelpTicket:
    """A beneficiary's call for help, taken by one mediator of their place."""

    id: int
    user: UserKey
    place_id: PlaceId | None
    status: TicketStatus
    mediator: UserKey | None
    opened_at: datetime


# --- Equipment requests of prescribers -----------------------------------------------------


class RequestStatus(StrEnum):
    """Life of an equipment request (stored: never rename a value)."""

    WAITING = "waiting"
    SENT = "sent"
    ACCEPTED = "accepted"
    READY = "ready"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CatalogueKind:
    """A kind of device the network hands over, and the uses (needs) it serves."""

    code: str
    name: str
    description: str
    uses: tuple[str, ...]


@dataclass(frozen=True)
class EquipmentRequest:
    """A prescriber's request for one device for a beneficiary, kept to the minimum.

    No surname, no document: an optional first name or initials and an age bracket.
    """

    id: RequestId
    reference: str  # DEM-2026-0042
    prescriber: UserKey
    needs: tuple[str, ...]
    kind: str
    situation: str
    income: str | None
    tier: str
    price_cents: int
    commune: str  # INSEE code
    epci: str
    internet: str
    first_name: str | None
    age: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    place_id: PlaceId | None = None
    reason: str | None = None
    pickup_on: date | None = None
    pickup_hours: str | None = None

    @property
    def needs_connectivity(self) -> bool:
        """No internet at home: the place must help find a connection too."""
        return self.internet == "no"

    @property
    def is_open(self) -> bool:
        """Still in progress: it can be cancelled, and holds or awaits a device."""
        return self.status not in (RequestStatus.HANDED_OVER, RequestStatus.CANCELLED)


# --- Donations: lots, erasure records, certificates --------------------------------------

LotId = NewType("LotId", int)


class DonorKind(StrEnum):
    """Who gives (stored: never rename a value)."""

    COMPANY = "company"
    PUBLIC = "public"
    ASSOCIATION = "association"
    PRIVATE = "private"


class DeviceCategory(StrEnum):
    """Categories of a declared lot (stored: never rename a value)."""

    LAPTOP = "laptop"
    DESKTOP = "desktop"
    SCREEN = "screen"
    TABLET = "tablet"
    SMARTPHONE = "smartphone"
    PRINTER = "printer"
    SERVER = "server"
    PERIPHERAL = "peripheral"
    OTHER = "other"


class AgeBand(StrEnum):
    """Approximate age of a lot (stored: never rename a value)."""

    UNDER_5 = "under_5"
    FROM_5_TO_8 = "5_to_8"
    OVER_8 = "over_8"


class Condition(StrEnum):
    """State of a lot as the donor sees it (stored: never rename a value)."""

    WORKING = "working"
    TO_TEST = "to_test"
    BROKEN = "broken"


class Chargers(StrEnum):
    """Are chargers included? (stored: never rename a value)"""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Logistics(StrEnum):
    """How the lot reaches the network (stored: never rename a value)."""

    DROP_OFF = "drop_off"
    PICKUP = "pickup"


class LotStatus(StrEnum):
    """Life of a lot (stored: never rename a value)."""

    DECLARED = "declared"
    RECEIVED = "received"
    CERTIFIED = "certified"


@dataclass(frozen=True)
class LotDraft:
    """A declared lot before it is stored: what the declaration conversation produces."""

    donor_kind: DonorKind
    organisation: str | None
    siret: str | None
    contact_name: str
    commune: str  # INSEE code
    reach: str | None  # E.164 phone or e-mail
    items: tuple[tuple[DeviceCategory, int], ...]
    age: AgeBand
    condition: Condition
    chargers: Chargers
    questionnaire: Questionnaire
    level: Level
    measures: tuple[Measure, ...]
    logistics: Logistics
    place_id: PlaceId | None = None
    pickup_commune: str | None = None
    availability: str | None = None
    workshop_id: PlaceId | None = None
    """The reconditioning workshop the lot is sent to: only its reconditioners erase it."""

    @property
    def total(self) -> int:
        """Number of items in the lot."""
        return sum(quantity for _, quantity in self.items)


@dataclass(frozen=True, kw_only=True)
class Lot(LotDraft):
    """A stored lot with its reference (``LOT-2026-0007``) and where it stands."""

    id: LotId
    reference: str
    donor: UserKey | None
    status: LotStatus
    created_at: datetime
    received_at: datetime | None = None
    certified_at: datetime | None = None
    proofs_purged_at: datetime | None = None

    @property
    def donor_name(self) -> str:
        """The organisation, or the person for a private donor."""
        return self.organisation or self.contact_name


@dataclass(frozen=True)
class NewErasure:
    """One medium's sanitisation as a reconditioner records it."""

    device_category: DeviceCategory
    device_model: str
    device_serial: str
    medium_kind: MediumKind
    medium_model: str | None
    medium_serial: str
    tool: str
    tool_version: str | None
    method: Method
    result: Result
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class Signatory:
    """Who an erasure proof names: the organisation and the operator's own name.

    Kept on the proof as they were when it was made, so that a certificate reads the same for
    five years; never an account key. "" for what is not known (a demo account seeded without
    an access request has an organisation and no name).
    """

    organisation: str
    name: str


@dataclass(frozen=True, kw_only=True)
class ErasureRecord(NewErasure):
    """A stored erasure record: who recorded it and when (kept 5 years)."""

    id: int
    lot_id: LotId
    operator: UserKey
    """The account that recorded it, for the audit; never shown on a certificate."""
    signatory: Signatory
    recorded_at: datetime


@dataclass(frozen=True)
class Certificate:
    """A lot's erasure certificate: its verification code and when it was issued."""

    lot_id: LotId
    reference: str
    code: str
    issued_at: datetime
    issued_by: UserKey
    media: int
    signatory: Signatory
    """Who issued it, as the certificate names them (``issued_by`` is only for the audit)."""


# --- Devices: followed one by one from their lot to the person who uses them -------------

DeviceId = NewType("DeviceId", int)


class DeviceState(StrEnum):
    """Where a device stands in the chain (stored: never rename a value;
    ``flows/device_lifecycle.py`` says how it moves)."""

    RECEIVED = "received"
    """Registered when its lot was received; not diagnosed yet."""
    TESTED = "tested"
    """Works, but its storage is not erased yet: ready once it is."""
    REPAIR = "repair"
    READY = "ready"
    """Erased, diagnosed and graded: in the stock of its place."""
    IN_TRANSIT = "in_transit"
    HANDED_OVER = "handed_over"
    RETURNED = "returned"
    """Brought back under warranty."""
    PARTS = "parts"
    """Kept as spare parts for other devices."""
    RECYCLED = "recycled"


class Diagnosis(StrEnum):
    """What a reconditioner found (stored: never rename a value)."""

    WORKS = "works"
    REPAIR = "repair"
    PARTS = "parts"
    RECYCLE = "recycle"


class Grade(StrEnum):
    """How a reconditioned device looks, in plain words (``flows.devices.GRADE_MEANINGS``)."""

    A = "A"
    B = "B"
    C = "C"


class Battery(StrEnum):
    """The state of a portable device's battery (stored: never rename a value)."""

    GOOD = "good"
    WORN = "worn"
    WEAK = "weak"
    REPLACED = "replaced"
    NONE = "none"


@dataclass(frozen=True)
class Device:
    """One device of the chain, with the short label printed on its sticker (``HA-7K3P``).

    ``kind`` is the catalogue kind it serves once ready (None for what the catalogue does
    not hand over: a screen, a printer). ``join_code`` is the after-donation code created at
    its handover: the beneficiary who joined with it has it as their ``ref``.
    """

    id: DeviceId
    label: str
    lot_id: LotId | None
    category: DeviceCategory
    kind: str | None
    model: str
    serial: str | None
    state: DeviceState
    place_id: PlaceId | None
    created_at: datetime
    updated_at: datetime
    request_id: RequestId | None = None
    join_code: str | None = None
    wiped_at: datetime | None = None
    grade: Grade | None = None
    battery: Battery | None = None
    placeholder: bool = False
    """Registered by the migration from a former stock counter: no lot, no details."""


@dataclass(frozen=True)
class NewDiagnosis:
    """A reconditioning record as a reconditioner gives it."""

    diagnosis: Diagnosis
    done_at: datetime
    system: str | None = None
    """The operating system installed (Linux Mint 22...)."""
    parts: str | None = None
    """Parts added or changed, as typed."""
    grade: Grade | None = None
    battery: Battery | None = None
    note: str | None = None
    """What a device to repair needs, as typed."""


@dataclass(frozen=True, kw_only=True)
class DiagnosisRecord(NewDiagnosis):
    """A stored reconditioning record: who made it (organisation and name as given)."""

    id: int
    device_id: DeviceId
    signatory: Signatory
    recorded_at: datetime
