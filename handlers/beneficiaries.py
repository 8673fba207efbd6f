"""The after-donation service: join codes, joining, workshop bookings, reminders, remote help.

Place staff create a one-time join code (a QR code and a Telegram link when the bot's username
is known); the beneficiary opens the link, or types the code, chooses a language, a first name
(or none) and whether they want reminders. They book, cancel or move workshop seats; a job
turns due reminders into outbox messages; "I need help" opens a ticket that the place's
mediators take, and the chat is relayed through the bot until someone closes it.

Every choice id is checked: who may use it and that its target is still in the expected state.
Nothing a beneficiary types is logged.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import segno

from flows import actions as act
from flows import beneficiary as ui
from flows.action_codec import Action
from flows.audit import AuditAction
from flows.beneficiary import (
    CHAT_FLOW,
    CODE_FLOW,
    JOIN_FLOW,
    BeneficiaryConfig,
    CheckCode,
    Join,
    Relay,
    Side,
)
from flows.engine import Conversation
from flows.home import LANGUAGES, home
from flows.joincode import Verdict, check, new_code, printed, read, telegram_link
from flows.messages import Attachment, Choice, Outgoing, Priority, Reply, UserKey
from flows.ports import Storage, UnitOfWork
from flows.records import (
    Beneficiary,
    HelpTicket,
    Place,
    PlaceId,
    Role,
    TicketStatus,
    User,
    Workshop,
)
from flows.territory import Territory
from flows.text import Day, Lines, Msg, When, _, _n, to_json, verbatim
from flows.workshops import (
    PUBLISH_FLOW,
    PUBLISH_FLOW_NAME,
    PublishWorkshop,
    local_start,
    offer,
    topic_label,
)
from handlers.session import Env, Feature, Job, Session

log = logging.getLogger(__name__)

"""Begins a conversation with preset answers (the router's ``start_flow``)."""


UNKNOWN_BUTTON = _("Ce bouton n'est plus valable.")
OFFER_HORIZON = 50
"""How many upcoming sessions are read to choose the few offered."""
REMINDER_BATCH = 100
"""Due reminders queued per transaction (about 10 ms with a country's data): the write lock
and the event loop are released between batches, so people's messages wait at most one
batch (200 held the loop twice as long, and a wake-up that takes two turns of the loop, a
message arriving, waited for two)."""
REMINDER_BATCHES = 1_000
"""At most this many batches per job run (100,000 reminders); the next tick does the rest.
One batch per run would cap a morning's burst at one batch per tick (every 5 minutes)."""
RETENTION_SCAN = 1_000
"""Beneficiaries the retention purge reads per transaction, in key order (a few ms): a
country's 200,000 read at once held the event loop for a quarter of a second."""
RETENTION_BATCH = 10
"""Beneficiaries forgotten per transaction at most (each a dozen statements, and the messages
of their last week scattered over the outbox's pages: 1 to 12 ms for ten): the loop and the
write lock are released between two, so people's messages wait at most one batch."""


def qr_png(data: str) -> bytes:
    """A QR code as a PNG image, large enough to scan from a phone screen or paper."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def staff_choices(user: User) -> list[Choice]:
    """What place staff (and coordinators) find in their professional space."""
    if user.role is not Role.PLACE_STAFF and not user.is_coordinator:
        return []
    return [
        Choice(act.JoinCode().pack(), _("Créer un code pour un·e bénéficiaire")),
        Choice(act.WhoIsComing().pack(), _("Qui vient aux ateliers ?")),
        Choice(act.PublishWorkshop().pack(), _("Publier une séance d'atelier")),
    ]


async def got_computer(session: Session, action: act.GotDoor) -> None:
    """The "I received a computer" door: the menu of a beneficiary, or "type your code"."""
    beneficiary = await session.uow.beneficiaries.get(session.user.key)
    if beneficiary is not None:
        session.reply(ui.menu(beneficiary), action_menu=True)
        return
    await session.start_flow(CODE_FLOW)


class Beneficiaries:
    """The feature's handlers, sharing its settings and the router's ``start_flow``."""

    def __init__(
        self,
        config: BeneficiaryConfig,
        territory: Territory,
    ) -> None:
        self.config = config
        self.territory = territory

    # --- helpers --------------------------------------------------------------------------

    def commune_name(self, insee: str) -> str:
        commune = self.territory.commune(insee)
        return commune.name if commune else insee

    def where(self, place: Place | None) -> Msg:
        return ui.where(place, self.commune_name(place.commune) if place else "")

    def nearby(self, places: Sequence[Place], home_id: PlaceId | None) -> list[PlaceId]:
        """Places in (or covering) the intercommunality of the beneficiary's place."""
        home_place = next((p for p in places if p.id == home_id), None)
        if home_place is None:
            return []
        commune = self.territory.commune(home_place.commune)
        epci = commune.epci if commune else None
        found = []
        for place in places:
            other = self.territory.commune(place.commune)
            if place.id != home_id and epci and (
                (other and other.epci == epci) or epci in place.covers_epci
            ):
                found.append(place.id)
        return found

    async def show_menu(self, session: Session, beneficiary: Beneficiary,
                        intro: Msg | None = None) -> None:
        session.reply(ui.menu(beneficiary, intro), action_menu=True)

    async def offers(
        self, session: Session, beneficiary: Beneficiary, topic: str | None = None
    ) -> list[Workshop]:
        """The sessions this beneficiary may book now: their place first, then nearby."""
        uow = session.uow
        places = await uow.places.all()
        near = self.nearby(places, beneficiary.place_id)
        homes = [beneficiary.place_id] if beneficiary.place_id is not None else []
        upcoming = await uow.workshops.upcoming_at([*homes, *near], session.now, OFFER_HORIZON)
        mine = await uow.workshops.bookings_of(beneficiary.key, session.now)
        return offer(upcoming, session.now, home=beneficiary.place_id, nearby=near,
                     booked_ids=[b.workshop.id for b in mine], topic=topic)

    async def may_book(self, session: Session, beneficiary: Beneficiary,
                       workshop: Workshop) -> bool:
        """A forged button cannot book a session outside the beneficiary's area."""
        places = await session.uow.places.all()
        allowed = {beneficiary.place_id, *self.nearby(places, beneficiary.place_id)}
        return workshop.place_id in allowed

    async def plan_reminders(self, uow: UnitOfWork, beneficiary: Beneficiary,
                             workshop: Workshop, now: datetime) -> None:
        if beneficiary.reminders:
            times = self.config.policy.times(workshop.starts_at, now)
            await uow.reminders.add(workshop.id, beneficiary.key, times)

    # --- joining --------------------------------------------------------------------------

    async def try_code(self, session: Session, code: str | None) -> None:
        """Someone brought a code (deep link, typed, or at the door): check it, then ask
        their language. Nothing is stored until they pick it."""
        uow = session.uow
        beneficiary = await uow.beneficiaries.get(session.user.key)
        if beneficiary is not None:
            await self.show_menu(session, beneficiary, ui.already_joined())
            return
        verdict = Verdict.UNKNOWN if code is None else check(
            await uow.beneficiaries.code(code), session.now)
        if code is None or verdict is not Verdict.OK:
            log.info("join code refused for %s: %s", session.user.key, verdict)
            session.say(ui.code_refused(verdict))
            session.reply(home(session.user, False), action_menu=True)
            return
        await uow.conversations.clear(session.user.key)
        session.reply(ui.welcome_language(code), action_menu=True)

    async def choose_language(self, session: Session, action: act.JoinLanguage) -> None:
        """The person picked a language: the code is used (once) and they are registered,
        with no name and no reminders until they answer the next two questions. The language
        is applied at once, so those questions come in it."""
        if action.lang not in LANGUAGES:
            session.say(UNKNOWN_BUTTON)
            return
        uow, key, now = session.uow, session.user.key, session.now
        lang, code = action.lang, read(action.code)
        existing = await uow.beneficiaries.get(key)
        if existing is not None:
            await self.show_menu(session, existing, ui.already_joined())
            return
        state = await uow.beneficiaries.code(code) if code else None
        verdict = check(state, now)
        if (code is None or state is None or verdict is not Verdict.OK
                or not await uow.beneficiaries.claim_code(code, now)):
            session.say(ui.code_refused(verdict if verdict is not Verdict.OK else Verdict.USED))
            session.reply(home(session.user, False), action_menu=True)
            return
        await uow.beneficiaries.join(key, state.place_id, code, None, False, now)
        await uow.users.set_lang(key, lang)
        log.info("beneficiary %s joined at place %s", key, state.place_id)
        await session.start_flow(JOIN_FLOW)

    async def on_join(self, session: Session, effect: Join) -> None:
        """Keep the first name and the yes/no; show what is kept, the kit and the menu."""
        uow, key = session.uow, session.user.key
        beneficiary = await uow.beneficiaries.get(key)
        if beneficiary is None:
            session.say(ui.not_joined())
            session.reply(home(session.user, False), action_menu=True)
            return
        await uow.beneficiaries.set_first_name(key, effect.first_name)
        await self.set_consent(session, beneficiary, effect.reminders)
        beneficiary = await uow.beneficiaries.get(key)
        assert beneficiary is not None
        session.say(*ui.joined(effect.reminders))
        session.say(ui.kept())
        kit = await self.kit_texts(session, beneficiary)
        if kit:
            session.say(*kit)
        await self.show_menu(session, beneficiary)

    async def on_check_code(self, session: Session, effect: CheckCode) -> None:
        if effect.code is None:
            session.say(ui.no_code())
            session.reply(home(session.user, False), action_menu=True)
            return
        await self.try_code(session, effect.code)

    async def command_start(self, session: Session, text: str) -> None:
        """``/start`` alone shows the menu; ``/start <code>`` (Telegram deep link) joins."""
        parts = text.split(maxsplit=1)
        if len(parts) == 2:
            await self.try_code(session, read(parts[1]))
            return
        await session.uow.conversations.clear(session.user.key)
        beneficiary = await session.uow.beneficiaries.get(session.user.key)
        if beneficiary is not None:
            await self.show_menu(session, beneficiary)
            return
        first_time = session.user.created_at == session.now
        session.reply(home(session.user, first_time), action_menu=True)

    async def command_code(self, session: Session, text: str) -> None:
        """A code typed as printed, ``REJ 7K3 M9P``: its first word is this command."""
        await self.try_code(session, read(text))

    async def command_stop(self, session: Session, text: str) -> None:
        """"Stop": the bot no longer writes to a beneficiary on its own."""
        beneficiary = await session.uow.beneficiaries.get(session.user.key)
        if beneficiary is None:
            session.reply(home(session.user, False), action_menu=True)
            return
        await self.set_consent(session, beneficiary, False)
        session.say(ui.stopped())

    # --- the beneficiary's menu -------------------------------------------------------------

    async def action(self, session: Session, action: Action) -> None:
        """Every button of a joined beneficiary's menu (the router checked they joined, and
        that a session they cancel, move or answer about is one they booked)."""
        beneficiary = await session.uow.beneficiaries.get(session.user.key)
        assert beneficiary is not None
        match action:
            case act.BeneficiaryMenu():
                await self.show_menu(session, beneficiary)
            case act.OfferWorkshops():
                session.reply(ui.offer_reply(await self.offers(session, beneficiary)),
                              action_menu=True)
            case act.Book(workshop=number):
                await self.book(session, beneficiary, number)
            case act.MyWorkshops():
                await self.my_workshops(session, beneficiary)
            case act.CancelBooking(workshop=number):
                await self.cancel(session, beneficiary, number)
            case act.OfferMove(workshop=number):
                await self.offer_move(session, beneficiary, number)
            case act.MoveBooking(workshop=number, to=new):
                await self.move(session, beneficiary, number, new)
            case act.Coming(workshop=number):
                await self.coming(session, beneficiary, number)
            case act.NotComing(workshop=number):
                await self.not_coming(session, beneficiary, number)
            case act.RemindersQuestion():
                session.reply(ui.reminders_question(), action_menu=True)
            case act.RemindersOn() | act.RemindersOff():
                on = isinstance(action, act.RemindersOn)
                await self.set_consent(session, beneficiary, on)
                await self.show_menu(session, beneficiary, ui.reminders_set(on))
            case act.MyData():
                bookings = await session.uow.workshops.bookings_of(beneficiary.key,
                                                                   session.now)
                months = max(1, round(self.config.retention.days / 30.4))
                session.say(*ui.my_data(beneficiary, len(bookings), months))
                session.reply(ui.forget_question(), action_menu=True)
            case act.ForgetMe():
                session.reply(ui.forget_confirm(), action_menu=True)
            case act.ForgetMeYes():
                await self.forget(session, beneficiary)
            case act.StarterKit():
                session.reply(ui.kit_reply(await self.kit_texts(session, beneficiary)),
                              action_menu=True)
            case act.AskHelp():
                await self.ask_help(session, beneficiary)

    async def book(self, session: Session, beneficiary: Beneficiary, workshop_id: int) -> None:
        """Take a seat (atomically), plan its reminders, confirm with the place."""
        uow = session.uow
        workshop = await uow.workshops.get(workshop_id)
        if workshop is None or not await self.may_book(session, beneficiary, workshop):
            session.say(UNKNOWN_BUTTON)
            await self.show_menu(session, beneficiary)
            return
        refused = await uow.workshops.book(workshop.id, beneficiary.key, session.now)
        if refused is not None:
            offers = await self.offers(session, beneficiary)
            reply = ui.offer_reply(offers)
            session.reply(Reply([ui.REFUSALS[refused], *reply.texts], reply.choices),
                          action_menu=True)
            return
        await self.plan_reminders(uow, beneficiary, workshop, session.now)
        place = await uow.places.get(workshop.place_id)
        session.say(*ui.booked(workshop, self.where(place)))
        await self.show_menu(session, beneficiary, ui.reminder_promise(beneficiary.reminders))

    async def my_workshops(self, session: Session, beneficiary: Beneficiary) -> None:
        bookings = await session.uow.workshops.bookings_of(beneficiary.key, session.now)
        places = {p.id: p for p in await session.uow.places.all()}
        wheres = [self.where(places.get(b.workshop.place_id)) for b in bookings]
        session.reply(ui.my_workshops(bookings, wheres), action_menu=True)

    async def cancel(self, session: Session, beneficiary: Beneficiary, workshop_id: int) -> None:
        """Give the seat back; the booking's reminders go with it."""
        if not await session.uow.workshops.cancel(workshop_id, beneficiary.key):
            session.say(UNKNOWN_BUTTON)
        else:
            session.say(ui.cancelled())
        await self.show_menu(session, beneficiary)

    async def offer_move(self, session: Session, beneficiary: Beneficiary, old: int) -> None:
        """Other dates for the same topic (any topic if there is none)."""
        mine = await session.uow.workshops.bookings_of(beneficiary.key, session.now)
        current = next((b.workshop for b in mine if b.workshop.id == old), None)
        if current is None:
            session.say(UNKNOWN_BUTTON)
            await self.show_menu(session, beneficiary)
            return
        offers = await self.offers(session, beneficiary, current.topic)
        if not offers:
            offers = await self.offers(session, beneficiary)
        session.reply(ui.offer_reply(offers, moving_from=old), action_menu=True)

    async def move(self, session: Session, beneficiary: Beneficiary, old: int, new: int) -> None:
        """Book the new date first, then give the old seat back: never left with neither."""
        uow = session.uow
        mine = await uow.workshops.bookings_of(beneficiary.key, session.now)
        workshop = await uow.workshops.get(new)
        if (
            not any(b.workshop.id == old for b in mine)
            or workshop is None
            or not await self.may_book(session, beneficiary, workshop)
        ):
            session.say(UNKNOWN_BUTTON)
            await self.show_menu(session, beneficiary)
            return
        refused = await uow.workshops.book(new, beneficiary.key, session.now)
        if refused is not None:
            reply = ui.offer_reply(await self.offers(session, beneficiary), moving_from=old)
            session.reply(Reply([ui.REFUSALS[refused], *reply.texts], reply.choices),
                          action_menu=True)
            return
        await uow.workshops.cancel(old, beneficiary.key)
        await self.plan_reminders(uow, beneficiary, workshop, session.now)
        place = await uow.places.get(workshop.place_id)
        session.say(ui.moved(workshop), self.where(place))
        await self.show_menu(session, beneficiary)

    async def coming(self, session: Session, beneficiary: Beneficiary, workshop_id: int) -> None:
        if await session.uow.workshops.set_coming(workshop_id, beneficiary.key, True):
            session.say(ui.coming_thanks())
        else:
            session.say(UNKNOWN_BUTTON)
            await self.show_menu(session, beneficiary)

    async def not_coming(self, session: Session, beneficiary: Beneficiary,
                         workshop_id: int) -> None:
        """"I can't come": free the seat (and its reminders), offer another date."""
        workshop = await session.uow.workshops.get(workshop_id)
        if workshop is None or not await session.uow.workshops.cancel(workshop_id,
                                                                      beneficiary.key):
            session.say(UNKNOWN_BUTTON)
            await self.show_menu(session, beneficiary)
            return
        offers = await self.offers(session, beneficiary, workshop.topic)
        session.reply(ui.other_date(offers), action_menu=True)

    async def set_consent(self, session: Session, beneficiary: Beneficiary,
                          consent: bool) -> None:
        """Yes/no to messages, changeable any time; reminders follow at once."""
        uow = session.uow
        await uow.beneficiaries.set_reminders(beneficiary.key, consent)
        await uow.reminders.drop_pending(beneficiary.key)
        if consent:
            granted = Beneficiary(beneficiary.key, beneficiary.place_id, beneficiary.ref,
                                  beneficiary.first_name, True, beneficiary.joined_at)
            for booking in await uow.workshops.bookings_of(beneficiary.key, session.now):
                await self.plan_reminders(uow, granted, booking.workshop, session.now)

    async def forget(self, session: Session, beneficiary: Beneficiary) -> None:
        """"Forget me": everything about the person goes at once; a mediator helping them
        is told the request is closed."""
        uow = session.uow
        ticket = await uow.help.current(beneficiary.key)
        if ticket is not None and ticket.mediator is not None:
            session.send(ticket.mediator, [_("La demande d'aide n° {id} est close : la "
                                             "personne a effacé ses données.", id=ticket.id)])
        await uow.beneficiaries.forget(beneficiary.key)
        await uow.audit.record(None, AuditAction.DATA_DELETED, "beneficiary", session.now,
                               "asked by the person")
        await uow.conversations.clear(beneficiary.key)
        if not session.user.is_professional:
            await uow.users.delete(beneficiary.key)
        log.info("a beneficiary asked to be forgotten; done")
        session.say(ui.forgotten())

    async def kit_texts(self, session: Session, beneficiary: Beneficiary) -> list[Msg]:
        """The handover kit: booklet, places that help nearby, the workshop calendar."""
        places = await session.uow.places.all()
        near = set(self.nearby(places, beneficiary.place_id))
        lines = [ui.place_line(p, self.commune_name(p.commune)) for p in places
                 if p.id == beneficiary.place_id or p.id in near]
        return ui.kit(self.config.booklet_url, lines, await self.offers(session, beneficiary))

    # --- remote help --------------------------------------------------------------------------

    async def helpers(self, session: Session, place_id: PlaceId | None) -> list[UserKey]:
        """Who answers a place's calls for help: its staff, else the coordinators."""
        mediators = await session.uow.help.mediators(place_id) if place_id is not None else []
        return mediators or list(session.coordinators)

    async def ask_help(self, session: Session, beneficiary: Beneficiary) -> None:
        """Send the place's remote-help procedure, open a ticket, and start the chat."""
        uow = session.uow
        place = (await uow.places.get(beneficiary.place_id)
                 if beneficiary.place_id is not None else None)
        procedure = await uow.help.remote_help(place.id) if place else None
        ticket = await uow.help.current(beneficiary.key)
        if ticket is None:
            ticket = await uow.help.open(beneficiary.key, beneficiary.place_id, session.now)
            log.info("help ticket %s opened by %s", ticket.id, beneficiary.key)
            notice = _("Nouvelle demande d'aide n° {id} de {name}.", id=ticket.id,
                       name=self.name_of(beneficiary))
            for helper in await self.helpers(session, beneficiary.place_id):
                session.send(helper, [notice], [self.take_choice(ticket)], action_menu=True)
        steps = ui.help_procedure(procedure.instructions if procedure else None,
                                  procedure.link if procedure else None)
        if steps:
            session.say(*steps)
        session.say(ui.help_when(place.opening_hours if place else None))
        await session.start_flow(CHAT_FLOW)

    async def chat_facts(self, uow: UnitOfWork, user: User) -> dict[str, Any]:
        """Which ticket a help chat is about, and on which side the writer is."""
        answering = await uow.help.answering(user.key)
        if answering is not None:
            return {"ticket": answering.id, "side": Side.MEDIATOR}
        own = await uow.help.current(user.key)
        if own is not None:
            return {"ticket": own.id, "side": Side.BENEFICIARY}
        return {}

    @staticmethod
    def name_of(beneficiary: Beneficiary) -> Msg:
        return verbatim(beneficiary.first_name or printed(beneficiary.ref))

    @staticmethod
    def take_choice(ticket: HelpTicket) -> Choice:
        return Choice(act.TakeTicket(ticket.id).pack(), _("Je m'en occupe (demande n° {id})",
                                               id=ticket.id))

    async def on_relay(self, session: Session, effect: Relay) -> None:
        """Pass one chat message to the other side, or end the chat; stay in the chat."""
        uow, key = session.uow, session.user.key
        ticket = await uow.help.get(effect.ticket)
        is_beneficiary = effect.side == Side.BENEFICIARY
        allowed = ticket is not None and (
            ticket.user == key if is_beneficiary else ticket.mediator == key
        )
        if ticket is None or not allowed or ticket.status is TicketStatus.CLOSED:
            session.say(ui.help_closed())
            return
        if effect.text is None:
            await self.close(session, ticket)
            return
        if is_beneficiary:
            beneficiary = await uow.beneficiaries.get(key)
            name = self.name_of(beneficiary) if beneficiary else verbatim("?")
            notice = _("Demande d'aide n° {id} ({name}) :\n{text}", id=ticket.id, name=name,
                       text=verbatim(effect.text))
            if ticket.mediator is not None:
                session.send(ticket.mediator, [notice], [
                    Choice(act.ReplyTicket(ticket.id).pack(), _("Répondre")),
                    Choice(act.CloseTicket(ticket.id).pack(), _("Clore la demande")),
                ], action_menu=True)
            else:
                for helper in await self.helpers(session, ticket.place_id):
                    session.send(helper, [notice], [self.take_choice(ticket)], action_menu=True)
        else:
            session.send(ticket.user, [ui.from_place(effect.text)])
            await self.keep_chatting(uow, ticket.user, session.now)
        await self.keep_chatting(uow, key, session.now)
        session.reply(ui.relayed(effect.side))

    async def keep_chatting(self, uow: UnitOfWork, key: UserKey, now: datetime) -> None:
        """Put ``key`` (back) in the help chat unless they are busy in another flow."""
        saved = await uow.conversations.get(key)
        if saved is not None and saved.conversation.flow != CHAT_FLOW:
            return
        await uow.conversations.save(key, Conversation(CHAT_FLOW, "msg"), now)

    async def close(self, session: Session, ticket: HelpTicket) -> None:
        """Close a ticket; whoever did not close it is told."""
        uow = session.uow
        if not await uow.help.close(ticket.id, session.now):
            session.say(ui.help_closed())
            return
        log.info("help ticket %s closed by %s", ticket.id, session.user.key)
        for key in (ticket.user, ticket.mediator):
            if key is None:
                continue
            saved = await uow.conversations.get(key)
            if saved is not None and saved.conversation.flow == CHAT_FLOW:
                await uow.conversations.clear(key)
        if session.user.key == ticket.user:
            if ticket.mediator is not None:
                session.send(ticket.mediator, [_("La personne a clos la demande d'aide n° {id}.",
                                                 id=ticket.id)])
            beneficiary = await uow.beneficiaries.get(ticket.user)
            if beneficiary is not None:
                await self.show_menu(session, beneficiary, ui.help_closed())
            return
        session.say(_("Demande d'aide n° {id} close.", id=ticket.id))
        session.send(ticket.user, [ui.help_closed()])

    async def ticket_action(self, session: Session, action: Action) -> None:
        """A mediator of the place takes a help request; the one who took it answers or
        closes it (the router checked both)."""
        uow, user = session.uow, session.user
        ticket = await uow.help.get(action.ticket)
        assert ticket is not None
        if ticket.status is TicketStatus.CLOSED:
            session.say(_("Demande d'aide n° {id} close.", id=ticket.id))
            return
        match action:
            case act.TakeTicket():
                if not await uow.help.take(ticket.id, user.key, session.now):
                    session.say(_("Un·e collègue s'occupe déjà de la demande n° {id}.",
                                  id=ticket.id))
                    return
                log.info("help ticket %s taken by %s", ticket.id, user.key)
                session.send(ticket.user, [ui.help_taken()])
                for other in await self.helpers(session, ticket.place_id):
                    if other != user.key:
                        session.send(other, [_("La demande d'aide n° {id} est prise par un·e "
                                               "collègue.", id=ticket.id)])
                await session.start_flow(CHAT_FLOW)
            case act.ReplyTicket():
                await uow.help.touch(ticket.id, session.now)
                await session.start_flow(CHAT_FLOW)
            case act.CloseTicket():
                await self.close(session, ticket)

    # --- place staff ------------------------------------------------------------------------

    async def staff_action(self, session: Session, action: Action) -> None:
        """What place staff (and the coordination) do for the after-donation service."""
        user = session.user
        match action:
            case act.JoinCode():
                if user.place_id is not None:
                    await self.create_code(session, user.place_id)
                elif user.is_coordinator:
                    places = await session.uow.places.all()
                    session.say(_("Pour quel lieu ?"), choices=[
                        Choice(act.JoinCodeFor(p.id).pack(), verbatim(p.name)) for p in places
                    ], action_menu=True)
                else:
                    session.say(self.no_place())
            case act.JoinCodeFor(place=place_id):
                await self.create_code(session, PlaceId(place_id))
            case act.WhoIsComing():
                await self.who_is_coming(session)
            case act.PublishWorkshop():
                if user.place_id is None:
                    session.say(self.no_place())
                    return
                await session.start_flow(PUBLISH_FLOW_NAME)
            case act.CancelWorkshop(workshop=workshop_id):
                workshop = await session.uow.workshops.get(workshop_id)
                assert workshop is not None
                session.say(_("Annuler la séance « {topic} » du {when} ? Les inscrit·es sont "
                              "prévenu·es.", topic=topic_label(workshop.topic),
                              when=When(workshop.starts_at)),
                            choices=[Choice(act.CancelWorkshopYes(workshop.id).pack(),
                                            _("Oui, annuler la séance")),
                                     Choice(act.WhoIsComing().pack(), _("Non"))],
                            action_menu=True)
            case act.CancelWorkshopYes(workshop=workshop_id):
                await self.cancel_session(session, workshop_id)

    @staticmethod
    def no_place() -> Msg:
        return _("Votre compte n'est rattaché à aucun lieu. Demandez à la coordination de "
                 "le faire.")

    async def create_code(self, session: Session, place_id: PlaceId) -> None:
        """A one-time code for a beneficiary of ``place_id``: text, QR code and link."""
        uow, now = session.uow, session.now
        expires = now + self.config.code_validity
        for _attempt in range(8):
            code = new_code()
            if await uow.beneficiaries.add_code(code, place_id, session.user.key, now, expires):
                break
        else:  # pragma: no cover - 8 collisions among 3 * 10**8 codes
            raise RuntimeError("could not draw a free join code")
        log.info("join code created by %s for place %s", session.user.key, place_id)
        day = Day(expires.astimezone(self.config.policy.tz).date())
        texts = [_("Code à remettre à la personne : {code}\nIl marche une seule fois, jusqu'au "
                   "{day}. Il ne contient rien sur la personne.", code=printed(code), day=day)]
        attachment = None
        if self.config.telegram_bot:
            link = telegram_link(self.config.telegram_bot, code)
            texts.append(_("Sur Telegram : elle scanne ce QR code avec son téléphone, ou ouvre "
                           "ce lien :\n{link}\nSur un autre service (Matrix…) : elle écrit le "
                           "code au bot.", link=link))
            attachment = Attachment(f"code-{code}.png", "image/png", qr_png(link))
        else:
            texts.append(_("Elle écrit ce code au bot, par exemple sur Telegram ou Matrix."))
        session.send(session.user.key, texts, attachment=attachment)

    async def who_is_coming(self, session: Session) -> None:
        """The next sessions of the staff member's place and who booked them (first name or
        code only), with a button to cancel each session."""
        place_id = session.user.place_id
        if place_id is None:
            session.say(self.no_place())
            return
        uow = session.uow
        sessions = await uow.workshops.upcoming_at([place_id], session.now, 10)
        if not sessions:
            session.say(_("Aucune séance à venir dans votre lieu."))
            return
        blocks: list[Msg] = []
        choices: list[Choice] = []
        for workshop in sessions:
            attendees = await uow.workshops.attendees(workshop.id)
            lines = tuple(
                _("• {name} (vient)", name=verbatim(a.name)) if a.coming
                else _("• {name} (ne vient pas)", name=verbatim(a.name)) if a.coming is False
                else _("• {name}", name=verbatim(a.name))
                for a in attendees
            )
            head = _n("{topic}, {when} : {n} inscrit·e sur {seats}",
                      "{topic}, {when} : {n} inscrit·es sur {seats}", workshop.booked,
                      topic=topic_label(workshop.topic), when=When(workshop.starts_at),
                      seats=workshop.seats)
            blocks.append(Msg("{head}\n{lines}", {"head": head, "lines": Lines(lines)})
                          if lines else head)
            choices.append(Choice(act.CancelWorkshop(workshop.id).pack(),
                                  _("Annuler la séance du {when}",
                                    when=When(workshop.starts_at))))
        session.say(_("Qui vient aux prochaines séances :"), *blocks, choices=choices,
                    action_menu=True)

    async def cancel_session(self, session: Session, workshop_id: int) -> None:
        """The place cancels a session: those booked are told (if they accept messages)."""
        uow = session.uow
        workshop = await uow.workshops.get(workshop_id)
        assert workshop is not None  # the router checked it is a session of the place
        told = silent = 0
        for key in await uow.workshops.booked_users(workshop.id):
            beneficiary = await uow.beneficiaries.get(key)
            if beneficiary is not None and beneficiary.reminders:
                session.send(key, [ui.session_cancelled(workshop)])
                told += 1
            else:
                silent += 1
        await uow.workshops.remove(workshop.id)
        log.info("workshop %s cancelled by %s", workshop.id, session.user.key)
        session.say(_("Séance annulée. Personnes prévenues : {told}. Sans messages du bot, à "
                      "prévenir autrement : {silent}.", told=told, silent=silent))

    async def on_publish(self, session: Session, effect: PublishWorkshop) -> None:
        place_id = session.user.place_id
        if place_id is None:
            session.say(self.no_place())
            return
        starts = local_start(effect.day, effect.at, self.config.policy.tz)
        await session.uow.workshops.add(place_id, effect.topic, starts, effect.minutes,
                                        effect.seats)
        log.info("workshop published by %s at place %s", session.user.key, place_id)
        session.say(_("Séance publiée : {topic}, {when}, {seats} places.",
                      topic=topic_label(effect.topic), when=When(starts), seats=effect.seats))

    # --- periodic jobs --------------------------------------------------------------------

    async def send_due_reminders(self, storage: Storage, now: datetime) -> int:
        """Queue every due reminder in the outbox, each marked in the same transaction, so a
        restart neither loses nor repeats one. Nothing goes out in the quiet hours."""
        if not self.config.policy.may_send(now):
            return 0
        queued = 0
        # Batch after batch, each in its own short transaction (people's messages get the
        # write lock in between), until the morning's burst is all queued.
        for _batch in range(REMINDER_BATCHES):
            async with storage.transaction() as uow:
                batch = await uow.reminders.due(now, REMINDER_BATCH)
                places: dict[PlaceId, Place] = {}  # the batch's, not the country's thousand
                for place_id in {due.workshop.place_id for due in batch}:
                    place = await uow.places.get(place_id)
                    if place is not None:
                        places[place_id] = place
                for due in batch:
                    beneficiary = await uow.beneficiaries.get(due.user)
                    if (beneficiary is None or not beneficiary.reminders
                            or due.workshop.starts_at <= now):
                        await uow.reminders.mark(due.id, "skipped", now)
                        continue
                    if not await uow.reminders.mark(due.id, "queued", now):
                        continue
                    reply = ui.reminder(due.workshop,
                                        self.where(places.get(due.workshop.place_id)))
                    message = Outgoing(due.user, tuple(reply.texts), tuple(reply.choices),
                                       is_action_menu=True, priority=Priority.BULK)
                    await uow.outbox.add(message, now)
                    await uow.menus.set(due.user,
                                        [(c.id, to_json(c.label)) for c in reply.choices])
                    queued += 1
            if len(batch) < REMINDER_BATCH:
                break
            await asyncio.sleep(0)  # people's messages between two batches, however short
        if queued:
            log.info("%s workshop reminders queued", queued)
        return queued

    async def purge(self, storage: Storage, now: datetime) -> int:
        """Retention: forget beneficiaries long after their last workshop; drop dead codes.

        Batch after batch, each in its own short transaction: who is inactive is read in the
        transaction that forgets them, so someone who booked meanwhile is kept.
        """
        done = 0
        async with storage.transaction() as uow:
            done += await uow.beneficiaries.purge_codes(now - timedelta(days=1))
        before = now - self.config.retention
        after = ""
        while True:
            forgotten = 0
            async with storage.transaction() as uow:
                page = await uow.beneficiaries.inactive_since(before, after, RETENTION_SCAN)
                for key, inactive in page:
                    if inactive and forgotten == RETENTION_BATCH:
                        break  # this one and the rest of the page: next transaction
                    after = key
                    if inactive:
                        await self.forget_inactive(uow, key, now)
                        forgotten += 1
            done += forgotten
            if not page or (after == page[-1][0] and len(page) < RETENTION_SCAN):
                return done
            await asyncio.sleep(0)  # people's messages between two batches

    async def forget_inactive(self, uow: UnitOfWork, key: UserKey, now: datetime) -> None:
        """Everything about a beneficiary past the retention, at once (their account too, if
        it was only a beneficiary's)."""
        await uow.beneficiaries.forget(key)
        await uow.audit.record(None, AuditAction.DATA_DELETED, "beneficiary", now, "retention")
        await uow.conversations.clear(key)
        user = await uow.users.get(key)
        if user is not None and not user.is_professional:
            await uow.users.delete(key)

    # --- composition ----------------------------------------------------------------------

    def feature(self) -> Feature:
        beneficiary_actions = (
            act.BeneficiaryMenu, act.OfferWorkshops, act.Book, act.MyWorkshops,
            act.CancelBooking, act.OfferMove, act.MoveBooking, act.Coming, act.NotComing,
            act.RemindersQuestion, act.RemindersOn, act.RemindersOff, act.MyData, act.ForgetMe,
            act.ForgetMeYes, act.StarterKit, act.AskHelp)
        staff_actions = (act.JoinCode, act.JoinCodeFor, act.WhoIsComing, act.PublishWorkshop,
                         act.CancelWorkshop, act.CancelWorkshopYes)
        return Feature(
            name="beneficiaries",
            flows=[*ui.FLOWS, PUBLISH_FLOW],
            actions={act.JoinLanguage: self.choose_language, act.GotDoor: got_computer,
                     **{kind: self.action for kind in beneficiary_actions},
                     **{kind: self.staff_action for kind in staff_actions},
                     **{kind: self.ticket_action
                        for kind in (act.TakeTicket, act.ReplyTicket, act.CloseTicket)}},
            effects={Join: self.on_join, CheckCode: self.on_check_code, Relay: self.on_relay,
                     PublishWorkshop: self.on_publish},
            facts={CHAT_FLOW: self.chat_facts},
            commands={"start": self.command_start, "join": self.command_code,
                      "stop": self.command_stop},
            jobs=[Job("beneficiaries.reminders", self.config.reminders_every,
                      self.send_due_reminders),
                  Job("beneficiaries.purge", self.config.purge_every, self.purge)],
        )


def feature(env: Env) -> Feature:
    """The after-donation service: joining, workshops and reminders, remote help."""
    return Beneficiaries(env.beneficiaries, env.territory).feature()
