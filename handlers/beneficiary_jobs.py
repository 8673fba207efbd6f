"""The after-donation service's periodic jobs: due workshop reminders queued in the outbox,
and the retention purge of beneficiaries long without a workshop and of dead join codes.

They run outside any message (``bot/scheduler.py``, and once at start), so they have no
session: each opens its own short transactions, and the territory comes from ``env``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from functools import partial

from flows import beneficiary as ui
from flows.audit import AuditAction
from flows.beneficiary import BeneficiaryConfig
from flows.messages import Outgoing, Priority, UserKey
from flows.ports import Storage, UnitOfWork
from flows.records import Place, PlaceId
from flows.territory import Territory
from flows.text import to_json
from handlers import sms_people
from handlers.beneficiary_common import where
from handlers.reservation_audit import forgetting
from handlers.session import Env, Feature, Job

log = logging.getLogger(__name__)

REMINDER_BATCH = 100
"""Due reminders queued per transaction (about 10 ms with a country's data): the write lock
and the event loop are released between batches, so people's messages wait at most one
batch (200 held the loop twice as long, and a wake-up that takes two turns of the loop, a
message arriving, waited for two)."""
REMINDER_BATCHES = 1_000
"""At most this many batches per job run (100,000 reminders); the next tick does the rest.
One batch per run would cap a morning's burst at one batch per tick (every 5 minutes)."""
RETENTION_SCAN = 1_000
"""Beneficiaries the retention purge reads per transaction, in key order (a few ms): a
country's 200,000 read at once held the event loop for a quarter of a second."""
RETENTION_BATCH = 10
"""Beneficiaries forgotten per transaction at most (each a dozen statements, and the messages
of their last week scattered over the outbox's pages: 1 to 12 ms for ten): the loop and the
write lock are released between two, so people's messages wait at most one batch."""


async def send_due_reminders(storage: Storage, now: datetime, *, config: BeneficiaryConfig,
                             territory: Territory) -> int:
    """Queue every due reminder in the outbox, each marked in the same transaction, so a
    restart neither loses nor repeats one. Nothing goes out in the quiet hours."""
    if not config.policy.may_send(now):
        return 0
    queued = 0
    # Batch after batch, each in its own short transaction (people's messages get the
    # write lock in between), until the morning's burst is all queued.
    for _batch in range(REMINDER_BATCHES):
        async with storage.transaction() as uow:
            batch = await uow.reminders.due(now, REMINDER_BATCH)
            places: dict[PlaceId, Place] = {}  # the batch's, not the country's thousand
            for place_id in {due.workshop.place_id for due in batch}:
                place = await uow.places.get(place_id)
                if place is not None:
                    places[place_id] = place
            for due in batch:
                beneficiary = await uow.beneficiaries.get(due.user)
                if (beneficiary is None or not beneficiary.reminders
                        or beneficiary.paused_at is not None
                        or due.workshop.starts_at <= now):
                    await uow.reminders.mark(due.id, "skipped", now)
                    continue
                if not await uow.reminders.mark(due.id, "queued", now):
                    continue
                place = places.get(due.workshop.place_id)
                reply = (sms_people.reminder(territory, due.workshop, place)  # two SMS at most
                         if sms_people.by_sms(due.user)
                         else ui.reminder(due.workshop, where(territory, place, config.policy.tz)))
                message = Outgoing(due.user, tuple(reply.texts), tuple(reply.choices),
                                   is_action_menu=True, priority=Priority.BULK)
                await uow.outbox.add(message, now)
                await uow.menus.set(due.user,
                                    [(c.id, to_json(c.label)) for c in reply.choices])
                queued += 1
        if len(batch) < REMINDER_BATCH:
            break
        await asyncio.sleep(0)  # people's messages between two batches, however short
    if queued:
        log.info("%s workshop reminders queued", queued)
    return queued


async def purge(storage: Storage, now: datetime, *, config: BeneficiaryConfig) -> int:
    """Retention: forget beneficiaries long after their last workshop; drop dead codes.

    Batch after batch, each in its own short transaction: who is inactive is read in the
    transaction that forgets them, so someone who booked meanwhile is kept.
    """
    done = 0
    async with storage.transaction() as uow:
        done += await uow.beneficiaries.purge_codes(now - timedelta(days=1))
    before = now - config.retention
    after = ""
    while True:
        forgotten = 0
        async with storage.transaction() as uow:
            page = await uow.beneficiaries.inactive_since(before, after, RETENTION_SCAN)
            for key, inactive in page:
                if inactive and forgotten == RETENTION_BATCH:
                    break  # this one and the rest of the page: next transaction
                after = key
                if inactive:
                    await forget_inactive(uow, key, now)
                    forgotten += 1
        done += forgotten
        if not page or (after == page[-1][0] and len(page) < RETENTION_SCAN):
            return done
        await asyncio.sleep(0)  # people's messages between two batches


async def forget_inactive(uow: UnitOfWork, key: UserKey, now: datetime) -> None:
    """Everything about a beneficiary past the retention, at once (their account too, if it
    was only a beneficiary's)."""
    await forgetting(uow, key, now)
    await uow.beneficiaries.forget(key)
    await uow.audit.record(None, AuditAction.DATA_DELETED, "beneficiary", now, "retention")
    await uow.conversations.clear(key)
    user = await uow.users.get(key)
    if user is not None and not user.is_professional:
        await uow.users.delete(key)


def feature(env: Env) -> Feature:
    """The reminders and retention jobs, with the settings and territory bound here."""
    config = env.beneficiaries
    return Feature(
        name="beneficiary_jobs",
        jobs=[Job("beneficiaries.reminders", config.reminders_every,
                  partial(send_due_reminders, config=config, territory=env.territory)),
              Job("beneficiaries.purge", config.purge_every, partial(purge, config=config))],
    )
