"""The e-mails queue and the professionals' e-mail addresses (migration 0013).

A queued e-mail holds no address: the sender reads it when the e-mail goes out, from the lot
(``lots.reach``, a donor's contact) or from ``mail_addresses`` (a professional's choice), so
that an address erased there is never written to again. Once an e-mail is sent or given up,
its subject, body, attachment and owner are blanked in the same statement; the bare record
is deleted a week later (``handlers/mail.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.mail_text import Letter, MailKind
from flows.messages import Attachment, UserKey
from flows.ports import MailDue
from flows.records import LotId
from storage.connection import Connection, inserted_id
from storage.db import NO_LIMIT, from_ts, ts

BLANK = '{"subject": null, "body": []}'


class SqliteMailRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, letter: Letter, attachment: Attachment | None, now: datetime, *,
                  lot_id: LotId | None = None, owner: UserKey | None = None) -> int:
        cur = await self._conn.execute(
            "INSERT INTO mail_outbox (kind, lot_id, owner, payload, att_name, att_mime,"
            " att_data, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (letter.kind.value, lot_id, owner,
             json.dumps(letter.payload(), ensure_ascii=False),
             attachment.filename if attachment else None,
             attachment.mime if attachment else None,
             attachment.data if attachment else None, ts(now), ts(now)),
        )
        return await inserted_id(cur)

    async def due(self, now: datetime, limit: int) -> list[MailDue]:
        rows = await self._conn.execute_fetchall(
            "SELECT m.id, m.kind, m.payload, m.att_name, m.att_mime, m.att_data, m.attempts,"
            " m.owner, m.created_at, lots.reference AS lot_ref, users.lang AS lang,"
            " CASE WHEN m.lot_id IS NOT NULL THEN lots.reach"
            " ELSE mail_addresses.address END AS address"
            " FROM mail_outbox m"
            " LEFT JOIN lots ON lots.id = m.lot_id"
            " LEFT JOIN mail_addresses ON mail_addresses.user_key = m.owner"
            " LEFT JOIN users ON users.key = m.owner"
            " WHERE m.status = 'pending' AND m.not_before <= ?"
            " ORDER BY m.id LIMIT ?",
            (ts(now), limit),
        )
        found = []
        for row in rows:
            kind = MailKind(row["kind"])
            address = row["address"]
            att = (Attachment(row["att_name"], row["att_mime"], bytes(row["att_data"]))
                   if row["att_name"] and row["att_data"] is not None else None)
            found.append(MailDue(
                row["id"], Letter.from_payload(kind, json.loads(row["payload"])), att,
                address if address and "@" in address else None,  # a lot's contact: a phone
                row["lang"], row["attempts"],
                UserKey(row["owner"]) if row["owner"] else None, row["lot_ref"],
                from_ts(row["created_at"])))
        return found

    async def sent(self, mail_id: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, done_at = ?,"
            " payload = ?, att_name = NULL, att_mime = NULL, att_data = NULL, owner = NULL"
            " WHERE id = ? AND status = 'pending'",
            (ts(now), BLANK, mail_id),
        )

    async def retry_later(self, mail_id: int, when: datetime, error: str) -> None:
        await self._conn.execute(
            "UPDATE mail_outbox SET attempts = attempts + 1, not_before = ?, last_error = ?"
            " WHERE id = ? AND status = 'pending'",
            (ts(when), error[:300], mail_id),
        )

    async def give_up(self, mail_id: int, now: datetime, error: str) -> None:
        await self._conn.execute(
            "UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, done_at = ?,"
            " last_error = ?, payload = ?, att_name = NULL, att_mime = NULL, att_data = NULL,"
            " owner = NULL"
            " WHERE id = ? AND status = 'pending'",
            (ts(now), error[:300], BLANK, mail_id),
        )

    async def purge_done_before(self, when: datetime, limit: int = NO_LIMIT) -> int:
        cur = await self._conn.execute(
            "DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox"
            " WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)", (ts(when), limit))
        return cur.rowcount

    async def pending_count(self) -> int:
        rows = await self._conn.execute_fetchall(
            "SELECT count(*) FROM mail_outbox WHERE status = 'pending'")
        return int(rows[0][0])

    async def address_of(self, key: UserKey) -> str | None:
        rows = await self._conn.execute_fetchall(
            "SELECT address FROM mail_addresses WHERE user_key = ?", (key,))
        return rows[0][0] if rows else None

    async def subscribed(self, keys: Sequence[UserKey]) -> set[UserKey]:
        rows = await self._conn.execute_fetchall(
            "SELECT user_key FROM mail_addresses"
            " WHERE user_key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),))
        return {UserKey(row[0]) for row in rows}

    async def set_address(self, key: UserKey, address: str, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO mail_addresses (user_key, address, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET address = excluded.address,"
            " created_at = excluded.created_at", (key, address, ts(now)))

    async def remove_address(self, key: UserKey) -> bool:
        cur = await self._conn.execute("DELETE FROM mail_addresses WHERE user_key = ?", (key,))
        await self._conn.execute(
            "DELETE FROM mail_outbox WHERE owner = ? AND status = 'pending'"
            " AND lot_id IS NULL", (key,))
        return cur.rowcount > 0

    async def drop_for_donor(self, donor: UserKey) -> int:
        cur = await self._conn.execute(
            "DELETE FROM mail_outbox WHERE status = 'pending' AND lot_id IN"
            " (SELECT id FROM lots WHERE donor_key = ?)", (donor,))
        return cur.rowcount
