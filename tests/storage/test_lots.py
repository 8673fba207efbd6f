"""The lots repository: references per year, round trips, one-way transitions, 5-year purge."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.erasure import (
    DataKind,
    Encrypted,
    HoldsData,
    MediumKind,
    Method,
    Questionnaire,
    Result,
    Witness,
    assess,
)
from flows.messages import UserKey
from flows.records import (
    AgeBand,
    Chargers,
    Condition,
    DeviceCategory,
    DonorKind,
    Logistics,
    LotDraft,
    LotId,
    LotStatus,
    NewErasure,
    Signatory,
)
from storage import db as db_module
from storage import territory as territory_store
from storage.db import Database, migrations, ts
from storage.engines import open_database
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DONOR = UserKey("cli:acme")
OPERATOR = UserKey("cli:recond")
SIGNED = Signatory("Atelier du lycée", "René Dubois")

QUESTIONS = Questionnaire(HoldsData.YES, frozenset({DataKind.THIRD_PARTY, DataKind.HR}),
                          Encrypted.YES, True, Witness.BOTH, False)
ASSESSMENT = assess(QUESTIONS)
DRAFT = LotDraft(
    donor_kind=DonorKind.COMPANY, organisation="ACME", siret="73282932000074",
    contact_name="Jeanne Dupont", commune="05179", reach="+33612345678",
    items=((DeviceCategory.SCREEN, 5), (DeviceCategory.LAPTOP, 12)),
    age=AgeBand.FROM_5_TO_8, condition=Condition.TO_TEST, chargers=Chargers.PARTLY,
    questionnaire=QUESTIONS, level=ASSESSMENT.level, measures=ASSESSMENT.measures,
    logistics=Logistics.PICKUP, pickup_commune="05061", availability="le matin",
)
WIPE = NewErasure(
    device_category=DeviceCategory.LAPTOP, device_model="T480", device_serial="PF1",
    medium_kind=MediumKind.SSD, medium_model=None, medium_serial="S1", tool="nwipe",
    tool_version="0.34", method=Method.SANITIZE, result=Result.VERIFIED,
    started_at=NOW - timedelta(hours=2), ended_at=NOW - timedelta(hours=1),
)


@pytest.fixture
async def storage(database_target: Path | str):
    db = await open_database(database_target)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
    async with SqliteStorage(db).transaction() as uow:
        await uow.users.create(DONOR, "fr", NOW)
    yield SqliteStorage(db)
    await db.close()


async def test_a_lot_comes_back_as_declared(storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
    assert lot.reference == "LOT-2026-0001"
    assert lot.status is LotStatus.DECLARED and lot.donor == DONOR
    assert lot.items == ((DeviceCategory.LAPTOP, 12), (DeviceCategory.SCREEN, 5))
    assert lot.questionnaire == QUESTIONS
    assert lot.measures == ASSESSMENT.measures
    assert (lot.pickup_commune, lot.availability, lot.total) == ("05061", "le matin", 17)


async def test_references_count_per_year(storage: SqliteStorage):
    async with storage.transaction() as uow:
        refs = [(await uow.lots.create(DRAFT, DONOR, year, NOW)).reference
                for year in (2026, 2026, 2027, 2026)]
    assert refs == ["LOT-2026-0001", "LOT-2026-0002", "LOT-2027-0001", "LOT-2026-0003"]


async def test_received_and_certified_happen_once(storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        assert await uow.lots.mark_received(lot.id, NOW)
        assert not await uow.lots.mark_received(lot.id, NOW)
        await uow.lots.add_erasure(lot.id, WIPE, OPERATOR, NOW, signatory=SIGNED)
        assert await uow.lots.issue_certificate(lot.id, "EFF-AAAA-BBBB", OPERATOR, NOW,
                                                signatory=SIGNED)
        assert not await uow.lots.issue_certificate(lot.id, "EFF-CCCC-DDDD", OPERATOR, NOW,
                                                    signatory=SIGNED)
        certificate = await uow.lots.certificate_by_code("EFF-AAAA-BBBB")
        assert certificate is not None and certificate.media == 1
        assert certificate.signatory == SIGNED  # what the certificate names, kept with it
        assert [r.signatory for r in await uow.lots.erasures(lot.id)] == [SIGNED]
        assert await uow.lots.open_lots(None, 10) == []


async def test_a_device_belongs_to_one_lot(storage: SqliteStorage):
    async with storage.transaction() as uow:
        first = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        second = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        await uow.lots.add_erasure(first.id, WIPE, OPERATOR, NOW, signatory=SIGNED)
        await uow.lots.add_erasure(first.id, replace(WIPE, result=Result.FAILED), OPERATOR, NOW,
                                   signatory=SIGNED)
        assert await uow.lots.lot_of_device("PF1") == first.id
        with pytest.raises(ValueError, match="another lot"):
            await uow.lots.add_erasure(second.id, WIPE, OPERATOR, NOW, signatory=SIGNED)
        assert len(await uow.lots.erasures(first.id)) == 2


async def test_proofs_are_purged_exactly_after_the_cutoff(storage: SqliteStorage):
    async with storage.transaction() as uow:
        old = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        young = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        never = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        await uow.lots.add_erasure(old.id, WIPE, OPERATOR, NOW, signatory=SIGNED)
        await uow.lots.issue_certificate(old.id, "EFF-AAAA-AAAA", OPERATOR, NOW, signatory=SIGNED)
        later = NOW + timedelta(days=30)
        await uow.lots.add_erasure(young.id, replace(WIPE, device_serial="PF2"), OPERATOR, later,
                                   signatory=SIGNED)
        await uow.lots.issue_certificate(young.id, "EFF-BBBB-BBBB", OPERATOR, later,
                                         signatory=SIGNED)
        await uow.lots.add_erasure(never.id, replace(WIPE, device_serial="PF3"), OPERATOR, NOW,
                                   signatory=SIGNED)
    async with storage.transaction() as uow:
        assert await uow.lots.purge_proofs(NOW, NOW) == 0  # strictly older only
        assert await uow.lots.purge_proofs(NOW + timedelta(days=1), NOW) == 3
        assert await uow.lots.certificate(old.id) is None
        assert await uow.lots.erasures(old.id) == [] and await uow.lots.erasures(never.id) == []
        assert await uow.lots.certificate(young.id) is not None
        assert len(await uow.lots.erasures(young.id)) == 1
        purged = await uow.lots.get(old.id)
        assert purged is not None and purged.proofs_purged_at is not None
        assert purged.contact_name == "" and purged.reach is None
        assert await uow.lots.lot_of_device("PF1") is None


OLD_PROOFS = """
INSERT INTO places (id, name, kind, commune) VALUES (6, 'Atelier du lycée', 'reconditioner',
    '05061');
INSERT INTO places (id, name, kind, commune, active) VALUES (7, 'Fermé', 'hub', '05061', 0);
INSERT INTO users (key, role, place_id, created_at) VALUES
    ('cli:demo', 'reconditioner', 6, '{now}'),
    ('cli:rene', 'reconditioner', 7, '{now}');
INSERT INTO access_requests (user_key, role, structure, address, commune, contact_name,
    function, phone, status, created_at) VALUES
    ('cli:rene', 'reconditioner', 'Lycée Paul Héraud', 'x', '05061', 'René Dubois', 't',
     '+33612345678', 'approved', '{now}');
INSERT INTO lots (id, reference, year, seq, donor_kind, contact_name, commune, age, condition,
    chargers, level, measures, logistics, created_at) VALUES
    (1, 'LOT-2026-0001', 2026, 1, 'company', 'J', '05061', 'under_5', 'working', 'yes',
     'standard', '[]', 'drop_off', '{now}'),
    (2, 'LOT-2026-0002', 2026, 2, 'company', 'J', '05061', 'under_5', 'working', 'yes',
     'standard', '[]', 'drop_off', '{now}'),
    (3, 'LOT-2026-0003', 2026, 3, 'company', 'J', '05061', 'under_5', 'working', 'yes',
     'standard', '[]', 'drop_off', '{now}');
INSERT INTO lot_devices (id, lot_id, category, model, serial) VALUES
    (1, 1, 'laptop', 'T480', 'PF1'), (2, 2, 'laptop', 'T480', 'PF2'),
    (3, 3, 'laptop', 'T480', 'PF3');
INSERT INTO erasure_records (device_id, medium_kind, tool, method, result, started_at,
    ended_at, operator, recorded_at) VALUES
    (1, 'ssd', 'nwipe', 'overwrite', 'verified', '{now}', '{now}', 'cli:demo', '{now}'),
    (2, 'ssd', 'nwipe', 'overwrite', 'verified', '{now}', '{now}', 'cli:rene', '{now}'),
    (3, 'ssd', 'nwipe', 'overwrite', 'verified', '{now}', '{now}', 'cli:gone', '{now}');
INSERT INTO erasure_certificates (lot_id, code, issued_at, issued_by) VALUES
    (1, 'EFF-AAAA-AAAA', '{now}', 'cli:demo'), (2, 'EFF-BBBB-BBBB', '{now}', 'cli:rene'),
    (3, 'EFF-CCCC-CCCC', '{now}', 'cli:gone');
"""


async def test_proofs_made_before_the_upgrade_are_named_by_the_account_as_it_stands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Migration 6 names older proofs: the account's open place, else the structure of its
    approved request, and the name given there; an account gone is named by nothing."""
    path = tmp_path / "v5.sqlite3"
    every = migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: every[:5])
    await (await Database.open(path)).close()
    monkeypatch.undo()
    raw = sqlite3.connect(path)
    raw.executescript(OLD_PROOFS.format(now=ts(NOW)))
    raw.close()
    db = await Database.open(path)
    try:
        named = {}
        async with SqliteStorage(db, frozenset()).transaction() as uow:
            for lot in (LotId(1), LotId(2), LotId(3)):
                certificate = await uow.lots.certificate(lot)
                assert certificate is not None
                named[lot] = (certificate.signatory,
                              [r.signatory for r in await uow.lots.erasures(lot)])
    finally:
        await db.close()
    demo = Signatory("Atelier du lycée", "")
    rene = Signatory("Lycée Paul Héraud", "René Dubois")  # his place is closed
    nobody = Signatory("", "")
    assert named == {1: (demo, [demo]), 2: (rene, [rene]), 3: (nobody, [nobody])}


async def test_a_donor_erases_their_contact_data(storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        assert await uow.lots.forget_contact(DONOR) == 1
        assert await uow.lots.forget_contact(DONOR) == 0
        forgotten = await uow.lots.get(lot.id)
        assert forgotten is not None
        assert (forgotten.contact_name, forgotten.reach) == ("", None)
        assert forgotten.organisation == "ACME"


async def test_deleting_a_donor_keeps_the_lot_and_its_proofs(storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        await uow.users.delete(DONOR)
        kept = await uow.lots.get(lot.id)
        assert kept is not None and kept.donor is None
