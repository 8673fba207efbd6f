"""Users and their approved role."""

from __future__ import annotations

from datetime import datetime

from flows.messages import UserKey
from flows.records import PlaceId, Role, User
from storage.connection import Connection, Row
from storage.db import from_ts, ts


class SqliteUserRepo:
    """Users of every platform, keyed by their namespaced user key."""

    def __init__(self, conn: Connection, coordinators: frozenset[str]) -> None:
        self._conn = conn
        self._coordinators = coordinators

    def _user(self, row: Row) -> User:
        return User(
            key=UserKey(row["key"]),
            lang=row["lang"],
            created_at=from_ts(row["created_at"]),
            role=Role(row["role"]) if row["role"] else None,
            place_id=PlaceId(row["place_id"]) if row["place_id"] is not None else None,
            is_coordinator=row["key"] in self._coordinators,
            unreached=row["unreached"] is not None,
        )

    async def get(self, key: UserKey) -> User | None:
        rows = await self._conn.execute_fetchall(  # one round trip to the SQLite thread
            "SELECT key, lang, role, place_id, created_at, unreachable.reason AS unreached"
            " FROM users LEFT JOIN unreachable ON unreachable.recipient = users.key"
            " WHERE key = ?", (key,)
        )
        return self._user(next(iter(rows))) if rows else None

    async def create(self, key: UserKey, lang: str | None, now: datetime) -> User:
        await self._conn.execute(
            "INSERT INTO users (key, lang, created_at, number)"
            " VALUES (?, ?, ?, (SELECT coalesce(max(number), 0) + 1 FROM users))"
            " ON CONFLICT (key) DO NOTHING",
            (key, lang, ts(now)),
        )
        user = await self.get(key)
        assert user is not None
        return user

    async def set_lang(self, key: UserKey, lang: str) -> None:
        await self._conn.execute("UPDATE users SET lang = ? WHERE key = ?", (lang, key))

    async def set_role(self, key: UserKey, role: Role | None, place_id: PlaceId | None) -> None:
        await self._conn.execute(
            "UPDATE users SET role = ?, place_id = ? WHERE key = ?",
            (role.value if role else None, place_id, key),
        )

    async def delete(self, key: UserKey) -> None:
        """Forget a user: their conversations and requests go with them (cascade)."""
        await self._conn.execute("DELETE FROM menus WHERE user_key = ?", (key,))
        await self._conn.execute("DELETE FROM unreachable WHERE recipient = ?", (key,))
        await self._conn.execute("DELETE FROM users WHERE key = ?", (key,))
