"""What place staff (and the coordination) do for the after-donation service.

They hand a computer over with a one-time join code (text, QR code and, when the bot's
Telegram username is known, a deep link) that carries nothing about the person; they publish
workshop sessions, see who is coming, and cancel a session, those booked being told. The
professional space (``handlers/home.py``) shows these tools through :func:`staff_choices`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import segno

from flows import actions as act
from flows import beneficiary as ui
from flows.beneficiary import BeneficiaryConfig
from flows.engine import Conversation
from flows.joincode import new_code, printed, telegram_link
from flows.messages import Attachment, Choice
from flows.ports import UnitOfWork
from flows.records import PlaceId, Role, User
from flows.text import Day, Lines, Msg, When, _, _n, verbatim
from flows.workshops import (
    ATTENDANCE_FLOW,
    ATTENDANCE_FLOW_NAME,
    PUBLISH_FLOW,
    PUBLISH_FLOW_NAME,
    PublishWorkshop,
    SaveAttendance,
    local_start,
    topic_label,
)
from handlers.session import Env, Feature, Session
from handlers.sms_people import register_choice

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
    choices = [
        Choice(act.JoinCode().pack(), _("Créer un code pour un·e bénéficiaire")),
        Choice(act.WhoIsComing().pack(), _("Qui vient aux ateliers ?")),
        Choice(act.Attendance().pack(), _("Noter les présences")),
        Choice(act.PublishWorkshop().pack(), _("Publier une séance d'atelier")),
    ]
    if user.role is Role.PLACE_STAFF:  # a number is registered at the staff's own place
        choices.insert(1, register_choice())  # (handlers/sms_people.py)
    return choices


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


# --- Attendance -----------------------------------------------------------------------------

ATTENDANCE_DAYS = 14
"""Sessions held this many days back are offered for recording who came."""
MISSED_IN_A_ROW = 2
"""After this many sessions missed in a row, the bot writes once, kindly, then no more."""


async def attendance(session: Session, action: act.Attendance) -> None:
    """The place's sessions held lately (with someone booked), to record who came."""
    place_id = session.user.place_id
    if place_id is None:
        session.say(no_place())
        return
    held = await session.uow.workshops.held_at(
        place_id, session.now - timedelta(days=ATTENDANCE_DAYS), session.now, 10)
    if not held:
        session.say(_("Aucune séance avec des inscrits ces {n} derniers jours.",
                      n=ATTENDANCE_DAYS))
        return
    choices = []
    for workshop in held:
        attendees = await session.uow.workshops.attendees(workshop.id)
        came = sum(1 for a in attendees if a.attended)
        recorded = any(a.attended is not None for a in attendees)
        label = (_("{topic}, {when} : {came} venus sur {n}", topic=topic_label(workshop.topic),
                   when=When(workshop.starts_at), came=came, n=len(attendees)) if recorded
                 else _("{topic}, {when} : à noter", topic=topic_label(workshop.topic),
                        when=When(workshop.starts_at)))
        choices.append(Choice(act.RecordAttendance(workshop.id).pack(), label))
    session.say(_("Pour quelle séance noter les présences ?"), choices=choices,
                action_menu=True)


async def record_attendance(session: Session, action: act.RecordAttendance) -> None:
    """Tick who came to a session held (the router checked it is the place's)."""
    workshop = await session.uow.workshops.get(action.workshop)
    assert workshop is not None
    if workshop.starts_at > session.now:
        session.say(_("Cette séance n'a pas encore eu lieu : les présences se notent après."))
        return
    await session.start_flow(ATTENDANCE_FLOW_NAME, {"workshop": workshop.id})


async def attendance_facts(uow: UnitOfWork, user: User, facts: Mapping[str, Any],
                           conversation: Conversation) -> Mapping[str, Any] | None:
    """Those booked on the session being recorded (read once per question)."""
    workshop_id = conversation.answers.get("workshop")
    if workshop_id is None or facts.get("workshop") == workshop_id:
        return None
    workshop = await uow.workshops.get(int(workshop_id))
    if workshop is None:
        return {**facts, "workshop": workshop_id, "people": ()}
    people = tuple((a.ref, a.name) for a in await uow.workshops.attendees(workshop.id))
    return {**facts, "workshop": workshop_id, "people": people, "topic": workshop.topic,
            "when": When(workshop.starts_at)}


async def on_save_attendance(session: Session, effect: SaveAttendance) -> None:
    """Record who came; whoever missed two sessions in a row gets one kind word, then the
    bot writes no more on its own until they come back (invited, never chased)."""
    uow = session.uow
    workshop = await uow.workshops.get(effect.workshop)
    user = session.user
    if workshop is None or not (user.is_coordinator or workshop.place_id == user.place_id):
        session.say(_("Cette séance n'existe plus."))
        return
    results = await uow.workshops.record_attendance(workshop.id, effect.present)
    for key, came in results:
        beneficiary = await uow.beneficiaries.get(key)
        if beneficiary is None:
            continue
        if came:
            if beneficiary.paused_at is not None:
                await uow.beneficiaries.set_paused(key, None)
            continue
        if (beneficiary.paused_at is None
                and await uow.workshops.missed_in_a_row(key, MISSED_IN_A_ROW)
                >= MISSED_IN_A_ROW):
            await uow.beneficiaries.set_paused(key, session.now)
            await uow.reminders.drop_pending(key)
            if beneficiary.reminders:
                session.send(key, [ui.here_when_you_want()])
    came = sum(1 for _key, present in results if present)
    log.info("attendance of workshop %s recorded by %s", workshop.id, user.key)
    session.say(_("Présences enregistrées : {came} venus sur {n}.", came=came,
                  n=len(results)),
                choices=[Choice(act.Attendance().pack(), _("Autres séances")),
                         Choice(act.ProDoor().pack(), _("Espace professionnel"))],
                action_menu=True)


def feature(env: Env) -> Feature:
    """Place staff's tools for the after-donation service; the settings are bound here."""
    config = env.beneficiaries
    return Feature(
        name="place_tools",
        flows=[PUBLISH_FLOW, ATTENDANCE_FLOW],
        actions={act.JoinCode: partial(join_code, config=config),
                 act.JoinCodeFor: partial(join_code_for, config=config),
                 act.WhoIsComing: who_is_coming, act.PublishWorkshop: publish_workshop,
                 act.CancelWorkshop: cancel_workshop,
                 act.CancelWorkshopYes: cancel_workshop_yes,
                 act.Attendance: attendance, act.RecordAttendance: record_attendance},
        effects={PublishWorkshop: partial(on_publish, config=config),
                 SaveAttendance: on_save_attendance},
        more_facts={ATTENDANCE_FLOW_NAME: attendance_facts},
    )
