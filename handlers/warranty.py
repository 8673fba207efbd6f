"""Warranty and return (``flows/warranty.py``): a problem reported with a device handed over
reaches the place and the workshop; staff repair it or replace it.

The beneficiary reports from their menu, the prescriber from "Mes demandes"; the problem is
picked from a short list, never typed. The warranty runs ``FILIERE_WARRANTY_MONTHS`` from the
handover; after it, nothing is opened and the person is pointed to the place.
"""

from __future__ import annotations

import logging
from functools import partial

from flows import actions as act
from flows.action_codec import Who
from flows.device_lifecycle import DEVICE
from flows.device_lifecycle import Event as DeviceEvent
from flows.devices import device_name
from flows.lifecycle import Refused
from flows.messages import Choice, UserKey
from flows.records import Device, DeviceId, DeviceState, Place, RequestId, Role
from flows.text import Day, Msg, _, verbatim
from flows.warranty import PROBLEM_LABELS, TICKET, Event, Problem, RepairTicket, TicketStatus
from flows.warranty import warranty_end as end_of_warranty
from handlers import impact
from handlers.beneficiary_common import joined, where
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

REPLACEMENTS_SHOWN = 6


async def _place(session: Session, device: Device) -> Place | None:
    return await session.uow.places.get(device.place_id) if device.place_id else None


def _place_name(place: Place | None) -> Msg:
    return verbatim(place.name) if place is not None else _("le lieu qui vous l'a remis")


async def _warranty_end(session: Session, device: Device, months: int) -> Day | None:
    """The last day of the device's warranty (None: never handed over)."""
    handed = await session.uow.devices.handed_at(device.id)
    if handed is None:
        return None
    return Day(end_of_warranty(session.ctx.local(handed).date(), months))


# --- The person, or their prescriber ---------------------------------------------------------


async def my_device(session: Session, action: act.MyDeviceProblem, *, months: int) -> None:
    """The beneficiary's device, found by the join code they used."""
    beneficiary = await joined(session)
    device = await session.uow.devices.handed_with(beneficiary.ref)
    if device is None:
        place = (await session.uow.places.get(beneficiary.place_id)
                 if beneficiary.place_id else None)
        session.say(_("Je ne trouve pas d'appareil remis avec votre code. Le lieu qui vous "
                      "suit peut vous aider :"),
                    where(session.ctx.territory, place, session.ctx.tz))
        return
    await offer_problems(session, device, months)


async def request_device(session: Session, action: act.RequestProblem, *, months: int) -> None:
    """The device handed over for the prescriber's request."""
    handed = [d for d in await session.uow.devices.of_request(RequestId(action.request))
              if d.state is DeviceState.HANDED_OVER]
    if not handed:
        session.say(_("Aucun appareil n'a encore été remis pour cette demande."))
        return
    await offer_problems(session, handed[-1], months)


async def offer_problems(session: Session, device: Device, months: int) -> None:
    """Under warranty: what is wrong, as a short list; after it, where to go."""
    place = await _place(session, device)
    if device.state is not DeviceState.HANDED_OVER:  # taken back (replaced): an old button
        session.say(_("Cet appareil a été repris par le lieu {place}.",
                      place=_place_name(place)))
        return
    until = await _warranty_end(session, device, months)
    if until is None or session.ctx.today > until.day:
        session.say(_("La garantie de cet appareil est finie depuis le {day}. Le lieu {place} "
                      "peut quand même vous aider : passez le voir.",
                      day=until if until is not None else verbatim("?"),
                      place=_place_name(place)),
                    where(session.ctx.territory, place, session.ctx.tz))
        return
    if await session.uow.repairs.open_for(device.id) is not None:
        session.say(_("Ce problème est déjà signalé. Le lieu {place} s'en occupe.",
                      place=_place_name(place)))
        return
    session.say(_("Votre appareil est garanti jusqu'au {day}. Qu'est-ce qui ne va pas ?",
                  day=until),
                choices=[Choice(act.ReportProblem(device.id, problem.value).pack(), label)
                         for problem, label in PROBLEM_LABELS.items()],
                action_menu=True)


async def report(session: Session, action: act.ReportProblem, *, months: int) -> None:
    """Open a ticket: the place and the workshop are told; the person knows what comes next."""
    uow = session.uow
    try:
        problem = Problem(action.problem)
    except ValueError:
        problem = Problem.OTHER
    device = await uow.devices.get(DeviceId(action.device))
    assert device is not None  # the router checked it is the person's
    until = await _warranty_end(session, device, months)
    if (device.state is not DeviceState.HANDED_OVER or until is None
            or session.ctx.today > until.day
            or await uow.repairs.open_for(device.id) is not None):
        await offer_problems(session, device, months)
        return
    lot = await uow.lots.get(device.lot_id) if device.lot_id is not None else None
    workshop = lot.workshop_id if lot is not None else None
    ticket = await uow.repairs.open(device.id, device.request_id, device.place_id, workshop,
                                    session.user.key, problem, until.day, session.now)
    log.info("repair ticket %s opened for device %s by %s", ticket.id, device.label,
             session.user.key)
    place = await _place(session, device)
    session.say(_told_reported(place), where(session.ctx.territory, place, session.ctx.tz))
    request = await uow.requests.get(device.request_id) if device.request_id else None
    notice = _("Problème signalé sur l'appareil {label} ({name}) : « {problem} ». Il est sous "
               "garantie jusqu'au {day}.", label=verbatim(device.label),
               name=device_name(device), problem=PROBLEM_LABELS[problem], day=until)
    for key in await uow.lots.staff_for(device.place_id, workshop):
        session.send(key, [notice], [Choice(act.SeeRepair(ticket.id).pack(),
                                            _("Voir le problème"))], action_menu=True)
    if request is not None and request.prescriber != session.user.key:
        session.send(request.prescriber, [_(
            "Un problème a été signalé sur l'appareil remis pour la demande {ref} : le lieu "
            "{place} s'en occupe.", ref=verbatim(request.reference),
            place=_place_name(place))])


def _told_reported(place: Place | None) -> Msg:
    return _("C'est noté. Le lieu {place} va vous contacter. Apportez l'appareil et son "
             "chargeur.", place=_place_name(place))


def _told_repaired(device: Device, place: Place | None) -> Msg:
    return _("Votre appareil {label} est réparé. Vous pouvez le récupérer à {place}.",
             label=verbatim(device.label), place=_place_name(place))


def _told_replaced(device: Device, other: Device, place: Place | None) -> Msg:
    return _("Votre appareil {old} est remplacé par un autre, {new}. Vous pouvez le récupérer "
             "à {place}.", old=verbatim(device.label), new=verbatim(other.label),
             place=_place_name(place))


# --- The place and the workshop --------------------------------------------------------------


async def open_repairs(session: Session, action: act.OpenRepairs) -> None:
    place = session.user.place_id
    tickets = await session.uow.repairs.open_at(place) if place is not None else []
    if not tickets:
        session.say(_("Aucun problème signalé en attente."))
        return
    choices = []
    for ticket in tickets:
        device = await session.uow.devices.get(ticket.device_id)
        label = device.label if device is not None else "?"
        choices.append(Choice(act.SeeRepair(ticket.id).pack(),
                              _("{label} : {problem}", label=verbatim(label),
                                problem=PROBLEM_LABELS[ticket.problem])))
    session.say(_("Problèmes signalés en attente :"), choices=choices, action_menu=True)


async def see(session: Session, action: act.SeeRepair) -> None:
    ticket, device = await _ticket(session, action.ticket)
    if ticket.status is not TicketStatus.OPEN:
        session.say(_closed(device))
        return
    choices = [Choice(act.RepairDone(ticket.id).pack(), _("Réparé, rendu à la personne"))]
    if session.user.role is Role.PLACE_STAFF:
        choices.append(Choice(act.ReplaceDevice(ticket.id).pack(), _("Remplacer l'appareil")))
    session.say(_("Appareil {label} ({name}) : « {problem} », signalé le {day}, sous garantie "
                  "jusqu'au {until}.", label=verbatim(device.label), name=device_name(device),
                  problem=PROBLEM_LABELS[ticket.problem],
                  day=Day(session.ctx.local(ticket.opened_at).date()),
                  until=Day(ticket.warranty_until)), choices=choices, action_menu=True)


async def repaired(session: Session, action: act.RepairDone) -> None:
    ticket, device = await _ticket(session, action.ticket)
    who = Who.PLACE_STAFF if session.user.role is Role.PLACE_STAFF else Who.RECONDITIONER
    try:
        TICKET.apply(ticket.status, Event.REPAIRED, who)
    except Refused:
        session.say(_closed(device))
        return
    if not await session.uow.repairs.close(ticket.id, TicketStatus.REPAIRED, session.now):
        session.say(_closed(device))
        return
    log.info("repair ticket %s: repaired", ticket.id)
    session.say(_("C'est noté : l'appareil {label} est réparé.", label=verbatim(device.label)))
    place = await _place(session, device)
    await _tell(session, ticket, _told_repaired(device, place))


async def replace_offer(session: Session, action: act.ReplaceDevice) -> None:
    ticket, device = await _ticket(session, action.ticket)
    if ticket.status is not TicketStatus.OPEN or device.place_id is None:
        session.say(_closed(device))
        return
    ready = await session.uow.devices.ready_at(device.place_id, device.kind, REPLACEMENTS_SHOWN)
    if not ready:
        session.say(_("Aucun appareil de ce type n'est prêt dans votre lieu. Faites réparer "
                      "celui-ci, ou demandez un transfert à la coordination."))
        return
    session.say(_("Par quel appareil remplacer {label} ?", label=verbatim(device.label)),
                choices=[Choice(act.ReplaceWith(ticket.id, other.id).pack(),
                                verbatim(f"{other.label} {other.model}".strip()))
                         for other in ready], action_menu=True)


async def replace_with(session: Session, action: act.ReplaceWith, *, mail: bool = False
                       ) -> None:
    """The replacement is handed over for the same request with the same join code; the
    first device goes back to the workshop's bench. The replacement may be the last device
    of its own lot to settle: its donor is told (``handlers/impact.py``)."""
    uow = session.uow
    ticket, device = await _ticket(session, action.ticket)
    other = await uow.devices.get(DeviceId(action.device))
    if (other is None or other.place_id != device.place_id or other.kind != device.kind
            or not DEVICE.can(other.state, DeviceEvent.HAND_OVER)):
        session.say(_("Cet appareil n'est pas (ou plus) prêt dans votre lieu : rien n'a été "
                      "enregistré."))
        return
    try:
        TICKET.apply(ticket.status, Event.REPLACED, Who.PLACE_STAFF)
        back = DEVICE.apply(device.state, DeviceEvent.RETURN, Who.PLACE_STAFF)
        handed = DEVICE.apply(other.state, DeviceEvent.HAND_OVER, Who.PLACE_STAFF)
    except Refused:
        session.say(_closed(device))
        return
    if not await uow.repairs.close(ticket.id, TicketStatus.REPLACED, session.now, other.id):
        session.say(_closed(device))
        return
    key = session.user.key
    if not (await uow.devices.change(device.id, [device.state], back,
                                     DeviceEvent.RETURN.value, session.now, key)
            and await uow.devices.change(other.id, [other.state], handed,
                                         DeviceEvent.HAND_OVER.value, session.now, key,
                                         request_id=device.request_id,
                                         join_code=device.join_code)):
        raise RuntimeError(f"devices {device.label} or {other.label} changed meanwhile")
    log.info("repair ticket %s: %s replaced by %s", ticket.id, device.label, other.label)
    await impact.tell_if_settled(session, other.lot_id, mail=mail)
    session.say(_("L'appareil {old} est remplacé par {new}, remis pour la même demande. "
                  "{old} retourne à l'atelier.", old=verbatim(device.label),
                  new=verbatim(other.label)))
    place = await _place(session, device)
    await _tell(session, ticket, _told_replaced(device, other, place))
    for reconditioner in await uow.lots.staff_for(None, ticket.workshop_id):
        session.send(reconditioner, [_(
            "L'appareil {label} revient en atelier sous garantie : « {problem} ».",
            label=verbatim(device.label), problem=PROBLEM_LABELS[ticket.problem])],
            [Choice(act.SeeDevice(device.id).pack(), _("Voir l'appareil {label}",
                                                       label=verbatim(device.label)))],
            action_menu=True)


async def _ticket(session: Session, number: int) -> tuple[RepairTicket, Device]:
    ticket = await session.uow.repairs.get(number)
    assert ticket is not None  # the router checked it is the place's
    device = await session.uow.devices.get(ticket.device_id)
    assert device is not None  # a device's tickets go with it
    return ticket, device


def _closed(device: Device) -> Msg:
    return _("Le problème de l'appareil {label} a déjà été traité.",
             label=verbatim(device.label))


async def _tell(session: Session, ticket: RepairTicket, text: Msg) -> None:
    """The person who reported, and the prescriber of the request when it was not them."""
    request = (await session.uow.requests.get(ticket.request_id)
               if ticket.request_id is not None else None)
    prescriber: UserKey | None = request.prescriber if request is not None else None
    if ticket.reported_by is not None and ticket.reported_by != prescriber:
        session.send(ticket.reported_by, [text])
    if request is not None:
        session.send(request.prescriber, [_(
            "Le problème signalé sur l'appareil de la demande {ref} est traité : {what}",
            ref=verbatim(request.reference), what=text)])


def feature(env: Env) -> Feature:
    """Problems reported under warranty, repairs and replacements."""
    months = env.warranty_months
    return Feature(name="warranty", actions={
        act.MyDeviceProblem: partial(my_device, months=months),
        act.RequestProblem: partial(request_device, months=months),
        act.ReportProblem: partial(report, months=months),
        act.OpenRepairs: open_repairs, act.SeeRepair: see, act.RepairDone: repaired,
        act.ReplaceDevice: replace_offer,
        act.ReplaceWith: partial(replace_with, mail=env.mail),
    })


__all__ = ["feature", "offer_problems"]
