"""Housekeeping jobs of the foundation: forget what is no longer needed."""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.ports import Storage
from handlers.session import Feature, Job

EVENT_IDS_KEPT = timedelta(days=7)
"""Platforms redeliver within minutes or hours; a week of event ids is ample."""


async def purge_event_ids(storage: Storage, now: datetime) -> int:
    """Drop the ids of platform events handled more than a week ago."""
    async with storage.transaction() as uow:
        return await uow.events.purge_before(now - EVENT_IDS_KEPT)


FEATURE = Feature(
    name="maintenance",
    jobs=[Job("maintenance.purge_event_ids", timedelta(hours=6), purge_event_ids)],
)
