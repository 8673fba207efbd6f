"""Chats a platform refused the bot's messages to: blocked, or never opened."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.messages import UserKey
from flows.ports import Unreached
from storage.connection import Connection
from storage.db import NO_LIMIT, ts


class SqliteReachRepo:
    """At most one row a recipient; none for everyone the bot can write to."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def refused(self, key: UserKey, reason: Unreached, now: datetime) -> None:
        """The platform refused a message to ``key`` (or said they blocked the bot)."""
        await self._conn.execute(
            "INSERT INTO unreachable (recipient, reason, since) VALUES (?, ?, ?)"
            " ON CONFLICT (recipient) DO UPDATE SET reason = excluded.reason",
            (key, reason.value, ts(now)),
        )

    async def back(self, key: UserKey) -> bool:
        """``key`` wrote or opened the chat again: True if they had been unreachable."""
        cur = await self._conn.execute("DELETE FROM unreachable WHERE recipient = ?", (key,))
        return cur.rowcount > 0

    async def purge(self, before: datetime, limit: int = NO_LIMIT) -> int:
        """Forget the chats known unreachable since before ``before`` of people who are not
        users (any more) and have nothing waiting: nothing would be sent to them anyway."""
        cur = await self._conn.execute(
            "DELETE FROM unreachable WHERE recipient IN (SELECT recipient FROM unreachable"
            " WHERE since < ?"
            " AND recipient NOT IN (SELECT key FROM users)"
            " AND recipient NOT IN (SELECT recipient FROM outbox WHERE status = 'pending')"
            " LIMIT ?)", (ts(before), limit))
        return cur.rowcount

    async def blocked_among(self, keys: Sequence[UserKey]) -> set[UserKey]:
        """Those of ``keys`` who blocked the bot."""
        rows = await self._conn.execute_fetchall(
            "SELECT recipient FROM unreachable WHERE reason = 'blocked'"
            " AND recipient IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),))
        return {UserKey(row[0]) for row in rows}
