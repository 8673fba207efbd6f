"""Transfers and volunteer drivers (``flows/transfers.py``, ``flows/transfer_lifecycle.py``).

A coordinator grants the driver capability to an account (its card in "Comptes"). The staff
of a place with a ready device, or the coordination, plan its transfer to another place from
the device's card; drivers are told, see open transfers by route, take one, confirm the
pick-up (the device leaves its place: in transit) and the delivery (the device joins the
stock of the place of arrival, which serves its waiting list). Both places, and the
prescriber of the request it travels for, are told.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from flows import actions as act
from flows.action_codec import Who
from flows.device_lifecycle import DEVICE
from flows.device_lifecycle import Event as DeviceEvent
from flows.lifecycle import Refused
from flows.messages import Choice, UserKey
from flows.records import (
    Device,
    DeviceId,
    DeviceState,
    Place,
    PlaceId,
    RequestId,
    RequestStatus,
)
from flows.routing import DISTRIBUTING, Reason
from flows.text import Lines, Msg, _, verbatim
from flows.transfer_lifecycle import TRANSFER, TransferStatus
from flows.transfer_lifecycle import Event as TransferEvent
from flows.transfers import Transfer, route_name, route_of
from handlers.requests import notify_place, serve_waiting
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

SHOWN = 12


def _who(session: Session, drivers: bool) -> Who:
    if drivers:
        return Who.DRIVER
    return Who.COORDINATOR if session.user.is_coordinator else Who.PLACE_STAFF


async def _staff(session: Session, *places: PlaceId) -> list[UserKey]:
    found: list[UserKey] = []
    for place in places:
        for key in await session.uow.lots.staff_for(place, None):
            if key not in found and key != session.user.key:
                found.append(key)
    return found


def _line(session: Session, transfer: Transfer, device: Device | None,
          places: dict[PlaceId, Place]) -> Msg:
    origin, destination = places.get(transfer.from_place), places.get(transfer.to_place)
    return _("{label} : de {origin} à {destination} ({route})",
             label=verbatim(device.label if device else "?"),
             origin=verbatim(origin.name if origin else "?"),
             destination=verbatim(destination.name if destination else "?"),
             route=verbatim(route_name(session.ctx.territory, transfer.route)))


# --- Planning --------------------------------------------------------------------------------


async def send_device(session: Session, action: act.SendDevice) -> None:
    """The places a ready device may go to."""
    device = await session.uow.devices.get(DeviceId(action.device))
    assert device is not None
    if device.state is not DeviceState.READY:
        session.say(_("Seul un appareil prêt peut partir vers un autre lieu."))
        return
    places = [p for p in await session.uow.places.all()
              if p.kind in DISTRIBUTING and p.id != device.place_id]
    session.say(_("Vers quel lieu apporter {label} ?", label=verbatim(device.label)),
                choices=[Choice(act.PlanTransfer(device.id, p.id).pack(), verbatim(p.name))
                         for p in places], action_menu=True)


async def plan(session: Session, action: act.PlanTransfer) -> None:
    uow = session.uow
    device = await uow.devices.get(DeviceId(action.device))
    assert device is not None
    destination = await uow.places.get(PlaceId(action.place))
    origin = await uow.places.get(device.place_id) if device.place_id else None
    if (destination is None or origin is None or destination.id == origin.id
            or destination.kind not in DISTRIBUTING):
        session.say(_("Ce lieu ne peut pas recevoir cet appareil : rien n'a été enregistré."))
        return
    if device.state is not DeviceState.READY:
        session.say(_("Seul un appareil prêt peut partir vers un autre lieu."))
        return
    if await uow.transfers.open_for_device(device.id) is not None:
        session.say(_("Un transport est déjà prévu pour {label}.", label=verbatim(device.label)))
        return
    route = route_of(session.ctx.territory, origin, destination)
    transfer = await uow.transfers.plan(device.id, device.kind, None, origin.id, destination.id,
                                        route, session.user.key, session.now)
    log.info("transfer %s planned: device %s to place %s by %s", transfer.id, device.label,
             destination.id, session.user.key)
    text = _("Transport prévu : {label} de {origin} à {destination}.",
             label=verbatim(device.label), origin=verbatim(origin.name),
             destination=verbatim(destination.name))
    session.say(text, _("Un chauffeur bénévole va le prendre en charge : vous serez prévenu."))
    for key in await _staff(session, destination.id):
        session.send(key, [text])
    for driver in await uow.transfers.drivers():
        if driver != session.user.key:
            session.send(driver, [_("Nouveau transport à faire : {route}.",
                                    route=verbatim(route_name(session.ctx.territory, route)))],
                         [Choice(act.OpenTransfers().pack(), _("Voir les transports"))],
                         action_menu=True)


async def bring_here(session: Session, action: act.BringHere, *, days: int) -> None:
    """The prescriber's choice: a ready device of the place holding the request is carried
    to their own place. The request stays held where the device is until the pick-up, then
    moves with it (``pick_up``): stock is never promised twice."""
    uow = session.uow
    request = await uow.requests.get(RequestId(action.request))
    assert request is not None  # the router checked it is the prescriber's
    own = (await uow.places.get(session.user.place_id)
           if session.user.place_id is not None else None)
    origin = await uow.places.get(request.place_id) if request.place_id is not None else None
    if (own is None or origin is None or own.id == origin.id or own.kind not in DISTRIBUTING
            or request.status not in (RequestStatus.SENT, RequestStatus.ACCEPTED)):
        session.say(_("Cette demande ne peut plus être apportée à votre lieu : rien n'a été "
                      "enregistré."))
        return
    if any(t.request_id == request.id for t in await uow.transfers.open(session.user.key)):
        session.say(_("Un transport est déjà prévu pour cette demande."))
        return
    device = None
    for ready in await uow.devices.ready_at(origin.id, request.kind, SHOWN):
        if await uow.transfers.open_for_device(ready.id) is None:
            device = ready
            break
    if device is None:
        session.say(_("Plus aucun appareil de ce type n'est prêt à {place} : la demande y "
                      "reste.", place=verbatim(origin.name)))
        return
    route = route_of(session.ctx.territory, origin, own)
    transfer = await uow.transfers.plan(device.id, device.kind, request.id, origin.id, own.id,
                                        route, session.user.key, session.now)
    log.info("transfer %s planned for request %s", transfer.id, request.reference)
    session.say(_("C'est noté : un chauffeur bénévole apportera l'appareil de la demande {ref} "
                  "à {place}, en {n} jours environ. Vous serez prévenu·e à son arrivée.",
                  ref=verbatim(request.reference), place=verbatim(own.name), n=days))
    text = _("Transport prévu : {label} de {origin} à {destination}, pour la demande {ref}.",
             label=verbatim(device.label), origin=verbatim(origin.name),
             destination=verbatim(own.name), ref=verbatim(request.reference))
    for key in await _staff(session, origin.id, own.id):
        session.send(key, [text])
    for driver in await uow.transfers.drivers():
        session.send(driver, [_("Nouveau transport à faire : {route}.",
                                route=verbatim(route_name(session.ctx.territory, route)))],
                     [Choice(act.OpenTransfers().pack(), _("Voir les transports"))],
                     action_menu=True)


# --- Drivers ---------------------------------------------------------------------------------


async def open_transfers(session: Session, action: act.OpenTransfers) -> None:
    """Open transfers by route, and the driver's own with what to confirm next."""
    uow = session.uow
    transfers = (await uow.transfers.open(session.user.key))[:SHOWN]
    if not transfers:
        session.say(_("Aucun transport à faire pour le moment."))
        return
    places = {p.id: p for p in await uow.places.all()}
    lines, choices = [], []
    for transfer in transfers:
        device = await uow.devices.get(transfer.device_id) if transfer.device_id else None
        lines.append(_line(session, transfer, device, places))
        label = verbatim(device.label if device else str(transfer.id))
        match transfer.status:
            case TransferStatus.PLANNED:
                choices.append(Choice(act.TakeTransfer(transfer.id).pack(),
                                      _("Je prends {label}", label=label)))
            case TransferStatus.TAKEN:
                choices.append(Choice(act.PickUpTransfer(transfer.id).pack(),
                                      _("{label} récupéré", label=label)))
                choices.append(Choice(act.GiveUpTransfer(transfer.id).pack(),
                                      _("Je ne peux plus apporter {label}", label=label)))
            case TransferStatus.PICKED_UP:
                choices.append(Choice(act.DeliverTransfer(transfer.id).pack(),
                                      _("{label} livré", label=label)))
    session.say(_("Transports :"), _lines(lines), choices=choices, action_menu=True)


def _lines(lines: Sequence[Msg]) -> Msg:
    return Msg("{lines}", {"lines": Lines(tuple(lines))})


async def _move(session: Session, transfer_id: int, event: TransferEvent, who: Who
                ) -> tuple[Transfer, Device] | None:
    """Apply ``event`` to the transfer (and the device with it); None when it may not."""
    uow = session.uow
    transfer = await uow.transfers.get(transfer_id)
    assert transfer is not None
    device = await uow.devices.get(transfer.device_id) if transfer.device_id else None
    try:
        status = TRANSFER.apply(transfer.status, event, who)
    except Refused:
        session.say(_("Ce transport n'en est pas là : il est déjà pris, ou fait."))
        return None
    if device is None:
        session.say(_("L'appareil de ce transport n'existe plus."))
        return None
    driver = session.user.key if event is TransferEvent.TAKE else None
    if not await uow.transfers.change(transfer.id, [transfer.status], status, session.now,
                                      driver=driver):
        session.say(_("Ce transport n'en est pas là : il est déjà pris, ou fait."))
        return None
    return transfer, device


async def take(session: Session, action: act.TakeTransfer) -> None:
    moved = await _move(session, action.transfer, TransferEvent.TAKE, Who.DRIVER)
    if moved is None:
        return
    transfer, device = moved
    log.info("transfer %s taken by %s", transfer.id, session.user.key)
    session.say(_("Merci ! Vous apportez {label}. Dites-moi quand vous l'avez récupéré.",
                  label=verbatim(device.label)),
                choices=[Choice(act.PickUpTransfer(transfer.id).pack(),
                                _("{label} récupéré", label=verbatim(device.label)))],
                action_menu=True)
    for key in await _staff(session, transfer.from_place, transfer.to_place):
        session.send(key, [_("Un chauffeur bénévole a pris le transport de {label}.",
                             label=verbatim(device.label))])


async def give_up(session: Session, action: act.GiveUpTransfer) -> None:
    """Back to the other drivers, who are told again."""
    who = Who.DRIVER if await session.uow.transfers.is_driver(session.user.key) \
        else Who.COORDINATOR
    moved = await _move(session, action.transfer, TransferEvent.GIVE_UP, who)
    if moved is None:
        return
    transfer, device = moved
    await session.uow.transfers.clear_driver(transfer.id)
    log.info("transfer %s given up by %s", transfer.id, session.user.key)
    session.say(_("C'est noté : le transport de {label} est proposé aux autres chauffeurs.",
                  label=verbatim(device.label)))
    for driver in await session.uow.transfers.drivers():
        if driver != session.user.key:
            session.send(driver, [_("Nouveau transport à faire : {route}.", route=verbatim(
                route_name(session.ctx.territory, transfer.route)))],
                [Choice(act.OpenTransfers().pack(), _("Voir les transports"))],
                action_menu=True)


async def pick_up(session: Session, action: act.PickUpTransfer) -> None:
    uow = session.uow
    transfer = await uow.transfers.get(action.transfer)
    assert transfer is not None
    device = await uow.devices.get(transfer.device_id) if transfer.device_id else None
    if device is None or not DEVICE.can(device.state, DeviceEvent.SEND):
        session.say(_("Cet appareil n'est plus prêt à partir : voyez avec le lieu."))
        return
    moved = await _move(session, action.transfer, TransferEvent.PICK_UP, Who.DRIVER)
    if moved is None:
        return
    state = DEVICE.apply(device.state, DeviceEvent.SEND, Who.DRIVER)
    if not await uow.devices.change(device.id, [device.state], state, DeviceEvent.SEND.value,
                                    session.now, session.user.key):
        raise RuntimeError(f"device {device.label} changed during its pick-up")
    log.info("transfer %s picked up", transfer.id)
    session.say(_("C'est noté : {label} est en route.", label=verbatim(device.label)),
                choices=[Choice(act.DeliverTransfer(transfer.id).pack(),
                                _("{label} livré", label=verbatim(device.label)))],
                action_menu=True)
    for key in await _staff(session, transfer.from_place, transfer.to_place):
        session.send(key, [_("{label} est en route.", label=verbatim(device.label))])
    if transfer.request_id is not None:  # the request moves with its device
        request = await uow.requests.get(transfer.request_id)
        if request is not None:
            session.send(request.prescriber, [_(
                "Le matériel de la demande {ref} est en route vers votre lieu.",
                ref=verbatim(request.reference))])
        if (request is not None and request.place_id == transfer.from_place
                and await uow.requests.send_to(
                    request.id, [RequestStatus.SENT, RequestStatus.ACCEPTED,
                                 RequestStatus.READY],
                    transfer.to_place, Reason.OWN_PLACE.value, session.now)):
            await uow.requests.log(request.id, "transferred", session.user.key,
                                   transfer.to_place, None, session.now)
            moved_request = await uow.requests.get(request.id)
            assert moved_request is not None
            await notify_place(session, uow, session.ctx.territory, moved_request,
                               session.coordinators)


async def deliver(session: Session, action: act.DeliverTransfer) -> None:
    """The device joins the stock of the place of arrival, and serves its waiting list."""
    uow = session.uow
    moved = await _move(session, action.transfer, TransferEvent.DELIVER,
                        _who(session, await uow.transfers.is_driver(session.user.key)))
    if moved is None:
        return
    transfer, device = moved
    state = DEVICE.apply(device.state, DeviceEvent.ARRIVE, Who.DRIVER)
    if not await uow.devices.change(device.id, [device.state], state,
                                    DeviceEvent.ARRIVE.value, session.now, session.user.key,
                                    place_id=transfer.to_place):
        raise RuntimeError(f"device {device.label} changed during its delivery")
    destination = await uow.places.get(transfer.to_place)
    name = verbatim(destination.name if destination else "?")
    log.info("transfer %s delivered", transfer.id)
    text = _("{label} est arrivé à {place} : il est dans son stock.",
             label=verbatim(device.label), place=name)
    session.say(text)
    for key in await _staff(session, transfer.from_place, transfer.to_place):
        session.send(key, [text])
    if transfer.request_id is not None:
        request = await uow.requests.get(transfer.request_id)
        if request is not None:
            session.send(request.prescriber, [_(
                "Le matériel de la demande {ref} est arrivé à {place}.",
                ref=verbatim(request.reference), place=name)])
    if device.kind is not None:
        await serve_waiting(session, uow, session.ctx.territory, session.now,
                            session.coordinators, device.kind)


# --- The coordination grants the capability --------------------------------------------------


async def driver_set(session: Session, action: act.DriverSet) -> None:
    uow = session.uow
    member = await uow.coordination.member(action.member)
    assert member is not None
    grant = bool(action.driver)
    await uow.transfers.set_driver(member.user, grant, session.user.key, session.now)
    log.info("driver %s for account %s by %s", grant, member.number, session.user.key)
    if grant:
        session.say(_("Le compte n° {n} est chauffeur bénévole.", n=member.number))
        session.send(member.user, [_("La coordination vous a ouvert les transports : "
                                     "vous êtes chauffeur bénévole du réseau.")],
                     [Choice(act.OpenTransfers().pack(), _("Voir les transports"))],
                     action_menu=True)
    else:
        session.say(_("Le compte n° {n} n'est plus chauffeur bénévole.", n=member.number))


async def driver_choice(session: Session, member_number: int, user: UserKey) -> Choice:
    """The button of an account's card: grant or withdraw the driver capability."""
    if await session.uow.transfers.is_driver(user):
        return Choice(act.DriverSet(member_number, 0).pack(), _("Retirer : chauffeur bénévole"))
    return Choice(act.DriverSet(member_number, 1).pack(), _("Chauffeur bénévole"))


def feature(env: Env) -> Feature:
    """Transfers of devices between places, by volunteer drivers."""
    async def command_transfers(session: Session, text: str) -> None:
        await open_transfers(session, act.OpenTransfers())

    return Feature(name="transfers", commands={"transfers": command_transfers}, actions={
        act.SendDevice: send_device, act.PlanTransfer: plan,
        act.BringHere: partial(bring_here, days=env.transfer_days),
        act.OpenTransfers: open_transfers, act.TakeTransfer: take,
        act.PickUpTransfer: pick_up, act.GiveUpTransfer: give_up,
        act.DeliverTransfer: deliver, act.DriverSet: driver_set,
    })


__all__ = ["driver_choice", "feature"]
