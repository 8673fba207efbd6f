"""Beneficiaries and the one-time codes they join with; "forget me" and retention purges."""

from __future__ import annotations

from datetime import datetime

from flows.joincode import CodeState
from flows.messages import UserKey
from flows.records import Beneficiary, PlaceId
from storage.connection import Connection
from storage.db import from_ts, ts


class SqliteBeneficiaryRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- join codes ---------------------------------------------------------------------

    async def add_code(
        self, code: str, place_id: PlaceId, by: UserKey, now: datetime, expires_at: datetime
    ) -> bool:
        """Store a fresh code; False if it already exists (draw another one)."""
        cur = await self._conn.execute(
            "INSERT INTO join_codes (code, place_id, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING",
            (code, place_id, by, ts(now), ts(expires_at)),
        )
        return cur.rowcount == 1

    async def code(self, code: str) -> CodeState | None:
        async with self._conn.execute(
            "SELECT place_id, expires_at, used_at FROM join_codes WHERE code = ?", (code,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return CodeState(PlaceId(row["place_id"]), from_ts(row["expires_at"]),
                         row["used_at"] is not None)

    async def claim_code(self, code: str, now: datetime) -> bool:
        """Use a code once: False if someone used it first or it expired meanwhile."""
        cur = await self._conn.execute(
            "UPDATE join_codes SET used_at = ?"
            " WHERE code = ? AND used_at IS NULL AND expires_at > ?",
            (ts(now), code, ts(now)),
        )
        return cur.rowcount == 1

    async def purge_codes(self, expired_before: datetime) -> int:
        """Codes past their expiry are of no use to anyone: delete them."""
        cur = await self._conn.execute(
            "DELETE FROM join_codes WHERE expires_at < ?", (ts(expired_before),)
        )
        return cur.rowcount

    # --- beneficiaries ------------------------------------------------------------------

    async def join(
        self,
        key: UserKey,
        place_id: PlaceId,
        ref: str,
        first_name: str | None,
        reminders: bool,
        now: datetime,
    ) -> Beneficiary:
        await self._conn.execute(
            "INSERT INTO beneficiaries (user_key, place_id, ref, first_name, reminders,"
            " joined_at) VALUES (?, ?, ?, ?, ?, ?)",
            (key, place_id, ref, first_name, int(reminders), ts(now)),
        )
        return Beneficiary(key, place_id, ref, first_name, reminders, now)

    async def get(self, key: UserKey) -> Beneficiary | None:
        async with self._conn.execute(
            "SELECT user_key, place_id, ref, first_name, reminders, joined_at,"
            " invitations_paused_at FROM beneficiaries WHERE user_key = ?",
            (key,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Beneficiary(
            UserKey(row["user_key"]),
            PlaceId(row["place_id"]) if row["place_id"] is not None else None,
            row["ref"], row["first_name"], bool(row["reminders"]), from_ts(row["joined_at"]),
            from_ts(row["invitations_paused_at"]) if row["invitations_paused_at"] else None,
        )

    async def set_paused(self, key: UserKey, since: datetime | None) -> None:
        """The bot stops writing on its own (``since``), or starts again (None)."""
        await self._conn.execute(
            "UPDATE beneficiaries SET invitations_paused_at = ? WHERE user_key = ?",
            (ts(since) if since is not None else None, key),
        )

    async def set_first_name(self, key: UserKey, first_name: str | None) -> None:
        await self._conn.execute(
            "UPDATE beneficiaries SET first_name = ? WHERE user_key = ?", (first_name, key)
        )

    async def set_reminders(self, key: UserKey, consent: bool) -> None:
        await self._conn.execute(
            "UPDATE beneficiaries SET reminders = ? WHERE user_key = ?", (int(consent), key)
        )

    async def forget(self, key: UserKey) -> None:
        """Delete everything about a beneficiary at once: seats go back, the code they used,
        their bookings, reminders and help tickets (cascade), the messages still addressed
        to them, and their mobile number if they were reached by SMS."""
        await self._conn.execute(
            "UPDATE workshops SET booked = booked - 1 WHERE booked > 0 AND id IN"
            " (SELECT workshop_id FROM bookings WHERE user_key = ?)",
            (key,),
        )
        await self._conn.execute(
            "DELETE FROM join_codes WHERE code IN"
            " (SELECT ref FROM beneficiaries WHERE user_key = ?)",
            (key,),
        )
        await self._conn.execute("DELETE FROM beneficiaries WHERE user_key = ?", (key,))
        await self._conn.execute("DELETE FROM outbox WHERE recipient = ?", (key,))
        # A mobile number, and the SMS on their way (cascade), for someone reached by SMS.
        await self._conn.execute("DELETE FROM sms_numbers WHERE user_key = ?", (key,))
        # A device they reserved goes back to the stock; the reservation keeps no name.
        await self._conn.execute(
            "UPDATE reservations SET status = CASE WHEN status = 'held' THEN 'lapsed'"
            " ELSE status END, first_name = NULL, contact = NULL, user_key = NULL"
            " WHERE user_key = ?", (key,))
        # Their place on the door's waiting list goes.
        await self._conn.execute("DELETE FROM public_waitlist WHERE user_key = ?", (key,))
        # A problem they reported with their device stays for the place, without them.
        await self._conn.execute(
            "UPDATE repair_tickets SET reported_by = NULL WHERE reported_by = ?", (key,))

    async def inactive_since(self, before: datetime, after: str,
                             scan: int) -> list[tuple[UserKey, bool]]:
        """The next ``scan`` beneficiaries after the key ``after``, in key order, each with
        whether their last workshop (or joining, if none) is older than ``before``."""
        async with self._conn.execute(
            "SELECT n.user_key, CASE WHEN n.joined_at < ? AND NOT EXISTS"
            " (SELECT 1 FROM bookings b JOIN workshops w ON w.id = b.workshop_id"
            " WHERE b.user_key = n.user_key AND w.starts_at >= ?) THEN 1 ELSE 0 END"
            " AS inactive FROM beneficiaries n WHERE n.user_key > ?"
            " ORDER BY n.user_key LIMIT ?",
            (ts(before), ts(before), after, scan),
        ) as cur:
            return [(UserKey(row["user_key"]), bool(row["inactive"]))
                    for row in await cur.fetchall()]
