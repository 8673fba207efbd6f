"""The outbox: every message the bot sends, written in the transaction that causes it.

Once a message is delivered (or given up) its content is blanked at once: the row only
records that it went out, and the maintenance job deletes it after a week. Messages carry
first names and free text people typed; they must not outlive the records they came from.
A message to someone who is no longer a user (a beneficiary's farewell after "forget me")
loses its recipient too, in the same statement: their account key is not kept either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.messages import Attachment, Outgoing, UserKey, platform_of
from flows.ports import OutboxItem
from storage.connection import Connection, inserted_id
from storage.db import NO_LIMIT, from_ts, ts


class SqliteOutboxRepo:
    """Pending, sent and failed messages; the dispatcher reads the due ones in order."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, message: Outgoing, now: datetime) -> int:
        att = message.attachment
        cur = await self._conn.execute(
            "INSERT INTO outbox (recipient, platform, payload, att_name, att_mime, att_data,"
            " created_at, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                message.to,
                platform_of(message.to),
                json.dumps(message.payload(), ensure_ascii=False),
                att.filename if att else None,
                att.mime if att else None,
                att.data if att else None,
                ts(now),
                ts(now),
            ),
        )
        new_id = await inserted_id(cur)
        return new_id

    async def due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[OutboxItem]:
        platforms_json = json.dumps(list(platforms))
        rows = await self._conn.execute_fetchall(  # one round trip to the SQLite thread
            # One recipient's messages go out in order: none overtakes an earlier one that
            # waits for a retry. The few recipients waiting are found first (an index search
            # on not_before), not once per candidate row: with thousands pending, a correlated
            # NOT EXISTS took seconds per call.
            "WITH waiting AS (SELECT recipient, min(id) AS first FROM outbox"
            " WHERE status = 'pending' AND platform IN (SELECT value FROM json_each(?))"
            " AND not_before > ? GROUP BY recipient)"
            # Messages to someone who never opened the bot wait until they first write
            # (all of them: the order holds); those to a blocked chat come back marked.
            " SELECT outbox.id, outbox.recipient, payload, att_name, att_mime, att_data,"
            " attempts, not_before, users.lang AS lang, unreachable.reason AS unreached"
            " FROM outbox LEFT JOIN waiting ON waiting.recipient = outbox.recipient"
            " LEFT JOIN users ON users.key = outbox.recipient"
            " LEFT JOIN unreachable ON unreachable.recipient = outbox.recipient"
            " WHERE status = 'pending'"
            " AND platform IN (SELECT value FROM json_each(?))"
            " AND not_before <= ?"
            " AND (waiting.first IS NULL OR outbox.id < waiting.first)"
            " AND (unreachable.reason IS NULL OR unreachable.reason = 'blocked')"
            " ORDER BY outbox.id LIMIT ?",
            (platforms_json, ts(now), platforms_json, ts(now), limit),
        )
        items = []
        for row in rows:
            att = (
                Attachment(row["att_name"], row["att_mime"], bytes(row["att_data"]))
                if row["att_name"]
                else None
            )
            message = Outgoing.from_payload(
                UserKey(row["recipient"]), json.loads(row["payload"]), att
            )
            items.append(OutboxItem(row["id"], message, row["attempts"],
                                    from_ts(row["not_before"]), row["lang"],
                                    row["unreached"] == "blocked"))
        return items

    async def delivered(self, item_id: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " payload = '{\"texts\": [], \"choices\": []}', att_data = NULL,"
            # Someone no longer a user (a farewell after "forget me"): their key goes too.
            " recipient = CASE WHEN EXISTS"
            " (SELECT 1 FROM users WHERE users.key = outbox.recipient)"
            " THEN recipient ELSE '' END"
            " WHERE id = ? AND status = 'pending'",
            (ts(now), item_id),
        )

    async def retry_later(self, item_id: int, when: datetime, error: str,
                          attempt: bool = True) -> None:
        await self._conn.execute(
            "UPDATE outbox SET attempts = attempts + ?, not_before = ?, last_error = ?"
            " WHERE id = ? AND status = 'pending'",
            (int(attempt), ts(when), error[:300], item_id),
        )

    async def give_up(self, item_id: int, now: datetime, error: str) -> None:
        await self._conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
            " sent_at = ?, payload = '{\"texts\": [], \"choices\": []}', att_data = NULL,"
            " recipient = CASE WHEN EXISTS"
            " (SELECT 1 FROM users WHERE users.key = outbox.recipient)"
            " THEN recipient ELSE '' END"
            " WHERE id = ?",
            (error[:300], ts(now), item_id),
        )

    async def give_up_waiting(self, created_before: datetime, now: datetime,
                              limit: int = NO_LIMIT) -> int:
        """Give up the messages kept for someone who never opened the bot, queued before
        ``created_before`` (blanked as any message given up)."""
        cur = await self._conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, sent_at = ?,"
            " last_error = 'never opened the bot: given up',"
            " payload = '{\"texts\": [], \"choices\": []}', att_data = NULL,"
            " recipient = CASE WHEN EXISTS"
            " (SELECT 1 FROM users WHERE users.key = outbox.recipient)"
            " THEN recipient ELSE '' END"
            " WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND created_at < ?"
            " AND recipient IN (SELECT recipient FROM unreachable"
            " WHERE reason = 'not_started') LIMIT ?)",
            (ts(now), ts(created_before), limit),
        )
        return cur.rowcount

    async def purge_done_before(self, when: datetime, limit: int = NO_LIMIT) -> int:
        """Forget delivered and abandoned messages (their content is already blanked)."""
        cur = await self._conn.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
            " WHERE status IN ('sent', 'failed') AND sent_at < ? LIMIT ?)", (ts(when), limit)
        )
        return cur.rowcount

    async def pending_count(self) -> int:
        async with self._conn.execute(
            "SELECT count(*) FROM outbox WHERE status = 'pending'"
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
