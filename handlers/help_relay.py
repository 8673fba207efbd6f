"""Remote help: "I need help" opens a ticket that the place's mediators take, and the chat is
relayed through the bot, both ways, until one side closes it.

A beneficiary gets their place's remote-help procedure and opening hours at once; the staff of
the place (else the coordinators) are told, and the first who takes the ticket answers it.
The router checked who may take, answer or close a ticket; a message relayed is checked here
against the ticket's two sides, since it comes from a conversation, not a button.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flows import actions as act
from flows import beneficiary as ui
from flows.beneficiary import CHAT_FLOW, Relay, Side
from flows.engine import Conversation
from flows.joincode import printed
from flows.messages import Choice, UserKey
from flows.ports import UnitOfWork
from flows.records import Beneficiary, HelpTicket, PlaceId, TicketStatus, User
from flows.text import Msg, _, verbatim
from handlers.beneficiary_common import joined, show_menu
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)


async def helpers(session: Session, place_id: PlaceId | None) -> list[UserKey]:
    """Who answers a place's calls for help: its staff, else the coordinators."""
    mediators = await session.uow.help.mediators(place_id) if place_id is not None else []
    return mediators or list(session.coordinators)


def name_of(beneficiary: Beneficiary) -> Msg:
    """How mediators see a beneficiary: their first name, else their code."""
    return verbatim(beneficiary.first_name or printed(beneficiary.ref))


def take_choice(ticket: HelpTicket) -> Choice:
    return Choice(act.TakeTicket(ticket.id).pack(), _("Je m'en occupe (demande n° {id})",
                                                      id=ticket.id))


async def ask_help(session: Session, action: act.AskHelp) -> None:
    """Send the place's remote-help procedure, open a ticket, and start the chat."""
    beneficiary = await joined(session)
    uow = session.uow
    place = (await uow.places.get(beneficiary.place_id)
             if beneficiary.place_id is not None else None)
    procedure = await uow.help.remote_help(place.id) if place else None
    ticket = await uow.help.current(beneficiary.key)
    if ticket is None:
        ticket = await uow.help.open(beneficiary.key, beneficiary.place_id, session.now)
        log.info("help ticket %s opened by %s", ticket.id, beneficiary.key)
        notice = _("Nouvelle demande d'aide n° {id} de {name}.", id=ticket.id,
                   name=name_of(beneficiary))
        for helper in await helpers(session, beneficiary.place_id):
            session.send(helper, [notice], [take_choice(ticket)], action_menu=True)
    steps = ui.help_procedure(procedure.instructions if procedure else None,
                              procedure.link if procedure else None)
    if steps:
        session.say(*steps)
    session.say(ui.help_when(ui.hours_text(place, session.ctx.tz) if place else None))
    await session.start_flow(CHAT_FLOW)


async def chat_facts(uow: UnitOfWork, user: User) -> dict[str, Any]:
    """Which ticket a help chat is about, and on which side the writer is."""
    answering = await uow.help.answering(user.key)
    if answering is not None:
        return {"ticket": answering.id, "side": Side.MEDIATOR}
    own = await uow.help.current(user.key)
    if own is not None:
        return {"ticket": own.id, "side": Side.BENEFICIARY}
    return {}


async def on_relay(session: Session, effect: Relay) -> None:
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
        await close(session, ticket)
        return
    if is_beneficiary:
        beneficiary = await uow.beneficiaries.get(key)
        name = name_of(beneficiary) if beneficiary else verbatim("?")
        notice = _("Demande d'aide n° {id} ({name}) :\n{text}", id=ticket.id, name=name,
                   text=verbatim(effect.text))
        if ticket.mediator is not None:
            session.send(ticket.mediator, [notice], [
                Choice(act.ReplyTicket(ticket.id).pack(), _("Répondre")),
                Choice(act.CloseTicket(ticket.id).pack(), _("Clore la demande")),
            ], action_menu=True)
        else:
            for helper in await helpers(session, ticket.place_id):
                session.send(helper, [notice], [take_choice(ticket)], action_menu=True)
    else:
        session.send(ticket.user, [ui.from_place(effect.text)])
        await keep_chatting(uow, ticket.user, session.now)
    await keep_chatting(uow, key, session.now)
    session.reply(ui.relayed(effect.side))


async def keep_chatting(uow: UnitOfWork, key: UserKey, now: datetime) -> None:
    """Put ``key`` (back) in the help chat unless they are busy in another flow."""
    saved = await uow.conversations.get(key)
    if saved is not None and saved.conversation.flow != CHAT_FLOW:
        return
    await uow.conversations.save(key, Conversation(CHAT_FLOW, "msg"), now)


async def close(session: Session, ticket: HelpTicket) -> None:
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
            show_menu(session, beneficiary, ui.help_closed())
        return
    session.say(_("Demande d'aide n° {id} close.", id=ticket.id))
    session.send(ticket.user, [ui.help_closed()])


async def open_ticket(session: Session, number: int) -> HelpTicket | None:
    """The ticket a mediator's button names (the router checked it is theirs to act on),
    or None, said, when it is already closed."""
    ticket = await session.uow.help.get(number)
    assert ticket is not None
    if ticket.status is TicketStatus.CLOSED:
        session.say(_("Demande d'aide n° {id} close.", id=ticket.id))
        return None
    return ticket


async def take_ticket(session: Session, action: act.TakeTicket) -> None:
    """A mediator of the place takes a help request; their colleagues are told."""
    ticket = await open_ticket(session, action.ticket)
    if ticket is None:
        return
    user = session.user
    if not await session.uow.help.take(ticket.id, user.key, session.now):
        session.say(_("Un·e collègue s'occupe déjà de la demande n° {id}.", id=ticket.id))
        return
    log.info("help ticket %s taken by %s", ticket.id, user.key)
    session.send(ticket.user, [ui.help_taken()])
    for other in await helpers(session, ticket.place_id):
        if other != user.key:
            session.send(other, [_("La demande d'aide n° {id} est prise par un·e "
                                   "collègue.", id=ticket.id)])
    await session.start_flow(CHAT_FLOW)


async def reply_ticket(session: Session, action: act.ReplyTicket) -> None:
    """The mediator who took the request answers it: back in the chat."""
    ticket = await open_ticket(session, action.ticket)
    if ticket is None:
        return
    await session.uow.help.touch(ticket.id, session.now)
    await session.start_flow(CHAT_FLOW)


async def close_ticket(session: Session, action: act.CloseTicket) -> None:
    ticket = await open_ticket(session, action.ticket)
    if ticket is not None:
        await close(session, ticket)


def feature(env: Env) -> Feature:
    """Remote help: tickets and the relayed chat (no settings needed)."""
    return Feature(
        name="help_relay",
        flows=[ui.CHAT],
        actions={act.AskHelp: ask_help, act.TakeTicket: take_ticket,
                 act.ReplyTicket: reply_ticket, act.CloseTicket: close_ticket},
        effects={Relay: on_relay},
        facts={CHAT_FLOW: chat_facts},
    )
