"""Transfers of devices between places and the volunteer drivers who carry them
(``flows/transfer_lifecycle.py``), in the unit of work's transaction.

A transfer's status moves by a conditional ``UPDATE ... WHERE status IN (expected)``: two
drivers taking the same transfer at once, one gets it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.messages import UserKey
from flows.records import DeviceId, PlaceId, RequestId
from flows.transfer_lifecycle import TransferStatus
from flows.transfers import Transfer
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts

_SELECT = (
    "SELECT id, device_id, kind, request_id, from_place, to_place, status, route, driver,"
    " created_at FROM transfers"
)


def _transfer(row: Row) -> Transfer:
    return Transfer(
        id=int(row["id"]),
        device_id=DeviceId(row["device_id"]) if row["device_id"] is not None else None,
        kind=row["kind"],
        request_id=RequestId(row["request_id"]) if row["request_id"] is not None else None,
        from_place=PlaceId(row["from_place"]), to_place=PlaceId(row["to_place"]),
        status=TransferStatus(row["status"]), route=row["route"],
        driver=UserKey(row["driver"]) if row["driver"] else None,
        created_at=from_ts(row["created_at"]),
    )


_STAMP = {TransferStatus.TAKEN: "taken_at", TransferStatus.PICKED_UP: "picked_up_at",
          TransferStatus.DELIVERED: "delivered_at", TransferStatus.CANCELLED: "cancelled_at"}


class SqliteTransferRepo:
    """Transfers and drivers."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def is_driver(self, key: UserKey) -> bool:
        async with self._conn.execute("SELECT 1 FROM drivers WHERE user_key = ?",
                                      (key,)) as cur:
            return await cur.fetchone() is not None

    async def set_driver(self, key: UserKey, driver: bool, by: UserKey,
                         now: datetime) -> bool:
        """Grant or withdraw the driver capability; False when nothing changed."""
        if driver:
            cur = await self._conn.execute(
                "INSERT INTO drivers (user_key, granted_by, granted_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING", (key, by, ts(now)))
        else:
            cur = await self._conn.execute("DELETE FROM drivers WHERE user_key = ?", (key,))
        return cur.rowcount == 1

    async def drivers(self) -> list[UserKey]:
        async with self._conn.execute("SELECT user_key FROM drivers ORDER BY user_key") as cur:
            return [UserKey(row[0]) for row in await cur.fetchall()]

    async def plan(self, device_id: DeviceId, kind: str | None, request_id: RequestId | None,
                   from_place: PlaceId, to_place: PlaceId, route: str, by: UserKey,
                   now: datetime) -> Transfer:
        cur = await self._conn.execute(
            "INSERT INTO transfers (device_id, kind, request_id, from_place, to_place, status,"
            " route, created_by, created_at) VALUES (?, ?, ?, ?, ?, 'planned', ?, ?, ?)"
            " RETURNING id",
            (device_id, kind, request_id, from_place, to_place, route, by, ts(now)))
        found = await self.get(await inserted_id(cur))
        assert found is not None
        return found

    async def get(self, transfer_id: int) -> Transfer | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (transfer_id,)) as cur:
            row = await cur.fetchone()
        return _transfer(row) if row else None

    async def open_for_device(self, device_id: DeviceId) -> Transfer | None:
        async with self._conn.execute(
            _SELECT + " WHERE device_id = ? AND status IN ('planned', 'taken', 'picked_up')",
            (device_id,)) as cur:
            row = await cur.fetchone()
        return _transfer(row) if row else None

    async def open(self, driver: UserKey) -> list[Transfer]:
        """Transfers no driver took yet, and those ``driver`` carries, by route."""
        async with self._conn.execute(
            _SELECT + " WHERE status = 'planned' OR (status IN ('taken', 'picked_up')"
            " AND driver = ?) ORDER BY route, id", (driver,)) as cur:
            return [_transfer(row) for row in await cur.fetchall()]

    async def clear_driver(self, transfer_id: int) -> None:
        """A transfer given up goes back to nobody."""
        await self._conn.execute("UPDATE transfers SET driver = NULL, taken_at = NULL"
                                 " WHERE id = ?", (transfer_id,))

    async def change(self, transfer_id: int, expected: Sequence[TransferStatus],
                     status: TransferStatus, now: datetime, *,
                     driver: UserKey | None = None) -> bool:
        """Move a transfer on, only from ``expected``; ``driver`` is set when given."""
        stamp = _STAMP.get(status)
        cur = await self._conn.execute(
            "UPDATE transfers SET status = ?, driver = coalesce(?, driver),"
            " taken_at = CASE WHEN ? = 'taken_at' THEN ? ELSE taken_at END,"
            " picked_up_at = CASE WHEN ? = 'picked_up_at' THEN ? ELSE picked_up_at END,"
            " delivered_at = CASE WHEN ? = 'delivered_at' THEN ? ELSE delivered_at END,"
            " cancelled_at = CASE WHEN ? = 'cancelled_at' THEN ? ELSE cancelled_at END"
            " WHERE id = ? AND status IN (SELECT value FROM json_each(?))",
            (status.value, driver, stamp, ts(now), stamp, ts(now), stamp, ts(now), stamp,
             ts(now), transfer_id, json.dumps([s.value for s in expected])))
        return cur.rowcount == 1
