"""A professional's own erasure, across the tables that hold something of them.

What goes and what stays is decided in ``flows.privacy``; this is the one place that knows
which columns carry a professional's account key or details.
"""

from __future__ import annotations

from datetime import datetime

from flows.messages import UserKey
from storage.connection import Connection
from storage.db import ts


class SqlitePrivacyRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def open_requests(self, prescriber: UserKey) -> list[str]:
        """References of the prescriber's requests not handed over or cancelled yet."""
        async with self._conn.execute(
            "SELECT reference FROM equipment_requests WHERE prescriber = ?"
            " AND status IN ('waiting', 'sent', 'accepted', 'ready') ORDER BY id",
            (prescriber,),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def erase_professional(self, key: UserKey, now: datetime) -> bool:
        """End the access and blank the details of a professional; False when they had no
        role any more (done already)."""
        cur = await self._conn.execute(
            "UPDATE users SET role = NULL, place_id = NULL WHERE key = ? AND role IS NOT NULL",
            (key,),
        )
        if cur.rowcount == 0:
            return False
        # Their requests end as withdrawn, by themselves; who they are is blanked at once.
        await self._conn.execute(
            "UPDATE access_requests SET"
            " status = CASE WHEN status IN ('pending', 'approved') THEN 'revoked'"
            " ELSE status END,"
            " decided_by = CASE WHEN status IN ('pending', 'approved') THEN ?"
            " ELSE decided_by END,"
            " decided_at = CASE WHEN status IN ('pending', 'approved') THEN ?"
            " ELSE decided_at END,"
            " contact_name = '', function = '', phone = '', structure = '', address = ''"
            " WHERE user_key = ?",
            (key, ts(now), key),
        )
        await self._conn.execute("DELETE FROM structure_referents WHERE user_key = ?", (key,))
        await self._conn.execute("DELETE FROM conversations WHERE user_key = ?", (key,))
        await self._conn.execute("DELETE FROM menus WHERE user_key = ?", (key,))
        await self._conn.execute("DELETE FROM outbox WHERE recipient = ?", (key,))
        # A help chat they had taken goes back to their colleagues, open.
        await self._conn.execute(
            "UPDATE help_tickets SET mediator = NULL,"
            " status = CASE WHEN status = 'taken' THEN 'open' ELSE status END"
            " WHERE mediator = ?",
            (key,),
        )
        # Who did each step of a request stays in the audit log (five years), not here.
        await self._conn.execute(
            "UPDATE request_events SET by_user = NULL WHERE by_user = ?", (key,)
        )
        await self._conn.execute(
            "UPDATE join_codes SET created_by = NULL WHERE created_by = ?", (key,)
        )
        return True
