"""Repair tickets under warranty (``flows/warranty.py``), in the unit of work's transaction.

A ticket's status moves by a conditional ``UPDATE ... WHERE status = 'open'``: two staff
closing the same ticket at once close it once.
"""

from __future__ import annotations

from datetime import date, datetime

from flows.messages import UserKey
from flows.records import DeviceId, PlaceId, RequestId
from flows.warranty import Problem, RepairTicket, TicketStatus
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts

_SELECT = (
    "SELECT id, device_id, request_id, place_id, workshop_id, reported_by, problem, status,"
    " replacement_id, warranty_until, opened_at, closed_at FROM repair_tickets"
)


def _ticket(row: Row) -> RepairTicket:
    return RepairTicket(
        id=int(row["id"]),
        device_id=DeviceId(row["device_id"]),
        request_id=RequestId(row["request_id"]) if row["request_id"] is not None else None,
        place_id=PlaceId(row["place_id"]) if row["place_id"] is not None else None,
        workshop_id=PlaceId(row["workshop_id"]) if row["workshop_id"] is not None else None,
        reported_by=UserKey(row["reported_by"]) if row["reported_by"] else None,
        problem=Problem(row["problem"]),
        status=TicketStatus(row["status"]),
        replacement_id=(DeviceId(row["replacement_id"])
                        if row["replacement_id"] is not None else None),
        warranty_until=date.fromisoformat(row["warranty_until"]),
        opened_at=from_ts(row["opened_at"]),
        closed_at=from_ts(row["closed_at"]) if row["closed_at"] else None,
    )


class SqliteRepairRepo:
    """Repair tickets of devices handed over."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def open(self, device_id: DeviceId, request_id: RequestId | None,
                   place_id: PlaceId | None, workshop_id: PlaceId | None,
                   reported_by: UserKey, problem: Problem, warranty_until: date,
                   now: datetime) -> RepairTicket:
        """A new open ticket."""
        cur = await self._conn.execute(
            "INSERT INTO repair_tickets (device_id, request_id, place_id, workshop_id,"
            " reported_by, problem, status, warranty_until, opened_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id",
            (device_id, request_id, place_id, workshop_id, reported_by, problem.value,
             warranty_until.isoformat(), ts(now)),
        )
        found = await self.get(await inserted_id(cur))
        assert found is not None
        return found

    async def get(self, ticket_id: int) -> RepairTicket | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (ticket_id,)) as cur:
            row = await cur.fetchone()
        return _ticket(row) if row else None

    async def open_for(self, device_id: DeviceId) -> RepairTicket | None:
        """The device's open ticket, if one is open already."""
        async with self._conn.execute(
            _SELECT + " WHERE device_id = ? AND status = 'open' ORDER BY id LIMIT 1",
            (device_id,),
        ) as cur:
            row = await cur.fetchone()
        return _ticket(row) if row else None

    async def open_at(self, place_id: PlaceId) -> list[RepairTicket]:
        """The open tickets of a place, or of the workshop that reconditioned the device."""
        async with self._conn.execute(
            _SELECT + " WHERE status = 'open' AND (place_id = ? OR workshop_id = ?)"
            " ORDER BY id", (place_id, place_id),
        ) as cur:
            return [_ticket(row) for row in await cur.fetchall()]

    async def close(self, ticket_id: int, status: TicketStatus, now: datetime,
                    replacement_id: DeviceId | None = None) -> bool:
        """Close an open ticket; False when it was closed already."""
        cur = await self._conn.execute(
            "UPDATE repair_tickets SET status = ?, closed_at = ?, replacement_id = ?"
            " WHERE id = ? AND status = 'open'",
            (status.value, ts(now), replacement_id, ticket_id),
        )
        return cur.rowcount == 1

    async def forget_reporter(self, key: UserKey) -> int:
        """"Forget me" or an account deleted: the tickets no longer say who reported them."""
        cur = await self._conn.execute(
            "UPDATE repair_tickets SET reported_by = NULL WHERE reported_by = ?", (key,))
        return int(cur.rowcount)
