"""The audit log of sensitive actions (see ``flows.audit``)."""

from __future__ import annotations

from datetime import datetime

from flows.audit import AuditAction, AuditEntry, keep_until
from flows.messages import UserKey
from storage.connection import Connection, Row
from storage.db import from_ts, ts

_SELECT = "SELECT id, at, actor, action, subject, detail FROM audit_log"


def _entry(row: Row) -> AuditEntry:
    return AuditEntry(row["id"], from_ts(row["at"]),
                      UserKey(row["actor"]) if row["actor"] else None,
                      AuditAction(row["action"]), row["subject"], row["detail"])


class SqliteAuditRepo:
    """Writes and reads audit entries inside the unit of work of the action they record."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def record(self, actor: UserKey | None, action: AuditAction, subject: str,
                     now: datetime, detail: str = "") -> None:
        await self._conn.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail, keep_until)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (ts(now), actor, action.value, subject, detail, ts(keep_until(action, now))),
        )

    async def recent(self, limit: int) -> list[AuditEntry]:
        async with self._conn.execute(_SELECT + " ORDER BY id DESC LIMIT ?", (limit,)) as cur:
            return [_entry(row) for row in await cur.fetchall()]

    async def since(self, when: datetime) -> list[AuditEntry]:
        async with self._conn.execute(_SELECT + " WHERE at >= ? ORDER BY id", (ts(when),)) as cur:
            return [_entry(row) for row in await cur.fetchall()]

    async def purge(self, now: datetime) -> int:
        """Delete the entries kept long enough."""
        cur = await self._conn.execute("DELETE FROM audit_log WHERE keep_until < ?", (ts(now),))
        return cur.rowcount
