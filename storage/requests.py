"""Equipment requests, their waiting list and their history.

Every change of status is a conditional ``UPDATE ... WHERE status IN (expected)``: when two
staff members act on the same request, or a button is pressed twice, only the first one
changes anything and the caller is told (``False``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from flows.messages import UserKey
from flows.records import EquipmentRequest, PlaceId, RequestId, RequestStatus, Role
from flows.request import RequestDraft, reference
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts

_SELECT = (
    "SELECT id, reference, prescriber, needs, kind, situation, income, tier, price_cents,"
    " commune, epci, internet, first_name, age, status, place_id, reason, pickup_on,"
    " pickup_hours, created_at, updated_at FROM equipment_requests"
)


def _request(row: Row) -> EquipmentRequest:
    return EquipmentRequest(
        id=RequestId(row["id"]),
        reference=row["reference"],
        prescriber=UserKey(row["prescriber"]),
        needs=tuple(json.loads(row["needs"])),
        kind=row["kind"],
        situation=row["situation"],
        income=row["income"],
        tier=row["tier"],
        price_cents=row["price_cents"],
        commune=row["commune"],
        epci=row["epci"],
        internet=row["internet"],
        first_name=row["first_name"],
        age=row["age"],
        status=RequestStatus(row["status"]),
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
        place_id=PlaceId(row["place_id"]) if row["place_id"] is not None else None,
        reason=row["reason"],
        pickup_on=date.fromisoformat(row["pickup_on"]) if row["pickup_on"] else None,
        pickup_hours=row["pickup_hours"],
    )


def _statuses(expected: Sequence[RequestStatus]) -> str:
    return json.dumps([s.value for s in expected])


class SqliteRequestRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(
        self,
        prescriber: UserKey,
        draft: RequestDraft,
        tier: str,
        price_cents: int,
        epci: str,
        place: tuple[PlaceId, str] | None,
        year: int,
        now: datetime,
        *,
        for_fund: bool = False,
    ) -> EquipmentRequest:
        """Number a request in ``year`` (the network's local year) and store it: sent to
        ``place`` (id, reason), or on the waiting list."""
        async with self._conn.execute(
            "INSERT INTO request_sequences (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = request_sequences.last + 1 RETURNING last",
            (year,),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        status = RequestStatus.SENT if place else RequestStatus.WAITING
        cur = await self._conn.execute(
            "INSERT INTO equipment_requests (reference, prescriber, needs, kind, situation,"
            " income, tier, price_cents, commune, epci, internet, first_name, age, status,"
            " place_id, reason, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                reference(year, row[0]), prescriber, json.dumps(list(draft.needs)),
                draft.kind, draft.situation, draft.income, tier, price_cents, draft.commune,
                epci, draft.internet, draft.first_name, draft.age, status.value,
                place[0] if place else None, place[1] if place else None, ts(now), ts(now),
            ),
        )
        new_id = await inserted_id(cur)
        request_id = RequestId(new_id)
        if place is None:
            await self._enqueue(request_id, draft.kind, epci, now, for_fund=for_fund)
        created = await self.get(request_id)
        assert created is not None
        return created

    async def _enqueue(self, request_id: RequestId, kind: str, epci: str, now: datetime,
                       *, for_fund: bool = False) -> None:
        await self._conn.execute(
            "INSERT INTO request_waiting (request_id, kind, epci, since, for_fund)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING",
            (request_id, kind, epci, ts(now), int(for_fund)),
        )

    async def get(self, request_id: RequestId) -> EquipmentRequest | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (request_id,)) as cur:
            row = await cur.fetchone()
        return _request(row) if row else None

    async def of_prescriber(self, user: UserKey, limit: int) -> list[EquipmentRequest]:
        """A prescriber's own requests, newest first."""
        async with self._conn.execute(
            _SELECT + " WHERE prescriber = ? ORDER BY id DESC LIMIT ?", (user, limit)
        ) as cur:
            return [_request(row) for row in await cur.fetchall()]

    async def for_place(self, place_id: PlaceId) -> list[EquipmentRequest]:
        """The requests a place is serving now (sent, accepted, ready), oldest first."""
        async with self._conn.execute(
            _SELECT + " WHERE place_id = ? AND status IN ('sent', 'accepted', 'ready')"
            " ORDER BY id",
            (place_id,),
        ) as cur:
            return [_request(row) for row in await cur.fetchall()]

    async def waiting(self, kind: str | None = None) -> list[EquipmentRequest]:
        """The waiting list, first in first served (of one kind, or all)."""
        async with self._conn.execute(
            "SELECT r.id, r.reference, r.prescriber, r.needs, r.kind, r.situation, r.income,"
            " r.tier, r.price_cents, r.commune, r.epci, r.internet, r.first_name, r.age,"
            " r.status, r.place_id, r.reason, r.pickup_on, r.pickup_hours, r.created_at,"
            " r.updated_at FROM equipment_requests r JOIN request_waiting w"
            " ON w.request_id = r.id WHERE r.status = 'waiting'"
            " AND (CAST(? AS TEXT) IS NULL OR w.kind = ?)"
            " ORDER BY w.since, w.request_id",
            (kind, kind),
        ) as cur:
            return [_request(row) for row in await cur.fetchall()]

    async def fund_held(self, request_ids: Sequence[RequestId]) -> set[RequestId]:
        async with self._conn.execute(
            "SELECT request_id FROM request_waiting WHERE for_fund = 1"
            " AND request_id IN (SELECT value FROM json_each(?))",
            (json.dumps([int(i) for i in request_ids]),),
        ) as cur:
            return {RequestId(r[0]) for r in await cur.fetchall()}

    async def position(self, request_id: RequestId) -> int | None:
        """Rank on the waiting list among requests for the same kind in the same EPCI."""
        async with self._conn.execute(
            "SELECT count(*) FROM request_waiting o JOIN request_waiting w"
            " ON o.kind = w.kind AND o.epci = w.epci"
            " WHERE w.request_id = ? AND (o.since < w.since"
            " OR (o.since = w.since AND o.request_id <= w.request_id))",
            (request_id,),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] else None

    async def send_to(
        self,
        request_id: RequestId,
        expected: Sequence[RequestStatus],
        place_id: PlaceId,
        reason: str,
        now: datetime,
    ) -> bool:
        """Route a request to a place (from the waiting list, or after a refusal)."""
        cur = await self._conn.execute(
            "UPDATE equipment_requests SET status = 'sent', place_id = ?, reason = ?,"
            " pickup_on = NULL, pickup_hours = NULL, updated_at = ?"
            " WHERE id = ? AND status IN (SELECT value FROM json_each(?))",
            (place_id, reason, ts(now), request_id, _statuses(expected)),
        )
        if cur.rowcount != 1:
            return False
        await self._conn.execute(
            "DELETE FROM request_waiting WHERE request_id = ?", (request_id,)
        )
        return True

    async def to_waiting(
        self, request_id: RequestId, expected: Sequence[RequestStatus], now: datetime
    ) -> bool:
        """Put a request back on the waiting list (refused, and nothing else in reach)."""
        request = await self.get(request_id)
        if request is None:
            return False
        cur = await self._conn.execute(
            "UPDATE equipment_requests SET status = 'waiting', place_id = NULL, reason = NULL,"
            " pickup_on = NULL, pickup_hours = NULL, updated_at = ?"
            " WHERE id = ? AND status IN (SELECT value FROM json_each(?))",
            (ts(now), request_id, _statuses(expected)),
        )
        if cur.rowcount != 1:
            return False
        await self._enqueue(request_id, request.kind, request.epci, now)
        return True

    async def set_status(
        self,
        request_id: RequestId,
        expected: Sequence[RequestStatus],
        status: RequestStatus,
        now: datetime,
        *,
        place_id: PlaceId | None = None,
        pickup: tuple[date, str] | None = None,
    ) -> bool:
        """Move a request on, only from ``expected`` (and only at ``place_id`` if given)."""
        cur = await self._conn.execute(
            "UPDATE equipment_requests SET status = ?, updated_at = ?,"
            " pickup_on = coalesce(?, pickup_on), pickup_hours = coalesce(?, pickup_hours)"
            " WHERE id = ? AND status IN (SELECT value FROM json_each(?))"
            " AND (CAST(? AS INTEGER) IS NULL OR place_id = ?)",
            (
                status.value, ts(now),
                pickup[0].isoformat() if pickup else None, pickup[1] if pickup else None,
                request_id, _statuses(expected), place_id, place_id,
            ),
        )
        if cur.rowcount != 1:
            return False
        if status is RequestStatus.CANCELLED:
            await self._conn.execute(
                "DELETE FROM request_waiting WHERE request_id = ?", (request_id,)
            )
        return True

    async def log(
        self,
        request_id: RequestId,
        event: str,
        by: UserKey | None,
        place_id: PlaceId | None,
        note: str | None,
        now: datetime,
    ) -> None:
        """Keep the history of a request (user keys and codes only, no personal data)."""
        await self._conn.execute(
            "INSERT INTO request_events (request_id, event, place_id, by_user, note, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (request_id, event, place_id, by, note, ts(now)),
        )

    async def refused_by(self, request_id: RequestId) -> set[PlaceId]:
        """Places that refused this request: it is never routed to them again."""
        async with self._conn.execute(
            "SELECT DISTINCT place_id FROM request_events"
            " WHERE request_id = ? AND event = 'refused' AND place_id IS NOT NULL",
            (request_id,),
        ) as cur:
            return {PlaceId(row[0]) for row in await cur.fetchall()}

    async def place_staff(self, place_id: PlaceId) -> list[UserKey]:
        """Who works at a place (approved place staff attached to it)."""
        async with self._conn.execute(
            "SELECT key FROM users WHERE role = ? AND place_id = ? ORDER BY key",
            (Role.PLACE_STAFF.value, place_id),
        ) as cur:
            return [UserKey(row[0]) for row in await cur.fetchall()]

    async def forget_first_names(self, ended_before: datetime) -> int:
        """Erase the first name of requests that ended (handed over, cancelled) long ago."""
        cur = await self._conn.execute(
            "UPDATE equipment_requests SET first_name = NULL"
            " WHERE first_name IS NOT NULL AND status IN ('handed_over', 'cancelled')"
            " AND updated_at < ?",
            (ts(ended_before),),
        )
        return cur.rowcount
