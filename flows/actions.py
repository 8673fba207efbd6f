"""Every button of the bot, declared once: its data, who may press it, and on what.

This one page is the network's access model. A role absent from ``allow`` is refused by the
router before any feature code runs; a role present acts only within its scope (its own
records, its place, its structure, the lots of its place or workshop, or the whole network).
Features receive the parsed action (``handlers/authorize.py`` checks it); a new button is
added here first, and the access-table test (``tests/security/test_access_table.py``),
generated from these declarations, then tries it with every role.

Prefixes are short (Telegram's 64 bytes) and never reused for another meaning: a button
pressed in an old message must not do something new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flows.action_codec import Action, Command, Scope, Target, Who
from flows.records import DeviceCategory, RefuseReason, Role

ANYONE = {Who.ANYONE: Scope.NONE}
COORDINATION = {Who.COORDINATOR: Scope.NONE}
NETWORK = {Who.COORDINATOR: Scope.NETWORK}
PROFESSIONALS = {Who.PRESCRIBER: Scope.NONE, Who.PLACE_STAFF: Scope.NONE,
                 Who.RECONDITIONER: Scope.NONE, Who.COORDINATOR: Scope.NONE}
PLACE_STAFF = {Who.PLACE_STAFF: Scope.NONE}
LOT_STAFF = {Who.PLACE_STAFF: Scope.LOT, Who.RECONDITIONER: Scope.LOT,
             Who.COORDINATOR: Scope.NETWORK}
BENEFICIARY = {Who.BENEFICIARY: Scope.NONE}
OWN_BOOKING = {Who.BENEFICIARY: Scope.OWN}


# --- Home and public information ------------------------------------------------------------

@dataclass(frozen=True)
class ProDoor(Action, prefix="m:pro", allow=ANYONE):
    """The professional space, or the access request for those without one."""


@dataclass(frozen=True)
class GiveDoor(Action, prefix="m:give", allow=ANYONE):
    """Give equipment (declare a lot) or see one's donations."""


@dataclass(frozen=True)
class BuyDoor(Action, prefix="m:buy", allow=ANYONE):
    """Buy a refurbished device: the public catalogue, prices, where and when (public)."""


@dataclass(frozen=True)
class BuyReserve(Action, prefix="buy:rs", allow=ANYONE):
    """Reserve a device of ``kind`` for a few days, to buy it at a place (public)."""

    kind: str


@dataclass(frozen=True)
class BuyReserveAt(Action, prefix="buy:ra", allow=ANYONE):
    """Reserve a device of ``kind`` at ``place``, the place already known: the button of the
    message that tells someone on the waiting list where one is (public: the place's stock
    is the public catalogue's)."""

    kind: str
    place: int


@dataclass(frozen=True)
class BuyWait(Action, prefix="buy:wt", allow=ANYONE):
    """Join the waiting list for a device of ``kind`` none of the places has now (public)."""

    kind: str


@dataclass(frozen=True)
class BuyLeave(Action, prefix="buy:lv", allow=ANYONE):
    """Leave the waiting list for ``kind``: only the presser's own entry goes (public)."""

    kind: str


@dataclass(frozen=True)
class BuyCancel(Action, prefix="buy:cx", allow=ANYONE):
    """Cancel one's own reservation (the handler checks it was made from this chat)."""

    reservation: int


@dataclass(frozen=True)
class PlaceReservations(Action, prefix="buy:in", allow=PLACE_STAFF):
    """The public's reservations held at the staff's place, each to sell."""


@dataclass(frozen=True)
class SellReservation(Action, prefix="buy:sold", allow=PLACE_STAFF):
    """Sell a reserved device (the handler checks the reservation is at their place)."""

    reservation: int


@dataclass(frozen=True)
class GradePrice(Action, prefix="buy:gp", allow=COORDINATION):
    """Set the public price of a kind of device in a grade."""


@dataclass(frozen=True)
class GotDoor(Action, prefix="m:got", allow=ANYONE):
    """"I received a computer": join with a code, or the beneficiary's menu."""


@dataclass(frozen=True)
class HelpDoor(Action, prefix="m:help", allow=ANYONE):
    pass


@dataclass(frozen=True)
class LanguageDoor(Action, prefix="m:lang", allow=ANYONE):
    pass


@dataclass(frozen=True)
class Places(Action, prefix="i:places", allow=ANYONE):
    """The network's places and opening hours (public)."""


@dataclass(frozen=True)
class Workshops(Action, prefix="i:workshops", allow=ANYONE):
    """The next workshop sessions (public)."""


# --- Access requests --------------------------------------------------------------------------

DECIDE = {Who.COORDINATOR: Scope.NETWORK, Who.REFERENT: Scope.STRUCTURE}


@dataclass(frozen=True)
class ApproveAccess(Action, prefix="acc:ok", allow=DECIDE, on=Target.ACCESS):
    """A referent approves only the prescribers of their own structure."""

    request: int


@dataclass(frozen=True)
class RejectAccess(Action, prefix="acc:no", allow=DECIDE, on=Target.ACCESS):
    request: int


@dataclass(frozen=True)
class AttachPlace(Action, prefix="acc:pl", allow=NETWORK, on=Target.ACCESS):
    """Attach an approved account to a place (0: no place)."""

    request: int
    place: int


@dataclass(frozen=True)
class AccessQueue(Action, prefix="q:access", allow=COORDINATION):
    pass


# --- Equipment requests -----------------------------------------------------------------------

OWN_REQUEST = {Who.PRESCRIBER: Scope.OWN}
PLACE_REQUEST = {Who.PLACE_STAFF: Scope.PLACE}


@dataclass(frozen=True)
class NewRequest(Action, prefix="rq:new", allow={Who.PRESCRIBER: Scope.NONE}):
    pass


@dataclass(frozen=True)
class MyRequests(Action, prefix="rq:mine", allow={Who.PRESCRIBER: Scope.NONE}):
    pass


@dataclass(frozen=True)
class ReceivedRequests(Action, prefix="rq:in", allow=PLACE_STAFF):
    pass


@dataclass(frozen=True)
class PlaceStock(Action, prefix="rq:stock", allow=PLACE_STAFF):
    """The place's stock: its ready devices, counted (``rq:st``, which added a unit by
    hand, is gone: stock is never typed)."""


@dataclass(frozen=True)
class AcceptRequest(Action, prefix="rq:ok", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class RefuseRequest(Action, prefix="rq:no", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class RefuseBecause(Action, prefix="rq:nr", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int
    reason: RefuseReason


@dataclass(frozen=True)
class ReadyRequest(Action, prefix="rq:rd", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class ReadyOn(Action, prefix="rq:rdd", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int
    day: date


@dataclass(frozen=True)
class Handover(Action, prefix="rq:ho", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class HandoverYes(Action, prefix="rq:hy", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class HandoverNotYet(Action, prefix="rq:hn", allow=PLACE_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class CancelRequest(Action, prefix="rq:cx", allow=OWN_REQUEST, on=Target.REQUEST):
    request: int


@dataclass(frozen=True)
class CancelRequestYes(Action, prefix="rq:cy", allow=OWN_REQUEST, on=Target.REQUEST):
    request: int


# --- Donations and lots -----------------------------------------------------------------------

@dataclass(frozen=True)
class NewDonation(Action, prefix="don:new", allow=ANYONE):
    pass


@dataclass(frozen=True)
class MyDonations(Action, prefix="don:list", allow=ANYONE):
    """The person's own lots (none: an invitation to give)."""


@dataclass(frozen=True)
class ForgetContact(Action, prefix="don:forget", allow=ANYONE):
    pass


@dataclass(frozen=True)
class ForgetContactYes(Action, prefix="don:forget:ok", allow=ANYONE):
    pass


@dataclass(frozen=True)
class DonorCertificate(Action, prefix="don:cert", allow={Who.ANYONE: Scope.OWN},
                       on=Target.LOT):
    """The donor fetches their lot's certificate again."""

    lot: int


@dataclass(frozen=True)
class DonorImpact(Action, prefix="don:impact", allow={Who.ANYONE: Scope.OWN}, on=Target.LOT):
    """The donor reads what became of their lot so far (``flows/impact.py``)."""

    lot: int


@dataclass(frozen=True)
class DonorReceipt(Action, prefix="don:receipt", allow={Who.ANYONE: Scope.OWN},
                   on=Target.LOT):
    """The donor downloads their lot's receipt again."""

    lot: int


@dataclass(frozen=True)
class OpenLots(Action, prefix="lot:list", allow={
        Who.PLACE_STAFF: Scope.NONE, Who.RECONDITIONER: Scope.NONE,
        Who.COORDINATOR: Scope.NONE}):
    """The lots to receive and erase, of the person's place or workshop."""


@dataclass(frozen=True)
class SeeLot(Action, prefix="lot:see", allow=LOT_STAFF, on=Target.LOT):
    lot: int


@dataclass(frozen=True)
class ReceiveLot(Action, prefix="lot:rcv", allow=LOT_STAFF, on=Target.LOT):
    lot: int


@dataclass(frozen=True)
class RecordErasure(Action, prefix="lot:wipe", allow={Who.RECONDITIONER: Scope.LOT},
                    on=Target.LOT):
    lot: int


@dataclass(frozen=True)
class Certify(Action, prefix="lot:cert", allow={Who.RECONDITIONER: Scope.LOT},
              on=Target.LOT):
    lot: int


@dataclass(frozen=True)
class ChooseWorkshop(Action, prefix="lot:to", allow={
        Who.PLACE_STAFF: Scope.LOT, Who.COORDINATOR: Scope.NETWORK}, on=Target.LOT):
    """Which reconditioning workshops a lot may be sent to."""

    lot: int


@dataclass(frozen=True)
class AssignWorkshop(Action, prefix="lot:tw", allow={
        Who.PLACE_STAFF: Scope.LOT, Who.COORDINATOR: Scope.NETWORK}, on=Target.LOT):
    """Send a lot to a reconditioning workshop, whose reconditioners then erase it."""

    lot: int
    workshop: int


# --- Devices: registered at reception, labelled, reconditioned -------------------------------

DEVICE_STAFF = {Who.PLACE_STAFF: Scope.LOT, Who.RECONDITIONER: Scope.LOT,
                Who.COORDINATOR: Scope.NETWORK}
"""A device is the staff's when it is at their place, or its lot was dropped at or sent to
their place or workshop (``handlers/authorize.py``)."""
ITS_WORKSHOP = {Who.RECONDITIONER: Scope.LOT}


@dataclass(frozen=True)
class LotDevices(Action, prefix="dv:lot", allow=LOT_STAFF, on=Target.LOT):
    """A lot's devices: how many registered of each category, and how to register the rest."""

    lot: int


@dataclass(frozen=True)
class RegisterDevices(Action, prefix="dv:reg", allow=LOT_STAFF, on=Target.LOT):
    """Register a lot's devices of one category one message each (make, model, serial)."""

    lot: int
    category: DeviceCategory


@dataclass(frozen=True)
class RegisterRest(Action, prefix="dv:rest", allow=LOT_STAFF, on=Target.LOT):
    """Register every declared device not registered yet, details later."""

    lot: int


@dataclass(frozen=True)
class LabelSheet(Action, prefix="dv:pdf", allow=LOT_STAFF, on=Target.LOT):
    """The A4 sheet of the lot's stickers (PDF)."""

    lot: int


@dataclass(frozen=True)
class SeeDevice(Action, prefix="dv:see", allow=DEVICE_STAFF, on=Target.DEVICE):
    device: int


@dataclass(frozen=True)
class DiagnoseDevice(Action, prefix="dv:dx", allow=ITS_WORKSHOP, on=Target.DEVICE):
    """Record a reconditioning record: diagnosis, work done, grade, battery."""

    device: int


@dataclass(frozen=True)
class WipeDevice(Action, prefix="dv:wipe", allow=ITS_WORKSHOP, on=Target.DEVICE):
    """Record the erasure of one of the device's media (a proof of its lot)."""

    device: int


# --- The after-donation service: staff --------------------------------------------------------

# --- Warranty and return (handlers/warranty.py) ----------------------------------------------

HOLDER = {Who.BENEFICIARY: Scope.OWN, Who.PRESCRIBER: Scope.OWN}
"""The person a device was handed over to (by the join code they used), or the prescriber of
its request."""
REPAIRERS = {Who.PLACE_STAFF: Scope.PLACE, Who.RECONDITIONER: Scope.LOT}
"""The place that handed the device over, and the workshop that reconditioned it."""


@dataclass(frozen=True)
class MyDeviceProblem(Action, prefix="wr:me", allow=BENEFICIARY):
    """The beneficiary's menu: "my device has a problem"."""


@dataclass(frozen=True)
class RequestProblem(Action, prefix="wr:rq", allow=OWN_REQUEST, on=Target.REQUEST):
    """The prescriber reports a problem with the device of a request handed over."""

    request: int


@dataclass(frozen=True)
class ReportProblem(Action, prefix="wr:pb", allow=HOLDER, on=Target.DEVICE):
    """What is wrong, picked from a short list (``flows.warranty.Problem``)."""

    device: int
    problem: str


@dataclass(frozen=True)
class OpenRepairs(Action, prefix="wr:list", allow={Who.PLACE_STAFF: Scope.NONE,
                                                   Who.RECONDITIONER: Scope.NONE}):
    """The open repair tickets of the place or workshop."""


@dataclass(frozen=True)
class SeeRepair(Action, prefix="wr:see", allow=REPAIRERS, on=Target.REPAIR):
    ticket: int


@dataclass(frozen=True)
class RepairDone(Action, prefix="wr:ok", allow=REPAIRERS, on=Target.REPAIR):
    """Repaired: the device goes back to the person."""

    ticket: int


@dataclass(frozen=True)
class ReplaceDevice(Action, prefix="wr:swap", allow={Who.PLACE_STAFF: Scope.PLACE},
                    on=Target.REPAIR):
    """Offer the place's ready devices of the same kind as replacements."""

    ticket: int


@dataclass(frozen=True)
class ReplaceWith(Action, prefix="wr:with", allow={Who.PLACE_STAFF: Scope.PLACE},
                  on=Target.REPAIR):
    """Hand ``device`` over instead, for the same request; the first goes back to the
    workshop's bench."""

    ticket: int
    device: int


# --- Transfers and volunteer drivers (handlers/transfers.py) ----------------------------------

SENDERS = {Who.PLACE_STAFF: Scope.PLACE, Who.COORDINATOR: Scope.NETWORK}
"""The staff of the place where a ready device is, or the coordination."""


@dataclass(frozen=True)
class SendDevice(Action, prefix="tr:to", allow=SENDERS, on=Target.DEVICE):
    """Offer the places a ready device may be carried to."""

    device: int


@dataclass(frozen=True)
class PlanTransfer(Action, prefix="tr:plan", allow=SENDERS, on=Target.DEVICE):
    """Plan the device's transfer to ``place``: drivers are told."""

    device: int
    place: int


@dataclass(frozen=True)
class BringHere(Action, prefix="tr:here", allow=OWN_REQUEST, on=Target.REQUEST):
    """The prescriber asks for the device to be brought to their own place rather than the
    person going where it is now."""

    request: int


@dataclass(frozen=True)
class OpenTransfers(Action, prefix="tr:list", allow={Who.DRIVER: Scope.NONE}):
    """The transfers to carry, by route, and those the driver took."""


@dataclass(frozen=True)
class TakeTransfer(Action, prefix="tr:take", allow={Who.DRIVER: Scope.NETWORK},
                   on=Target.TRANSFER):
    transfer: int


@dataclass(frozen=True)
class GiveUpTransfer(Action, prefix="tr:drop",
                     allow={Who.DRIVER: Scope.OWN, Who.COORDINATOR: Scope.NETWORK},
                     on=Target.TRANSFER):
    """The driver cannot carry it after all: open to the other drivers again."""

    transfer: int


@dataclass(frozen=True)
class PickUpTransfer(Action, prefix="tr:up", allow={Who.DRIVER: Scope.OWN},
                     on=Target.TRANSFER):
    transfer: int


@dataclass(frozen=True)
class DeliverTransfer(Action, prefix="tr:done",
                      allow={Who.DRIVER: Scope.OWN, Who.PLACE_STAFF: Scope.PLACE},
                      on=Target.TRANSFER):
    """Delivered: the device is in the stock of the place of arrival."""

    transfer: int


STAFF_OR_COORDINATION = {Who.PLACE_STAFF: Scope.NONE, Who.COORDINATOR: Scope.NONE}
PLACE_WORKSHOP = {Who.PLACE_STAFF: Scope.PLACE, Who.COORDINATOR: Scope.NETWORK}


@dataclass(frozen=True)
class JoinCode(Action, prefix="bs:code", allow=STAFF_OR_COORDINATION):
    """A one-time join code for the staff's place (coordinators pick the place)."""


@dataclass(frozen=True)
class JoinCodeFor(Action, prefix="bs:cp", allow=PLACE_WORKSHOP, on=Target.PLACE):
    place: int


@dataclass(frozen=True)
class WhoIsComing(Action, prefix="bs:who", allow=PLACE_STAFF):
    pass


@dataclass(frozen=True)
class PublishWorkshop(Action, prefix="bs:new", allow=PLACE_STAFF):
    pass


@dataclass(frozen=True)
class Attendance(Action, prefix="bs:pres", allow=PLACE_STAFF):
    """The place's sessions held lately, to record who came."""


@dataclass(frozen=True)
class RecordAttendance(Action, prefix="bs:att", allow=PLACE_WORKSHOP, on=Target.WORKSHOP):
    """Tick who came to a session of the place (the figures and the path count it)."""

    workshop: int


@dataclass(frozen=True)
class CancelWorkshop(Action, prefix="bs:del", allow=PLACE_WORKSHOP, on=Target.WORKSHOP):
    workshop: int


@dataclass(frozen=True)
class CancelWorkshopYes(Action, prefix="bs:delok", allow=PLACE_WORKSHOP, on=Target.WORKSHOP):
    workshop: int


@dataclass(frozen=True)
class TakeTicket(Action, prefix="tk:take", allow=PLACE_WORKSHOP, on=Target.TICKET):
    """A mediator of the beneficiary's place takes a help request."""

    ticket: int


ANSWERING = {Who.PLACE_STAFF: Scope.OWN, Who.COORDINATOR: Scope.OWN}


@dataclass(frozen=True)
class ReplyTicket(Action, prefix="tk:rep", allow=ANSWERING, on=Target.TICKET):
    """Only the mediator who took the request answers it."""

    ticket: int


@dataclass(frozen=True)
class CloseTicket(Action, prefix="tk:end", allow=ANSWERING, on=Target.TICKET):
    ticket: int


# --- The after-donation service: beneficiaries ------------------------------------------------

@dataclass(frozen=True)
class JoinLanguage(Action, prefix="bn:l", allow=ANYONE):
    """The language picked while joining with a code (before being a beneficiary)."""

    lang: str
    code: str


@dataclass(frozen=True)
class BeneficiaryMenu(Action, prefix="bn:menu", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class OfferWorkshops(Action, prefix="bn:book", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class Book(Action, prefix="bn:bk", allow={Who.BENEFICIARY: Scope.NETWORK},
           on=Target.WORKSHOP):
    """Any upcoming session of the network is open to a beneficiary."""

    workshop: int


@dataclass(frozen=True)
class MyWorkshops(Action, prefix="bn:my", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class CancelBooking(Action, prefix="bn:cx", allow=OWN_BOOKING, on=Target.WORKSHOP):
    workshop: int


@dataclass(frozen=True)
class OfferMove(Action, prefix="bn:mv", allow=OWN_BOOKING, on=Target.WORKSHOP):
    workshop: int


@dataclass(frozen=True)
class MoveBooking(Action, prefix="bn:mt", allow=OWN_BOOKING, on=Target.WORKSHOP):
    """Move one's booking from ``workshop`` to ``to`` (any upcoming session)."""

    workshop: int
    to: int


@dataclass(frozen=True)
class Coming(Action, prefix="bn:yes", allow=OWN_BOOKING, on=Target.WORKSHOP):
    workshop: int


@dataclass(frozen=True)
class NotComing(Action, prefix="bn:no", allow=OWN_BOOKING, on=Target.WORKSHOP):
    workshop: int


@dataclass(frozen=True)
class RemindersQuestion(Action, prefix="bn:rem", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class RemindersOn(Action, prefix="bn:rem:on", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class RemindersOff(Action, prefix="bn:rem:off", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class MyData(Action, prefix="bn:data", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class ForgetMe(Action, prefix="bn:fg", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class ForgetMeYes(Action, prefix="bn:fg:ok", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class StarterKit(Action, prefix="bn:kit", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class AskHelp(Action, prefix="bn:help", allow=BENEFICIARY):
    pass


@dataclass(frozen=True)
class HelpNearby(Action, prefix="bn:near", allow=BENEFICIARY):
    """The help places near the person (national directory), open now or when they open."""


# --- SMS (handlers/sms_people.py) -------------------------------------------------------------

@dataclass(frozen=True)
class SmsRegister(Action, prefix="sms:reg", allow=PLACE_STAFF):
    """Staff register a person's mobile number (with their consent) for SMS reminders."""


@dataclass(frozen=True)
class SmsStop(Action, prefix="sms:stop", allow=BENEFICIARY):
    """STOP (the SMS adapter reads it in any message): nothing more is sent by SMS; for a
    beneficiary on another platform, no more messages of the bot's own, as "stop" does."""


@dataclass(frozen=True)
class SmsStart(Action, prefix="sms:start", allow=BENEFICIARY):
    """START: SMS again, reminders planned again."""


# --- Coordination -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CoordinationMenu(Action, prefix="co:menu", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class StructureQueue(Action, prefix="co:ref", allow={Who.REFERENT: Scope.NONE}):
    """A referent's queue: the pending requests of their structure."""


@dataclass(frozen=True)
class Accounts(Action, prefix="co:acc", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class AccountsOf(Action, prefix="co:al", allow=COORDINATION):
    """Accounts filtered by role (``all`` or a role's value)."""

    role: str


@dataclass(frozen=True)
class Member(Action, prefix="co:m", allow=NETWORK, on=Target.MEMBER):
    member: int


@dataclass(frozen=True)
class MemberRole(Action, prefix="co:mr", allow=NETWORK, on=Target.MEMBER):
    member: int


@dataclass(frozen=True)
class DriverSet(Action, prefix="co:drv", allow=NETWORK, on=Target.MEMBER):
    """Grant (1) or withdraw (0) the volunteer driver capability to an account."""

    member: int
    driver: int


@dataclass(frozen=True)
class MemberRoleSet(Action, prefix="co:mrr", allow=NETWORK, on=Target.MEMBER):
    member: int
    role: Role


@dataclass(frozen=True)
class MemberPlace(Action, prefix="co:mp", allow=NETWORK, on=Target.MEMBER):
    member: int


@dataclass(frozen=True)
class MemberPlaceSet(Action, prefix="co:mpp", allow=NETWORK, on=Target.MEMBER):
    """Attach an account to a place (0: no place)."""

    member: int
    place: int


@dataclass(frozen=True)
class NameReferent(Action, prefix="co:mf", allow=NETWORK, on=Target.MEMBER):
    member: int


@dataclass(frozen=True)
class Revoke(Action, prefix="co:mv", allow=NETWORK, on=Target.MEMBER):
    member: int


@dataclass(frozen=True)
class RevokeYes(Action, prefix="co:mvy", allow=NETWORK, on=Target.MEMBER):
    member: int


@dataclass(frozen=True)
class PlacesMenu(Action, prefix="co:pl", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class AddPlace(Action, prefix="co:pl:add", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class ExportPlaces(Action, prefix="co:pl:csv", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class ExportMednum(Action, prefix="co:pl:mn", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class PlaceDetail(Action, prefix="co:pd", allow=NETWORK, on=Target.PLACE):
    place: int


@dataclass(frozen=True)
class EditPlace(Action, prefix="co:pl:e", allow=NETWORK, on=Target.PLACE):
    place: int


@dataclass(frozen=True)
class Directory(Action, prefix="co:mn", allow=COORDINATION):
    """The national directory of digital-mediation places."""


@dataclass(frozen=True)
class CatalogueMenu(Action, prefix="co:cat", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class ExportCatalogue(Action, prefix="co:cat:x", allow=COORDINATION):
    """``kinds``, ``stock``, ``rules`` or ``prices`` as CSV."""

    what: str


@dataclass(frozen=True)
class AddKind(Action, prefix="co:cat:kind", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class SetPrice(Action, prefix="co:cat:price", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class SetRule(Action, prefix="co:cat:rule", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class Series(Action, prefix="co:ser", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class Broadcast(Action, prefix="co:bc", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class Figures(Action, prefix="co:fig", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class FiguresCsv(Action, prefix="co:fig:csv", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class AuditLog(Action, prefix="co:aud", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class AuditCsv(Action, prefix="co:aud:csv", allow=COORDINATION):
    pass


@dataclass(frozen=True)
class ImportHelp(Action, prefix="co:imp", allow=COORDINATION):
    pass


# --- Personal data --------------------------------------------------------------------------

@dataclass(frozen=True)
class EraseMyData(Action, prefix="pv:erase", allow=PROFESSIONALS):
    """What a professional's deletion removes and keeps, and the confirmation (coordinators
    are told their role lives in the settings)."""


@dataclass(frozen=True)
class EraseMyDataYes(Action, prefix="pv:erase:ok", allow=PROFESSIONALS):
    pass


# --- E-mail (flows/mail_settings.py) -------------------------------------------------------

@dataclass(frozen=True)
class MailSettings(Action, prefix="ml:set", allow=PROFESSIONALS):
    """Where the professional's notices go: the chat, and the e-mail address they gave."""


@dataclass(frozen=True)
class MailAddress(Action, prefix="ml:addr", allow=PROFESSIONALS):
    """Give (or change) the address that gets a copy of their notices."""


@dataclass(frozen=True)
class MailStop(Action, prefix="ml:stop", allow=PROFESSIONALS):
    """No more e-mails: the address and the e-mails waiting for it are deleted."""


# --- Money: payments and the solidarity fund (handlers/payments.py) -------------------------

MONEY_DESK = {Who.PLACE_STAFF: Scope.PLACE}
MONEY_REVIEW = {Who.PLACE_STAFF: Scope.PLACE, Who.COORDINATOR: Scope.NETWORK}


@dataclass(frozen=True)
class PayRequest(Action, prefix="pay:rq", allow=MONEY_DESK, on=Target.REQUEST):
    """Record who paid for a request's device, how and how much (at the handover, or before
    it when a third party pays)."""

    request: int


@dataclass(frozen=True)
class RequestPayments(Action, prefix="pay:ls", allow=MONEY_REVIEW, on=Target.REQUEST):
    """The payments recorded for a request, each with its receipt number."""

    request: int


@dataclass(frozen=True)
class CorrectPayment(Action, prefix="pay:cx", allow=MONEY_REVIEW, on=Target.REQUEST):
    """Cancel a payment of the request by a counter-entry with a reason (never an edit)."""

    request: int
    payment: int


@dataclass(frozen=True)
class CorrectSale(Action, prefix="pay:sx", allow={Who.PLACE_STAFF: Scope.NONE,
                                                  Who.COORDINATOR: Scope.NONE}):
    """Cancel a sale's payment by a counter-entry (the handler checks it is a sale of the
    staff's place)."""

    payment: int


@dataclass(frozen=True)
class FundView(Action, prefix="fund:v", allow=COORDINATION):
    """The solidarity fund's year: budget, balance, what it paid for."""


@dataclass(frozen=True)
class FundBudget(Action, prefix="fund:b", allow=COORDINATION):
    """Set this year's budget of the solidarity fund."""


@dataclass(frozen=True)
class PaymentsCsv(Action, prefix="fund:csv", allow=COORDINATION):
    """The year's payments of the whole network, as a spreadsheet (no beneficiary data)."""


# --- Commands (typed words) -------------------------------------------------------------------

EVERYONE = frozenset({Who.ANYONE})

COMMANDS = (
    Command("language", ("/langue", "langue", "/language", "language"), EVERYONE),
    Command("help", ("/aide", "aide", "/help", "help"), EVERYONE),
    Command("verify", ("/verifier", "verifier", "/verify"), EVERYONE),
    Command("donations", ("/dons",), EVERYONE),
    Command("erasures", ("/effacements",), frozenset({Who.RECONDITIONER})),
    # A device's label typed alone (HA-7K3P, ha 7k3p) opens its card; anyone may type one,
    # and only the device's staff learn anything about it (handlers/devices.py). A message
    # that only begins with a label ("HA-7K3P récupéré", a button's text) is not one.
    Command("device", ("/appareil", "appareil"), EVERYONE,
            whole=re.compile(r"/?ha[ .\-]*[0-9a-z]{4,6}", re.IGNORECASE)),
    Command("coordination", ("/coordination", "coordination"), frozenset({Who.COORDINATOR})),
    # A volunteer driver's transfers, a word away from any conversation.
    Command("transfers", ("/transports",), frozenset({Who.DRIVER})),
    Command("start", ("/start",), EVERYONE),
    Command("join", ("rej", "/rej"), EVERYONE,
            whole=re.compile(r"/?rej[ .\-]*[0-9a-z]{3}[ .\-]*[0-9a-z]{3}", re.IGNORECASE)),
    Command("stop", ("stop",), EVERYONE),
)
"""Words that work anywhere; a feature answers a command by its ``name``."""
