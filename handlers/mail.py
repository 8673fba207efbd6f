"""E-mail: what is queued for whom, a professional's choice, and the queue's retention.

Nothing here talks SMTP (``bot/mail.py`` sends). An e-mail is written to ``mail_outbox`` in
the transaction of the change that causes it, as a chat message is to the outbox, and only
when the network has a relay (``Env.mail``): without one, nothing is queued and nobody is
told an e-mail will come.

* A donor whose contact is an e-mail address gets the receipt and the certificate of their
  lot by e-mail as well as in the chat (:func:`mail_lot`, called by ``handlers/donations``);
  the impact report of the device chain goes the same way (:func:`mail_impact_report`).
* A professional who asked for it gets a copy of every notice the chat brings them
  (:func:`copy_notices`, called by the router for each handled message).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from flows import actions as act
from flows import mail_settings
from flows.mail_settings import SetMailAddress
from flows.mail_text import (
    Letter,
    also_by_mail,
    certificate_letter,
    impact_letter,
    notice_letter,
    receipt_letter,
    welcome_letter,
)
from flows.messages import Attachment
from flows.ports import Storage, UnitOfWork
from flows.records import Lot
from flows.text import Msg
from handlers.maintenance import PURGE_BATCH, in_batches
from handlers.session import Env, Feature, Job, Session

log = logging.getLogger(__name__)

DONE_MAILS_KEPT = timedelta(days=7)
"""An e-mail sent or given up is blanked at once (subject, body, attachment, whose it was);
its bare record (kind, lot, when, attempts, the relay's last answer without any address)
goes after a week, like a chat message's."""


def has_mail_address(lot: Lot) -> bool:
    """Whether the donor gave an e-mail address (rather than a phone) as their contact."""
    return bool(lot.reach) and "@" in (lot.reach or "")


async def mail_lot(uow: UnitOfWork, lot: Lot, letter: Letter, attachment: Attachment,
                   now: datetime, *, enabled: bool) -> Msg | None:
    """Queue a donor's e-mail about ``lot`` (receipt, certificate, impact report) with its
    PDF, when e-mail is on and the donor's contact is an e-mail address; returns what to
    tell the donor in the chat beside the document (``None``: no e-mail)."""
    if not enabled or not has_mail_address(lot):
        return None
    mail_id = await uow.mail.add(letter, attachment, now, lot_id=lot.id, owner=lot.donor)
    log.info("mail %s queued: %s of lot %s", mail_id, letter.kind.value, lot.reference)
    return also_by_mail(letter.kind)


async def mail_receipt(uow: UnitOfWork, lot: Lot, attachment: Attachment, now: datetime, *,
                       enabled: bool) -> Msg | None:
    """The receipt of a declared lot, by e-mail too."""
    return await mail_lot(uow, lot, receipt_letter(lot.reference), attachment, now,
                          enabled=enabled)


async def mail_certificate(uow: UnitOfWork, lot: Lot, code: str, check_url: str | None,
                           attachment: Attachment, now: datetime, *,
                           enabled: bool) -> Msg | None:
    """The erasure certificate of a lot, by e-mail too."""
    return await mail_lot(uow, lot, certificate_letter(lot.reference, code, check_url),
                          attachment, now, enabled=enabled)


async def mail_impact_report(uow: UnitOfWork, lot: Lot, attachment: Attachment, now: datetime,
                             *, enabled: bool) -> Msg | None:
    """The hook for the device chain: a lot's impact report (what became of each device),
    by e-mail too, in the transaction that produces it. Call it with ``enabled=env.mail``
    and show the returned text beside the chat copy."""
    return await mail_lot(uow, lot, impact_letter(lot.reference), attachment, now,
                          enabled=enabled)


async def copy_notices(session: Session) -> None:
    """E-mail a copy of the notices this message brings to professionals who asked for it.

    A notice is a message to someone other than the person who wrote (a request routed to a
    place, a status change, an access to decide, a coordinator's message to prescribers); a
    reply, and an edit of a message already shown, are not. One look-up, only when there
    are notices.
    """
    notices = [m for m in session.outgoing
               if m.to != session.user.key and m.replaces is None and m.texts]
    if not notices:
        return
    subscribed = await session.uow.mail.subscribed(sorted({m.to for m in notices}))
    for message in notices:
        if message.to in subscribed:
            await session.uow.mail.add(notice_letter(message.texts, bool(message.choices)),
                                       message.attachment, session.now, owner=message.to)


# --- A professional's choice ---------------------------------------------------------------


async def show_settings(session: Session, action: act.MailSettings, *, enabled: bool) -> None:
    """Where the professional's notices go, and what they can change."""
    if not enabled:
        session.say(mail_settings.MAIL_OFF)
        return
    address = await session.uow.mail.address_of(session.user.key)
    session.reply(mail_settings.settings_reply(address), action_menu=True)


async def ask_address(session: Session, action: act.MailAddress, *, enabled: bool) -> None:
    if not enabled:
        session.say(mail_settings.MAIL_OFF)
        return
    await session.start_flow(mail_settings.FLOW_NAME)


async def set_address(session: Session, effect: SetMailAddress, *, enabled: bool) -> None:
    """Store the address (replacing one before) and send it the welcome e-mail."""
    if not enabled:
        session.say(mail_settings.MAIL_OFF)
        return
    key = session.user.key
    await session.uow.mail.set_address(key, effect.address, session.now)
    await session.uow.mail.add(welcome_letter(), None, session.now, owner=key)
    log.info("%s gets their notices by e-mail too", key)
    session.say(mail_settings.address_set(effect.address))


async def stop(session: Session, action: act.MailStop) -> None:
    """No more e-mails: the address and what waits for it are deleted."""
    if await session.uow.mail.remove_address(session.user.key):
        log.info("%s stopped their notices by e-mail", session.user.key)
        session.say(mail_settings.STOPPED)
    else:
        session.say(mail_settings.NOTHING_TO_STOP)


# --- Retention -----------------------------------------------------------------------------


async def purge_done_mails(storage: Storage, now: datetime) -> int:
    """Forget the bare records of e-mails sent or given up more than a week ago."""
    return await in_batches(storage, lambda uow: uow.mail.purge_done_before(
        now - DONE_MAILS_KEPT, PURGE_BATCH))


def feature(env: Env) -> Feature:
    """E-mail: a professional's notices by e-mail, and the queue's retention."""
    return Feature(
        name="mail",
        flows=[mail_settings.FLOW],
        actions={act.MailSettings: partial(show_settings, enabled=env.mail),
                 act.MailAddress: partial(ask_address, enabled=env.mail),
                 act.MailStop: stop},
        effects={SetMailAddress: partial(set_address, enabled=env.mail)},
        jobs=[Job("mail.purge_done", timedelta(hours=24), purge_done_mails)],
    )

