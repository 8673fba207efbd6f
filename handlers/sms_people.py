"""People reached by SMS: staff register a number with consent; STOP and START; a reminder
worded for SMS; a place told when one of its people did not receive a reminder.

Someone registered here is a beneficiary like any other (a join code is drawn and used for
them, shown to staff in place of a name), whose account key is ``sms:<random>``: the flows,
menus and reminders serve them as they serve a chat, the SMS adapter (``bot/sms.py``) showing
the choices as numbered lines. Their number is kept in ``sms_numbers`` only, never logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from flows import actions as act
from flows import beneficiary as ui
from flows import sms_text
from flows.beneficiary import BeneficiaryConfig
from flows.joincode import new_code, printed
from flows.messages import Choice, Outgoing, Priority, Reply, UserKey, platform_of
from flows.ports import UnitOfWork
from flows.records import Beneficiary, Place, Workshop
from flows.sms_register import FLOW, FLOW_NAME, RegisterSms
from flows.territory import Territory
from flows.text import Lines, Msg, When, _, verbatim
from handlers.beneficiary_common import commune_name, offers, set_consent
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

TOKEN_BYTES = 9
"""Random bytes of an SMS person's key (12 characters): it says nothing about them."""


def register_choice() -> Choice:
    """The place staff's entry, in their tools and after a handover."""
    return Choice(act.SmsRegister().pack(), _("Recevoir les rappels par SMS"))


def not_set_up() -> Msg:
    return _("Les SMS ne sont pas en place dans le réseau. Donnez plutôt un code à la "
             "personne, ou demandez à la coordination d'installer la passerelle SMS.")


async def register(session: Session, action: act.SmsRegister, *, env: Env) -> None:
    """Staff start registering a number (the router checked they are place staff)."""
    if env.sms is None:
        session.say(not_set_up())
        return
    if session.user.place_id is None:
        session.say(_("Votre compte n'est rattaché à aucun lieu. Demandez à la coordination "
                      "de le faire."))
        return
    await session.start_flow(FLOW_NAME)


async def on_register(session: Session, effect: RegisterSms, *, env: Env) -> None:
    """The person agreed: a beneficiary of the staff's place, reached at that number; they
    get a first SMS with the sessions they can book, the staff the code to note."""
    uow, now, place_id = session.uow, session.now, session.user.place_id
    if place_id is None or env.sms is None:
        session.say(not_set_up() if env.sms is None else _("Votre compte n'est rattaché à "
                                                             "aucun lieu."))
        return
    if await uow.sms.by_phone(effect.phone) is not None:
        session.say(_("Ce numéro reçoit déjà les rappels par SMS. Rien n'a changé."))
        return
    key = sms_text.new_key(secrets.token_urlsafe(TOKEN_BYTES))
    for _attempt in range(8):
        code = new_code()
        if await uow.beneficiaries.add_code(code, place_id, session.user.key, now,
                                            now + env.beneficiaries.code_validity):
            break
    else:  # pragma: no cover - 8 collisions among 3 * 10**8 codes
        raise RuntimeError("could not draw a free join code")
    await uow.beneficiaries.claim_code(code, now)
    await uow.users.create(key, None, now)
    beneficiary = await uow.beneficiaries.join(key, place_id, code, effect.name, True, now)
    await uow.sms.register(key, effect.phone, now)
    log.info("sms beneficiary %s registered by %s at place %s", key, session.user.key,
             place_id)
    place = await uow.places.get(place_id)
    offer = ui.offer_reply(await offers(session, beneficiary))
    session.send(key, [*sms_text.welcome(place.name if place else ""), *offer.texts],
                 offer.choices, action_menu=True)
    name = verbatim(effect.name) if effect.name else verbatim(printed(code))
    texts = [_("C'est fait : {name} va recevoir un premier SMS, avec les prochains ateliers. "
               "Son code pour le lieu : {code}.", name=name, code=verbatim(printed(code)))]
    if env.sms.sender:
        texts.append(_("Les SMS viendront du {phone} : la personne peut l'enregistrer dans "
                       "son téléphone.", phone=verbatim(sms_text.national(env.sms.sender))))
    session.say(*texts)


async def stop(session: Session, action: act.SmsStop, *, config: BeneficiaryConfig) -> None:
    """STOP: no more SMS at all (what waits is dropped, no reminder is planned), a help chat
    open is closed; the confirmation is the last SMS until START. On another platform, the
    bot no longer writes of its own, as "stop" does."""
    uow, key = session.uow, session.user.key
    beneficiary = await uow.beneficiaries.get(key)
    assert beneficiary is not None  # the router checked it
    if platform_of(key) != sms_text.PLATFORM:
        await set_consent(session, beneficiary, False, config.policy)
        session.say(ui.stopped())
        return
    dropped = await uow.sms.stop(key, session.now)
    await set_consent(session, beneficiary, False, config.policy)
    await uow.conversations.clear(key)
    ticket = await uow.help.current(key)
    if ticket is not None and await uow.help.close(ticket.id, session.now) \
            and ticket.mediator is not None:
        session.send(ticket.mediator, [_("La demande d'aide n° {id} est close : la personne "
                                         "a répondu STOP aux SMS.", id=ticket.id)])
    log.info("%s said STOP by SMS (%s waiting message(s) dropped)", key, dropped)
    session.say(sms_text.stopped())


async def start(session: Session, action: act.SmsStart, *, config: BeneficiaryConfig) -> None:
    """START: SMS again, and the reminders of the sessions booked planned again."""
    uow, key = session.uow, session.user.key
    beneficiary = await uow.beneficiaries.get(key)
    assert beneficiary is not None  # the router checked it
    restarted = await uow.sms.start(key) if platform_of(key) == sms_text.PLATFORM else False
    if not restarted and beneficiary.reminders:
        session.say(sms_text.already_started())
        return
    await set_consent(session, beneficiary, True, config.policy)
    log.info("%s said START", key)
    session.say(sms_text.started())


# --- Used by the reminders job, the SMS adapter and the figures ------------------------------

def reminder(territory: Territory, workshop: Workshop, place: Place | None) -> Reply:
    """A reminder worded for SMS (two SMS at most): the session, where, 1 or 2."""
    if place is None:
        return sms_text.reminder(workshop, None, None, None)
    return sms_text.reminder(workshop, place.name, place.address,
                             commune_name(territory, place.commune))


async def number_kept(uow: UnitOfWork, key: UserKey) -> list[Msg]:
    """Said with what is kept about a beneficiary: their mobile number, if they have one."""
    contact = await uow.sms.contact(key) if by_sms(key) else None
    if contact is None:
        return []
    return [sms_text.number_kept(contact.phone)]


def by_sms(key: UserKey) -> bool:
    return platform_of(key) == sms_text.PLATFORM


def known_as(beneficiary: Beneficiary) -> Msg:
    """How the place knows a person: the name staff gave, else the code."""
    return verbatim(beneficiary.first_name or printed(beneficiary.ref))


async def not_received(uow: UnitOfWork, key: UserKey, workshop_id: int | None,
                       now: datetime, coordinators: Sequence[UserKey]) -> int:
    """An SMS given up (refused or failed again and again): the place's staff are told, by
    the name or code they know, to reach the person another way (the coordination, for a
    person of no place). How many were told."""
    beneficiary = await uow.beneficiaries.get(key)
    if beneficiary is None:
        return 0
    workshop = await uow.workshops.get(workshop_id) if workshop_id is not None else None
    if workshop is not None:
        text = _("{name} n'a pas reçu son rappel par SMS pour l'atelier du {when}. "
                 "Prévenez cette personne autrement si vous pouvez.",
                 name=known_as(beneficiary), when=When(workshop.starts_at))
    else:
        text = _("{name} n'a pas reçu un SMS du réseau. Son téléphone est peut-être éteint "
                 "ou le numéro a changé.", name=known_as(beneficiary))
    staff: list[UserKey] = []
    if beneficiary.place_id is not None:
        staff = await uow.requests.place_staff(beneficiary.place_id)
    for member in staff or list(coordinators):
        await uow.outbox.add(Outgoing(member, (text,), priority=Priority.NOTICE), now)
    log.info("place of %s told an SMS was not received", key)
    return len(staff or coordinators)


async def usage_text(uow: UnitOfWork, months: Sequence[str],
                     month_label: Callable[[str], str]) -> Msg | None:
    """The SMS segments the gateway sent per month (``YYYY-MM``), for the coordination's
    figures: what SMS cost (a count of segments, not of people: shown as it is). None when
    no SMS went out in those months."""
    usage = await uow.sms.usage(months)
    if not any(usage.values()):
        return None
    lines = tuple(_("• {month} : {n}", month=verbatim(month_label(month)), n=n)
                  for month, n in usage.items() if n)
    return _("SMS envoyés (en segments de 160 caractères) : {total} en 12 mois.\n{lines}",
             total=sum(usage.values()), lines=Lines(lines))


def feature(env: Env) -> Feature:
    """Registering numbers, STOP and START; the settings are bound here."""
    config = env.beneficiaries
    return Feature(
        name="sms",
        flows=[FLOW],
        actions={act.SmsRegister: partial(register, env=env),
                 act.SmsStop: partial(stop, config=config),
                 act.SmsStart: partial(start, config=config)},
        effects={RegisterSms: partial(on_register, env=env)},
    )
