"""The outbox: every message the bot sends, written in the transaction that causes it.

Once a message is delivered (or given up) its content is blanked at once: the row only
records that it went out, and the maintenance job deletes it after a week. Messages carry
first names and free text people typed; they must not outlive the records they came from.
A message to someone who is no longer a user (a beneficiary's farewell after "forget me")
loses its recipient too, in the same statement: their account key is not kept either.

Pending messages go out by priority (:class:`~flows.messages.Priority`: replies, then
notices, then reminders and broadcasts), then in the order they were queued. A message raises
its recipient's earlier pending ones to its own priority as it is queued, so that one
person's messages never overtake each other: the reminder someone had waiting goes out just
before the reply to their "bonjour", both ahead of everyone else's reminders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.messages import Attachment, Outgoing, Priority, UserKey, platform_of
from flows.ports import OutboxItem
from storage.connection import Connection, inserted_id
from storage.db import NO_LIMIT, from_ts, ts


class SqliteOutboxRepo:
    """Pending, sent and failed messages; the dispatcher reads the due ones in order."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, message: Outgoing, now: datetime) -> int:
        att = message.attachment
        if message.priority < Priority.BULK:  # (nothing queued is ever lower than bulk)
            await self._conn.execute(
                "UPDATE outbox SET priority = ? WHERE recipient = ? AND status = 'pending'"
                " AND priority > ?",
                (int(message.priority), message.to, int(message.priority)),
            )
        cur = await self._conn.execute(
            "INSERT INTO outbox (recipient, platform, payload, att_name, att_mime, att_data,"
            " created_at, not_before, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                message.to,
                platform_of(message.to),
                json.dumps(message.payload(), ensure_ascii=False),
                att.filename if att else None,
                att.mime if att else None,
                att.data if att else None,
                ts(now),
                ts(now),
                int(message.priority),
            ),
        )
        new_id = await inserted_id(cur)
        return new_id

    async def due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[OutboxItem]:
        platforms_json = json.dumps(list(platforms))
        rows = await self._conn.execute_fetchall(  # one round trip to the SQLite thread
            # The pending messages are walked in the order they go out (outbox_queue) and
            # the walk stops at ``limit``: a round costs the same with 40,000 reminders
            # queued as with none. One recipient's messages go out in order: none overtakes
            # an earlier one that waits for a retry, looked up among that recipient's own
            # pending messages (outbox_recipient), a few rows. Messages to someone who never
            # opened the bot wait until they first write (all of them: the order holds);
            # those to a blocked chat come back marked.
            "SELECT outbox.id, outbox.recipient, payload, att_name, att_mime, att_data,"
            " attempts, not_before, priority, users.lang AS lang, outbox.created_at,"
            " unreachable.reason AS unreached"
            " FROM outbox LEFT JOIN users ON users.key = outbox.recipient"
            " LEFT JOIN unreachable ON unreachable.recipient = outbox.recipient"
            " WHERE outbox.status = 'pending'"
            " AND outbox.platform IN (SELECT value FROM json_each(?))"
            " AND outbox.not_before <= ?"
            " AND NOT EXISTS (SELECT 1 FROM outbox earlier"
            " WHERE earlier.recipient = outbox.recipient AND earlier.status = 'pending'"
            " AND earlier.not_before > ? AND earlier.id < outbox.id)"
            " AND (unreachable.reason IS NULL OR unreachable.reason = 'blocked')"
            " ORDER BY outbox.priority, outbox.id LIMIT ?",
            (platforms_json, ts(now), ts(now), limit),
        )
        items = []
        for row in rows:
            att = (
                Attachment(row["att_name"], row["att_mime"], bytes(row["att_data"]))
                if row["att_name"]
                else None
            )
            message = Outgoing.from_payload(
                UserKey(row["recipient"]), json.loads(row["payload"]), att,
                Priority(row["priority"]),
            )
            items.append(OutboxItem(row["id"], message, row["attempts"],
                                    from_ts(row["not_before"]), row["lang"],
                                    from_ts(row["created_at"]),
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

    async def backlog(self, platforms: Sequence[str]) -> tuple[int, datetime | None]:
        """Messages pending for ``platforms`` and when the oldest of them was queued."""
        async with self._conn.execute(
            "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox"
            " WHERE status = 'pending' AND platform IN (SELECT value FROM json_each(?))",
            (json.dumps(list(platforms)),),
        ) as cur:
            row = await cur.fetchone()
        if row is None or not row["n"]:
            return 0, None
        return int(row["n"]), from_ts(row["oldest"])
