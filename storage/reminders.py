"""Workshop reminders as rows: pending until due, then queued with their outbox message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows.messages import UserKey
from flows.records import DueReminder, PlaceId, Workshop
from storage.connection import Connection
from storage.db import from_ts, ts


class SqliteReminderRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, workshop_id: int, user: UserKey, times: Sequence[datetime]) -> None:
        """Plan the reminders of one booking."""
        await self._conn.executemany(
            "INSERT INTO reminders (workshop_id, user_key, due_at) VALUES (?, ?, ?)",
            [(workshop_id, user, ts(t)) for t in times],
        )

    async def drop_pending(self, user: UserKey, workshop_id: int | None = None) -> int:
        """Forget the reminders not sent yet, of one booking or of all of a user's."""
        cur = await self._conn.execute(
            "DELETE FROM reminders WHERE status = 'pending' AND user_key = ?"
            " AND (CAST(? AS INTEGER) IS NULL OR workshop_id = ?)",
            (user, workshop_id, workshop_id),
        )
        return cur.rowcount

    async def pending_for(self, user: UserKey) -> list[datetime]:
        async with self._conn.execute(
            "SELECT due_at FROM reminders WHERE user_key = ? AND status = 'pending'"
            " ORDER BY due_at",
            (user,),
        ) as cur:
            return [from_ts(row["due_at"]) for row in await cur.fetchall()]

    async def due(self, now: datetime, limit: int) -> list[DueReminder]:
        """Pending reminders whose time has come, oldest first."""
        async with self._conn.execute(
            "SELECT r.id, r.user_key, w.id AS wid, w.place_id, w.topic, w.starts_at,"
            " w.minutes, w.seats, w.booked FROM reminders r"
            " JOIN workshops w ON w.id = r.workshop_id"
            " WHERE r.status = 'pending' AND r.due_at <= ? ORDER BY r.due_at, r.id LIMIT ?",
            (ts(now), limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            DueReminder(row["id"], UserKey(row["user_key"]), Workshop(
                row["wid"], PlaceId(row["place_id"]), row["topic"], from_ts(row["starts_at"]),
                row["minutes"], row["seats"], row["booked"]))
            for row in rows
        ]

    async def mark(self, reminder_id: int, status: str, now: datetime) -> bool:
        """Move a *pending* reminder to ``queued`` or ``skipped``; False if it was not pending
        (another run got there first), so the caller must not queue its message."""
        cur = await self._conn.execute(
            "UPDATE reminders SET status = ?, done_at = ? WHERE id = ? AND status = 'pending'",
            (status, ts(now), reminder_id),
        )
        return cur.rowcount == 1
