"""Joining the after-donation service with a one-time code a place handed over.

Someone arrives by the "J'ai reçu un ordinateur" door, a code typed as printed
(``REJ 7K3 M9P``) or a Telegram deep link (``/start <code>``). The code is checked, then their
language asked; only then is the code used (once) and the person registered, and the first
name and the yes/no to messages follow in the ``beneficiary.join`` flow. ``stop`` is how a
beneficiary says the bot must no longer write to them. Nothing a beneficiary types is logged.
"""

from __future__ import annotations

import logging
from functools import partial

from flows import actions as act
from flows import beneficiary as ui
from flows.beneficiary import CODE_FLOW, JOIN_FLOW, BeneficiaryConfig, CheckCode, Join
from flows.devices import LINK_PREFIX
from flows.home import LANGUAGES
from flows.home import home as front_door
from flows.joincode import Verdict, check, read
from handlers.beneficiary_common import (
    UNKNOWN_BUTTON,
    home,
    offers,
    set_consent,
    show_menu,
)
from handlers.devices import open_label
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)


async def got_computer(session: Session, action: act.GotDoor, *,
                       config: BeneficiaryConfig) -> None:
    """The "I received a computer" door: the menu of a beneficiary, or "type your code"."""
    beneficiary = await session.uow.beneficiaries.get(session.user.key)
    if beneficiary is not None:
        session.reply(await home(session, beneficiary, config.path_length), action_menu=True)
        return
    await session.start_flow(CODE_FLOW)


async def try_code(session: Session, code: str | None) -> None:
    """Someone brought a code (deep link, typed, or at the door): check it, then ask their
    language. Nothing is stored until they pick it."""
    uow = session.uow
    beneficiary = await uow.beneficiaries.get(session.user.key)
    if beneficiary is not None:
        show_menu(session, beneficiary, ui.already_joined())
        return
    verdict = Verdict.UNKNOWN if code is None else check(
        await uow.beneficiaries.code(code), session.now)
    if code is None or verdict is not Verdict.OK:
        log.info("join code refused for %s: %s", session.user.key, verdict)
        session.say(ui.code_refused(verdict))
        session.reply(front_door(session.user, False), action_menu=True)
        return
    await uow.conversations.clear(session.user.key)
    session.reply(ui.welcome_language(code), action_menu=True)


async def choose_language(session: Session, action: act.JoinLanguage) -> None:
    """The person picked a language: the code is used (once) and they are registered, with
    no name and no reminders until they answer the next two questions. The language is
    applied at once, so those questions come in it."""
    if action.lang not in LANGUAGES:
        session.say(UNKNOWN_BUTTON)
        return
    uow, key, now = session.uow, session.user.key, session.now
    lang, code = action.lang, read(action.code)
    existing = await uow.beneficiaries.get(key)
    if existing is not None:
        show_menu(session, existing, ui.already_joined())
        return
    state = await uow.beneficiaries.code(code) if code else None
    verdict = check(state, now)
    if (code is None or state is None or verdict is not Verdict.OK
            or not await uow.beneficiaries.claim_code(code, now)):
        session.say(ui.code_refused(verdict if verdict is not Verdict.OK else Verdict.USED))
        session.reply(front_door(session.user, False), action_menu=True)
        return
    await uow.beneficiaries.join(key, state.place_id, code, None, False, now)
    await uow.users.set_lang(key, lang)
    log.info("beneficiary %s joined at place %s", key, state.place_id)
    await session.start_flow(JOIN_FLOW)


async def on_join(session: Session, effect: Join, *, config: BeneficiaryConfig) -> None:
    """Keep the first name and the yes/no; show what is kept, the kit and the menu."""
    uow, key = session.uow, session.user.key
    beneficiary = await uow.beneficiaries.get(key)
    if beneficiary is None:
        session.say(ui.not_joined())
        session.reply(front_door(session.user, False), action_menu=True)
        return
    await uow.beneficiaries.set_first_name(key, effect.first_name)
    await set_consent(session, beneficiary, effect.reminders, config.policy)
    beneficiary = await uow.beneficiaries.get(key)
    assert beneficiary is not None
    offered = await offers(session, beneficiary)
    session.reply(ui.joined(effect.reminders, offered[0] if offered else None),
                  action_menu=True)


async def on_check_code(session: Session, effect: CheckCode) -> None:
    """The code typed after the door ("type your code"), or none."""
    if effect.code is None:
        session.say(ui.no_code())
        session.reply(front_door(session.user, False), action_menu=True)
        return
    await try_code(session, effect.code)


async def command_start(session: Session, text: str, *, config: BeneficiaryConfig) -> None:
    """``/start`` alone shows the menu; ``/start <code>`` (Telegram deep link) joins;
    ``/start d-<label>`` is a device's sticker scanned (``handlers/devices.py``; while a
    question asks for a device, the router gives it the label instead: ``handlers/core.py``)."""
    parts = text.split(maxsplit=1)
    if len(parts) == 2 and parts[1].lower().startswith(LINK_PREFIX):
        await open_label(session, parts[1])
        return
    if len(parts) == 2:
        await try_code(session, read(parts[1]))
        return
    await session.uow.conversations.clear(session.user.key)
    beneficiary = await session.uow.beneficiaries.get(session.user.key)
    if beneficiary is not None:
        session.reply(await home(session, beneficiary, config.path_length), action_menu=True)
        return
    first_time = session.user.created_at == session.now
    session.reply(front_door(session.user, first_time), action_menu=True)


async def command_code(session: Session, text: str) -> None:
    """A code typed as printed, ``REJ 7K3 M9P``: its first word is this command."""
    await try_code(session, read(text))


async def command_stop(session: Session, text: str, *, config: BeneficiaryConfig) -> None:
    """"Stop": the bot no longer writes to a beneficiary on its own."""
    beneficiary = await session.uow.beneficiaries.get(session.user.key)
    if beneficiary is None:
        session.reply(front_door(session.user, False), action_menu=True)
        return
    await set_consent(session, beneficiary, False, config.policy)
    session.say(ui.stopped())


def feature(env: Env) -> Feature:
    """Joining with a code, and ``stop``; the settings are bound here."""
    config = env.beneficiaries
    return Feature(
        name="joining",
        flows=[ui.JOIN, ui.CODE],
        actions={act.GotDoor: partial(got_computer, config=config),
                 act.JoinLanguage: choose_language},
        effects={Join: partial(on_join, config=config), CheckCode: on_check_code},
        commands={"start": partial(command_start, config=config),
                  "join": command_code,
                  "stop": partial(command_stop, config=config)},
    )
