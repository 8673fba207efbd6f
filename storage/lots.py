"""Donated lots, their devices, erasure records and certificates (proofs kept 5 years)."""

from __future__ import annotations

import json
from datetime import datetime

from flows.erasure import (
    DataKind,
    Encrypted,
    HoldsData,
    Level,
    Measure,
    MediumKind,
    Method,
    Questionnaire,
    Result,
    Witness,
)
from flows.messages import UserKey
from flows.records import (
    AgeBand,
    Certificate,
    Chargers,
    Condition,
    DeviceCategory,
    DonorKind,
    ErasureRecord,
    Logistics,
    Lot,
    LotDraft,
    LotId,
    LotStatus,
    NewErasure,
    PlaceId,
    Signatory,
)
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts

_SELECT = (
    "SELECT l.id, l.reference, l.donor_key, l.donor_kind, l.organisation, l.siret,"
    " l.contact_name, l.commune, l.reach, l.age, l.condition, l.chargers, l.level, l.measures,"
    " l.logistics, l.place_id, l.pickup_commune, l.availability, l.workshop_id, l.status,"
    " l.created_at,"
    " l.received_at, l.certified_at, l.proofs_purged_at,"
    " a.holds_data, a.data_kinds, a.encrypted, a.device_certificates, a.witness,"
    " a.donor_is_person,"
    " (SELECT json_group_array(json_array(i.category, i.quantity)) FROM lot_items i"
    "   WHERE i.lot_id = l.id) AS items"
    " FROM lots l JOIN lot_answers a ON a.lot_id = l.id"
)

_RECORDS = (
    "SELECT r.id, d.lot_id, d.category, d.model, d.serial, r.medium_kind, r.medium_model,"
    " r.medium_serial, r.tool, r.tool_version, r.method, r.result, r.started_at, r.ended_at,"
    " r.operator, r.organisation, r.operator_name, r.recorded_at"
    " FROM erasure_records r JOIN lot_devices d ON d.id = r.device_id"
)

_CERTIFICATES = (
    "SELECT c.lot_id, l.reference, c.code, c.issued_at, c.issued_by, c.organisation,"
    " c.issuer_name,"
    " (SELECT count(DISTINCT r.device_id || '/' || r.medium_serial) FROM erasure_records r"
    "   JOIN lot_devices d ON d.id = r.device_id WHERE d.lot_id = c.lot_id) AS media"
    " FROM erasure_certificates c JOIN lots l ON l.id = c.lot_id"
)


def lot_reference(year: int, seq: int) -> str:
    """The reference a donor quotes: ``LOT-2026-0007``."""
    return f"LOT-{year}-{seq:04d}"


def _maybe_ts(text: str | None) -> datetime | None:
    return from_ts(text) if text else None


def _lot(row: Row) -> Lot:
    items = sorted(
        ((DeviceCategory(c), int(n)) for c, n in json.loads(row["items"] or "[]")),
        key=lambda item: list(DeviceCategory).index(item[0]),
    )
    return Lot(
        id=LotId(row["id"]),
        reference=row["reference"],
        donor=UserKey(row["donor_key"]) if row["donor_key"] else None,
        donor_kind=DonorKind(row["donor_kind"]),
        organisation=row["organisation"],
        siret=row["siret"],
        contact_name=row["contact_name"],
        commune=row["commune"],
        reach=row["reach"],
        items=tuple(items),
        age=AgeBand(row["age"]),
        condition=Condition(row["condition"]),
        chargers=Chargers(row["chargers"]),
        questionnaire=Questionnaire(
            holds=HoldsData(row["holds_data"]),
            kinds=frozenset(DataKind(k) for k in json.loads(row["data_kinds"])),
            encrypted=Encrypted(row["encrypted"]),
            wants_device_certificates=bool(row["device_certificates"]),
            witness=Witness(row["witness"]),
            donor_is_person=bool(row["donor_is_person"]),
        ),
        level=Level(row["level"]),
        measures=tuple(Measure(m) for m in json.loads(row["measures"])),
        logistics=Logistics(row["logistics"]),
        place_id=PlaceId(row["place_id"]) if row["place_id"] is not None else None,
        pickup_commune=row["pickup_commune"],
        availability=row["availability"],
        workshop_id=PlaceId(row["workshop_id"]) if row["workshop_id"] is not None else None,
        status=LotStatus(row["status"]),
        created_at=from_ts(row["created_at"]),
        received_at=_maybe_ts(row["received_at"]),
        certified_at=_maybe_ts(row["certified_at"]),
        proofs_purged_at=_maybe_ts(row["proofs_purged_at"]),
    )


def _record(row: Row) -> ErasureRecord:
    return ErasureRecord(
        id=row["id"],
        lot_id=LotId(row["lot_id"]),
        device_category=DeviceCategory(row["category"]),
        device_model=row["model"],
        device_serial=row["serial"],
        medium_kind=MediumKind(row["medium_kind"]),
        medium_model=row["medium_model"],
        medium_serial=row["medium_serial"],
        tool=row["tool"],
        tool_version=row["tool_version"],
        method=Method(row["method"]),
        result=Result(row["result"]),
        started_at=from_ts(row["started_at"]),
        ended_at=from_ts(row["ended_at"]),
        operator=UserKey(row["operator"]),
        signatory=Signatory(row["organisation"], row["operator_name"]),
        recorded_at=from_ts(row["recorded_at"]),
    )


def _certificate(row: Row) -> Certificate:
    return Certificate(
        lot_id=LotId(row["lot_id"]),
        reference=row["reference"],
        code=row["code"],
        issued_at=from_ts(row["issued_at"]),
        issued_by=UserKey(row["issued_by"]),
        media=int(row["media"]),
        signatory=Signatory(row["organisation"], row["issuer_name"]),
    )


class SqliteLotRepo:
    """Lots and their erasure proofs, in the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, draft: LotDraft, donor: UserKey, year: int, now: datetime) -> Lot:
        """Store a declared lot under the next reference of ``year``."""
        async with self._conn.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM lots WHERE year = ?", (year,)
        ) as cur:
            row = await cur.fetchone()
        seq = int(row[0]) if row else 1
        cur = await self._conn.execute(
            "INSERT INTO lots (reference, year, seq, donor_key, donor_kind, organisation, siret,"
            " contact_name, commune, reach, age, condition, chargers, level, measures,"
            " logistics, place_id, pickup_commune, availability, workshop_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                lot_reference(year, seq), year, seq, donor, draft.donor_kind.value,
                draft.organisation, draft.siret, draft.contact_name, draft.commune, draft.reach,
                draft.age.value, draft.condition.value, draft.chargers.value, draft.level.value,
                json.dumps([m.value for m in draft.measures]), draft.logistics.value,
                draft.place_id, draft.pickup_commune, draft.availability, draft.workshop_id,
                ts(now),
            ),
        )
        new_id = await inserted_id(cur)
        lot_id = LotId(new_id)
        await self._conn.executemany(
            "INSERT INTO lot_items (lot_id, category, quantity) VALUES (?, ?, ?)",
            [(lot_id, category.value, quantity) for category, quantity in draft.items],
        )
        q = draft.questionnaire
        await self._conn.execute(
            "INSERT INTO lot_answers (lot_id, holds_data, data_kinds, encrypted,"
            " device_certificates, witness, donor_is_person) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                lot_id, q.holds.value, json.dumps(sorted(k.value for k in q.kinds)),
                q.encrypted.value, int(q.wants_device_certificates), q.witness.value,
                int(q.donor_is_person),
            ),
        )
        lot = await self.get(lot_id)
        assert lot is not None
        return lot

    async def get(self, lot_id: LotId) -> Lot | None:
        async with self._conn.execute(_SELECT + " WHERE l.id = ?", (lot_id,)) as cur:
            row = await cur.fetchone()
        return _lot(row) if row else None

    async def by_reference(self, reference: str) -> Lot | None:
        async with self._conn.execute(_SELECT + " WHERE l.reference = ?", (reference,)) as cur:
            row = await cur.fetchone()
        return _lot(row) if row else None

    async def for_donor(self, donor: UserKey, limit: int) -> list[Lot]:
        """The donor's own lots, newest first."""
        async with self._conn.execute(
            _SELECT + " WHERE l.donor_key = ? ORDER BY l.id DESC LIMIT ?", (donor, limit)
        ) as cur:
            return [_lot(row) for row in await cur.fetchall()]

    async def open_lots(self, place: PlaceId | None, limit: int) -> list[Lot]:
        """Lots not certified yet, oldest first, dropped at or sent to ``place`` (every
        place's when None): a place's or a workshop's work list."""
        where = " WHERE l.status IN ('declared', 'received')"
        params: tuple[object, ...] = (limit,)
        if place is not None:
            where += " AND (l.place_id = ? OR l.workshop_id = ?)"
            params = (place, place, limit)
        async with self._conn.execute(_SELECT + where + " ORDER BY l.id LIMIT ?",
                                      params) as cur:
            return [_lot(row) for row in await cur.fetchall()]

    async def send_to(self, lot_id: LotId, workshop: PlaceId) -> bool:
        """Send a lot not certified yet to a reconditioning workshop."""
        cur = await self._conn.execute(
            "UPDATE lots SET workshop_id = ? WHERE id = ? AND status <> 'certified'",
            (workshop, lot_id))
        return cur.rowcount == 1

    async def mark_received(self, lot_id: LotId, now: datetime) -> bool:
        """Move a *declared* lot to received; False if it was not declared any more."""
        cur = await self._conn.execute(
            "UPDATE lots SET status = 'received', received_at = ?"
            " WHERE id = ? AND status = 'declared'",
            (ts(now), lot_id),
        )
        return cur.rowcount == 1

    async def mark_impact_told(self, lot_id: LotId, now: datetime) -> bool:
        """Note that the donor was sent the lot's impact report; False when it was already."""
        cur = await self._conn.execute(
            "UPDATE lots SET impact_told_at = ? WHERE id = ? AND impact_told_at IS NULL",
            (ts(now), lot_id),
        )
        return cur.rowcount == 1

    async def lot_of_device(self, serial: str) -> LotId | None:
        """The lot a device (by serial number) was recorded in, if any."""
        async with self._conn.execute(
            "SELECT lot_id FROM lot_devices WHERE serial = ?", (serial,)
        ) as cur:
            row = await cur.fetchone()
        return LotId(row[0]) if row else None

    async def add_erasure(
        self, lot_id: LotId, record: NewErasure, operator: UserKey, now: datetime, *,
        signatory: Signatory, device_id: int | None = None,
    ) -> ErasureRecord:
        """Record one medium's sanitisation; the device is created on its first record.

        ``signatory`` is kept as it is now: what the certificate will name. ``device_id``
        names the labelled device of the chain the proof's device is.
        """
        await self._conn.execute(
            "INSERT INTO lot_devices (lot_id, category, model, serial) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (serial) DO NOTHING",
            (lot_id, record.device_category.value, record.device_model, record.device_serial),
        )
        async with self._conn.execute(
            "SELECT id FROM lot_devices WHERE serial = ? AND lot_id = ?",
            (record.device_serial, lot_id),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise ValueError("device recorded in another lot")
        if device_id is not None:
            await self._conn.execute(
                "UPDATE lot_devices SET device_id = ? WHERE id = ? AND device_id IS NULL",
                (device_id, row[0]))
        cur = await self._conn.execute(
            "INSERT INTO erasure_records (device_id, medium_kind, medium_model, medium_serial,"
            " tool, tool_version, method, result, started_at, ended_at, operator, organisation,"
            " operator_name, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                row[0], record.medium_kind.value, record.medium_model, record.medium_serial,
                record.tool, record.tool_version, record.method.value, record.result.value,
                ts(record.started_at), ts(record.ended_at), operator, signatory.organisation,
                signatory.name, ts(now),
            ),
        )
        record_id = await inserted_id(cur)
        async with self._conn.execute(_RECORDS + " WHERE r.id = ?", (record_id,)) as cur2:
            stored = await cur2.fetchone()
        assert stored is not None
        return _record(stored)

    async def erasures(self, lot_id: LotId) -> list[ErasureRecord]:
        """Every erasure record of a lot, in the order they were made."""
        async with self._conn.execute(
            _RECORDS + " WHERE d.lot_id = ? ORDER BY r.id", (lot_id,)
        ) as cur:
            return [_record(row) for row in await cur.fetchall()]

    async def issue_certificate(
        self, lot_id: LotId, code: str, by: UserKey, now: datetime, *, signatory: Signatory
    ) -> bool:
        """Certify a lot not certified yet; False if someone certified it meanwhile.

        ``signatory`` is kept as it is now: what the certificate names for five years.
        """
        cur = await self._conn.execute(
            "UPDATE lots SET status = 'certified', certified_at = ?"
            " WHERE id = ? AND status IN ('declared', 'received')",
            (ts(now), lot_id),
        )
        if cur.rowcount != 1:
            return False
        await self._conn.execute(
            "INSERT INTO erasure_certificates (lot_id, code, issued_at, issued_by, organisation,"
            " issuer_name) VALUES (?, ?, ?, ?, ?, ?)",
            (lot_id, code, ts(now), by, signatory.organisation, signatory.name),
        )
        return True

    async def certificate(self, lot_id: LotId) -> Certificate | None:
        async with self._conn.execute(_CERTIFICATES + " WHERE c.lot_id = ?", (lot_id,)) as cur:
            row = await cur.fetchone()
        return _certificate(row) if row else None

    async def certificate_by_code(self, code: str) -> Certificate | None:
        async with self._conn.execute(_CERTIFICATES + " WHERE c.code = ?", (code,)) as cur:
            row = await cur.fetchone()
        return _certificate(row) if row else None

    async def purge_proofs(self, before: datetime, now: datetime) -> int:
        """Delete erasure proofs older than ``before``; returns records and certificates gone.

        A certified lot's proofs go 5 years after its certificate, with the donor's contact
        (the lot itself stays, for the network's statistics); records of a lot never certified
        go 5 years after they were made.
        """
        cutoff = ts(before)
        await self._conn.execute(
            "UPDATE lots SET proofs_purged_at = ?, contact_name = '', reach = NULL,"
            " availability = NULL"
            " WHERE id IN (SELECT lot_id FROM erasure_certificates WHERE issued_at < ?)",
            (ts(now), cutoff),
        )
        # A lot never certified (never collected, or never erased) keeps no contact either.
        await self._conn.execute(
            "UPDATE lots SET contact_name = '', reach = NULL, availability = NULL"
            " WHERE created_at < ? AND (contact_name != '' OR reach IS NOT NULL"
            " OR availability IS NOT NULL)",
            (cutoff,),
        )
        gone = await self._conn.execute(
            "DELETE FROM erasure_records WHERE device_id IN (SELECT d.id FROM lot_devices d"
            " JOIN erasure_certificates c ON c.lot_id = d.lot_id WHERE c.issued_at < ?)",
            (cutoff,),
        )
        removed = gone.rowcount
        await self._conn.execute(
            "DELETE FROM lot_devices WHERE lot_id IN"
            " (SELECT lot_id FROM erasure_certificates WHERE issued_at < ?)",
            (cutoff,),
        )
        gone = await self._conn.execute(
            "DELETE FROM erasure_certificates WHERE issued_at < ?", (cutoff,)
        )
        removed += gone.rowcount
        gone = await self._conn.execute(
            "DELETE FROM erasure_records WHERE recorded_at < ? AND device_id IN"
            " (SELECT d.id FROM lot_devices d WHERE NOT EXISTS"
            "  (SELECT 1 FROM erasure_certificates c WHERE c.lot_id = d.lot_id))",
            (cutoff,),
        )
        removed += gone.rowcount
        await self._conn.execute(
            "DELETE FROM lot_devices WHERE NOT EXISTS"
            " (SELECT 1 FROM erasure_records r WHERE r.device_id = lot_devices.id)"
        )
        return removed

    async def forget_contact(self, donor: UserKey) -> int:
        """Blank the contact name, phone or e-mail and pickup text of a donor's lots."""
        cur = await self._conn.execute(
            "UPDATE lots SET contact_name = '', reach = NULL, availability = NULL"
            " WHERE donor_key = ?"
            " AND (contact_name != '' OR reach IS NOT NULL OR availability IS NOT NULL)",
            (donor,),
        )
        return cur.rowcount

    async def staff_for(self, place_id: PlaceId | None,
                        workshop_id: PlaceId | None) -> list[UserKey]:
        """Who is told about a lot: the staff of its drop-off place and of its workshop."""
        async with self._conn.execute(
            "SELECT key FROM users WHERE role IN ('place_staff', 'reconditioner')"
            " AND place_id IS NOT NULL AND place_id IN (?, ?) ORDER BY key",
            (place_id, workshop_id),
        ) as cur:
            return [UserKey(row[0]) for row in await cur.fetchall()]
