"""The home menu's doors, the professional space, help and language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from flows import access
from flows.home import LANG_FLOW_NAME, LANGUAGE_FLOW, Door, SetLanguage, help_reply, home
from flows.messages import Choice
from flows.records import AccessStatus
from flows.text import Lines, Msg, When, _
from handlers.session import Feature, Session

StartFlow = Callable[[Session, str], Awaitable[None]]

WORKSHOP_TOPICS: dict[str, Msg] = {
    "getting_started": _("Prise en main de l'ordinateur"),
    "internet_email": _("Internet et courriel"),
    "public_services": _("Démarches en ligne"),
    "safety": _("Sécurité et arnaques"),
    "video_calls": _("Appels vidéo"),
    "photos_documents": _("Photos et documents"),
    "autonomy": _("Devenir autonome"),
}


def home_feature(start_flow: StartFlow) -> Feature:
    """The home feature; ``start_flow`` comes from the router that owns the flows."""

    async def door(session: Session, choice_id: str) -> None:
        match choice_id:
            case Door.PRO:
                await professional_door(session)
            case Door.GIVE:
                session.say(_(
                    "Merci de penser au réemploi ! La déclaration de dons par le bot ouvre "
                    "bientôt. En attendant, apportez le matériel dans un lieu du réseau : "
                    "touchez « Lieux du réseau » pour les voir."
                ), choices=[Choice("i:places", _("Lieux du réseau"))], action_menu=True)
            case Door.GOT:
                await upcoming_workshops(session, "i:workshops")
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
            if user.is_coordinator:
                choices.append(Choice("q:access", _("Demandes d'accès en attente")))
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
                       hours=place.opening_hours))
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
