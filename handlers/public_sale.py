"""The door for everyone: "Acheter un ordinateur reconditionné".

The network sells refurbished devices to anyone at a solidarity price, besides prescription:
the catalogue by usage with the public price (the grid's full tier, as coordinators set it),
where each kind is available now (by intercommunality, from the counted stock), and the
places that have some, with their opening hours. No account approval, nothing asked.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flows import actions as act
from flows import public_sale as ps
from flows.action_codec import Who
from flows.audit import AuditAction
from flows.beneficiary import hours_text
from flows.device_lifecycle import DEVICE
from flows.device_lifecycle import Event as DeviceEvent
from flows.devices import device_name
from flows.engine import Conversation
from flows.messages import Choice
from flows.payments import Channel, MoneyConfig, Payer
from flows.ports import Storage, UnitOfWork
from flows.pricing import Tier, price_for
from flows.records import Grade, PlaceId, User
from flows.text import Day, Lines, Money, Msg, _, verbatim
from handlers.payments import payment_line_msg, receipt_attachment, receipt_pdf
from handlers.requests import Mailbag, serve_waiting
from handlers.reservation_audit import audit_ended, tell_staff_cancelled
from handlers.session import Env, Feature, Job, Session

log = logging.getLogger(__name__)


async def buy_door(session: Session, action: act.BuyDoor) -> None:
    """The public catalogue: price and where each kind is available now."""
    uow, territory = session.uow, session.ctx.territory
    kinds = await uow.catalogue.kinds()
    grid = await uow.catalogue.price_grid()
    stock = await uow.catalogue.stock()
    graded = await uow.reservations.grade_prices()
    places = {p.id: p for p in await uow.places.all()}
    lines: list[Msg] = []
    selling: set[int] = set()
    for kind in kinds:
        by_epci: dict[str, int] = defaultdict(int)
        for (place_id, code), n in stock.items():
            place = places.get(place_id)
            if code != kind.code or place is None:
                continue
            commune = territory.commune(place.commune)
            epci = territory.epci(commune.epci) if commune else None
            by_epci[epci.name if epci else place.commune] += n
            selling.add(place_id)
        try:
            price: Msg = Msg("{m}", {"m": Money(price_for(grid, Tier.FULL, kind.code))})
        except LookupError:
            price = _("prix à demander au lieu")
        by_grade = [_("état {grade} : {amount}", grade=grade.value,
                      amount=Money(graded[(kind.code, grade.value)]))
                    for grade in Grade if (kind.code, grade.value) in graded]
        if by_grade:
            price = _("{price} ({grades})", price=price, grades=Msg(
                "; ".join("{g%d}" % i for i in range(len(by_grade))),  # noqa: UP031
                {f"g{i}": m for i, m in enumerate(by_grade)}))
        where = ", ".join(f"{name} ({n})" for name, n in sorted(by_epci.items()))
        lines.append(_("• {kind} : {price}. {where}", kind=verbatim(kind.name), price=price,
                       where=_("Disponible maintenant : {where}.", where=verbatim(where))
                       if where else _("Pas disponible en ce moment.")))
    shops = []
    for place_id in sorted(selling):
        place = places[place_id]
        commune = territory.commune(place.commune)
        shops.append(_("{name}, {address}, {commune}. Horaires :\n{hours}",
                       name=verbatim(place.name), address=verbatim(place.address),
                       commune=verbatim(commune.name if commune else place.commune),
                       hours=hours_text(place, session.ctx.tz)))
    available = {code for (_place, code) in stock}
    mine = await uow.reservations.waiting_kinds(session.user.key)
    choices = [Choice(act.BuyReserve(kind.code).pack(),
                      _("Réserver : {kind}", kind=verbatim(kind.name)))
               for kind in kinds if kind.code in available]
    choices += [Choice(act.BuyLeave(kind.code).pack(),
                       _("Quitter la liste d'attente : {kind}", kind=verbatim(kind.name)))
                if kind.code in mine else
                Choice(act.BuyWait(kind.code).pack(),
                       _("M'inscrire sur la liste d'attente : {kind}",
                         kind=verbatim(kind.name)))
                for kind in kinds if kind.code not in available or kind.code in mine]
    session.say(
        _("Le réseau vend des ordinateurs reconditionnés à tout le monde, à prix solidaire. "
          "Ils sont effacés, vérifiés et garantis."),
        Msg("{lines}", {"lines": Lines(tuple(lines))}) if lines
        else _("Le catalogue est vide pour le moment."),
        _("Où les acheter :"),
        Msg("{lines}", {"lines": Lines(tuple(shops))}) if shops
        else _("Aucun lieu n'a d'appareil en ce moment. Revenez bientôt !"),
        _("Vous payez sur place : espèces, chèque ou carte."), choices=choices,
        action_menu=True)


def _none_left(session: Session, kind: str) -> None:
    session.say(_("Plus aucun appareil de ce type n'est disponible. Vous pouvez vous "
                  "inscrire sur la liste d'attente : nous vous écrirons dès qu'il y en "
                  "a un."),
                choices=[Choice(act.BuyWait(kind).pack(),
                                _("M'inscrire sur la liste d'attente"))],
                action_menu=True)


async def start_reserve(session: Session, action: act.BuyReserve) -> None:
    """Reserve a kind: where, when several places have one; else straight at the one."""
    stock = await session.uow.catalogue.stock()
    selling = sorted({place for (place, code), n in stock.items() if code == action.kind and n})
    if not selling:
        _none_left(session, action.kind)
        return
    if len(selling) == 1:
        await start_reserve_at(session, act.BuyReserveAt(action.kind, int(selling[0])))
        return
    await session.start_flow(ps.RESERVE_FLOW, {ps.KIND: action.kind})


async def start_reserve_at(session: Session, action: act.BuyReserveAt) -> None:
    """The waiting list's "reserve" button: the place its message named is not asked again;
    if that place has none left, the places that still have one are offered instead."""
    uow = session.uow
    place = await uow.places.get(PlaceId(action.place))
    if place is not None and await uow.catalogue.available(place.id, action.kind) > 0:
        name = await _kind_name(session, action.kind)
        session.say(_("Vous réservez : {kind}, à {place}.",
                      kind=verbatim(name or action.kind), place=verbatim(place.name)))
        await session.start_flow(ps.RESERVE_AT_FLOW, {
            ps.KIND: action.kind, ps.R.PLACE: str(place.id), ps.PLACE_NAME: place.name})
        return
    await _elsewhere(session, action.kind, _("{place} n'a plus d'appareil de ce type.",
                                             place=verbatim(place.name)) if place else
                     _("Ce lieu n'a plus d'appareil de ce type."))


async def _elsewhere(session: Session, kind: str, gone: Msg) -> None:
    """A place has none of ``kind`` left (``gone`` says so): the places that have one are
    offered, or else the waiting list."""
    stock = await session.uow.catalogue.stock()
    places = {p.id: p for p in await session.uow.places.all()}
    others = [places[pid] for (pid, code), n in sorted(stock.items())
              if code == kind and n > 0 and pid in places]
    if not others:
        session.say(gone)
        _none_left(session, kind)
        return
    session.say(gone, _("D'autres lieux en ont. Choisissez où le chercher :"),
                choices=[Choice(act.BuyReserveAt(kind, int(p.id)).pack(),
                                _("Réserver à {place}", place=verbatim(p.name)))
                         for p in others],
                action_menu=True)


async def _kind_name(session: Session, code: str) -> str | None:
    return next((k.name for k in await session.uow.catalogue.kinds() if k.code == code), None)


async def start_wait(session: Session, action: act.BuyWait) -> None:
    """The waiting list for a kind: a first name or initials, a phone if they want."""
    if await _kind_name(session, action.kind) is None:
        session.say(_("Ce type de matériel n'existe plus."))
        return
    if action.kind in await session.uow.reservations.waiting_kinds(session.user.key):
        session.say(_("Vous êtes déjà sur la liste d'attente pour ce type d'appareil."),
                    choices=[Choice(act.BuyLeave(action.kind).pack(),
                                    _("Quitter la liste d'attente"))], action_menu=True)
        return
    await session.start_flow(ps.WAIT_FLOW, {ps.KIND: action.kind})


async def on_join_waitlist(session: Session, effect: ps.JoinWaitlist) -> None:
    name = await _kind_name(session, effect.kind)
    if name is None:
        session.say(_("Ce type de matériel n'existe plus. Rien n'a été enregistré."))
        return
    joined = await session.uow.reservations.wait(effect.kind, effect.first_name, effect.phone,
                                                 session.user.key, session.now)
    log.info("someone joined the public waiting list for %s", effect.kind)
    session.say(_("Vous êtes sur la liste d'attente : {kind}. Dès qu'un appareil de ce type "
                  "arrive, nous vous écrivons ici. Vous pourrez alors le réserver.",
                  kind=verbatim(name)) if joined else
                _("Vous êtes déjà sur la liste d'attente pour ce type d'appareil."),
                choices=[Choice(act.BuyLeave(effect.kind).pack(),
                                _("Quitter la liste d'attente"))], action_menu=True)


async def leave_waitlist(session: Session, action: act.BuyLeave) -> None:
    """Only the presser's own entry goes: the kind is all the button names."""
    if await session.uow.reservations.leave(action.kind, session.user.key):
        session.say(_("Vous n'êtes plus sur la liste d'attente. Vos coordonnées sont "
                      "effacées."))
    else:
        session.say(_("Vous n'êtes pas sur la liste d'attente pour ce type d'appareil."))


async def reserve_facts(uow: UnitOfWork, user: User, facts: Any,
                        conversation: Conversation) -> Any:
    """The places that have a device of the kind now, as the place question's options."""
    if "places" in facts:
        return None
    kind = str(conversation.answers.get(ps.KIND, ""))
    stock = await uow.catalogue.stock()
    places = {p.id: p for p in await uow.places.all()}
    return {**facts, "places": [(int(pid), places[pid].name)
                                for (pid, code) in sorted(stock) if code == kind
                                and pid in places]}


async def on_reserve(session: Session, effect: ps.Reserve, money: MoneyConfig) -> None:
    uow = session.uow
    if await uow.catalogue.available(PlaceId(effect.place_id), effect.kind) <= 0:
        await _elsewhere(session, effect.kind,
                         _("Ce lieu n'a plus d'appareil de ce type. Rien n'a été réservé."))
        return
    place = await uow.places.get(PlaceId(effect.place_id))
    assert place is not None
    expires = session.now + timedelta(days=money.reservation_days)
    held = await uow.reservations.create(effect.kind, effect.place_id, effect.first_name,
                                         effect.phone, session.user.key, session.now, expires)
    # The person is nobody the log names: the reservation's number, kind and place say it.
    await uow.audit.record(None, AuditAction.RESERVATION_MADE, held.reference, session.now,
                           ps.audit_detail(held, place.name))
    log.info("reservation %s at place %s", held.reference, place.id)
    session.say(_("C'est réservé : {ref}. Venez avant le {day} à {place}, {address}. Donnez "
                  "votre prénom ou ce numéro. Vous payez sur place.",
                  ref=verbatim(held.reference), day=Day(expires.astimezone(session.ctx.tz)
                                                        .date()),
                  place=verbatim(place.name), address=verbatim(place.address)),
                _("Horaires :\n{hours}", hours=hours_text(place, session.ctx.tz)),
                choices=[Choice(act.BuyCancel(held.id).pack(),
                                _("Annuler ma réservation"))], action_menu=True)
    for member in await uow.requests.place_staff(place.id):
        session.send(member, [_("Nouvelle réservation {ref} ({name}) : un appareil de type "
                                "{kind}, jusqu'au {day}.", ref=verbatim(held.reference),
                                name=verbatim(effect.first_name), kind=verbatim(effect.kind),
                                day=Day(expires.astimezone(session.ctx.tz).date()))],
                     [Choice(act.PlaceReservations().pack(), _("Réservations du lieu"))],
                     action_menu=True)


async def place_reservations(session: Session, action: act.PlaceReservations) -> None:
    place = session.user.place_id
    if place is None:
        session.say(_("Votre compte n'est rattaché à aucun lieu."))
        return
    held = await session.uow.reservations.held_at(place)
    session.say(_("Réservations en cours :"),
                Msg("{lines}", {"lines": Lines(tuple(
                    _("• {ref} : {name}, {kind}, jusqu'au {day}", ref=verbatim(r.reference),
                      name=verbatim(r.first_name or ""), kind=verbatim(r.kind),
                      day=Day(r.expires_at.astimezone(session.ctx.tz).date()))
                    for r in held))}) if held else _("aucune"),
                choices=[Choice(act.SellReservation(r.id).pack(),
                                _("Vendu : {ref}", ref=verbatim(r.reference))) for r in held],
                action_menu=True)


async def _held_here(session: Session, reservation_id: int) -> ps.Reservation | None:
    found = await session.uow.reservations.get(reservation_id)
    if (found is None or found.status is not ps.ReservationStatus.HELD
            or found.place_id != session.user.place_id):
        session.say(_("Cette réservation n'existe pas ou n'est plus en cours."))
        return None
    return found


async def start_sell(session: Session, action: act.SellReservation) -> None:
    held = await _held_here(session, action.reservation)
    if held is None:
        return
    grid = await session.uow.catalogue.price_grid()
    try:
        price = price_for(grid, Tier.FULL, held.kind)
    except LookupError:
        price = 0
    await session.start_flow(ps.SELL_FLOW, {ps.RESERVATION: held.id, ps.PRICE: price})


async def on_sell(session: Session, effect: ps.Sell, money: MoneyConfig, env: Env) -> None:
    """The device leaves the stock, the reservation ends, the payment and its receipt."""
    held = await _held_here(session, effect.reservation_id)
    if held is None:
        return
    uow = session.uow
    device = await uow.devices.by_label(effect.label)
    if (device is None or device.place_id != held.place_id or device.kind != held.kind
            or not DEVICE.can(device.state, DeviceEvent.HAND_OVER)):
        session.say(_("L'appareil {label} n'est pas un appareil prêt de ce type à votre lieu. "
                      "Rien n'a été enregistré.", label=verbatim(effect.label)))
        return
    state = DEVICE.apply(device.state, DeviceEvent.HAND_OVER, Who.PLACE_STAFF)
    if not await uow.reservations.sell(held.id, device.id, session.now):
        session.say(_("Cette réservation n'existe pas ou n'est plus en cours."))
        return
    if not await uow.devices.change(device.id, [device.state], state,
                                    DeviceEvent.HAND_OVER.value, session.now,
                                    session.user.key):
        raise RuntimeError(f"device {device.label} changed during its sale")
    place = await uow.places.get(PlaceId(held.place_id))
    commune = session.ctx.territory.commune(place.commune) if place else None
    payment = await uow.payments.record(
        request_id=None, device_id=device.id, place_id=held.place_id,
        epci=commune.epci if commune else "", profile="general", channel=Channel.SALE,
        cents=effect.cents, payer=Payer.PERSON, third_party=None, method=effect.method,
        by=session.user.key, now=session.now)
    await uow.audit.record(session.user.key, AuditAction.RESERVATION_SOLD, held.reference,
                           session.now, ps.audit_detail(held, place.name if place else "",
                                                        device.label, payment.receipt_number))
    await uow.audit.record(session.user.key, AuditAction.PAYMENT_RECORDED,
                           payment.receipt_number, session.now,
                           f"{held.reference} {payment.cents} person {payment.method.value}")
    pdf = receipt_pdf(session, payment, held.reference, device_name(device), device.label,
                      money, env)
    session.send(session.user.key, [
        _("Vente enregistrée : {line}.", line=payment_line_msg(payment)),
        _("Imprimez le reçu et donnez-le à qui a payé.")],
        [Choice(act.CorrectSale(payment.id).pack(),
                _("Annuler {number}", number=verbatim(payment.receipt_number)))],
        attachment=receipt_attachment(payment, pdf), action_menu=True)


async def sell_facts(uow: UnitOfWork, user: User, facts: Any,
                     conversation: Conversation) -> Any:
    """The public price of the device picked, by its grade (when coordinators set one)."""
    label = conversation.answers.get(ps.S.DEVICE)
    if label is None or "grade_price" in facts:
        return None
    device = await uow.devices.by_label(str(label))
    if device is None or device.grade is None or device.kind is None:
        return {**facts, "grade_price": None}
    prices = await uow.reservations.grade_prices()
    return {**facts, "grade_price": prices.get((device.kind, device.grade.value))}


async def kinds_facts(uow: UnitOfWork, user: User) -> Any:
    return {"kinds": [(k.code, k.name) for k in await uow.catalogue.kinds()]}


async def start_grade_price(session: Session, action: act.GradePrice) -> None:
    await session.start_flow(ps.GRADE_PRICE_FLOW)


async def on_grade_price(session: Session, effect: ps.SetGradePrice) -> None:
    if not session.user.is_coordinator:
        session.say(_("Ce bouton n'est pas (ou plus) valable pour vous."))
        return
    kinds = {k.code for k in await session.uow.catalogue.kinds()}
    if effect.kind not in kinds:
        session.say(_("Ce type de matériel n'existe plus. Rien n'a été enregistré."))
        return
    await session.uow.reservations.set_grade_price(effect.kind, effect.grade, effect.cents)
    log.info("public price of %s/%s changed by %s", effect.kind, effect.grade,
             session.user.key)
    session.say(_("Prix public enregistré : {kind}, état {grade}, {amount}.",
                  kind=verbatim(effect.kind), grade=effect.grade, amount=Money(effect.cents)),
                choices=[Choice(act.GradePrice().pack(), _("Prix public par état"))],
                action_menu=True)


async def cancel_reservation(session: Session, action: act.BuyCancel) -> None:
    """The person gives their reservation up: the device goes back on sale, the place's staff
    are told. Only a reservation made from this chat can be cancelled from it."""
    uow = session.uow
    held = await uow.reservations.get(action.reservation)
    if (held is None or held.user_key != session.user.key
            or not await uow.reservations.cancel(held.id, session.user.key, session.now)):
        session.say(_("Cette réservation n'existe pas ou n'est plus en cours."))
        return
    await audit_ended(uow, [held], AuditAction.RESERVATION_CANCELLED, session.now)
    log.info("reservation %s cancelled by its maker", held.reference)
    session.say(_("Votre réservation {ref} est annulée. L'appareil est de nouveau en vente.",
                  ref=verbatim(held.reference)),
                choices=[Choice(act.BuyDoor().pack(),
                                _("Acheter un ordinateur reconditionné"))], action_menu=True)
    await tell_staff_cancelled(session, uow, held)
    await serve_waiting(session, uow, session.ctx.territory, session.now,
                        session.coordinators, held.kind)


def lapse_job(env: Env) -> Job:
    async def run(storage: Storage, now: datetime) -> int:
        """Reservations past their time end; the device goes back to the stock, where the
        waiting lists may take it at once."""
        async with storage.transaction() as uow:
            ended = await uow.reservations.lapse(now)
            await audit_ended(uow, ended, AuditAction.RESERVATION_LAPSED, now)
            # Nobody stays on the waiting list for ever: their name goes after six months.
            await uow.reservations.drop_waiting(now - timedelta(days=ps.WAIT_DAYS))
            bag = Mailbag()
            for reservation in ended:
                if reservation.user_key is not None:
                    bag.send(reservation.user_key, [_(
                        "Votre réservation {ref} est terminée : l'appareil est de nouveau en "
                        "vente. Vous pouvez réserver encore.",
                        ref=verbatim(reservation.reference))],
                        [Choice(act.BuyDoor().pack(), _("Acheter un ordinateur "
                                                         "reconditionné"))],
                        action_menu=True)
            for kind in sorted({reservation.kind for reservation in ended}):
                await serve_waiting(bag, uow, env.territory, now, env.coordinators, kind)
            await bag.flush(uow, now)
        return len(ended)
    return Job("sale.lapse", timedelta(hours=1), run)


def feature(env: Env) -> Feature:
    money = env.money

    async def reserve(session: Session, effect: ps.Reserve) -> None:
        await on_reserve(session, effect, money)

    async def sell(session: Session, effect: ps.Sell) -> None:
        await on_sell(session, effect, money, env)

    return Feature(
        name="public_sale",
        flows=ps.FLOWS,
        actions={act.BuyDoor: buy_door, act.BuyReserve: start_reserve,
                 act.BuyReserveAt: start_reserve_at,
                 act.PlaceReservations: place_reservations,
                 act.SellReservation: start_sell, act.GradePrice: start_grade_price,
                 act.BuyWait: start_wait, act.BuyLeave: leave_waitlist,
                 act.BuyCancel: cancel_reservation},
        effects={ps.Reserve: reserve, ps.Sell: sell, ps.SetGradePrice: on_grade_price,
                 ps.JoinWaitlist: on_join_waitlist},
        facts={ps.GRADE_PRICE_FLOW: kinds_facts},
        more_facts={ps.RESERVE_FLOW: reserve_facts, ps.SELL_FLOW: sell_facts},
        jobs=[lapse_job(env)],
    )


__all__ = ["feature"]
