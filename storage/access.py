"""Access requests of professionals and the coordinators' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.messages import UserKey
from flows.records import AccessRequest, AccessRequestId, AccessStatus, Role
from storage.connection import Connection, Row, inserted_id
from storage.db import NO_LIMIT, from_ts, ts

_SELECT = (
    "SELECT id, user_key, role, structure, address, commune, contact_name, function, phone,"
    " status, created_at, decided_by, decided_at FROM access_requests"
)


def _request(row: Row) -> AccessRequest:
    return AccessRequest(
        id=AccessRequestId(row["id"]),
        user=UserKey(row["user_key"]),
        role=Role(row["role"]),
        structure=row["structure"],
        address=row["address"],
        commune=row["commune"],
        contact_name=row["contact_name"],
        function=row["function"],
        phone=row["phone"],
        status=AccessStatus(row["status"]),
        created_at=from_ts(row["created_at"]),
        decided_by=UserKey(row["decided_by"]) if row["decided_by"] else None,
        decided_at=from_ts(row["decided_at"]) if row["decided_at"] else None,
    )


class SqliteAccessRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, user: UserKey, answers: dict[str, Any], now: datetime) -> AccessRequest:
        cur = await self._conn.execute(
            "INSERT INTO access_requests (user_key, role, structure, address, commune,"
            " contact_name, function, phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (
                user,
                answers["role"],
                answers["structure"],
                answers["address"],
                answers["commune"],
                answers["contact"],
                answers["function"],
                answers["phone"],
                ts(now),
            ),
        )
        new_id = await inserted_id(cur)
        created = await self.get(AccessRequestId(new_id))
        assert created is not None
        return created

    async def get(self, request_id: AccessRequestId) -> AccessRequest | None:
        async with self._conn.execute(
            _SELECT + " WHERE id = ?",
            (request_id,),
        ) as cur:
            row = await cur.fetchone()
        return _request(row) if row else None

    async def latest_for(self, user: UserKey) -> AccessRequest | None:
        async with self._conn.execute(
            _SELECT + " WHERE user_key = ? ORDER BY id DESC LIMIT 1",
            (user,),
        ) as cur:
            row = await cur.fetchone()
        return _request(row) if row else None

    async def decide(
        self, request_id: AccessRequestId, status: AccessStatus, by: UserKey, now: datetime
    ) -> bool:
        cur = await self._conn.execute(
            "UPDATE access_requests SET status = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ? AND status = 'pending'",
            (status.value, by, ts(now), request_id),
        )
        return cur.rowcount == 1

    async def blank_ended(self, before: datetime, limit: int = NO_LIMIT) -> int:
        """Blank who asked (name, function, phone, structure, address) on requests refused or
        withdrawn before ``before``, at most ``limit`` of them; the role, commune, status and
        dates stay, for the figures and the audit log's references."""
        cur = await self._conn.execute(
            "UPDATE access_requests SET contact_name = '', function = '', phone = '',"
            " structure = '', address = '' WHERE id IN (SELECT id FROM access_requests"
            " WHERE status IN ('rejected', 'revoked') AND coalesce(decided_at, created_at) < ?"
            " AND (contact_name != '' OR function != '' OR phone != '' OR structure != ''"
            " OR address != '') LIMIT ?)",
            (ts(before), limit),
        )
        return cur.rowcount

    async def pending(self) -> list[AccessRequest]:
        async with self._conn.execute(
            _SELECT + " WHERE status = 'pending' ORDER BY id"
        ) as cur:
            return [_request(row) for row in await cur.fetchall()]
