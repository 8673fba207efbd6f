"""Platform event ids already handled, so a redelivered event is handled once."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Connection
from storage.db import NO_LIMIT, ts


class SqliteEventRepo:
    """A set of event ids with the time they were first seen (purged after a while)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def first_time(self, event_id: str, now: datetime) -> bool:
        cur = await self._conn.execute(
            "INSERT INTO processed_events (event_id, seen_at) VALUES (?, ?)"
            " ON CONFLICT (event_id) DO NOTHING",
            (event_id, ts(now)),
        )
        return cur.rowcount == 1

    async def purge_before(self, when: datetime, limit: int = NO_LIMIT) -> int:
        cur = await self._conn.execute(
            "DELETE FROM processed_events WHERE event_id IN (SELECT event_id FROM processed_events"
            " WHERE seen_at < ? LIMIT ?)", (ts(when), limit)
        )
        return cur.rowcount
