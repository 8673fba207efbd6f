"""Workshop sessions published by places."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from flows.records import PlaceId, Workshop
from storage.db import from_ts, ts


class SqliteWorkshopRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def upcoming(self, now: datetime, limit: int) -> list[Workshop]:
        async with self._conn.execute(
            "SELECT id, place_id, topic, starts_at, minutes, seats, booked FROM workshops"
            " WHERE starts_at >= ? ORDER BY starts_at LIMIT ?",
            (ts(now), limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            Workshop(row["id"], PlaceId(row["place_id"]), row["topic"],
                     from_ts(row["starts_at"]), row["minutes"], row["seats"], row["booked"])
            for row in rows
        ]

    async def add(
        self, place_id: PlaceId, topic: str, starts_at: datetime, minutes: int, seats: int
    ) -> int:
        cur = await self._conn.execute(
            "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats)"
            " VALUES (?, ?, ?, ?, ?)",
            (place_id, topic, ts(starts_at), minutes, seats),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid
