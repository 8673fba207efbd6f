"""The joined beneficiary's menu and its buttons: workshop seats booked, cancelled or moved,
"I'm coming" or not, messages on or off, what is kept about them and "forget me", the kit.

The router checked that whoever presses these joined, and that a session they cancel, move or
answer about is one they booked; a session they book is checked here to be in their area,
since a button can be forged with any session's number.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial

from flows import actions as act
from flows import beneficiary as ui
from flows.audit import AuditAction
from flows.beneficiary import BeneficiaryConfig
from flows.messages import Reply
from flows.records import Beneficiary, Workshop
from flows.text import _
from handlers import sms_people
from handlers.beneficiary_common import (
    UNKNOWN_BUTTON,
    home,
    joined,
    kit_texts,
    nearby,
    offers,
    plan_reminders,
    set_consent,
    show_menu,
    where,
)
from handlers.reservation_audit import forgetting
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)


async def may_book(session: Session, beneficiary: Beneficiary, workshop: Workshop) -> bool:
    """A forged button cannot book a session outside the beneficiary's area."""
    places = await session.uow.places.all()
    allowed = {beneficiary.place_id,
               *nearby(session.ctx.territory, places, beneficiary.place_id)}
    return workshop.place_id in allowed


async def menu(session: Session, action: act.BeneficiaryMenu, *,
               config: BeneficiaryConfig) -> None:
    session.reply(await home(session, await joined(session), config.path_length),
                  action_menu=True)


async def beneficiary_home(session: Session, first_time: bool, *,
                           config: BeneficiaryConfig) -> Reply | None:
    """The home of someone who joined (a professional keeps the professional one)."""
    if session.user.is_professional:
        return None
    beneficiary = await session.uow.beneficiaries.get(session.user.key)
    if beneficiary is None:
        return None
    return await home(session, beneficiary, config.path_length)


async def offer_workshops(session: Session, action: act.OfferWorkshops) -> None:
    beneficiary = await joined(session)
    session.reply(ui.offer_reply(await offers(session, beneficiary)), action_menu=True)


async def book(session: Session, action: act.Book, *, config: BeneficiaryConfig) -> None:
    """Take a seat (atomically), plan its reminders, confirm with the place."""
    beneficiary = await joined(session)
    uow = session.uow
    workshop = await uow.workshops.get(action.workshop)
    if workshop is None or not await may_book(session, beneficiary, workshop):
        session.say(UNKNOWN_BUTTON)
        show_menu(session, beneficiary)
        return
    refused = await uow.workshops.book(workshop.id, beneficiary.key, session.now)
    if refused is not None:
        reply = ui.offer_reply(await offers(session, beneficiary))
        session.reply(Reply([ui.REFUSALS[refused], *reply.texts], reply.choices),
                      action_menu=True)
        return
    if beneficiary.paused_at is not None:  # she came back by herself: invited again
        await uow.beneficiaries.set_paused(beneficiary.key, None)
        beneficiary = replace(beneficiary, paused_at=None)
    await plan_reminders(uow, beneficiary, workshop, session.now, config.policy)
    place = await uow.places.get(workshop.place_id)
    session.say(*ui.booked(workshop, where(session.ctx.territory, place, session.ctx.tz)))
    show_menu(session, beneficiary, ui.reminder_promise(beneficiary.reminders))


async def my_workshops(session: Session, action: act.MyWorkshops) -> None:
    """The sessions the beneficiary booked, with where each takes place."""
    beneficiary = await joined(session)
    bookings = await session.uow.workshops.bookings_of(beneficiary.key, session.now)
    places = {p.id: p for p in await session.uow.places.all()}
    wheres = [where(session.ctx.territory, places.get(b.workshop.place_id),
                    session.ctx.tz) for b in bookings]
    session.reply(ui.my_workshops(bookings, wheres), action_menu=True)


async def cancel(session: Session, action: act.CancelBooking) -> None:
    """Give the seat back; the booking's reminders go with it."""
    beneficiary = await joined(session)
    if not await session.uow.workshops.cancel(action.workshop, beneficiary.key):
        session.say(UNKNOWN_BUTTON)
    else:
        session.say(ui.cancelled())
    show_menu(session, beneficiary)


async def offer_move(session: Session, action: act.OfferMove) -> None:
    """Other dates for the same topic (any topic if there is none)."""
    beneficiary = await joined(session)
    old = action.workshop
    mine = await session.uow.workshops.bookings_of(beneficiary.key, session.now)
    current = next((b.workshop for b in mine if b.workshop.id == old), None)
    if current is None:
        session.say(UNKNOWN_BUTTON)
        show_menu(session, beneficiary)
        return
    offered = await offers(session, beneficiary, current.topic)
    if not offered:
        offered = await offers(session, beneficiary)
    session.reply(ui.offer_reply(offered, moving_from=old), action_menu=True)


async def move(session: Session, action: act.MoveBooking, *, config: BeneficiaryConfig) -> None:
    """Book the new date first, then give the old seat back: never left with neither."""
    beneficiary = await joined(session)
    uow, old, new = session.uow, action.workshop, action.to
    mine = await uow.workshops.bookings_of(beneficiary.key, session.now)
    workshop = await uow.workshops.get(new)
    if (
        not any(b.workshop.id == old for b in mine)
        or workshop is None
        or not await may_book(session, beneficiary, workshop)
    ):
        session.say(UNKNOWN_BUTTON)
        show_menu(session, beneficiary)
        return
    refused = await uow.workshops.book(new, beneficiary.key, session.now)
    if refused is not None:
        reply = ui.offer_reply(await offers(session, beneficiary), moving_from=old)
        session.reply(Reply([ui.REFUSALS[refused], *reply.texts], reply.choices),
                      action_menu=True)
        return
    await uow.workshops.cancel(old, beneficiary.key)
    await plan_reminders(uow, beneficiary, workshop, session.now, config.policy)
    place = await uow.places.get(workshop.place_id)
    session.say(ui.moved(workshop), where(session.ctx.territory, place, session.ctx.tz))
    show_menu(session, beneficiary)


async def coming(session: Session, action: act.Coming) -> None:
    """"I'm coming", answered to a reminder."""
    beneficiary = await joined(session)
    if await session.uow.workshops.set_coming(action.workshop, beneficiary.key, True):
        # Answered: no other reminder of this session (invited, never chased).
        await session.uow.reminders.drop_pending(beneficiary.key, action.workshop)
        session.say(ui.coming_thanks())
    else:
        session.say(UNKNOWN_BUTTON)
        show_menu(session, beneficiary)


async def not_coming(session: Session, action: act.NotComing) -> None:
    """"I can't come": free the seat (and its reminders), offer another date."""
    beneficiary = await joined(session)
    workshop = await session.uow.workshops.get(action.workshop)
    if workshop is None or not await session.uow.workshops.cancel(action.workshop,
                                                                  beneficiary.key):
        session.say(UNKNOWN_BUTTON)
        show_menu(session, beneficiary)
        return
    offered = await offers(session, beneficiary, workshop.topic, declined=workshop.id)
    if not offered:
        offered = await offers(session, beneficiary, declined=workshop.id)
    session.reply(ui.other_date(offered), action_menu=True)


async def reminders_question(session: Session, action: act.RemindersQuestion) -> None:
    session.reply(ui.reminders_question(), action_menu=True)


async def set_reminders(session: Session, action: act.RemindersOn | act.RemindersOff, *,
                        config: BeneficiaryConfig) -> None:
    """Yes or no to messages, from the menu."""
    beneficiary = await joined(session)
    on = isinstance(action, act.RemindersOn)
    await set_consent(session, beneficiary, on, config.policy)
    show_menu(session, beneficiary, ui.reminders_set(on))


async def my_data(session: Session, action: act.MyData, *, config: BeneficiaryConfig) -> None:
    """What is kept about the beneficiary and how long, then "forget me"."""
    beneficiary = await joined(session)
    bookings = await session.uow.workshops.bookings_of(beneficiary.key, session.now)
    months = max(1, round(config.retention.days / 30.4))
    session.say(*ui.my_data(beneficiary, len(bookings), months),
                *await sms_people.number_kept(session.uow, beneficiary.key))
    session.reply(ui.forget_question(), action_menu=True)


async def forget_question(session: Session, action: act.ForgetMe) -> None:
    session.reply(ui.forget_confirm(), action_menu=True)


async def forget(session: Session, action: act.ForgetMeYes) -> None:
    """"Forget me": everything about the person goes at once; a mediator helping them is
    told the request is closed."""
    beneficiary = await joined(session)
    uow = session.uow
    ticket = await uow.help.current(beneficiary.key)
    if ticket is not None and ticket.mediator is not None:
        session.send(ticket.mediator, [_("La demande d'aide n° {id} est close : la "
                                         "personne a effacé ses données.", id=ticket.id)])
    await forgetting(uow, beneficiary.key, session.now, session)
    await uow.beneficiaries.forget(beneficiary.key)
    await uow.audit.record(None, AuditAction.DATA_DELETED, "beneficiary", session.now,
                           "asked by the person")
    await uow.conversations.clear(beneficiary.key)
    if not session.user.is_professional:
        await uow.users.delete(beneficiary.key)
    log.info("a beneficiary asked to be forgotten; done")
    session.say(ui.forgotten())


async def starter_kit(session: Session, action: act.StarterKit, *,
                      config: BeneficiaryConfig) -> None:
    beneficiary = await joined(session)
    session.reply(ui.kit_reply(await kit_texts(session, beneficiary, config.booklet_url)),
                  action_menu=True)


def feature(env: Env) -> Feature:
    """The beneficiary's menu and bookings; the settings are bound here."""
    config = env.beneficiaries
    return Feature(
        name="bookings",
        actions={
            act.BeneficiaryMenu: partial(menu, config=config),
            act.OfferWorkshops: offer_workshops,
            act.Book: partial(book, config=config), act.MyWorkshops: my_workshops,
            act.CancelBooking: cancel, act.OfferMove: offer_move,
            act.MoveBooking: partial(move, config=config),
            act.Coming: coming, act.NotComing: not_coming,
            act.RemindersQuestion: reminders_question,
            act.RemindersOn: partial(set_reminders, config=config),
            act.RemindersOff: partial(set_reminders, config=config),
            act.MyData: partial(my_data, config=config),
            act.ForgetMe: forget_question, act.ForgetMeYes: forget,
            act.StarterKit: partial(starter_kit, config=config),
        },
        home=partial(beneficiary_home, config=config),
    )
