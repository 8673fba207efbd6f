"""The home menu's doors, the professional space, help and language."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from flows import access
from flows import actions as act
from flows.home import LANG_FLOW_NAME, LANGUAGE_FLOW, SetLanguage, help_reply, home
from flows.messages import Choice
from flows.records import AccessStatus, Role
from flows.text import Lines, Msg, When, _
from flows.workshops import TOPIC_LABELS
from handlers.coord_places import place_hours
from handlers.coordination import coordination_choices
from handlers.place_tools import staff_choices
from handlers.session import Env, Feature, Session

WORKSHOP_TOPICS = TOPIC_LABELS


async def professional_door(session: Session, action: act.ProDoor, *,
                            mail: bool = False) -> None:
    """Approved professionals get their space; others request access or are told where
    their request stands."""
    user = session.user
    if user.is_professional:
        choices = [Choice(act.Places().pack(), _("Lieux du réseau")),
                   Choice(act.Workshops().pack(), _("Prochains ateliers"))]
        if user.role is Role.PRESCRIBER:  # equipment requests (handlers/requests.py)
            choices[:0] = [Choice(act.NewRequest().pack(), _("Demander du matériel")),
                           Choice(act.MyRequests().pack(), _("Mes demandes"))]
        if user.role is Role.PLACE_STAFF:
            choices[:0] = [Choice(act.ReceivedRequests().pack(), _("Demandes reçues")),
                           Choice(act.PlaceStock().pack(), _("Stock du lieu")),
                           Choice(act.PlaceReservations().pack(), _("Réservations du lieu"))]
        choices.extend(staff_choices(user))  # join codes, workshops (place_tools.py)
        if user.role in (Role.RECONDITIONER, Role.PLACE_STAFF) or user.is_coordinator:
            choices.append(Choice(act.OpenLots().pack(), _("Dons à réceptionner et à effacer")))
        if user.is_coordinator:
            choices.append(Choice(act.AccessQueue().pack(), _("Demandes d'accès en attente")))
        if (user.role in (Role.RECONDITIONER, Role.PLACE_STAFF) and user.place_id is not None
                and await session.uow.repairs.open_at(user.place_id)):  # handlers/warranty.py
            choices.append(Choice(act.OpenRepairs().pack(), _("Problèmes signalés (garantie)")))
        choices.extend(await coordination_choices(session))  # handlers/coordination.py
        if mail:  # notices by e-mail too (handlers/mail.py)
            choices.append(Choice(act.MailSettings().pack(), _("Avis par e-mail")))
        if await session.uow.transfers.is_driver(user.key):  # handlers/transfers.py
            choices.append(Choice(act.OpenTransfers().pack(), _("Transports à faire")))
        choices.append(Choice(act.EraseMyData().pack(), _("Supprimer mes données")))
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
    await session.start_flow(access.FLOW_NAME)


async def help_door(session: Session, action: act.HelpDoor) -> None:
    session.reply(help_reply())
    session.reply(home(session.user, False), action_menu=True)


async def language_door(session: Session, action: act.LanguageDoor) -> None:
    await session.start_flow(LANG_FLOW_NAME)


async def set_language(session: Session, effect: SetLanguage) -> None:
    await session.uow.users.set_lang(session.user.key, effect.lang)
    session.say(_("C'est noté : je vous parlerai en français."))
    session.reply(home(session.user, False), action_menu=True)


async def command_language(session: Session, text: str) -> None:
    await session.start_flow(LANG_FLOW_NAME)


async def command_help(session: Session, text: str) -> None:
    session.reply(help_reply())


async def places_action(session: Session, action: act.Places) -> None:
    await list_places(session)


async def workshops_action(session: Session, action: act.Workshops) -> None:
    await upcoming_workshops(session)


def feature(env: Env) -> Feature:
    """The home menu's doors, public information, help and language."""
    return Feature(
        name="home",
        flows=[LANGUAGE_FLOW],
        actions={act.ProDoor: partial(professional_door, mail=env.mail), act.HelpDoor: help_door,
                 act.LanguageDoor: language_door, act.Places: places_action,
                 act.Workshops: workshops_action},
        effects={SetLanguage: set_language},
        commands={"language": command_language, "help": command_help},
    )


async def list_places(session: Session) -> None:
    """The places of the network with their commune and opening hours (public information)."""
    places = await session.uow.places.all()
    lines = []
    for place in places:
        commune = session.ctx.territory.commune(place.commune)
        lines.append(_("• {name}, {commune} ({hours})", name=place.name,
                       commune=commune.name if commune else place.commune,
                       hours=place_hours(place, session.now, session.ctx.tz)))
    if not lines:
        session.say(_("Aucun lieu n'est encore enregistré."))
        return
    session.say(_("Lieux du réseau :"), Msg("{lines}", {"lines": Lines(tuple(lines))}))


async def upcoming_workshops(session: Session) -> None:
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
