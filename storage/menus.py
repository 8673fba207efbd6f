"""The last action menu shown to each user (answerable by number on text platforms)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flows.messages import UserKey
from storage.connection import Connection


class SqliteMenuRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def set(self, key: UserKey, choices: Sequence[tuple[str, Any]]) -> None:
        await self._conn.execute(
            "INSERT INTO menus (user_key, choices) VALUES (?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET choices = excluded.choices",
            (key, json.dumps([list(c) for c in choices], ensure_ascii=False)),
        )

    async def get(self, key: UserKey) -> list[tuple[str, Any]]:
        rows = await self._conn.execute_fetchall(  # one round trip to the SQLite thread
            "SELECT choices FROM menus WHERE user_key = ?", (key,)
        )
        row = next(iter(rows), None)
        return [tuple(c) for c in json.loads(row["choices"])] if row else []  # type: ignore[misc]
