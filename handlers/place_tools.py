"""What place staff (and the coordination) do for the after-donation service.

They hand a computer over with a one-time join code (text, QR code and, when the bot's
Telegram username is known, a deep link) that carries nothing about the person; they publish
workshop sessions, see who is coming, and cancel a session, those booked being told. The
professional space (``handlers/home.py``) shows these tools through :func:`staff_choices`.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from functools import partial

import segno

from flows import actions as act
from flows import beneficiary as ui
from flows.beneficiary import BeneficiaryConfig
from flows.joincode import new_code, printed, telegram_link
from flows.messages import Attachment, Choice
from flows.records import PlaceId, Role, User
from flows.text import Day, Lines, Msg, When, _, _n, verbatim
from flows.workshops import (
    PUBLISH_FLOW,
    PUBLISH_FLOW_NAME,
    PublishWorkshop,
    local_start,
    topic_label,
)
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)


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


def no_place() -> Msg:
    return _("Votre compte n'est rattaché à aucun lieu. Demandez à la coordination de "
             "le faire.")


async def join_code(session: Session, action: act.JoinCode, *,
                    config: BeneficiaryConfig) -> None:
    """A code for the staff member's place; a coordinator first chooses the place."""
    user = session.user
    if user.place_id is not None:
        await create_code(session, user.place_id, config)
    elif user.is_coordinator:
        places = await session.uow.places.all()
        session.say(_("Pour quel lieu ?"), choices=[
            Choice(act.JoinCodeFor(p.id).pack(), verbatim(p.name)) for p in places
        ], action_menu=True)
    else:
        session.say(no_place())


async def join_code_for(session: Session, action: act.JoinCodeFor, *,
                        config: BeneficiaryConfig) -> None:
    await create_code(session, PlaceId(action.place), config)


async def draw_code(session: Session, place_id: PlaceId,
                    config: BeneficiaryConfig) -> tuple[str, datetime]:
    """A new one-time code for a beneficiary of ``place_id``, and when it expires (a device
    handed over gets one too: ``handlers/handover.py``)."""
    uow, now = session.uow, session.now
    expires = now + config.code_validity
    for _attempt in range(8):
        code = new_code()
        if await uow.beneficiaries.add_code(code, place_id, session.user.key, now, expires):
            break
    else:  # pragma: no cover - 8 collisions among 3 * 10**8 codes
        raise RuntimeError("could not draw a free join code")
    log.info("join code created by %s for place %s", session.user.key, place_id)
    return code, expires


async def create_code(session: Session, place_id: PlaceId, config: BeneficiaryConfig) -> None:
    """A one-time code for a beneficiary of ``place_id``: text, QR code and link."""
    code, expires = await draw_code(session, place_id, config)
    day = Day(expires.astimezone(config.policy.tz).date())
    texts = [_("Code à remettre à la personne : {code}\nIl marche une seule fois, jusqu'au "
               "{day}. Il ne contient rien sur la personne.", code=printed(code), day=day)]
    attachment = None
    if config.telegram_bot:
        link = telegram_link(config.telegram_bot, code)
        texts.append(_("Sur Telegram : elle scanne ce QR code avec son téléphone, ou ouvre "
                       "ce lien :\n{link}\nSur un autre service (Matrix…) : elle écrit le "
                       "code au bot.", link=link))
        attachment = Attachment(f"code-{code}.png", "image/png", qr_png(link))
    else:
        texts.append(_("Elle écrit ce code au bot, par exemple sur Telegram ou Matrix."))
    session.send(session.user.key, texts, attachment=attachment)


async def who_is_coming(session: Session, action: act.WhoIsComing) -> None:
    """The next sessions of the staff member's place and who booked them (first name or
    code only), with a button to cancel each session."""
    place_id = session.user.place_id
    if place_id is None:
        session.say(no_place())
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


async def publish_workshop(session: Session, action: act.PublishWorkshop) -> None:
    if session.user.place_id is None:
        session.say(no_place())
        return
    await session.start_flow(PUBLISH_FLOW_NAME)


async def on_publish(session: Session, effect: PublishWorkshop, *,
                     config: BeneficiaryConfig) -> None:
    """A session the staff member described, published at their place."""
    place_id = session.user.place_id
    if place_id is None:
        session.say(no_place())
        return
    starts = local_start(effect.day, effect.at, config.policy.tz)
    await session.uow.workshops.add(place_id, effect.topic, starts, effect.minutes,
                                    effect.seats)
    log.info("workshop published by %s at place %s", session.user.key, place_id)
    session.say(_("Séance publiée : {topic}, {when}, {seats} places.",
                  topic=topic_label(effect.topic), when=When(starts), seats=effect.seats))


async def cancel_workshop(session: Session, action: act.CancelWorkshop) -> None:
    """Ask before cancelling a session of the place (the router checked it is theirs)."""
    workshop = await session.uow.workshops.get(action.workshop)
    assert workshop is not None
    session.say(_("Annuler la séance « {topic} » du {when} ? Les inscrit·es sont "
                  "prévenu·es.", topic=topic_label(workshop.topic),
                  when=When(workshop.starts_at)),
                choices=[Choice(act.CancelWorkshopYes(workshop.id).pack(),
                                _("Oui, annuler la séance")),
                         Choice(act.WhoIsComing().pack(), _("Non"))],
                action_menu=True)


async def cancel_workshop_yes(session: Session, action: act.CancelWorkshopYes) -> None:
    """The place cancels a session: those booked are told (if they accept messages)."""
    uow = session.uow
    workshop = await uow.workshops.get(action.workshop)
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


def feature(env: Env) -> Feature:
    """Place staff's tools for the after-donation service; the settings are bound here."""
    config = env.beneficiaries
    return Feature(
        name="place_tools",
        flows=[PUBLISH_FLOW],
        actions={act.JoinCode: partial(join_code, config=config),
                 act.JoinCodeFor: partial(join_code_for, config=config),
                 act.WhoIsComing: who_is_coming, act.PublishWorkshop: publish_workshop,
                 act.CancelWorkshop: cancel_workshop,
                 act.CancelWorkshopYes: cancel_workshop_yes},
        effects={PublishWorkshop: partial(on_publish, config=config)},
    )
