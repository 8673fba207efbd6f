"""Erasure across tables: a professional's own, and accounts that hold nothing any more.

What goes and what stays is decided in ``flows.privacy``; this is the one place that knows
which columns carry a professional's account key or details.
"""

from __future__ import annotations

import json
from datetime import datetime

from flows.messages import UserKey
from storage.connection import Connection
from storage.db import NO_LIMIT, ts


class SqlitePrivacyRepo:
    def __init__(self, conn: Connection, coordinators: frozenset[str] = frozenset()) -> None:
        self._conn = conn
        self._coordinators = coordinators

    async def purge_bare_accounts(self, created_before: datetime, limit: int = NO_LIMIT) -> int:
        """Delete accounts made before ``created_before`` that no record hangs on: no role, no
        access request, beneficiary, donation, equipment request, referent, conversation or
        message waiting; coordinators are never deleted (they are named in the settings).
        Their last menu goes with them. Records that name a key without hanging on it (the
        audit log, request histories, erasure proofs) keep it for their own retention."""
        found = await self._conn.execute_fetchall(
            # Each NOT IN list is made once per statement, not once per account.
            "SELECT key FROM users WHERE role IS NULL AND created_at < ?"
            " AND key NOT IN (SELECT value FROM json_each(?))"
            " AND key NOT IN (SELECT user_key FROM access_requests)"
            " AND key NOT IN (SELECT user_key FROM beneficiaries)"
            " AND key NOT IN (SELECT donor_key FROM lots WHERE donor_key IS NOT NULL)"
            " AND key NOT IN (SELECT prescriber FROM equipment_requests)"
            " AND key NOT IN (SELECT user_key FROM conversations)"
            " AND key NOT IN (SELECT user_key FROM structure_referents)"
            " AND key NOT IN (SELECT user_key FROM reservations WHERE user_key IS NOT NULL)"
            " AND key NOT IN (SELECT user_key FROM public_waitlist)"
            " AND key NOT IN (SELECT recipient FROM outbox WHERE status = 'pending')"
            " LIMIT ?",
            (ts(created_before), json.dumps(sorted(self._coordinators)), limit),
        )
        keys = json.dumps([row[0] for row in found])
        await self._conn.execute(
            "DELETE FROM menus WHERE user_key IN (SELECT value FROM json_each(?))", (keys,)
        )
        await self._conn.execute(
            "DELETE FROM unreachable WHERE recipient IN (SELECT value FROM json_each(?))",
            (keys,))
        cur = await self._conn.execute(
            "DELETE FROM users WHERE key IN (SELECT value FROM json_each(?))", (keys,)
        )
        return cur.rowcount

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
        await self._conn.execute("DELETE FROM unreachable WHERE recipient = ?", (key,))
        await self._conn.execute("DELETE FROM outbox WHERE recipient = ?", (key,))
        # Their notices by e-mail: the address, and the e-mails still waiting for it.
        await self._conn.execute("DELETE FROM mail_addresses WHERE user_key = ?", (key,))
        await self._conn.execute("DELETE FROM mail_outbox WHERE owner = ?", (key,))
        # Their place on the public door's waiting list, if they joined one.
        await self._conn.execute("DELETE FROM public_waitlist WHERE user_key = ?", (key,))
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
        # Devices keep their history and reconditioning records, without the account:
        # a record names the organisation and the operator as given (blanked at 5 years).
        await self._conn.execute(
            "UPDATE device_events SET by_user = NULL WHERE by_user = ?", (key,))
        await self._conn.execute(
            "UPDATE device_diagnoses SET operator = NULL WHERE operator = ?", (key,))
        # Money records stay (they are the network's accounts), without the account: who
        # recorded each one stays in the audit log.
        await self._conn.execute(
            "UPDATE payments SET recorded_by = NULL WHERE recorded_by = ?", (key,))
        await self._conn.execute(
            "UPDATE fund_budgets SET set_by = NULL WHERE set_by = ?", (key,))
        # A problem reported, a transfer planned or driven: kept, without the account.
        await self._conn.execute(
            "UPDATE repair_tickets SET reported_by = NULL WHERE reported_by = ?", (key,))
        await self._conn.execute(
            "UPDATE transfers SET driver = NULL WHERE driver = ?", (key,))
        await self._conn.execute("DELETE FROM drivers WHERE user_key = ?", (key,))
        await self._conn.execute(
            "UPDATE transfers SET created_by = NULL WHERE created_by = ?", (key,))
        return True
