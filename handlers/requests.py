"""Equipment requests: submit, route and reserve, and every step up to the handover.

Who may do what is checked on every action, whatever the button says: only an approved
prescriber asks and cancels (their own requests only); only the staff of the place a request
is routed to accepts, refuses, marks ready and hands over. Every change of status is a
conditional update, so a request acted on twice is changed once, and every change tells the
prescriber through the outbox, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from flows import actions as act
from flows import request as rq
from flows.action_codec import Action, Who
from flows.audit import AuditAction
from flows.catalogue import kind_name
from flows.engine import Conversation
from flows.lifecycle import Refused
from flows.messages import Choice, Outgoing, UserKey
from flows.payments import WhenEmpty, empty_fund_notice
from flows.ports import Storage, UnitOfWork
from flows.pricing import Quote, Tier, price_for, quote
from flows.records import (
    EquipmentRequest,
    Place,
    PlaceId,
    RequestId,
    RequestStatus,
    Role,
    User,
)
from flows.request import (
    REASON_WHY,
    REFUSE_LABELS,
    Facts,
    RefuseReason,
    SubmitRequest,
    place_line,
    request_line,
    staff_choices,
    staff_notice,
)
from flows.request_lifecycle import HOLDING, REQUEST, Event, expected
from flows.routing import DISTRIBUTING, Reach, Reason, Routed, route
from flows.territory import Territory
from flows.text import Day, Lines, Msg, _, by_gesture, to_json, verbatim
from handlers import handover as handing
from handlers.public_waitlist import tell_public_waiting
from handlers.session import Env, Feature, Job, MoreFacts, Sender, Session

log = logging.getLogger(__name__)

FUND_TIERS = frozenset({Tier.FREE, Tier.SYMBOLIC})
"""The tiers the solidarity fund pays for."""

MY_REQUESTS_SHOWN = 10
PICKUP_DAYS = 6
"""Pickup dates offered as buttons: today and the next days."""
PICKUP_HORIZON = timedelta(days=60)

NEW = Choice(act.NewRequest().pack(), _("Demander du matériel"))
MINE = Choice(act.MyRequests().pack(), _("Mes demandes"))
RECEIVED = Choice(act.ReceivedRequests().pack(), _("Demandes reçues"))
STOCK = Choice(act.PlaceStock().pack(), _("Stock du lieu"))


@dataclass
class Mailbag:
    """What a periodic job sends, written to the outbox in the job's own transaction."""

    outgoing: list[Outgoing] = field(default_factory=list)

    def send(self, to: UserKey, texts: Sequence[Msg], choices: Sequence[Choice] = (), *,
             action_menu: bool = False) -> None:
        self.outgoing.append(Outgoing(to, tuple(texts), tuple(choices),
                                      is_action_menu=action_menu))

    async def flush(self, uow: UnitOfWork, now: datetime) -> None:
        for message in self.outgoing:
            await uow.outbox.add(message, now)
            if message.is_action_menu:
                await uow.menus.set(message.to, [(c.id, to_json(c.label))
                                                 for c in message.choices])


def is_prescriber(user: User) -> bool:
    """Only approved prescribers ask equipment for a beneficiary."""
    return user.role is Role.PRESCRIBER


def _epci_of(territory: Territory) -> Callable[[str], str | None]:
    def epci_of(insee: str) -> str | None:
        commune = territory.commune(insee)
        return commune.epci if commune else None

    return epci_of


def _commune_name(territory: Territory, insee: str) -> str:
    commune = territory.commune(insee)
    return commune.name if commune else insee


def reach_of(territory: Territory, commune: str, own_place: PlaceId | None) -> Reach:
    """The places a request for someone of ``commune`` may be routed to."""
    found = territory.commune(commune)
    return Reach(commune, found.epci if found else None, own_place)


async def load_facts(uow: UnitOfWork, user: User) -> Mapping[str, Any]:
    """Catalogue, grid, and the answers saved so far, for the request flow (the places and
    their stock only for the question that shows them: :func:`reach_facts`)."""
    saved = await uow.conversations.get(user.key)
    answers: Mapping[str, Any] = {}
    if saved is not None and saved.conversation.flow == rq.FLOW_NAME:
        answers = saved.conversation.answers
    facts = Facts(
        kinds=await uow.catalogue.kinds(),
        places=(),
        stock={},
        grid=await uow.catalogue.price_grid(),
        saved=answers,
    )
    return {"request": facts}


def reach_facts(territory: Territory) -> MoreFacts:
    """The places in reach of the person's commune and their stock, read when the question
    of the kinds (where each is available) is asked, not at every step."""

    async def more(uow: UnitOfWork, user: User, facts: Mapping[str, Any],
                   conversation: Conversation) -> Mapping[str, Any] | None:
        current = facts.get("request")
        commune = rq.reach_needed(conversation)
        if commune is None or not isinstance(current, Facts) or current.reach == commune:
            return None
        reach = reach_of(territory, commune, user.place_id)
        return {**facts, "request": replace(
            current, places=await uow.places.in_reach(reach),
            stock=await uow.catalogue.stock_in_reach(reach), reach=commune)}

    return more


# --- Routing with reservation ---------------------------------------------------------------


async def reserve_route(
    uow: UnitOfWork,
    territory: Territory,
    kind: str,
    commune: str,
    own_place: PlaceId | None,
    exclude: set[PlaceId],
    places: Sequence[Place] | None = None,
    stock: dict[tuple[PlaceId, str], int] | None = None,
) -> Routed | None:
    """The place that serves the request, where a device of its kind is free; None: the
    waiting list.

    Stock is counted (``storage/catalogue.py``): the place's ready devices less the requests
    holding one there. The request holds its device once the caller sends it there, in the
    same transaction; the count is read again for the place chosen, so a device another
    request took since ``stock`` was read is not promised twice, and the next place is tried.
    Without ``places`` and ``stock``, those in reach of ``commune`` are read.
    """
    if places is None or stock is None:
        reach = reach_of(territory, commune, own_place)
        places = places if places is not None else await uow.places.in_reach(reach)
        stock = stock if stock is not None else await uow.catalogue.stock_in_reach(reach)
    skipped = set(exclude)
    while True:
        found = route(kind, commune, places, stock, _epci_of(territory), own_place, skipped)
        if not isinstance(found, Routed):
            return None
        key = (found.place.id, kind)
        if await uow.catalogue.available(found.place.id, kind) > 0:
            stock[key] = stock.get(key, 1) - 1
            return found
        stock[key] = 0
        skipped.add(found.place.id)


async def _own_place(uow: UnitOfWork, prescriber: UserKey) -> PlaceId | None:
    user = await uow.users.get(prescriber)
    return user.place_id if user is not None and is_prescriber(user) else None


async def notify_place(
    out: Sender, uow: UnitOfWork, territory: Territory, request: EquipmentRequest,
    coordinators: Sequence[UserKey],
) -> None:
    """Put a routed request in the hands of its place's staff (the coordination if none)."""
    assert request.place_id is not None
    staff = await uow.requests.place_staff(request.place_id)
    access = await uow.access.latest_for(request.prescriber)
    notice = staff_notice(request, _commune_name(territory, request.commune),
                          access.structure if access else None)
    for member in staff:
        out.send(member, [notice], staff_choices(request), action_menu=True)
    if not staff:
        log.warning("request %s: place %s has no staff on the bot", request.reference,
                    request.place_id)
        place = await uow.places.get(request.place_id)
        for coordinator in coordinators:
            out.send(coordinator, [notice, _(
                "Aucun membre du lieu {place} n'utilise le bot : prévenez-le de cette demande.",
                place=verbatim(place.name if place else "?"))])


def _routed_text(request: EquipmentRequest, place: Place, territory: Territory) -> Msg:
    return _("Matériel réservé ({kind}) à : {place}.\nPourquoi ce lieu : {why}.",
             kind=kind_name(request.kind),
             place=place_line(place, _commune_name(territory, place.commune)),
             why=REASON_WHY[Reason(request.reason)] if request.reason else "-")


async def _waiting_text(uow: UnitOfWork, request: EquipmentRequest) -> Msg:
    position = await uow.requests.position(request.id) or 1
    return _("Aucun appareil de ce type ({kind}) en stock près de chez la personne pour "
             "l'instant : la demande est sur liste d'attente, en position {n}. Dès qu'un "
             "appareil arrive, elle part toute seule vers le bon lieu et vous êtes prévenu·e.",
             kind=kind_name(request.kind), n=position)


async def _fund_dry(uow: UnitOfWork, now: datetime) -> bool:
    """This year's solidarity fund is spent (a year with no budget set is not: nothing to
    hold for). Years are counted as the payments are, in UTC."""
    fund = await uow.payments.fund(now.astimezone(UTC).year)
    return fund.budget > 0 and fund.empty


async def serve_waiting(
    out: Sender, uow: UnitOfWork, territory: Territory, now: datetime,
    coordinators: Sequence[UserKey], kind: str | None = None,
) -> int:
    """Route waiting requests, first come first served, wherever stock is now in reach;
    the requests made while the solidarity fund was empty wait until it has a budget again."""
    waiting = await uow.requests.waiting(kind)
    held = await uow.requests.fund_held([r.id for r in waiting]) if waiting else set()
    if held and await _fund_dry(uow, now):
        waiting = [r for r in waiting if r.id not in held]
    if not waiting:
        await tell_public_waiting(out, uow, await uow.catalogue.stock(), kind)
        return 0
    places = await uow.places.all()
    stock: dict[tuple[PlaceId, str], int] = dict(await uow.catalogue.stock())
    served = 0
    for request in waiting:
        if not any(n > 0 and k == request.kind for (_p, k), n in stock.items()):
            continue
        exclude = await uow.requests.refused_by(request.id)
        found = await reserve_route(uow, territory, request.kind, request.commune,
                                    await _own_place(uow, request.prescriber), exclude,
                                    places, stock)
        if found is None:
            continue
        if not await uow.requests.send_to(request.id, expected(Event.ROUTE), found.place.id,
                                          found.reason.value, now):
            continue
        await uow.requests.log(request.id, "sent", None, found.place.id, found.reason.value,
                               now)
        log.info("request %s left the waiting list for place %s", request.reference,
                 found.place.id)
        routed = await uow.requests.get(request.id)
        assert routed is not None
        out.send(request.prescriber, [
            _("Le fonds de solidarité a de nouveau un budget : la demande {ref} est servie.",
              ref=verbatim(routed.reference)) if request.id in held else
            _("Du matériel est arrivé pour la demande {ref} !", ref=verbatim(routed.reference)),
            _routed_text(routed, found.place, territory),
            _("Le lieu va confirmer ; vous serez prévenu·e à chaque étape."),
        ])
        await notify_place(out, uow, territory, routed, coordinators)
        served += 1
    # What the prescriptions left in stock, for the public door's waiting list.
    await tell_public_waiting(out, uow, await uow.catalogue.stock(), kind)
    return served


# --- Prescribers ask and follow their requests ----------------------------------------------


async def submit(session: Session, effect: SubmitRequest, *,
                 when_empty: WhenEmpty = WhenEmpty.WAITING_LIST, transfer_days: int = 7) -> None:
    """Number, route and reserve; tell the prescriber where and why, and the place (and,
    plainly, what an empty solidarity fund means for a request it would pay for). When the
    device is available now at another place than the prescriber's own, offer to bring one
    there instead, with an honest delay (``handlers/transfers.py``)."""
    user, uow, draft = session.user, session.uow, effect.draft
    if not is_prescriber(user):
        log.warning("%s submitted a request without being a prescriber", user.key)
        session.say(_not_prescriber())
        return
    commune = session.ctx.territory.commune(draft.commune)
    kinds = {k.code for k in await uow.catalogue.kinds()}
    if commune is None or draft.kind not in kinds:
        session.say(_("Cette demande ne peut plus être envoyée (commune ou matériel "
                      "inconnu). Rien n'a été enregistré."))
        return
    grid = await uow.catalogue.price_grid()
    price = quote(grid, draft.situation, draft.income, draft.kind)
    fund_spent = False
    if price.tier in FUND_TIERS:
        fund = await uow.payments.fund(session.ctx.today.year)
        fund_spent = fund.budget > 0 and fund.empty
    if fund_spent and when_empty is WhenEmpty.NEXT_TIER and price.tier is Tier.FREE:
        price = Quote(Tier.SYMBOLIC, price_for(grid, Tier.SYMBOLIC, draft.kind))
    # With the fund spent and the "waiting" setting, a request it would pay for reserves
    # nothing: it waits for the next budget, and the stock stays for the others.
    for_fund = (fund_spent and when_empty is WhenEmpty.WAITING_LIST
                and price.tier in FUND_TIERS)
    found = None if for_fund else await reserve_route(
        uow, session.ctx.territory, draft.kind, draft.commune, user.place_id, set())
    place = (found.place.id, found.reason.value) if found else None
    request = await uow.requests.create(user.key, draft, price.tier.value, price.cents,
                                        commune.epci, place, session.ctx.today.year, session.now,
                                        for_fund=for_fund)
    await uow.requests.log(request.id, request.status.value, user.key, request.place_id,
                           request.reason, session.now)
    log.info("request %s by %s: %s", request.reference, user.key, request.status.value)
    texts = [_("Demande {ref} enregistrée.", ref=verbatim(request.reference))]
    if found is not None:
        texts += [_routed_text(request, found.place, session.ctx.territory),
                  _("Prix pour la personne : {price}.", price=rq.price_text(price)),
                  _("Le lieu va confirmer ; vous serez prévenu·e à chaque étape.")]
    elif for_fund:
        texts += [_("Elle est sur liste d'attente, en position {n}.",
                    n=await uow.requests.position(request.id) or 1),
                  _("Prix pour la personne : {price}.", price=rq.price_text(price))]
    else:
        texts += [await _waiting_text(uow, request),
                  _("Prix pour la personne : {price}.", price=rq.price_text(price))]
    if request.needs_connectivity:
        texts.append(_("Besoin de connexion internet signalé au lieu : il aidera la "
                       "personne à trouver une solution."))
    if fund_spent:
        texts.append(empty_fund_notice(when_empty))
    choices = [MINE, NEW]
    own = await uow.places.get(user.place_id) if user.place_id is not None else None
    if (found is not None and own is not None and own.id != found.place.id
            and own.kind in DISTRIBUTING):
        texts.append(_("Elle peut aussi recevoir l'appareil chez vous : un chauffeur bénévole "
                       "l'apporte à {place} en {n} jours environ.", place=verbatim(own.name),
                       n=transfer_days))
        choices = [Choice(act.BringHere(request.id).pack(),
                          _("Apporter un appareil à {place} (environ {n} jours)",
                            place=verbatim(own.name), n=transfer_days)), *choices]
    session.say(*texts, choices=choices, action_menu=True)
    if found is not None:
        await notify_place(session, uow, session.ctx.territory, request,
                           session.coordinators)


async def my_requests(session: Session) -> None:
    """A prescriber's requests with their status in plain words; open ones can be cancelled."""
    if not is_prescriber(session.user):
        session.say(_not_prescriber())
        return
    uow = session.uow
    mine = await uow.requests.of_prescriber(session.user.key, MY_REQUESTS_SHOWN)
    if not mine:
        session.say(_("Vous n'avez pas encore fait de demande."), choices=[NEW],
                    action_menu=True)
        return
    places = {p.id: p for p in await uow.places.all()}
    lines, choices = [], []
    for request in mine:
        position = await uow.requests.position(request.id) \
            if request.status is RequestStatus.WAITING else None
        place = places.get(request.place_id) if request.place_id else None
        lines.append(request_line(request, place, position))
        if REQUEST.can(request.status, Event.CANCEL):
            choices.append(Choice(act.CancelRequest(request.id).pack(),
                                  _("Annuler {ref}", ref=verbatim(request.reference))))
        elif request.status is RequestStatus.HANDED_OVER:  # warranty (handlers/warranty.py)
            choices.append(Choice(act.RequestProblem(request.id).pack(),
                                  _("Signaler une panne {ref}", ref=verbatim(request.reference))))
    session.say(_("Vos demandes :"), _lines(lines), choices=[*choices, NEW],
                action_menu=True)


# --- Place staff: their requests, their stock -----------------------------------------------


async def received(session: Session) -> None:
    """The requests routed to the staff member's place, with what can be done next."""
    place = await _staff_place(session)
    if place is None:
        return
    serving = await session.uow.requests.for_place(place.id)
    if not serving:
        session.say(_("Aucune demande en cours pour {place}.", place=verbatim(place.name)),
                    choices=[STOCK], action_menu=True)
        return
    lines = [request_line(r, place, None) for r in serving]
    choices = [c for r in serving for c in staff_choices(r)]
    session.say(_("Demandes en cours pour {place} :", place=verbatim(place.name)),
                _lines(lines), choices=[*choices, STOCK], action_menu=True)


async def show_stock(session: Session) -> None:
    """What the place has in stock: its ready devices of each kind, counted, and those held
    for requests until their handover."""
    place = await _staff_place(session)
    if place is None:
        return
    uow = session.uow
    lines = []
    for kind in await uow.catalogue.kinds():
        ready = len(await uow.devices.ready_at(place.id, kind.code))
        held = await uow.catalogue.held(place.id, kind.code)
        lines.append(_("• {kind} : {free} disponible(s), {held} réservé(s) pour une demande",
                       kind=kind_name(kind.code), free=max(0, ready - held), held=held))
    session.say(_("Stock de {place} : les appareils prêts enregistrés à ce lieu.",
                  place=verbatim(place.name)), _lines(lines),
                _("Un appareil rejoint le stock quand son atelier enregistre qu'il fonctionne et "
                  "qu'il est effacé ; il en sort à sa remise."),
                choices=[RECEIVED], action_menu=True)


async def _staff_place(session: Session) -> Place | None:
    """The place of a staff member, or None (and why) for anyone else."""
    user = session.user
    place = await session.uow.places.get(user.place_id) if user.place_id else None
    if user.role is not Role.PLACE_STAFF or place is None:
        log.warning("%s is not the staff of a place", user.key)
        session.say(_("Réservé au personnel d'un lieu du réseau, rattaché à ce lieu par "
                      "la coordination."))
        return None
    return place


# --- Place staff: accept, refuse, ready, handed over ----------------------------------------


async def accept(session: Session, action: Any, request: EquipmentRequest) -> None:
    """The place takes the request on; the prescriber and colleagues are told."""
    uow = session.uow
    status = _next(session, request, Event.ACCEPT)
    if status is None:
        return
    if not await uow.requests.set_status(request.id, expected(Event.ACCEPT), status,
                                         session.now, place_id=request.place_id):
        _already(session, request)
        return
    await uow.requests.log(request.id, "accepted", session.user.key, request.place_id,
                           None, session.now)
    await uow.audit.record(session.user.key, AuditAction.REQUEST_STATUS, request.reference,
                           session.now, "accepted")
    log.info("request %s accepted by %s", request.reference, session.user.key)
    updated = await _reload(uow, request)
    place = await uow.places.get(updated.place_id) if updated.place_id else None
    session.say(by_gesture(
        _("Demande {ref} acceptée. Quand le matériel est prêt, touchez « prêt à retirer ».",
          ref=verbatim(request.reference)),
        _("Demande {ref} acceptée. Quand le matériel est prêt, choisissez « prêt à "
          "retirer ».", ref=verbatim(request.reference))),
                choices=staff_choices(updated), action_menu=True)
    session.send(request.prescriber, [_(
        "Bonne nouvelle : {place} a accepté la demande {ref} ({kind} pour {person}). Le "
        "lieu prépare le matériel ; vous serez prévenu·e quand il sera prêt.",
        place=verbatim(place.name if place else "?"), ref=verbatim(request.reference),
        kind=kind_name(request.kind), person=rq.person(request))])
    await _tell_colleagues(session, request, _("La demande {ref} a été acceptée par un·e "
                                               "collègue.", ref=verbatim(request.reference)))


async def refuse(session: Session, action: Any, request: EquipmentRequest) -> None:
    """Ask why, as buttons: the reason decides what happens to the reserved unit."""
    if _next(session, request, Event.REFUSE) is None:
        return
    choices = [Choice(act.RefuseBecause(request.id, reason).pack(), label)
               for reason, label in REFUSE_LABELS.items()]
    session.say(_("Pourquoi refuser la demande {ref} ? Elle partira vers un autre lieu.",
                  ref=verbatim(request.reference)), choices=choices, action_menu=True)


async def refuse_because(session: Session, action: Any,
                         request: EquipmentRequest) -> None:
    """Refused: give the unit back (or zero the stock), route to the next place."""
    uow, territory = session.uow, session.ctx.territory
    if _next(session, request, Event.REFUSE) is None:
        return
    assert request.place_id is not None
    reason = action.reason
    refusing = await uow.places.get(request.place_id)
    await uow.requests.log(request.id, "refused", session.user.key, request.place_id,
                           reason.value, session.now)
    await uow.audit.record(session.user.key, AuditAction.REQUEST_STATUS, request.reference,
                           session.now, f"refused ({reason.value})")
    exclude = await uow.requests.refused_by(request.id)
    found = await reserve_route(uow, territory, request.kind, request.commune,
                                await _own_place(uow, request.prescriber), exclude)
    refusable = expected(Event.REFUSE)
    if found is not None:
        moved = await uow.requests.send_to(request.id, refusable, found.place.id,
                                           found.reason.value, session.now)
    else:
        moved = await uow.requests.to_waiting(request.id, refusable, session.now)
    if not moved:  # cannot happen inside one serialised transaction; keep data sound
        raise RuntimeError(f"request {request.reference} changed during its refusal")
    log.info("request %s refused by %s (%s)", request.reference, session.user.key,
             reason.value)
    updated = await _reload(uow, request)
    session.say(_("Demande {ref} refusée. L'accompagnant·e est prévenu·e.",
                  ref=verbatim(request.reference)))
    await _tell_colleagues(session, request, _("La demande {ref} a été refusée par un·e "
                                               "collègue.", ref=verbatim(request.reference)))
    head = _("{place} ne peut pas servir la demande {ref} ({reason}).",
             place=verbatim(refusing.name if refusing else "?"),
             ref=verbatim(request.reference), reason=REFUSE_LABELS[reason])
    if found is not None:
        session.send(request.prescriber, [head, _("Elle part vers un autre lieu."),
                                          _routed_text(updated, found.place, territory)])
        await uow.requests.log(request.id, "sent", None, found.place.id,
                               found.reason.value, session.now)
        await notify_place(session, uow, territory, updated, session.coordinators)
    else:
        await uow.requests.log(request.id, "waiting", None, None, None, session.now)
        session.send(request.prescriber, [head, await _waiting_text(uow, updated)])
    if reason is not RefuseReason.NO_STOCK:
        await serve_waiting(session, uow, territory, session.now, session.coordinators,
                            request.kind)


async def ready(session: Session, action: Any, request: EquipmentRequest) -> None:
    """Offer the pickup date as buttons; opening hours are the place's own."""
    if _next(session, request, Event.READY) is None:
        return
    today = session.ctx.today
    choices = []
    for offset in range(PICKUP_DAYS):
        day = today + timedelta(days=offset)
        label = {0: _("Aujourd'hui"), 1: _("Demain")}.get(offset) or \
            Msg("{d}", {"d": Day(day)})
        choices.append(Choice(act.ReadyOn(request.id, day).pack(),
                              label))
    session.say(_("À partir de quel jour la personne peut-elle venir chercher le matériel "
                  "de la demande {ref} ?", ref=verbatim(request.reference)),
                choices=choices, action_menu=True)


async def ready_on(session: Session, action: Any, request: EquipmentRequest) -> None:
    """Ready from the picked day, at the place's opening hours; the prescriber is told."""
    uow = session.uow
    day = action.day
    today = session.ctx.today
    if not today <= day <= today + PICKUP_HORIZON:
        session.say(_("Ce bouton n'est plus valable."))
        return
    place = await uow.places.get(request.place_id) if request.place_id else None
    if place is None:  # the place was closed meanwhile
        session.say(_("Ce bouton n'est plus valable."))
        return
    hours = place.opening_hours or "-"
    status = _next(session, request, Event.READY)
    if status is None:
        return
    if not await uow.requests.set_status(
        request.id, expected(Event.READY), status, session.now,
        place_id=request.place_id, pickup=(day, hours),
    ):
        _already(session, request)
        return
    await uow.requests.log(request.id, "ready", session.user.key, place.id,
                           day.isoformat(), session.now)
    await uow.audit.record(session.user.key, AuditAction.REQUEST_STATUS, request.reference,
                           session.now, "ready")
    log.info("request %s ready for pickup", request.reference)
    updated = await _reload(uow, request)
    session.say(_("C'est noté : {ref} prêt à retirer à partir du {day}. L'accompagnant·e "
                  "est prévenu·e.", ref=verbatim(request.reference), day=Day(day)),
                choices=staff_choices(updated), action_menu=True)
    session.send(request.prescriber, [_(
        "Le matériel de la demande {ref} est prêt ! La personne peut venir le chercher à "
        "partir du {day} à : {place}.\nUne première séance de prise en main lui sera "
        "proposée sur place.", ref=verbatim(request.reference), day=Day(day),
        place=place_line(place, _commune_name(session.ctx.territory, place.commune)))])


async def handover(session: Session, action: Any, request: EquipmentRequest) -> None:
    """No equipment without a getting-started session: staff confirm it first."""
    if _next(session, request, Event.HAND_OVER) is None:
        return
    session.say(_("Avant de remettre le matériel de la demande {ref} : au moins une séance "
                  "de prise en main est-elle réservée ou faite pour la personne ?",
                  ref=verbatim(request.reference)),
                choices=[Choice(act.HandoverYes(request.id).pack(),
                                _("Oui, remettre le matériel")),
                         Choice(act.HandoverNotYet(request.id).pack(),
                                _("Pas encore")),
                         Choice(act.PayRequest(request.id).pack(),
                                _("Un tiers paie pour la personne"))],
                action_menu=True)


async def handover_not_yet(session: Session, action: Any,
                           request: EquipmentRequest) -> None:
    """No session yet: no handover; point to the workshops."""
    session.say(by_gesture(
        _("Pas de remise sans une première séance de prise en main. Réservez-en "
          "une avec la personne, puis touchez de nouveau « remis »."),
        _("Pas de remise sans une première séance de prise en main. Réservez-en "
          "une avec la personne, puis choisissez de nouveau « remis ».")),
                choices=[Choice(act.Workshops().pack(), _("Prochains ateliers")),
                         Choice(act.Handover(request.id).pack(),
                                _("{ref} : remis", ref=verbatim(request.reference)))],
                action_menu=True)


async def handover_yes(session: Session, action: Any,
                       request: EquipmentRequest) -> None:
    """The getting-started session confirmed by the staff: which device is handed over
    (``handlers/handover.py`` records it, with the join code and the kit)."""
    if _next(session, request, Event.HAND_OVER) is None:
        return
    await handing.start(session, request)


# --- Prescriber: cancel ---------------------------------------------------------------------


async def cancel(session: Session, action: Any, request: EquipmentRequest) -> None:
    """Ask for confirmation first: a cancelled request cannot be brought back."""
    if _next(session, request, Event.CANCEL, Who.PRESCRIBER) is None:
        return
    session.say(_("Annuler la demande {ref} ? Le matériel réservé sera remis en stock.",
                  ref=verbatim(request.reference)),
                choices=[Choice(act.CancelRequestYes(request.id).pack(),
                                _("Oui, annuler {ref}", ref=verbatim(request.reference))),
                         Choice(act.MyRequests().pack(), _("Non, la garder"))],
                action_menu=True)


async def cancel_yes(session: Session, action: Any, request: EquipmentRequest) -> None:
    """Cancel, give the reserved unit back, and let it serve the waiting list."""
    uow = session.uow
    status = _next(session, request, Event.CANCEL, Who.PRESCRIBER)
    if status is None:
        return
    if not await uow.requests.set_status(request.id, expected(Event.CANCEL), status,
                                         session.now):
        _already(session, request)
        return
    await uow.requests.log(request.id, "cancelled", session.user.key, request.place_id,
                           None, session.now)
    await uow.audit.record(session.user.key, AuditAction.REQUEST_STATUS, request.reference,
                           session.now, "cancelled")
    log.info("request %s cancelled by %s", request.reference, session.user.key)
    session.say(_("La demande {ref} est annulée.", ref=verbatim(request.reference)),
                choices=[MINE, NEW], action_menu=True)
    if request.status in HOLDING and request.place_id is not None:
        for member in await uow.requests.place_staff(request.place_id):
            session.send(member, [_("La demande {ref} a été annulée par l'accompagnant·e. "
                                    "Le matériel réservé revient en stock.",
                                    ref=verbatim(request.reference))])
        await serve_waiting(session, uow, session.ctx.territory, session.now,
                            session.coordinators, request.kind)


async def _tell_colleagues(session: Session, request: EquipmentRequest, text: Msg) -> None:
    """The other staff of the place learn that a request was dealt with."""
    if request.place_id is None:
        return
    for member in await session.uow.requests.place_staff(request.place_id):
        if member != session.user.key:
            session.send(member, [text])


ON_REQUEST: dict[type[Action], Callable[[Session, Any, EquipmentRequest], Awaitable[None]]] = {
    act.AcceptRequest: accept,
    act.RefuseRequest: refuse,
    act.RefuseBecause: refuse_because,
    act.ReadyRequest: ready,
    act.ReadyOn: ready_on,
    act.Handover: handover,
    act.HandoverYes: handover_yes,
    act.HandoverNotYet: handover_not_yet,
    act.CancelRequest: cancel,
    act.CancelRequestYes: cancel_yes,
}
"""Buttons on one request, which the router checked is the presser's to act on."""


async def on_request(session: Session, action: Any) -> None:
    request = await session.uow.requests.get(RequestId(action.request))
    assert request is not None  # the router checked it is within the presser's scope
    await ON_REQUEST[type(action)](session, action, request)


async def start(session: Session, action: act.NewRequest) -> None:
    await session.start_flow(rq.FLOW_NAME)


async def my_requests_action(session: Session, action: act.MyRequests) -> None:
    await my_requests(session)


async def received_action(session: Session, action: act.ReceivedRequests) -> None:
    await received(session)


async def stock_action(session: Session, action: act.PlaceStock) -> None:
    await show_stock(session)


# --- The feature ----------------------------------------------------------------------------


def feature(env: Env) -> Feature:
    """Equipment requests; the jobs read the territory and coordinators from ``env`` (they
    run outside any message, so they have no session)."""

    # --- Periodic jobs ----------------------------------------------------------------------

    async def waiting_job(storage: Storage, now: datetime) -> int:
        """Route waiting requests when stock arrived by any way (a safety net)."""
        async with storage.transaction() as uow:
            bag = Mailbag()
            served = await serve_waiting(bag, uow, env.territory, now, env.coordinators)
            await bag.flush(uow, now)
        return served

    async def retention_job(storage: Storage, now: datetime) -> int:
        """Erase first names some months after the handover or the cancellation."""
        async with storage.transaction() as uow:
            erased = await uow.requests.forget_first_names(
                now - timedelta(days=31 * rq.FIRST_NAME_KEPT_MONTHS))
            if erased:
                await uow.audit.record(None, AuditAction.DATA_DELETED, "requests", now,
                                       f"first names: {erased}")
            return erased

    return Feature(
        name="requests",
        flows=[rq.FLOW],
        actions={act.NewRequest: start, act.MyRequests: my_requests_action,
                 act.ReceivedRequests: received_action, act.PlaceStock: stock_action,
                 **{kind: on_request for kind in ON_REQUEST}},
        effects={SubmitRequest: partial(submit, when_empty=env.money.when_empty,
                                        transfer_days=env.transfer_days)},
        facts={rq.FLOW_NAME: load_facts},
        more_facts={rq.FLOW_NAME: reach_facts(env.territory)},
        jobs=[Job("requests.waiting", timedelta(minutes=10), waiting_job),
              Job("requests.retention", timedelta(days=1), retention_job)],
    )


def _not_prescriber() -> Msg:
    return _("Cette fonction est réservée aux accompagnant·es dont l'accès a été validé par la "
             "coordination.")


def _next(session: Session, request: EquipmentRequest, event: Event,
          who: Who = Who.PLACE_STAFF) -> RequestStatus | None:
    """The status ``event`` moves the request to (``flows/request_lifecycle.py``), or None
    once the person is told where it stands (it moved on meanwhile)."""
    try:
        return REQUEST.apply(request.status, event, who)
    except Refused:
        _already(session, request)
        return None


def _already(session: Session, request: EquipmentRequest) -> None:
    """The same request acted on twice (two staff members, a double tap): say where it is."""
    session.say(_("La demande {ref} a déjà été traitée : elle est maintenant {status}.",
                  ref=verbatim(request.reference),
                  status=rq.status_text(request, None, None)))


async def _reload(uow: UnitOfWork, request: EquipmentRequest) -> EquipmentRequest:
    fresh = await uow.requests.get(request.id)
    assert fresh is not None
    return fresh


def _lines(lines: Sequence[Msg]) -> Msg:
    return Msg("{lines}", {"lines": Lines(tuple(lines))})


__all__ = ["Mailbag", "feature", "reserve_route", "serve_waiting"]
