"""Mobile numbers of people reached by SMS, the SMS on their way to the gateway, and the
segments sent per month.

An SMS is a row from the moment the outbox hands it over until the gateway says it went out
(or it is given up); its text is then blanked at once, and the row deleted a week later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows.messages import UserKey
from flows.ports import SmsContact, SmsOut
from storage.connection import Connection, Row
from storage.db import NO_LIMIT, from_ts, ts

_CONTACT = "SELECT user_key, phone, stopped_at, stop_told FROM sms_numbers"


def _contact(row: Row | None) -> SmsContact | None:
    if row is None:
        return None
    return SmsContact(UserKey(row["user_key"]), row["phone"], row["stopped_at"] is not None,
                      bool(row["stop_told"]))


class SqliteSmsRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- numbers -----------------------------------------------------------------------

    async def register(self, key: UserKey, phone: str, now: datetime) -> bool:
        cur = await self._conn.execute(
            "INSERT INTO sms_numbers (user_key, phone, registered_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING", (key, phone, ts(now)))
        return cur.rowcount == 1

    async def by_phone(self, phone: str) -> SmsContact | None:
        async with self._conn.execute(_CONTACT + " WHERE phone = ?", (phone,)) as cur:
            return _contact(await cur.fetchone())

    async def contact(self, key: UserKey) -> SmsContact | None:
        async with self._conn.execute(_CONTACT + " WHERE user_key = ?", (key,)) as cur:
            return _contact(await cur.fetchone())

    async def stop(self, key: UserKey, now: datetime) -> int:
        await self._conn.execute(
            "UPDATE sms_numbers SET stopped_at = ?, stop_told = 0 WHERE user_key = ?",
            (ts(now), key))
        dropped = await self._conn.execute(
            "DELETE FROM outbox WHERE recipient = ? AND status = 'pending'", (key,))
        queued = await self._conn.execute(
            "DELETE FROM sms_messages WHERE user_key = ? AND status = 'queued'", (key,))
        return dropped.rowcount + queued.rowcount

    async def start(self, key: UserKey) -> bool:
        cur = await self._conn.execute(
            "UPDATE sms_numbers SET stopped_at = NULL, stop_told = 0"
            " WHERE user_key = ? AND stopped_at IS NOT NULL", (key,))
        return cur.rowcount == 1

    async def stop_told(self, key: UserKey) -> None:
        await self._conn.execute(
            "UPDATE sms_numbers SET stop_told = 1 WHERE user_key = ?", (key,))

    # --- SMS on their way --------------------------------------------------------------

    async def queue(self, outbox_ref: str, key: UserKey, body: str, segments: int,
                    workshop_id: int | None, any_hour: bool, now: datetime,
                    post_at: datetime) -> int | None:
        cur = await self._conn.execute(
            "INSERT INTO sms_messages (outbox_ref, user_key, body, segments, workshop_id,"
            " any_hour, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (outbox_ref) DO NOTHING RETURNING id",
            (outbox_ref, key, body, segments, workshop_id, int(any_hour), ts(now),
             ts(post_at)))
        row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def due(self, now: datetime, limit: int) -> list[SmsOut]:
        rows = await self._conn.execute_fetchall(
            "SELECT m.id, m.user_key, n.phone, m.body, m.segments, m.workshop_id, m.status,"
            " m.attempts, m.gateway_id, m.any_hour, m.created_at, m.posted_at"
            " FROM sms_messages m JOIN sms_numbers n ON n.user_key = m.user_key"
            " WHERE m.status IN ('queued', 'posted') AND m.next_at <= ?"
            " ORDER BY m.id LIMIT ?", (ts(now), limit))
        return [SmsOut(row["id"], UserKey(row["user_key"]), row["phone"], row["body"],
                       row["segments"], row["workshop_id"], row["status"], row["attempts"],
                       row["gateway_id"], bool(row["any_hour"]), from_ts(row["created_at"]),
                       from_ts(row["posted_at"]) if row["posted_at"] else None)
                for row in rows]

    async def waiting_before(self, key: UserKey, sms_id: int) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM sms_messages WHERE user_key = ? AND status = 'queued' AND id < ?"
            " LIMIT 1", (key, sms_id)) as cur:
            return await cur.fetchone() is not None

    async def posted(self, sms_id: int, gateway_id: str, now: datetime,
                     check_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE sms_messages SET status = 'posted', gateway_id = ?, posted_at = ?,"
            " next_at = ? WHERE id = ?", (gateway_id, ts(now), ts(check_at), sms_id))

    async def put_off(self, sms_id: int, until: datetime, error: str,
                      attempt: bool) -> None:
        await self._conn.execute(
            "UPDATE sms_messages SET status = 'queued', next_at = ?, last_error = ?,"
            " attempts = attempts + ? WHERE id = ?",
            (ts(until), error[:300], int(attempt), sms_id))

    async def check_later(self, sms_id: int, when: datetime) -> None:
        await self._conn.execute(
            "UPDATE sms_messages SET next_at = ? WHERE id = ?", (ts(when), sms_id))

    async def sent(self, sms_id: int, now: datetime, month: str) -> None:
        cur = await self._conn.execute(
            "UPDATE sms_messages SET status = 'sent', body = '', done_at = ?"
            " WHERE id = ? AND status = 'posted' RETURNING segments", (ts(now), sms_id))
        row = await cur.fetchone()
        if row is None:
            return
        await self._conn.execute(
            "INSERT INTO sms_usage (month, segments, messages) VALUES (?, ?, 1)"
            " ON CONFLICT (month) DO UPDATE SET segments = sms_usage.segments"
            " + excluded.segments, messages = sms_usage.messages + 1",
            (month, int(row[0])))

    async def failed(self, sms_id: int, now: datetime, error: str) -> None:
        await self._conn.execute(
            "UPDATE sms_messages SET status = 'failed', body = '', done_at = ?,"
            " last_error = ? WHERE id = ?", (ts(now), error[:300], sms_id))

    async def purge(self, before: datetime, limit: int = NO_LIMIT) -> int:
        cur = await self._conn.execute(
            "DELETE FROM sms_messages WHERE id IN (SELECT id FROM sms_messages"
            " WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)", (ts(before), limit))
        return cur.rowcount

    async def usage(self, months: Sequence[str]) -> dict[str, int]:
        found = {month: 0 for month in months}
        rows = await self._conn.execute_fetchall(
            "SELECT month, segments FROM sms_usage WHERE month >= ? AND month <= ?",
            (min(months), max(months))) if months else []
        for row in rows:
            if row["month"] in found:
                found[row["month"]] = int(row["segments"])
        return found
