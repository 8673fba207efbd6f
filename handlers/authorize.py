"""The one place where a parsed action is checked against its declaration.

``flows/actions.py`` declares, for each button, which roles may press it and on what scope.
Here the router resolves who the person is (their role, whether they joined as a
beneficiary, whether they are a structure's referent: each looked up only when an action
asks) and whether the record the action names is within their scope. A record that does not
exist and a record of someone else are refused alike, so a forged button learns nothing.
"""

from __future__ import annotations

from flows.action_codec import Action, Command, Scope, Target, Who
from flows.records import AccessRequestId, Device, DeviceId, LotId, PlaceId, RequestId, Role
from flows.text import Msg, _
from handlers import referents
from handlers.session import Session

ROLE_OF: dict[Role, Who] = {Role.PRESCRIBER: Who.PRESCRIBER, Role.PLACE_STAFF: Who.PLACE_STAFF,
                            Role.RECONDITIONER: Who.RECONDITIONER}


def refusal() -> Msg:
    """What anyone reads when a button is not theirs, not valid any more, or names nothing."""
    return _("Ce bouton n'est pas (ou plus) valable pour vous.")


async def is_(session: Session, who: Who) -> bool:
    """Whether the person who wrote is ``who`` (the database is read only when needed)."""
    user = session.user
    match who:
        case Who.ANYONE:
            return True
        case Who.COORDINATOR:
            return user.is_coordinator
        case Who.BENEFICIARY:
            return await session.uow.beneficiaries.get(user.key) is not None
        case Who.REFERENT:
            return await is_referent(session)
        case Who.DRIVER:
            return await session.uow.transfers.is_driver(user.key)
        case _:
            return user.role is not None and ROLE_OF[user.role] is who


async def is_referent(session: Session) -> bool:
    """Whether the person is the referent of a prescribers' structure."""
    return session.user.role is Role.PRESCRIBER and await referents.is_referent(session)


async def may_use(session: Session, command: Command) -> bool:
    for who in command.allow:
        if await is_(session, who):
            return True
    return False


async def authorised(session: Session, action: Action) -> bool:
    """Whether the person may carry out ``action`` on the record it names."""
    for who, scope in action.allow.items():
        if not await is_(session, who):
            continue
        if scope is Scope.NONE:
            return True
        assert action.on is not None and action.target is not None
        if await in_scope(session, who, scope, action.on, action.target):
            return True
    return False


async def in_scope(session: Session, who: Who, scope: Scope, kind: Target, number: int) -> bool:
    """Whether record ``number`` of ``kind`` exists and is within ``scope`` for the person."""
    uow, user = session.uow, session.user
    place = user.place_id
    match kind:
        case Target.REQUEST:
            request = await uow.requests.get(RequestId(number))
            return request is not None and _check(scope, own=request.prescriber == user.key,
                                                  place=_at(place, request.place_id))
        case Target.LOT:
            lot = await uow.lots.get(LotId(number))
            return lot is not None and _check(
                scope, own=lot.donor == user.key,
                lot=_at(place, lot.place_id) or _at(place, lot.workshop_id))
        case Target.ACCESS:
            request = await uow.access.get(AccessRequestId(number))
            if request is None:
                return False
            if scope is not Scope.STRUCTURE:
                return _check(scope)
            return (request.role is Role.PRESCRIBER
                    and await referents.decides(uow, user.key, request))
        case Target.WORKSHOP:
            workshop = await uow.workshops.get(number)
            if workshop is None:
                return False
            own = scope is Scope.OWN and await uow.workshops.is_booked(workshop.id, user.key)
            return _check(scope, own=own, place=_at(place, workshop.place_id))
        case Target.TICKET:
            ticket = await uow.help.get(number)
            return ticket is not None and _check(scope, own=ticket.mediator == user.key,
                                                 place=_at(place, ticket.place_id))
        case Target.PLACE:
            found = await uow.places.get(PlaceId(number))
            return found is not None and _check(scope, place=_at(place, found.id))
        case Target.MEMBER:
            return await uow.coordination.member(number) is not None and _check(scope)
        case Target.DEVICE:
            device = await uow.devices.get(DeviceId(number))
            if device is None:
                return False
            here = _at(place, device.place_id)
            lot = await uow.lots.get(device.lot_id) if device.lot_id is not None else None
            of_lot = lot is not None and (_at(place, lot.place_id) or _at(place, lot.workshop_id))
            own = scope is Scope.OWN and await _holds(session, who, device)
            return _check(scope, own=own, place=here, lot=here or of_lot)
        case Target.TRANSFER:
            transfer = await uow.transfers.get(number)
            return transfer is not None and _check(
                scope, own=transfer.driver is not None and transfer.driver == user.key,
                place=_at(place, transfer.to_place))
        case Target.REPAIR:
            ticket = await uow.repairs.get(number)
            return ticket is not None and _check(
                scope, own=ticket.reported_by == user.key, place=_at(place, ticket.place_id),
                lot=_at(place, ticket.place_id) or _at(place, ticket.workshop_id))
    return False


async def _holds(session: Session, who: Who, device: Device) -> bool:
    """Whether the device was handed over to the beneficiary (the join code they used), or
    for one of the prescriber's requests."""
    uow = session.uow
    if who is Who.BENEFICIARY:
        beneficiary = await uow.beneficiaries.get(session.user.key)
        return (beneficiary is not None and device.join_code is not None
                and beneficiary.ref == device.join_code)
    if who is Who.PRESCRIBER and device.request_id is not None:
        request = await uow.requests.get(device.request_id)
        return request is not None and request.prescriber == session.user.key
    return False


def _at(place: PlaceId | None, other: PlaceId | None) -> bool:
    return place is not None and place == other


def _check(scope: Scope, *, own: bool = False, place: bool = False, lot: bool = False) -> bool:
    match scope:
        case Scope.NETWORK:
            return True
        case Scope.OWN:
            return own
        case Scope.PLACE:
            return place
        case Scope.LOT:
            return lot
    return False
