"""Devices of the chain, their history and their reconditioning records.

Every change of state is a conditional ``UPDATE ... WHERE state IN (expected)`` written with
its event in ``device_events``: a device acted on twice (two reconditioners, a double tap) is
changed once, and the figures count devices from those events.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.messages import UserKey
from flows.ports import KEEP
from flows.records import (
    Battery,
    Device,
    DeviceCategory,
    DeviceId,
    DeviceState,
    Diagnosis,
    DiagnosisRecord,
    Grade,
    LotId,
    NewDiagnosis,
    PlaceId,
    RequestId,
    Signatory,
)
from storage.connection import Connection, Row, inserted_id
from storage.db import NO_LIMIT, from_ts, ts

_SELECT = (
    "SELECT id, label, lot_id, category, kind, model, serial, state, place_id, request_id,"
    " join_code, wiped_at, grade, battery, placeholder, created_at, updated_at FROM devices"
)

_DIAGNOSES = (
    "SELECT id, device_id, diagnosis, system, parts, grade, battery, note, organisation,"
    " operator_name, done_at, recorded_at FROM device_diagnoses"
)


def _maybe(text: str | None) -> datetime | None:
    return from_ts(text) if text else None


def _device(row: Row) -> Device:
    return Device(
        id=DeviceId(row["id"]),
        label=row["label"],
        lot_id=LotId(row["lot_id"]) if row["lot_id"] is not None else None,
        category=DeviceCategory(row["category"]),
        kind=row["kind"],
        model=row["model"],
        serial=row["serial"],
        state=DeviceState(row["state"]),
        place_id=PlaceId(row["place_id"]) if row["place_id"] is not None else None,
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
        request_id=RequestId(row["request_id"]) if row["request_id"] is not None else None,
        join_code=row["join_code"],
        wiped_at=_maybe(row["wiped_at"]),
        grade=Grade(row["grade"]) if row["grade"] else None,
        battery=Battery(row["battery"]) if row["battery"] else None,
        placeholder=bool(row["placeholder"]),
    )


def _diagnosis(row: Row) -> DiagnosisRecord:
    return DiagnosisRecord(
        id=row["id"],
        device_id=DeviceId(row["device_id"]),
        diagnosis=Diagnosis(row["diagnosis"]),
        done_at=from_ts(row["done_at"]),
        system=row["system"],
        parts=row["parts"],
        grade=Grade(row["grade"]) if row["grade"] else None,
        battery=Battery(row["battery"]) if row["battery"] else None,
        note=row["note"],
        signatory=Signatory(row["organisation"], row["operator_name"]),
        recorded_at=from_ts(row["recorded_at"]),
    )


def _states(states: Sequence[DeviceState]) -> str:
    return json.dumps([s.value for s in states])


class SqliteDeviceRepo:
    """Devices, their events and reconditioning records, in the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def register(
        self, label: str, lot_id: LotId | None, category: DeviceCategory, kind: str | None,
        model: str, serial: str | None, place_id: PlaceId | None, now: datetime,
        by: UserKey | None,
    ) -> Device | None:
        """A new device in the "received" state; None when ``label`` (or ``serial``) is
        taken already: the caller draws another label, or says whose serial it is."""
        cur = await self._conn.execute(
            "INSERT INTO devices (label, lot_id, category, kind, model, serial, state, place_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (label, lot_id, category.value, kind, model, serial or None, place_id, ts(now),
             ts(now)),
        )
        row = await cur.fetchone()
        if row is None:
            return None
        device_id = DeviceId(int(row[0]))
        await self.log(device_id, "registered", DeviceState.RECEIVED, place_id, None, by, now)
        return await self.get(device_id)

    async def get(self, device_id: DeviceId) -> Device | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (device_id,)) as cur:
            row = await cur.fetchone()
        return _device(row) if row else None

    async def by_label(self, label: str) -> Device | None:
        async with self._conn.execute(_SELECT + " WHERE label = ?", (label,)) as cur:
            row = await cur.fetchone()
        return _device(row) if row else None

    async def by_serial(self, serial: str) -> Device | None:
        async with self._conn.execute(_SELECT + " WHERE serial = ?", (serial,)) as cur:
            row = await cur.fetchone()
        return _device(row) if row else None

    async def of_lot(self, lot_id: LotId) -> list[Device]:
        """A lot's devices, in the order they were registered."""
        async with self._conn.execute(_SELECT + " WHERE lot_id = ? ORDER BY id",
                                      (lot_id,)) as cur:
            return [_device(row) for row in await cur.fetchall()]

    async def of_request(self, request_id: RequestId) -> list[Device]:
        """The devices handed over for a request (a replacement is a second one)."""
        async with self._conn.execute(_SELECT + " WHERE request_id = ? ORDER BY id",
                                      (request_id,)) as cur:
            return [_device(row) for row in await cur.fetchall()]

    async def ready_at(self, place_id: PlaceId, kind: str | None,
                       limit: int = NO_LIMIT) -> list[Device]:
        """The ready devices of a place (of one kind, or all), oldest first."""
        async with self._conn.execute(
            _SELECT + " WHERE place_id = ? AND state = 'ready'"
            " AND (CAST(? AS TEXT) IS NULL OR kind = ?) ORDER BY id LIMIT ?",
            (place_id, kind, kind, limit),
        ) as cur:
            return [_device(row) for row in await cur.fetchall()]

    async def change(
        self, device_id: DeviceId, expected: Sequence[DeviceState], state: DeviceState,
        event: str, now: datetime, by: UserKey | None, *, place_id: object = KEEP,
        request_id: RequestId | None = None, join_code: str | None = None,
    ) -> bool:
        """Move a device from one of ``expected`` to ``state`` and record ``event``; False
        when it was not in one of them any more. ``place_id`` moves it (KEEP: stays);
        ``request_id`` and ``join_code`` are set when given."""
        moving = place_id is not KEEP
        cur = await self._conn.execute(
            "UPDATE devices SET state = ?, updated_at = ?,"
            " place_id = CASE WHEN ? = 1 THEN ? ELSE place_id END,"
            " request_id = coalesce(?, request_id), join_code = coalesce(?, join_code)"
            " WHERE id = ? AND state IN (SELECT value FROM json_each(?))",
            (state.value, ts(now), int(moving), place_id if moving else None, request_id,
             join_code, device_id, _states(expected)),
        )
        if cur.rowcount != 1:
            return False
        device = await self.get(device_id)
        assert device is not None
        await self.log(device_id, event, state, device.place_id, request_id, by, now)
        return True

    async def log(self, device_id: DeviceId, event: str, state: DeviceState,
                  place_id: PlaceId | None, request_id: RequestId | None, by: UserKey | None,
                  now: datetime) -> None:
        """Keep the history of a device (keys and codes only)."""
        await self._conn.execute(
            "INSERT INTO device_events (device_id, event, state, place_id, request_id, by_user,"
            " at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (device_id, event, state.value, place_id, request_id, by, ts(now)),
        )

    async def handed_with(self, join_code: str) -> Device | None:
        """The device handed over with a join code (the latest: a replacement's)."""
        async with self._conn.execute(
            _SELECT + " WHERE join_code = ? AND state = 'handed_over' ORDER BY id DESC LIMIT 1",
            (join_code,)) as cur:
            row = await cur.fetchone()
        return _device(row) if row else None

    async def handed_at(self, device_id: DeviceId) -> datetime | None:
        """When the device was last handed over (None: never)."""
        async with self._conn.execute(
            "SELECT max(at) FROM device_events WHERE device_id = ? AND event = 'handed_over'",
            (device_id,)) as cur:
            row = await cur.fetchone()
        return from_ts(row[0]) if row and row[0] else None

    async def set_details(self, device_id: DeviceId, model: str | None,
                          serial: str | None) -> bool:
        """Complete a device's make and model and serial number (those given); False when
        the serial number is another device's."""
        if serial:
            other = await self.by_serial(serial)
            if other is not None and other.id != device_id:
                return False
        await self._conn.execute(
            "UPDATE devices SET model = coalesce(?, model), serial = coalesce(?, serial)"
            " WHERE id = ?", (model or None, serial or None, device_id))
        return True

    async def mark_wiped(self, device_id: DeviceId, now: datetime) -> None:
        """Its storage's erasure is recorded (verified, or the medium destroyed)."""
        await self._conn.execute("UPDATE devices SET wiped_at = ?, updated_at = ? WHERE id = ?",
                                 (ts(now), ts(now), device_id))

    async def add_diagnosis(self, device_id: DeviceId, record: NewDiagnosis,
                            operator: UserKey | None, signatory: Signatory,
                            now: datetime) -> DiagnosisRecord:
        """Keep a reconditioning record; the device takes its grade and battery state."""
        cur = await self._conn.execute(
            "INSERT INTO device_diagnoses (device_id, diagnosis, system, parts, grade, battery,"
            " note, organisation, operator_name, operator, done_at, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (device_id, record.diagnosis.value, record.system, record.parts,
             record.grade.value if record.grade else None,
             record.battery.value if record.battery else None, record.note,
             signatory.organisation, signatory.name, operator, ts(record.done_at), ts(now)),
        )
        record_id = await inserted_id(cur)
        await self._conn.execute(
            "UPDATE devices SET grade = coalesce(?, grade), battery = coalesce(?, battery)"
            " WHERE id = ?",
            (record.grade.value if record.grade else None,
             record.battery.value if record.battery else None, device_id))
        async with self._conn.execute(_DIAGNOSES + " WHERE id = ?", (record_id,)) as cur2:
            row = await cur2.fetchone()
        assert row is not None
        return _diagnosis(row)

    async def diagnoses(self, device_id: DeviceId) -> list[DiagnosisRecord]:
        async with self._conn.execute(_DIAGNOSES + " WHERE device_id = ? ORDER BY id",
                                      (device_id,)) as cur:
            return [_diagnosis(row) for row in await cur.fetchall()]

    async def erasures(self, device_id: DeviceId) -> int:
        """How many erasure records (the proofs of its lot) are attached to the device."""
        async with self._conn.execute(
            "SELECT count(*) FROM erasure_records r JOIN lot_devices d ON d.id = r.device_id"
            " WHERE d.device_id = ?", (device_id,)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def purge(self, before: datetime) -> int:
        """Forget, five years on, who made a reconditioning record (their name as given)
        and the serial numbers of devices whose lot's proofs were purged."""
        cur = await self._conn.execute(
            "UPDATE device_diagnoses SET operator_name = '', operator = NULL"
            " WHERE recorded_at < ? AND (operator_name <> '' OR operator IS NOT NULL)",
            (ts(before),))
        named = cur.rowcount
        cur = await self._conn.execute(
            "UPDATE devices SET serial = NULL WHERE serial IS NOT NULL AND lot_id IN"
            " (SELECT id FROM lots WHERE proofs_purged_at IS NOT NULL)")
        return named + cur.rowcount
