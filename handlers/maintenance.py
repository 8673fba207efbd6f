"""Housekeeping jobs of the foundation: forget what is no longer needed."""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.ports import Storage
from handlers.session import Feature, Job

EVENT_IDS_KEPT = timedelta(days=7)
"""Platforms redeliver within minutes or hours; a week of event ids is ample."""

SENT_MESSAGES_KEPT = timedelta(days=30)
"""Delivered messages are blanked at once; their bare delivery record goes after a month."""


async def purge_event_ids(storage: Storage, now: datetime) -> int:
    """Drop the ids of platform events handled more than a week ago."""
    async with storage.transaction() as uow:
        return await uow.events.purge_before(now - EVENT_IDS_KEPT)


async def purge_sent_messages(storage: Storage, now: datetime) -> int:
    """Drop the delivery records of messages sent or given up more than a month ago."""
    async with storage.transaction() as uow:
        return await uow.outbox.purge_done_before(now - SENT_MESSAGES_KEPT)


FEATURE = Feature(
    name="maintenance",
    jobs=[
        Job("maintenance.purge_event_ids", timedelta(hours=6), purge_event_ids),
        Job("maintenance.purge_sent_messages", timedelta(hours=6), purge_sent_messages),
    ],
)
