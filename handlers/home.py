"""The home menu's doors, the professional space, help and language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from flows import access, privacy
from flows.erasure_record import NETWORK_TZ
from flows.home import LANG_FLOW_NAME, LANGUAGE_FLOW, Door, SetLanguage, help_reply, home
from flows.messages import Choice
from flows.records import AccessStatus, Role
from flows.text import Lines, Msg, When, _
from flows.workshops import TOPIC_LABELS
from handlers.beneficiaries import got_computer, staff_choices
from handlers.coord_places import place_hours
from handlers.coordination import coordination_choices
from handlers.donations import give_door
from handlers.session import Feature, Session

StartFlow = Callable[[Session, str], Awaitable[None]]

WORKSHOP_TOPICS = TOPIC_LABELS


def home_feature(start_flow: StartFlow) -> Feature:
    """The home feature; ``start_flow`` comes from the router that owns the flows."""

    async def door(session: Session, choice_id: str) -> None:
        match choice_id:
            case Door.PRO:
                await professional_door(session)
            case Door.GIVE:  # declaration and "my donations" (handlers/donations.py)
                await give_door(session, start_flow)
            case Door.GOT:  # the after-donation service (handlers/beneficiaries.py)
                await got_computer(session, start_flow)
            case Door.HELP:
                session.reply(help_reply())
                session.reply(home(session.user, False), action_menu=True)
            case Door.LANG:
                await start_flow(session, LANG_FLOW_NAME)
            case _:
                session.say(_("Ce bouton n'est plus valable."))

    async def professional_door(session: Session) -> None:
        """Approved professionals get their space; others request access or are told where
        their request stands."""
        user = session.user
        if user.is_professional:
            choices = [Choice("i:places", _("Lieux du réseau")),
                       Choice("i:workshops", _("Prochains ateliers"))]
            if user.role is Role.PRESCRIBER:  # equipment requests (handlers/requests.py)
                choices[:0] = [Choice("rq:new", _("Demander du matériel")),
                               Choice("rq:mine", _("Mes demandes"))]
            if user.role is Role.PLACE_STAFF:
                choices[:0] = [Choice("rq:in", _("Demandes reçues")),
                               Choice("rq:stock", _("Stock du lieu"))]
            choices.extend(staff_choices(user))  # join codes, workshops (beneficiaries.py)
            if user.role in (Role.RECONDITIONER, Role.PLACE_STAFF):  # handlers/donations.py
                choices.append(Choice("lot:list", _("Dons à réceptionner et à effacer")))
            if user.is_coordinator:
                choices.append(Choice("q:access", _("Demandes d'accès en attente")))
            choices.extend(await coordination_choices(session))  # handlers/coordination.py
            choices.append(Choice(privacy.Act.ERASE, _("Supprimer mes données")))  # privacy.py
            session.say(_("Espace professionnel. Que voulez-vous voir ?"), choices=choices,
                        action_menu=True)
            return
        latest = await session.uow.access.latest_for(user.key)
        if latest is not None and latest.status is AccessStatus.PENDING:
            session.say(_("Votre demande d'accès n° {id} est en cours d'examen par la "
                          "coordination. Vous serez prévenu·e dès qu'elle est traitée.",
                          id=latest.id))
            return
        if latest is not None and latest.status is AccessStatus.REJECTED:
            session.say(_("Votre précédente demande n'a pas été acceptée. Vous pouvez en "
                          "faire une nouvelle."))
        await start_flow(session, access.FLOW_NAME)

    async def info_action(session: Session, choice_id: str) -> None:
        if choice_id == "i:workshops":
            await upcoming_workshops(session, choice_id)
            return
        if choice_id == "i:places":
            await list_places(session)
            return
        session.say(_("Ce bouton n'est plus valable."))

    async def set_language(session: Session, effect: SetLanguage) -> None:
        await session.uow.users.set_lang(session.user.key, effect.lang)
        session.say(_("C'est noté : je vous parlerai en français."))
        session.reply(home(session.user, False), action_menu=True)

    async def command_language(session: Session, text: str) -> None:
        await start_flow(session, LANG_FLOW_NAME)

    async def command_help(session: Session, text: str) -> None:
        session.reply(help_reply())

    return Feature(
        name="home",
        flows=[LANGUAGE_FLOW],
        actions={"m:": door, "i:": info_action},
        effects={SetLanguage: set_language},
        commands={
            "/langue": command_language, "langue": command_language,
            "/language": command_language, "language": command_language,
            "/aide": command_help, "aide": command_help,
            "/help": command_help, "help": command_help,
        },
    )


async def list_places(session: Session) -> None:
    """The places of the network with their commune and opening hours (public information)."""
    places = await session.uow.places.all()
    lines = []
    for place in places:
        commune = session.ctx.territory.commune(place.commune)
        lines.append(_("• {name}, {commune} ({hours})", name=place.name,
                       commune=commune.name if commune else place.commune,
                       hours=place_hours(place, session.now, NETWORK_TZ)))
    if not lines:
        session.say(_("Aucun lieu n'est encore enregistré."))
        return
    session.say(_("Lieux du réseau :"), Msg("{lines}", {"lines": Lines(tuple(lines))}))


async def upcoming_workshops(session: Session, choice_id: str) -> None:
    """The next workshop sessions, in the reader's language and time zone."""
    workshops = await session.uow.workshops.upcoming(session.now, 6)
    horizon = session.now + timedelta(days=60)
    places = {p.id: p for p in await session.uow.places.all()}
    lines = []
    for workshop in workshops:
        if workshop.starts_at > horizon:
            continue
        place = places.get(workshop.place_id)
        lines.append(_("• {topic} : {when}, {place} ({free} places libres)",
                       topic=WORKSHOP_TOPICS.get(workshop.topic, Msg(workshop.topic)),
                       when=When(workshop.starts_at), place=place.name if place else "",
                       free=workshop.seats - workshop.booked))
    if not lines:
        session.say(_("Aucun atelier n'est prévu pour le moment."))
        return
    session.say(_("Prochains ateliers de prise en main :"),
                Msg("{lines}", {"lines": Lines(tuple(lines))}))
