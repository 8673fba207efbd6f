"""Access requests: submit, notify the coordinators, approve or reject in one action."""

from __future__ import annotations

import logging

from flows import access
from flows import actions as act
from flows.access import SubmitAccessRequest, coordinator_notice, decision_choices
from flows.audit import AuditAction
from flows.home import home
from flows.messages import Choice
from flows.records import AccessRequest, AccessRequestId, AccessStatus, PlaceId, PlaceKind, Role
from flows.text import _, verbatim
from handlers.referents import referent_for
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)



async def submit(session: Session, effect: SubmitAccessRequest) -> None:
    """Store the request, thank the requester, and put it in every coordinator's hands."""
    uow = session.uow
    request = await uow.access.create(session.user.key, effect.answers, session.now)
    log.info("access request %s from %s", request.id, session.user.key)
    session.reply(access.submitted_reply())
    commune = session.ctx.territory.commune(request.commune)
    notice = coordinator_notice(request, commune.name if commune else request.commune)
    for coordinator in session.coordinators:
        session.send(coordinator, [notice], decision_choices(request), action_menu=True)
    if not session.coordinators:
        log.warning("access request %s: no coordinator configured", request.id)
    referent = await referent_for(uow, request)
    if referent is not None and referent not in session.coordinators:
        session.send(referent, [notice, _("Vous êtes référent·e de cette structure : vous "
                                          "pouvez valider cette demande.")],
                     decision_choices(request), action_menu=True)


async def decide(session: Session, action: act.ApproveAccess | act.RejectAccess) -> None:
    """A coordinator, or the referent of the requester's structure for a prescriber,
    approves or rejects; a second decision on the same request is refused."""
    approve, number = isinstance(action, act.ApproveAccess), action.request
    uow = session.uow
    request = await uow.access.get(AccessRequestId(number))
    assert request is not None  # the router checked it is within the decider's scope
    status = AccessStatus.APPROVED if approve else AccessStatus.REJECTED
    if not await uow.access.decide(request.id, status, session.user.key, session.now):
        session.say(_("La demande n° {id} a déjà été traitée.", id=number))
        return
    if approve:
        by_referent = not session.user.is_coordinator
        await uow.users.set_role(request.user, request.role,
                                 session.user.place_id if by_referent else None)
        await uow.audit.record(session.user.key, AuditAction.ACCESS_GRANTED,
                               f"access:{number}", session.now, request.role.value)
        if by_referent:
            session.say(_("Demande n° {id} approuvée : le compte est rattaché à votre lieu. "
                          "La personne est prévenue.", id=number))
        else:
            session.say(_("Demande n° {id} approuvée. La personne est prévenue.", id=number),
                        _("À quel lieu du réseau rattacher ce compte ? Un·e accompagnant·e de "
                          "France Services y reçoit le matériel de ses demandes ; le personnel "
                          "d'un lieu y reçoit les demandes à servir."),
                        choices=await place_choices(session, request), action_menu=True)
        requester = await uow.users.get(request.user)
        texts = [_("Bonne nouvelle : votre accès professionnel est validé.")]
        place = await uow.places.get(session.user.place_id) \
            if by_referent and session.user.place_id else None
        if place is not None:
            texts.append(_("Votre compte est rattaché au lieu : {place}.",
                           place=verbatim(place.name)))
        if requester is not None:
            session.send(request.user, texts + home(requester, False).texts[-1:],
                         home(requester, False).choices, action_menu=True)
    else:
        session.say(_("Demande n° {id} refusée. La personne est prévenue.", id=number))
        session.send(request.user, [_(
            "Votre demande d'accès n'a pas été acceptée. Si c'est une erreur, contactez la "
            "coordination du réseau ou refaites une demande depuis le menu."
        )])
    done = (_("La demande d'accès n° {id} a été traitée par un·e autre coordinateur·rice.",
              id=number) if session.user.is_coordinator else
            _("La demande d'accès n° {id} a été traitée par la personne référente de la "
              "structure.", id=number))
    for other in session.coordinators:
        if other != session.user.key:
            session.send(other, [done])


PLACES_OFFERED = 8
"""At most this many places are offered, nearest to the structure first (a chat list)."""

PLACE_KINDS_FOR: dict[Role, frozenset[PlaceKind]] = {
    Role.PRESCRIBER: frozenset({PlaceKind.HUB, PlaceKind.RELAY}),
    Role.PLACE_STAFF: frozenset(PlaceKind),
    Role.RECONDITIONER: frozenset({PlaceKind.RECONDITIONER, PlaceKind.HUB}),
}


async def place_choices(session: Session, request: AccessRequest) -> list[Choice]:
    """The places an approved account can be attached to, nearest first, and "no place"."""
    territory = session.ctx.territory
    home_commune = territory.commune(request.commune)
    home_epci = home_commune.epci if home_commune else None

    def nearness(place_commune: str) -> int:
        if place_commune == request.commune:
            return 0
        commune = territory.commune(place_commune)
        return 1 if commune is not None and commune.epci == home_epci else 2

    kinds = PLACE_KINDS_FOR.get(request.role, frozenset(PlaceKind))
    places = [p for p in await session.uow.places.all() if p.kind in kinds]
    places.sort(key=lambda p: (nearness(p.commune), p.name))
    choices = [Choice(act.AttachPlace(request.id, p.id).pack(), verbatim(p.name))
               for p in places[:PLACES_OFFERED]]
    return [*choices, Choice(act.AttachPlace(request.id, 0).pack(), _("Aucun lieu"))]


async def attach_place(session: Session, action: act.AttachPlace) -> None:
    """A coordinator attaches an approved account to a place (0: none)."""
    number, place_number = action.request, action.place
    uow = session.uow
    request = await uow.access.get(AccessRequestId(number))
    if request is None or request.status is not AccessStatus.APPROVED:
        session.say(_("La demande n° {id} n'est pas une demande approuvée.", id=number))
        return
    place = await uow.places.get(PlaceId(place_number)) if place_number else None
    if place_number and place is None:
        session.say(_("Ce lieu n'existe plus."))
        return
    await uow.users.set_role(request.user, request.role, place.id if place else None)
    log.info("access request %s attached to place %s", number, place_number or None)
    if place is None:
        texts = [_("Compte de la demande n° {id} : sans lieu de rattachement.", id=number)]
        if request.role is Role.PLACE_STAFF:
            texts.append(_("Sans lieu, cette personne ne recevra aucune demande de matériel."))
        session.say(*texts)
        return
    session.say(_("Compte de la demande n° {id} rattaché à : {place}.", id=number,
                  place=verbatim(place.name)))
    session.send(request.user, [_("Votre compte est rattaché au lieu : {place}.",
                                  place=verbatim(place.name))])


async def pending_queue(session: Session, action: act.AccessQueue) -> None:
    """The coordinators' queue of pending requests, each with its two actions."""
    requests = await session.uow.access.pending()
    if not requests:
        session.say(_("Aucune demande d'accès en attente."))
        return
    for request in requests:
        commune = session.ctx.territory.commune(request.commune)
        session.say(coordinator_notice(request, commune.name if commune else request.commune),
                    choices=decision_choices(request), action_menu=True)


def feature(env: Env) -> Feature:
    """Access requests: submitted by professionals, decided by the coordination."""
    return Feature(
        name="access",
        flows=[access.FLOW],
        actions={act.ApproveAccess: decide, act.RejectAccess: decide,
                 act.AttachPlace: attach_place, act.AccessQueue: pending_queue},
        effects={SubmitAccessRequest: submit},
    )
