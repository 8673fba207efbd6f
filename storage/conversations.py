"""Where each user stands in a flow, saved after every accepted answer."""

from __future__ import annotations

import json
from datetime import datetime

from flows.engine import Conversation
from flows.messages import UserKey
from flows.ports import SavedConversation
from storage.connection import Connection
from storage.db import NO_LIMIT, from_ts, ts


class SqliteConversationRepo:
    """At most one live conversation per user."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, key: UserKey) -> SavedConversation | None:
        rows = await self._conn.execute_fetchall(  # one round trip to the SQLite thread
            "SELECT state, updated_at FROM conversations WHERE user_key = ?", (key,)
        )
        row = next(iter(rows), None)
        if row is None:
            return None
        return SavedConversation(
            Conversation.from_json(json.loads(row["state"])), from_ts(row["updated_at"])
        )

    async def save(self, key: UserKey, conversation: Conversation, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO conversations (user_key, state, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (key, json.dumps(conversation.to_json(), ensure_ascii=False), ts(now)),
        )

    async def clear(self, key: UserKey) -> None:
        await self._conn.execute("DELETE FROM conversations WHERE user_key = ?", (key,))

    async def purge_idle(self, before: datetime, limit: int = NO_LIMIT) -> int:
        """Delete conversations not answered since ``before`` (answers typed, never sent)."""
        cur = await self._conn.execute(
            "DELETE FROM conversations WHERE user_key IN (SELECT user_key FROM conversations"
            " WHERE updated_at < ? LIMIT ?)", (ts(before), limit)
        )
        return cur.rowcount
