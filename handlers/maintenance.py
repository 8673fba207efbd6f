"""Housekeeping jobs of the foundation: forget what is no longer needed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.audit import AuditAction
from flows.ports import Storage, UnitOfWork
from handlers.session import Env, Feature, Job

EVENT_IDS_KEPT = timedelta(days=7)
"""Platforms redeliver within minutes or hours; a week of event ids is ample."""

SENT_MESSAGES_KEPT = timedelta(days=7)
"""Delivered messages are blanked at once; their bare delivery record (who, when, how many
attempts, the platform's last error) goes after a week: long enough to look into "I never got
the message", and nothing else reads it."""

ACCESS_REQUESTS_KEPT = timedelta(days=90)
"""Default of ``FILIERE_ACCESS_REQUEST_RETENTION_DAYS``: who asked for an access that was
refused or withdrawn is blanked three months after the decision, time enough for them to ask
why, contest it or apply again, and for the coordination to answer."""

EXPIRED_CONVERSATIONS_KEPT = timedelta(days=1)
"""A conversation left unanswered past its time to live (``FILIERE_CONVERSATION_TTL_HOURS``)
is ended when the person writes again, and they are told so; one never taken up again (an
access request dropped after the name and phone) is deleted a day after it expired: the
answers in it were never sent to anyone."""

BARE_ACCOUNTS_KEPT = timedelta(days=365)
"""Someone who only looked (the places, the workshops) or dropped a conversation leaves an
account: their platform key and language. Nothing refers to it, so it is deleted a year after
it was made; if they come back they are greeted as new and their language is asked or taken
from the platform again. (Accounts are not timed by their last message: recording that would
cost a write on every message.)"""

WAITING_FOR_A_FIRST_MESSAGE = timedelta(days=30)
"""A message to someone who never opened the bot (a coordinator named in the settings who has
not written yet) waits for them a month; then it is given up, and its text blanked, as any
message that cannot be delivered. Who could not be reached is forgotten after as long, once
nothing waits for them and they are not a user."""


PURGE_BATCH = 5_000
"""Rows deleted per transaction. A country's network handles hundreds of thousands of events
between two runs; deleting them in one statement would hold the write lock (and the event
loop, where statements run) for seconds. A batch takes milliseconds, and people's messages
get their turn between two."""

SENT_PURGE_BATCH = 250
"""Delivery records deleted per transaction: each also leaves the index of its recipient's
messages (how "forget me" finds them), on a page of its own, about 60 µs a row with a
country's million; 5,000 a batch held the loop a third of a second, 500 up to 50 ms."""


@dataclass(frozen=True)
class MaintenanceConfig:
    """Retention settings of the housekeeping jobs, read once by ``bot/``."""

    access_requests_kept: timedelta = ACCESS_REQUESTS_KEPT
    conversation_ttl: timedelta = timedelta(hours=24)


async def in_batches(storage: Storage, purge: Callable[[UnitOfWork], Awaitable[int]],
                     batch: int = PURGE_BATCH) -> int:
    """Run ``purge`` (deleting at most ``batch`` rows) until it deletes fewer, giving the
    loop back between two."""
    total = 0
    while True:
        async with storage.transaction() as uow:
            done = await purge(uow)
        total += done
        if done < batch:
            return total
        await asyncio.sleep(0)  # people's messages between two batches, however short


async def purge_event_ids(storage: Storage, now: datetime) -> int:
    """Drop the ids of platform events handled more than a week ago."""
    return await in_batches(storage, lambda uow: uow.events.purge_before(
        now - EVENT_IDS_KEPT, PURGE_BATCH))


async def purge_sent_messages(storage: Storage, now: datetime) -> int:
    """Drop the delivery records of messages sent or given up more than a week ago."""
    return await in_batches(storage, lambda uow: uow.outbox.purge_done_before(
        now - SENT_MESSAGES_KEPT, SENT_PURGE_BATCH), SENT_PURGE_BATCH)


async def blank_ended_access_requests(storage: Storage, now: datetime,
                                      kept: timedelta = ACCESS_REQUESTS_KEPT) -> int:
    """Blank who asked on access requests refused or withdrawn longer than ``kept`` ago."""
    blanked = await in_batches(storage, lambda uow: uow.access.blank_ended(
        now - kept, PURGE_BATCH))
    if blanked:
        async with storage.transaction() as uow:
            await uow.audit.record(None, AuditAction.DATA_DELETED, "access requests", now,
                                   f"refused or withdrawn, blanked: {blanked}")
    return blanked


async def purge_abandoned_conversations(storage: Storage, now: datetime,
                                        ttl: timedelta = timedelta(hours=24)) -> int:
    """Delete conversations unanswered for their time to live and a day more."""
    return await in_batches(storage, lambda uow: uow.conversations.purge_idle(
        now - ttl - EXPIRED_CONVERSATIONS_KEPT, PURGE_BATCH))


async def purge_bare_accounts(storage: Storage, now: datetime) -> int:
    """Delete accounts older than a year that nothing refers to any more."""
    return await in_batches(storage, lambda uow: uow.privacy.purge_bare_accounts(
        now - BARE_ACCOUNTS_KEPT, PURGE_BATCH))


async def give_up_waiting_messages(storage: Storage, now: datetime) -> int:
    """Give up what waited a month for someone who never opened the bot; forget who could
    not be reached once nothing waits for them."""
    given_up = await in_batches(storage, lambda uow: uow.outbox.give_up_waiting(
        now - WAITING_FOR_A_FIRST_MESSAGE, now, PURGE_BATCH))
    return given_up + await in_batches(storage, lambda uow: uow.reach.purge(
        now - WAITING_FOR_A_FIRST_MESSAGE, PURGE_BATCH))


def feature(env: Env) -> Feature:
    """The housekeeping jobs, with the retention settings ``bot/`` read."""

    async def access_requests(storage: Storage, now: datetime) -> int:
        return await blank_ended_access_requests(storage, now, env.access_requests_kept)

    async def conversations(storage: Storage, now: datetime) -> int:
        return await purge_abandoned_conversations(storage, now, env.conversation_ttl)

    return Feature(
        name="maintenance",
        jobs=[
            Job("maintenance.purge_event_ids", timedelta(hours=6), purge_event_ids),
            Job("maintenance.purge_sent_messages", timedelta(hours=6), purge_sent_messages),
            Job("maintenance.blank_access_requests", timedelta(hours=6), access_requests),
            Job("maintenance.purge_conversations", timedelta(hours=6), conversations),
            Job("maintenance.purge_bare_accounts", timedelta(hours=24), purge_bare_accounts),
            Job("maintenance.give_up_waiting_messages", timedelta(hours=24),
                give_up_waiting_messages),
        ],
    )
