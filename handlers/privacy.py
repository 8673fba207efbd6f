"""A professional deletes their own data from their space (rules and texts: ``flows.privacy``).

Two buttons, both checked on every press whatever they say: ``pv:erase`` (what goes, what
stays, and the confirmation) and ``pv:erase:ok`` (:func:`erase_professional`, which does
everything). Prescribers, place staff and reconditioners may; coordinators are told that their
role lives in the settings; anyone else is told the action is not theirs.
"""

from __future__ import annotations

import logging

from flows import actions as act
from flows import privacy
from flows.audit import AuditAction
from flows.text import _
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)


async def _refused(session: Session) -> bool:
    """Tell the person why not, if they may not delete their professional data now."""
    user = session.user
    open_requests: list[str] = []
    if user.role is not None and not user.is_coordinator:
        open_requests = await session.uow.privacy.open_requests(user.key)
    why = privacy.refusal(user, open_requests)
    if why is None:
        return False
    if why is privacy.Refusal.COORDINATOR:
        log.info("coordinator %s asked to delete their professional data", user.key)
    session.say(privacy.refusal_text(why, open_requests))
    return True


async def ask_erase_professional(session: Session) -> None:
    """``pv:erase``: what goes and what stays, then the confirmation."""
    if await _refused(session):
        return
    session.reply(privacy.question(), action_menu=True)


async def erase_professional(session: Session) -> None:
    """``pv:erase:ok``: a prescriber, place staff member or reconditioner ends their access;
    their details are blanked and their conversation, menu and waiting messages deleted at
    once (``storage.privacy``); what others rely on stays (``flows.privacy``)."""
    if await _refused(session):
        return
    uow = session.uow
    latest = await uow.access.latest_for(session.user.key)
    if not await uow.privacy.erase_professional(session.user.key, session.now):
        session.say(_("C'est déjà fait : vous n'avez plus d'accès professionnel."))
        return
    assert session.user.role is not None
    await uow.audit.record(None, AuditAction.DATA_DELETED,
                           f"access:{latest.id}" if latest else "professional", session.now,
                           f"{session.user.role.value}, asked by the person")
    log.info("professional %s deleted their data", session.user.key)
    session.say(privacy.erased())


async def ask_action(session: Session, action: act.EraseMyData) -> None:
    await ask_erase_professional(session)


async def erase_action(session: Session, action: act.EraseMyDataYes) -> None:
    await erase_professional(session)


def feature(env: Env) -> Feature:
    """A professional deletes their own data."""
    return Feature(name="privacy", actions={act.EraseMyData: ask_action,
                                            act.EraseMyDataYes: erase_action})
