"""Access requests: submit, notify the coordinators, approve or reject in one action."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from flows import access
from flows.access import SubmitAccessRequest, coordinator_notice, decision_choices
from flows.home import home
from flows.records import AccessRequestId, AccessStatus
from flows.text import _
from handlers.session import Feature, Session

log = logging.getLogger(__name__)

StartFlow = Callable[[Session, str], Awaitable[None]]


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


async def decide(session: Session, choice_id: str) -> None:
    """A coordinator approves or rejects; a second decision on the same request is refused."""
    parsed = access.parse_decision(choice_id)
    if parsed is None:
        session.say(_("Ce bouton n'est plus valable."))
        return
    approve, number = parsed
    if not session.user.is_coordinator:
        log.warning("%s tried to decide access request %s", session.user.key, number)
        session.say(_("Seule la coordination du réseau peut valider une demande d'accès."))
        return
    uow = session.uow
    request = await uow.access.get(AccessRequestId(number))
    if request is None:
        session.say(_("La demande n° {id} n'existe pas.", id=number))
        return
    status = AccessStatus.APPROVED if approve else AccessStatus.REJECTED
    if not await uow.access.decide(request.id, status, session.user.key, session.now):
        session.say(_("La demande n° {id} a déjà été traitée.", id=number))
        return
    if approve:
        await uow.users.set_role(request.user, request.role, None)
        session.say(_("Demande n° {id} approuvée. La personne est prévenue.", id=number))
        requester = await uow.users.get(request.user)
        texts = [_("Bonne nouvelle : votre accès professionnel est validé.")]
        if requester is not None:
            session.send(request.user, texts + home(requester, False).texts[-1:],
                         home(requester, False).choices, action_menu=True)
    else:
        session.say(_("Demande n° {id} refusée. La personne est prévenue.", id=number))
        session.send(request.user, [_(
            "Votre demande d'accès n'a pas été acceptée. Si c'est une erreur, contactez la "
            "coordination du réseau ou refaites une demande depuis le menu."
        )])
    for other in session.coordinators:
        if other != session.user.key:
            session.send(other, [_("La demande d'accès n° {id} a été traitée par un·e autre "
                                   "coordinateur·rice.", id=number)])


async def pending_queue(session: Session, choice_id: str) -> None:
    """The coordinators' queue of pending requests, each with its two actions."""
    if not session.user.is_coordinator:
        session.say(_("Seule la coordination du réseau peut valider une demande d'accès."))
        return
    requests = await session.uow.access.pending()
    if not requests:
        session.say(_("Aucune demande d'accès en attente."))
        return
    for request in requests:
        commune = session.ctx.territory.commune(request.commune)
        session.say(coordinator_notice(request, commune.name if commune else request.commune),
                    choices=decision_choices(request), action_menu=True)


FEATURE = Feature(
    name="access",
    flows=[access.FLOW],
    actions={"acc:": decide, "q:": pending_queue},
    effects={SubmitAccessRequest: submit},
)
