"""The after-donation service's periodic jobs: due workshop reminders queued in the outbox,
and the retention purge of beneficiaries long without a workshop and of dead join codes.

They run outside any message (``bot/scheduler.py``, and once at start), so they have no
session: each opens its own short transactions, and the territory comes from ``env``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from flows import beneficiary as ui
from flows.audit import AuditAction
from flows.beneficiary import BeneficiaryConfig
from flows.messages import Outgoing
from flows.ports import Storage
from flows.territory import Territory
from flows.text import to_json
from handlers.beneficiary_common import where
from handlers.session import Env, Feature, Job

log = logging.getLogger(__name__)

REMINDER_BATCH = 200
"""Due reminders queued per transaction (about 15 ms): the write lock and the event loop are
released between batches, so people's messages wait at most one batch."""
REMINDER_BATCHES = 500
"""At most this many batches per job run (100,000 reminders); the next tick does the rest.
One batch per run would cap a morning's burst at one batch per tick (every 5 minutes)."""


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
            places = {p.id: p for p in await uow.places.all()}
            batch = await uow.reminders.due(now, REMINDER_BATCH)
            for due in batch:
                beneficiary = await uow.beneficiaries.get(due.user)
                if (beneficiary is None or not beneficiary.reminders
                        or due.workshop.starts_at <= now):
                    await uow.reminders.mark(due.id, "skipped", now)
                    continue
                if not await uow.reminders.mark(due.id, "queued", now):
                    continue
                reply = ui.reminder(due.workshop,
                                    where(territory, places.get(due.workshop.place_id)))
                message = Outgoing(due.user, tuple(reply.texts), tuple(reply.choices),
                                   is_action_menu=True)
                await uow.outbox.add(message, now)
                await uow.menus.set(due.user,
                                    [(c.id, to_json(c.label)) for c in reply.choices])
                queued += 1
        if len(batch) < REMINDER_BATCH:
            break
    if queued:
        log.info("%s workshop reminders queued", queued)
    return queued


async def purge(storage: Storage, now: datetime, *, config: BeneficiaryConfig) -> int:
    """Retention: forget beneficiaries long after their last workshop; drop dead codes."""
    done = 0
    async with storage.transaction() as uow:
        done += await uow.beneficiaries.purge_codes(now - timedelta(days=1))
        for key in await uow.beneficiaries.inactive_since(now - config.retention):
            await uow.beneficiaries.forget(key)
            await uow.audit.record(None, AuditAction.DATA_DELETED, "beneficiary", now,
                                   "retention")
            await uow.conversations.clear(key)
            user = await uow.users.get(key)
            if user is not None and not user.is_professional:
                await uow.users.delete(key)
            done += 1
    return done


def feature(env: Env) -> Feature:
    """The reminders and retention jobs, with the settings and territory bound here."""
    config = env.beneficiaries
    return Feature(
        name="beneficiary_jobs",
        jobs=[Job("beneficiaries.reminders", config.reminders_every,
                  partial(send_due_reminders, config=config, territory=env.territory)),
              Job("beneficiaries.purge", config.purge_every, partial(purge, config=config))],
    )
