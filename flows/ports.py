"""Repository interfaces: what ``handlers/`` needs from storage, narrow enough for PostgreSQL.

``storage/`` implements them with SQLite. Every method runs inside the unit of work that
handed out the repository, so a change and the messages it causes commit together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from flows.audit import AuditAction, AuditEntry
from flows.coordination import ManagedPlace, Member, PlaceChange
from flows.csv_import import KindRow, PriceRow, RuleRow
from flows.engine import Conversation
from flows.joincode import CodeState
from flows.mail_text import Letter
from flows.mednum import MediationPlace
from flows.messages import Attachment, Outgoing, UserKey
from flows.payments import (
    Channel,
    FundLine,
    FundState,
    ListedPayment,
    Method,
    Payer,
    PayerTotal,
    Payment,
)
from flows.pricing import PriceGrid, Tier
from flows.public_sale import Reservation, Waiting
from flows.records import (
    AccessRequest,
    AccessRequestId,
    AccessStatus,
    Attendee,
    Beneficiary,
    Booking,
    CatalogueKind,
    Certificate,
    Device,
    DeviceCategory,
    DeviceId,
    DeviceState,
    DiagnosisRecord,
    DueReminder,
    EquipmentRequest,
    ErasureRecord,
    HelpTicket,
    Lot,
    LotDraft,
    LotId,
    NewDiagnosis,
    NewErasure,
    Place,
    PlaceId,
    RemoteHelp,
    RequestId,
    RequestStatus,
    Role,
    Signatory,
    User,
    Workshop,
)
from flows.report import Event, Mediation, PaymentSum
from flows.request import RequestDraft
from flows.routing import Reach
from flows.transfer_lifecycle import TransferStatus
from flows.transfers import Transfer
from flows.warranty import Problem, RepairTicket, TicketStatus
from flows.workshops import Refusal


class UserRepo(Protocol):
    async def get(self, key: UserKey) -> User | None: ...

    async def create(self, key: UserKey, lang: str | None, now: datetime) -> User: ...

    async def set_lang(self, key: UserKey, lang: str) -> None: ...

    async def set_role(
        self, key: UserKey, role: Role | None, place_id: PlaceId | None
    ) -> None: ...

    async def delete(self, key: UserKey) -> None: ...


@dataclass(frozen=True)
class SavedConversation:
    """A conversation with the time of its last accepted answer."""

    conversation: Conversation
    updated_at: datetime


class ConversationRepo(Protocol):
    async def get(self, key: UserKey) -> SavedConversation | None: ...

    async def save(self, key: UserKey, conversation: Conversation, now: datetime) -> None: ...

    async def clear(self, key: UserKey) -> None: ...

    async def purge_idle(self, before: datetime, limit: int = -1) -> int:
        """Delete conversations not answered since ``before``, at most ``limit`` (-1: all)."""
        ...


class EventRepo(Protocol):
    async def first_time(self, event_id: str, now: datetime) -> bool:
        """Record ``event_id``; False when it was already handled (a platform's redelivery)."""
        ...

    async def purge_before(self, when: datetime, limit: int = -1) -> int:
        """Forget the ids seen before ``when``, at most ``limit`` of them (-1: all)."""
        ...


class Unreached(StrEnum):
    """Why a platform refuses the bot's messages to someone."""

    BLOCKED = "blocked"
    """They blocked the bot: nothing is sent until they come back."""
    NOT_STARTED = "not_started"
    """They never opened a chat with the bot: messages wait until they first write."""


class ReachRepo(Protocol):
    """Chats a platform refused the bot's messages to (storage/reach.py)."""

    async def refused(self, key: UserKey, reason: Unreached, now: datetime) -> None: ...

    async def back(self, key: UserKey) -> bool:
        """They wrote or opened the chat again: True if they had been unreachable."""
        ...

    async def blocked_among(self, keys: Sequence[UserKey]) -> set[UserKey]: ...

    async def purge(self, before: datetime, limit: int = -1) -> int:
        """Forget those unreachable since before ``before`` who are not users and have
        nothing waiting."""
        ...


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting in the outbox, with its delivery attempts and the language its
    recipient reads now (``None``: the default), read with it."""

    id: int
    message: Outgoing
    attempts: int
    not_before: datetime
    lang: str | None = None
    created_at: datetime | None = None
    """When it was queued (the delivery latency counts from there)."""
    blocked: bool = False
    """Its recipient blocked the bot: given up without a call to the platform."""


class OutboxRepo(Protocol):
    async def add(self, message: Outgoing, now: datetime) -> int: ...

    async def due(
        self, now: datetime, platforms: Sequence[str], limit: int
    ) -> list[OutboxItem]: ...

    async def delivered(self, item_id: int, now: datetime) -> None: ...

    async def retry_later(self, item_id: int, when: datetime, error: str,
                          attempt: bool = True) -> None:
        """Put a message off until ``when``; ``attempt``: count it as a failed attempt."""
        ...

    async def give_up(self, item_id: int, now: datetime, error: str) -> None: ...

    async def give_up_waiting(self, created_before: datetime, now: datetime,
                              limit: int = -1) -> int:
        """Give up the messages kept for someone who never opened the bot, queued before
        ``created_before``."""
        ...

    async def purge_done_before(self, when: datetime, limit: int = -1) -> int:
        """Forget messages sent or given up before ``when``, at most ``limit`` (-1: all)."""
        ...

    async def pending_count(self) -> int: ...

    async def backlog(self, platforms: Sequence[str]) -> tuple[int, datetime | None]:
        """Messages pending for ``platforms`` and when the oldest of them was queued."""
        ...


@dataclass(frozen=True)
class MailDue:
    """An e-mail due to go out (``flows.mail_text``), with its address as it stands now:
    read from the lot or the professional's choice, ``None`` once erased there."""

    id: int
    letter: Letter
    attachment: Attachment | None
    address: str | None
    lang: str | None
    attempts: int
    owner: UserKey | None
    lot_reference: str | None
    created_at: datetime


class MailRepo(Protocol):
    """The e-mails queue and the professionals' addresses (``storage/mail.py``)."""

    async def add(self, letter: Letter, attachment: Attachment | None, now: datetime, *,
                  lot_id: LotId | None = None, owner: UserKey | None = None) -> int: ...

    async def due(self, now: datetime, limit: int) -> list[MailDue]: ...

    async def sent(self, mail_id: int, now: datetime) -> None: ...

    async def retry_later(self, mail_id: int, when: datetime, error: str) -> None: ...

    async def give_up(self, mail_id: int, now: datetime, error: str) -> None: ...

    async def purge_done_before(self, when: datetime, limit: int = -1) -> int: ...

    async def pending_count(self) -> int: ...

    async def address_of(self, key: UserKey) -> str | None: ...

    async def subscribed(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """Those among ``keys`` who get their notices by e-mail too."""
        ...

    async def set_address(self, key: UserKey, address: str, now: datetime) -> None: ...

    async def remove_address(self, key: UserKey) -> bool:
        """Stop a professional's e-mails: the address and what waits for it go."""
        ...

    async def drop_for_donor(self, donor: UserKey) -> int:
        """Delete the e-mails still waiting for a donor's lots (their contact erased)."""
        ...


class MenuRepo(Protocol):
    """The last action menu shown to each user, so "1" can be answered on text platforms."""

    async def set(self, key: UserKey, choices: Sequence[tuple[str, Any]]) -> None: ...

    async def get(self, key: UserKey) -> list[tuple[str, Any]]: ...


class AccessRepo(Protocol):
    async def create(
        self, user: UserKey, answers: dict[str, Any], now: datetime
    ) -> AccessRequest: ...

    async def get(self, request_id: AccessRequestId) -> AccessRequest | None: ...

    async def latest_for(self, user: UserKey) -> AccessRequest | None: ...

    async def decide(
        self, request_id: AccessRequestId, status: AccessStatus, by: UserKey, now: datetime
    ) -> bool:
        """Move a *pending* request to ``status``; False when someone decided it already."""
        ...

    async def pending(self) -> list[AccessRequest]: ...

    async def blank_ended(self, before: datetime, limit: int = -1) -> int:
        """Blank the personal fields of requests refused or withdrawn before ``before``, at
        most ``limit`` (-1: all); returns how many."""
        ...


class PlaceRepo(Protocol):
    async def all(self) -> list[Place]: ...

    async def get(self, place_id: PlaceId) -> Place | None: ...

    async def in_reach(self, reach: Reach) -> list[Place]:
        """The open places a request may be routed to (:class:`flows.routing.Reach`)."""
        ...


class WorkshopRepo(Protocol):
    async def upcoming(self, now: datetime, limit: int) -> list[Workshop]: ...

    async def upcoming_at(
        self, places: Sequence[PlaceId], now: datetime, limit: int
    ) -> list[Workshop]: ...

    async def get(self, workshop_id: int) -> Workshop | None: ...

    async def add(
        self, place_id: PlaceId, topic: str, starts_at: datetime, minutes: int, seats: int
    ) -> int: ...

    async def remove(self, workshop_id: int) -> bool: ...

    async def book(self, workshop_id: int, user: UserKey, now: datetime) -> Refusal | None:
        """Take a seat atomically (never beyond ``seats``); None when booked, else why not."""
        ...

    async def cancel(self, workshop_id: int, user: UserKey) -> bool: ...

    async def bookings_of(self, user: UserKey, since: datetime) -> list[Booking]: ...

    async def is_booked(self, workshop_id: int, user: UserKey) -> bool: ...

    async def set_coming(self, workshop_id: int, user: UserKey, coming: bool) -> bool: ...

    async def attendees(self, workshop_id: int) -> list[Attendee]: ...

    async def booked_users(self, workshop_id: int) -> list[UserKey]: ...

    async def record_attendance(self, workshop_id: int,
                                present: Sequence[str]) -> list[tuple[UserKey, bool]]:
        """Who came (by join code); everyone else booked did not."""
        ...

    async def attended(self, user: UserKey) -> list[str]:
        """Topics of the sessions the beneficiary came to."""
        ...

    async def missed_in_a_row(self, user: UserKey, last: int) -> int: ...

    async def held_at(self, place: PlaceId, since: datetime, now: datetime,
                      limit: int) -> list[Workshop]: ...


class BeneficiaryRepo(Protocol):
    async def add_code(
        self, code: str, place_id: PlaceId, by: UserKey, now: datetime, expires_at: datetime
    ) -> bool: ...

    async def code(self, code: str) -> CodeState | None: ...

    async def claim_code(self, code: str, now: datetime) -> bool:
        """Use a code once; False if it was used or expired meanwhile."""
        ...

    async def purge_codes(self, expired_before: datetime) -> int: ...

    async def join(
        self, key: UserKey, place_id: PlaceId, ref: str, first_name: str | None,
        reminders: bool, now: datetime,
    ) -> Beneficiary: ...

    async def get(self, key: UserKey) -> Beneficiary | None: ...

    async def set_first_name(self, key: UserKey, first_name: str | None) -> None: ...

    async def set_reminders(self, key: UserKey, consent: bool) -> None: ...

    async def set_paused(self, key: UserKey, since: datetime | None) -> None: ...

    async def forget(self, key: UserKey) -> None:
        """Delete everything about a beneficiary at once (seats are given back)."""
        ...

    async def inactive_since(self, before: datetime, after: str,
                             scan: int) -> list[tuple[UserKey, bool]]:
        """The next ``scan`` beneficiaries after the key ``after``, in key order, each with
        whether their last workshop (or joining, if none) is older than ``before``: a page
        of the retention purge, so that reading who to forget is as short as forgetting."""
        ...


class ReminderRepo(Protocol):
    async def add(self, workshop_id: int, user: UserKey, times: Sequence[datetime]) -> None: ...

    async def drop_pending(self, user: UserKey, workshop_id: int | None = None) -> int: ...

    async def pending_for(self, user: UserKey) -> list[datetime]: ...

    async def due(self, now: datetime, limit: int) -> list[DueReminder]: ...

    async def mark(self, reminder_id: int, status: str, now: datetime) -> bool:
        """Move a *pending* reminder to ``queued``/``skipped``; False if it was not pending."""
        ...


class HelpRepo(Protocol):
    async def remote_help(self, place_id: PlaceId) -> RemoteHelp | None: ...

    async def set_remote_help(self, place_id: PlaceId, instructions: str, link: str) -> None: ...

    async def mediators(self, place_id: PlaceId) -> list[UserKey]: ...

    async def open(self, user: UserKey, place_id: PlaceId | None, now: datetime) -> HelpTicket: ...

    async def get(self, ticket_id: int) -> HelpTicket | None: ...

    async def current(self, user: UserKey) -> HelpTicket | None: ...

    async def take(self, ticket_id: int, mediator: UserKey, now: datetime) -> bool: ...

    async def touch(self, ticket_id: int, now: datetime) -> None: ...

    async def answering(self, mediator: UserKey) -> HelpTicket | None: ...

    async def close(self, ticket_id: int, now: datetime) -> bool: ...


class CatalogueRepo(Protocol):
    """Kinds of device, the stock of each place, and the price grid."""

    async def kinds(self) -> list[CatalogueKind]: ...

    async def stock(self) -> dict[tuple[PlaceId, str], int]:
        """Devices available by (place, kind): ready there, less the requests holding one."""
        ...

    async def stock_in_reach(self, reach: Reach) -> dict[tuple[PlaceId, str], int]:
        """Devices available now at the places :meth:`PlaceRepo.in_reach` returns."""
        ...

    async def available(self, place_id: PlaceId, kind: str) -> int: ...

    async def held(self, place_id: PlaceId, kind: str) -> int:
        """Requests holding a device of ``kind`` at ``place_id``."""
        ...

    async def price_grid(self) -> PriceGrid: ...


class RequestRepo(Protocol):
    """Equipment requests; status changes are conditional, so a second action is refused."""

    async def create(
        self, prescriber: UserKey, draft: RequestDraft, tier: str, price_cents: int, epci: str,
        place: tuple[PlaceId, str] | None, year: int, now: datetime, *, for_fund: bool = False,
    ) -> EquipmentRequest:
        """Number the request in ``year`` (the network's local year) and store it; with
        ``for_fund`` it waits for the solidarity fund's next budget, not only for stock."""
        ...

    async def get(self, request_id: RequestId) -> EquipmentRequest | None: ...

    async def of_prescriber(self, user: UserKey, limit: int) -> list[EquipmentRequest]: ...

    async def for_place(self, place_id: PlaceId) -> list[EquipmentRequest]: ...

    async def waiting(self, kind: str | None = None) -> list[EquipmentRequest]: ...

    async def fund_held(self, request_ids: Sequence[RequestId]) -> set[RequestId]:
        """Which of these waiting requests were made while the fund was empty."""
        ...

    async def position(self, request_id: RequestId) -> int | None: ...

    async def send_to(
        self, request_id: RequestId, expected: Sequence[RequestStatus], place_id: PlaceId,
        reason: str, now: datetime,
    ) -> bool: ...

    async def to_waiting(
        self, request_id: RequestId, expected: Sequence[RequestStatus], now: datetime
    ) -> bool: ...

    async def set_status(
        self, request_id: RequestId, expected: Sequence[RequestStatus], status: RequestStatus,
        now: datetime, *, place_id: PlaceId | None = None,
        pickup: tuple[date, str] | None = None,
    ) -> bool: ...

    async def log(
        self, request_id: RequestId, event: str, by: UserKey | None, place_id: PlaceId | None,
        note: str | None, now: datetime,
    ) -> None: ...

    async def refused_by(self, request_id: RequestId) -> set[PlaceId]: ...

    async def place_staff(self, place_id: PlaceId) -> list[UserKey]: ...

    async def forget_first_names(self, ended_before: datetime) -> int: ...


class LotRepo(Protocol):
    """Donated lots and their erasure proofs (records and certificates, kept 5 years)."""

    async def create(self, draft: LotDraft, donor: UserKey, year: int, now: datetime) -> Lot: ...

    async def get(self, lot_id: LotId) -> Lot | None: ...

    async def by_reference(self, reference: str) -> Lot | None: ...

    async def for_donor(self, donor: UserKey, limit: int) -> list[Lot]: ...

    async def open_lots(self, place: PlaceId | None, limit: int) -> list[Lot]: ...

    async def send_to(self, lot_id: LotId, workshop: PlaceId) -> bool: ...

    async def mark_received(self, lot_id: LotId, now: datetime) -> bool: ...

    async def mark_impact_told(self, lot_id: LotId, now: datetime) -> bool:
        """Note the donor was sent the lot's impact report, once; False when already."""
        ...

    async def lot_of_device(self, serial: str) -> LotId | None: ...

    async def add_erasure(
        self, lot_id: LotId, record: NewErasure, operator: UserKey, now: datetime, *,
        signatory: Signatory, device_id: int | None = None,
    ) -> ErasureRecord: ...

    async def erasures(self, lot_id: LotId) -> list[ErasureRecord]: ...

    async def issue_certificate(
        self, lot_id: LotId, code: str, by: UserKey, now: datetime, *, signatory: Signatory
    ) -> bool:
        """Certify a lot once; False when it was certified already."""
        ...

    async def certificate(self, lot_id: LotId) -> Certificate | None: ...

    async def certificate_by_code(self, code: str) -> Certificate | None: ...

    async def purge_proofs(self, before: datetime, now: datetime) -> int: ...

    async def forget_contact(self, donor: UserKey) -> int: ...

    async def staff_for(self, place_id: PlaceId | None,
                        workshop_id: PlaceId | None) -> list[UserKey]: ...


KEEP = object()
"""``DeviceRepo.change``'s place when the device stays where it is."""


class DeviceRepo(Protocol):
    """Devices of the chain, their history and reconditioning records (storage/devices.py)."""

    async def register(
        self, label: str, lot_id: LotId | None, category: DeviceCategory, kind: str | None,
        model: str, serial: str | None, place_id: PlaceId | None, now: datetime,
        by: UserKey | None,
    ) -> Device | None:
        """A new device, received; None when its label or serial number is taken."""
        ...

    async def get(self, device_id: DeviceId) -> Device | None: ...

    async def by_label(self, label: str) -> Device | None: ...

    async def by_serial(self, serial: str) -> Device | None: ...

    async def of_lot(self, lot_id: LotId) -> list[Device]: ...

    async def of_request(self, request_id: RequestId) -> list[Device]: ...

    async def ready_at(self, place_id: PlaceId, kind: str | None,
                       limit: int = ...) -> list[Device]: ...

    async def change(
        self, device_id: DeviceId, expected: Sequence[DeviceState], state: DeviceState,
        event: str, now: datetime, by: UserKey | None, *, place_id: object = ...,
        request_id: RequestId | None = None, join_code: str | None = None,
    ) -> bool:
        """Move a device on, only from ``expected``, and record the event."""
        ...

    async def log(self, device_id: DeviceId, event: str, state: DeviceState,
                  place_id: PlaceId | None, request_id: RequestId | None, by: UserKey | None,
                  now: datetime) -> None: ...

    async def handed_at(self, device_id: DeviceId) -> datetime | None: ...

    async def handed_with(self, join_code: str) -> Device | None: ...

    async def set_details(self, device_id: DeviceId, model: str | None,
                          serial: str | None) -> bool: ...

    async def mark_wiped(self, device_id: DeviceId, now: datetime) -> None: ...

    async def add_diagnosis(self, device_id: DeviceId, record: NewDiagnosis,
                            operator: UserKey | None, signatory: Signatory,
                            now: datetime) -> DiagnosisRecord: ...

    async def diagnoses(self, device_id: DeviceId) -> list[DiagnosisRecord]: ...

    async def erasures(self, device_id: DeviceId) -> int: ...

    async def purge(self, before: datetime) -> int: ...


class RepairRepo(Protocol):
    """Repair tickets under warranty (storage/repairs.py)."""

    async def open(self, device_id: DeviceId, request_id: RequestId | None,
                   place_id: PlaceId | None, workshop_id: PlaceId | None,
                   reported_by: UserKey, problem: Problem, warranty_until: date,
                   now: datetime) -> RepairTicket: ...

    async def get(self, ticket_id: int) -> RepairTicket | None: ...

    async def open_for(self, device_id: DeviceId) -> RepairTicket | None: ...

    async def open_at(self, place_id: PlaceId) -> list[RepairTicket]: ...

    async def close(self, ticket_id: int, status: TicketStatus, now: datetime,
                    replacement_id: DeviceId | None = None) -> bool:
        """Close an open ticket; False when it was closed already."""
        ...

    async def forget_reporter(self, key: UserKey) -> int: ...


class TransferRepo(Protocol):
    """Transfers of devices and the volunteer drivers (storage/transfers.py)."""

    async def is_driver(self, key: UserKey) -> bool: ...

    async def set_driver(self, key: UserKey, driver: bool, by: UserKey,
                         now: datetime) -> bool: ...

    async def drivers(self) -> list[UserKey]: ...

    async def plan(self, device_id: DeviceId, kind: str | None, request_id: RequestId | None,
                   from_place: PlaceId, to_place: PlaceId, route: str, by: UserKey,
                   now: datetime) -> Transfer: ...

    async def get(self, transfer_id: int) -> Transfer | None: ...

    async def open_for_device(self, device_id: DeviceId) -> Transfer | None: ...

    async def open(self, driver: UserKey) -> list[Transfer]: ...

    async def clear_driver(self, transfer_id: int) -> None: ...

    async def change(self, transfer_id: int, expected: Sequence[TransferStatus],
                     status: TransferStatus, now: datetime, *,
                     driver: UserKey | None = None) -> bool: ...


class AuditRepo(Protocol):
    """The audit log of sensitive actions (``flows.audit``)."""

    async def record(self, actor: UserKey | None, action: AuditAction, subject: str,
                     now: datetime, detail: str = "") -> None: ...

    async def recent(self, limit: int) -> list[AuditEntry]: ...

    async def since(self, when: datetime) -> list[AuditEntry]: ...

    async def purge(self, now: datetime) -> int: ...


class CoordinationRepo(Protocol):
    """What coordinators change: members, referents, places, catalogue, directory."""

    async def members(self) -> list[Member]: ...

    async def member(self, number: int) -> Member | None: ...

    async def member_of(self, user: UserKey) -> Member | None:
        """The professional ``user``, if approved."""
        ...

    async def members_at(self, commune: str) -> list[Member]:
        """Approved professionals whose latest approved request names a structure of
        ``commune`` (every member of a structure is among them)."""
        ...

    async def revoke(self, user: UserKey, by: UserKey, now: datetime) -> bool:
        """Withdraw an access; False when the account had none."""
        ...

    async def set_member(self, user: UserKey, role: Role, place_id: PlaceId | None) -> None: ...

    async def referents(self) -> dict[str, UserKey]: ...

    async def named_referent(self, structure: str) -> UserKey | None:
        """The referent a coordinator named for one structure, if any."""
        ...

    async def name_referent(self, structure: str, user: UserKey, by: UserKey,
                            now: datetime) -> None: ...

    async def places(self) -> list[ManagedPlace]: ...

    async def place(self, place_id: PlaceId) -> ManagedPlace | None: ...

    async def save_place(self, change: PlaceChange, now: datetime) -> PlaceId: ...

    async def save_kind(self, row: KindRow) -> None: ...

    async def set_rule(self, situation: str, income: str, tier: Tier) -> None: ...

    async def set_price(self, tier: Tier, kind: str, cents: int) -> None: ...

    async def replace_rules(self, rows: Sequence[RuleRow]) -> None: ...

    async def replace_prices(self, rows: Sequence[PriceRow]) -> None: ...

    async def save_mediation(self, places: Sequence[MediationPlace], now: datetime) -> int: ...

    async def mediation_places(self) -> list[MediationPlace]: ...

    async def mediation_near(self, commune: str, epci: str | None,
                             limit: int) -> list[MediationPlace]:
        """The directory's places of ``commune``, then of its intercommunality."""
        ...

    async def prescribers(self, epci: str | None = None) -> list[UserKey]: ...


class PrivacyRepo(Protocol):
    """A professional's own erasure (``flows.privacy``), and accounts left with nothing."""

    async def purge_bare_accounts(self, created_before: datetime, limit: int = -1) -> int:
        """Delete accounts made before ``created_before`` that nothing refers to any more,
        at most ``limit`` (-1: all); coordinators are kept."""
        ...

    async def open_requests(self, prescriber: UserKey) -> list[str]:
        """References of the prescriber's requests still open."""
        ...

    async def erase_professional(self, key: UserKey, now: datetime) -> bool:
        """End the access, blank the details, delete the conversation, menu and messages;
        False when the account had no role any more."""
        ...


class ReportRepo(Protocol):
    """Anonymous dated events for the activity report (``flows.report``)."""

    async def events(self, since: datetime, until: datetime) -> list[Event]: ...

    async def waiting(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class SmsContact:
    """Someone reached by SMS: their mobile number and whether they said STOP."""

    key: UserKey
    phone: str
    """E.164."""
    stopped: bool
    stop_told: bool
    """The confirmation of their STOP went out (nothing more goes until START)."""


@dataclass(frozen=True)
class SmsOut:
    """An SMS handed over by the outbox, waiting to be posted to the gateway or for the
    gateway to say how it went (``storage/sms.py``)."""

    id: int
    key: UserKey
    phone: str
    body: str
    segments: int
    workshop_id: int | None
    """The session a reminder is about (a place is told of a reminder not received)."""
    status: str
    """``queued`` (to post) or ``posted`` (to ask the gateway about)."""
    attempts: int
    """Sends the gateway refused, or reported failed."""
    gateway_id: str | None
    any_hour: bool
    """An answer to someone who had just written: the quiet hours do not hold it."""
    created_at: datetime
    posted_at: datetime | None


class SmsRepo(Protocol):
    """Mobile numbers of people reached by SMS, the SMS on their way, the monthly count."""

    async def register(self, key: UserKey, phone: str, now: datetime) -> bool:
        """Keep ``phone`` for ``key``; False when the number is someone's already."""
        ...

    async def by_phone(self, phone: str) -> SmsContact | None: ...

    async def contact(self, key: UserKey) -> SmsContact | None: ...

    async def stop(self, key: UserKey, now: datetime) -> int:
        """STOP: nothing more is sent (what waits in the outbox or to be posted is dropped);
        how many waiting messages were dropped."""
        ...

    async def start(self, key: UserKey) -> bool:
        """START: SMS again; False when they had not said STOP."""
        ...

    async def stop_told(self, key: UserKey) -> None: ...

    async def queue(self, outbox_ref: str, key: UserKey, body: str, segments: int,
                    workshop_id: int | None, any_hour: bool, now: datetime,
                    post_at: datetime) -> int | None:
        """Take an outbox message (``outbox_ref``: its id and a digest of its text) as an
        SMS to post at ``post_at``; None when it was taken already (a delivery tried again
        after a crash)."""
        ...

    async def due(self, now: datetime, limit: int) -> list[SmsOut]:
        """SMS to post, or to ask the gateway about, now: oldest first."""
        ...

    async def waiting_before(self, key: UserKey, sms_id: int) -> bool:
        """Whether an earlier SMS to the same person is not posted yet (order is kept)."""
        ...

    async def posted(self, sms_id: int, gateway_id: str, now: datetime,
                     check_at: datetime) -> None: ...

    async def put_off(self, sms_id: int, until: datetime, error: str,
                      attempt: bool) -> None:
        """To post again at ``until``; ``attempt``: the gateway refused or failed it."""
        ...

    async def check_later(self, sms_id: int, when: datetime) -> None: ...

    async def sent(self, sms_id: int, now: datetime, month: str) -> None:
        """The gateway sent it: its text blanked, its segments counted in ``month``."""
        ...

    async def failed(self, sms_id: int, now: datetime, error: str) -> None:
        """Given up: its text blanked."""
        ...

    async def purge(self, before: datetime, limit: int = -1) -> int:
        """Forget the records of SMS sent or given up before ``before``."""
        ...

    async def usage(self, months: Sequence[str]) -> dict[str, int]:
        """Segments sent per month, for the months asked (``YYYY-MM``)."""
        ...


class PaymentRepo(Protocol):
    """Payments and the solidarity fund (``flows.payments``): rows are only ever added."""

    async def record(self, *, request_id: int | None, device_id: int | None,
                     place_id: int | None, epci: str, profile: str, channel: Channel,
                     cents: int, payer: Payer, third_party: str | None, method: Method,
                     by: UserKey | None, now: datetime, corrects: int | None = None,
                     reason: str | None = None) -> Payment: ...

    async def get(self, payment_id: int) -> Payment | None: ...

    async def of_request(self, request_id: int) -> list[Payment]: ...

    async def is_corrected(self, payment_id: int) -> bool: ...

    async def listed(self, since: datetime, until: datetime) -> list[ListedPayment]: ...

    async def latest(self, since: datetime, until: datetime,
                     count: int) -> list[ListedPayment]: ...

    async def totals(self, since: datetime, until: datetime) -> tuple[int, list[PayerTotal]]:
        """How many entries, and per payer kind the payments and their sum."""
        ...

    async def set_budget(self, year: int, cents: int, by: UserKey | None,
                         now: datetime) -> None: ...

    async def fund(self, year: int) -> FundState: ...

    async def fund_lines(self, year: int) -> list[FundLine]: ...

    async def warn_once(self, year: int, now: datetime) -> bool: ...

    async def sums(self, since: datetime, until: datetime) -> list[PaymentSum]: ...

    async def mediation(self, since: datetime, until: datetime) -> list[Mediation]: ...


class ReservationRepo(Protocol):
    """The public's reservations (``flows.public_sale``)."""

    async def create(self, kind: str, place_id: int, first_name: str, contact: str | None,
                     user_key: UserKey, now: datetime, expires: datetime) -> Reservation: ...

    async def get(self, reservation_id: int) -> Reservation | None: ...

    async def held_at(self, place_id: int) -> list[Reservation]: ...

    async def sell(self, reservation_id: int, device_id: int, now: datetime) -> bool: ...

    async def cancel(self, reservation_id: int, user_key: UserKey, now: datetime) -> bool: ...

    async def held_by(self, user_key: UserKey) -> list[Reservation]: ...

    async def lapse(self, now: datetime) -> list[Reservation]: ...

    async def grade_prices(self) -> dict[tuple[str, str], int]: ...

    async def set_grade_price(self, kind: str, grade: str, cents: int) -> None: ...

    async def replace_grade_prices(self, prices: Mapping[tuple[str, str], int]) -> None: ...

    async def wait(self, kind: str, first_name: str, contact: str | None, user_key: UserKey,
                   now: datetime) -> bool: ...

    async def waiting_kinds(self, user_key: UserKey) -> set[str]: ...

    async def leave(self, kind: str, user_key: UserKey) -> int: ...

    async def first_waiting(self, kind: str) -> Waiting | None: ...

    async def told(self, waiting_id: int) -> bool: ...

    async def drop_waiting(self, before: datetime) -> int: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories bound to it."""

    users: UserRepo
    reach: ReachRepo
    conversations: ConversationRepo
    events: EventRepo
    outbox: OutboxRepo
    menus: MenuRepo
    access: AccessRepo
    places: PlaceRepo
    workshops: WorkshopRepo
    catalogue: CatalogueRepo
    requests: RequestRepo
    beneficiaries: BeneficiaryRepo
    reminders: ReminderRepo
    help: HelpRepo
    lots: LotRepo
    devices: DeviceRepo
    audit: AuditRepo
    coordination: CoordinationRepo
    reports: ReportRepo
    privacy: PrivacyRepo
    mail: MailRepo
    sms: SmsRepo
    payments: PaymentRepo
    reservations: ReservationRepo
    repairs: RepairRepo
    transfers: TransferRepo

    def part(self) -> AbstractAsyncContextManager[None]:
        """A part of this transaction that an exception rolls back alone (a savepoint)."""
        ...


class StorageUnavailable(Exception):
    """The database cannot take a write now (locked by another writer past the busy timeout,
    disk full): the transaction was rolled back whole, so trying again later is safe."""


class Storage(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Begin a write transaction; it commits on normal exit, rolls back on an exception."""
        ...

    def reading(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Read what is committed, without taking the write lock; nothing may be written."""
        ...

    def autocommit(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Write records of one statement each, every one committed on its own: for what
        stands alone and is written very often (the outbox's record of each delivery),
        where a transaction's begin and commit would cost as much as the write."""
        ...

    def exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """True for the one process, among those sharing the database, that may do ``name``
        now (a periodic job); False for the others, which skip it."""
        ...
