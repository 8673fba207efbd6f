"""The lots repository: references per year, round trips, one-way transitions, 5-year purge."""

from __future__ import annotations

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
    LotStatus,
    NewErasure,
)
from storage import territory as territory_store
from storage.db import Database
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DONOR = UserKey("cli:acme")
OPERATOR = UserKey("cli:recond")

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
async def storage(tmp_path: Path):
    db = await Database.open(tmp_path / "t.sqlite3")
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
        await uow.lots.add_erasure(lot.id, WIPE, OPERATOR, NOW)
        assert await uow.lots.issue_certificate(lot.id, "EFF-AAAA-BBBB", OPERATOR, NOW)
        assert not await uow.lots.issue_certificate(lot.id, "EFF-CCCC-DDDD", OPERATOR, NOW)
        certificate = await uow.lots.certificate_by_code("EFF-AAAA-BBBB")
        assert certificate is not None and certificate.media == 1
        assert await uow.lots.open_lots(None, 10) == []


async def test_a_device_belongs_to_one_lot(storage: SqliteStorage):
    async with storage.transaction() as uow:
        first = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        second = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        await uow.lots.add_erasure(first.id, WIPE, OPERATOR, NOW)
        await uow.lots.add_erasure(first.id, replace(WIPE, result=Result.FAILED), OPERATOR, NOW)
        assert await uow.lots.lot_of_device("PF1") == first.id
        with pytest.raises(ValueError, match="another lot"):
            await uow.lots.add_erasure(second.id, WIPE, OPERATOR, NOW)
        assert len(await uow.lots.erasures(first.id)) == 2


async def test_proofs_are_purged_exactly_after_the_cutoff(storage: SqliteStorage):
    async with storage.transaction() as uow:
        old = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        young = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        never = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        await uow.lots.add_erasure(old.id, WIPE, OPERATOR, NOW)
        await uow.lots.issue_certificate(old.id, "EFF-AAAA-AAAA", OPERATOR, NOW)
        later = NOW + timedelta(days=30)
        await uow.lots.add_erasure(young.id, replace(WIPE, device_serial="PF2"), OPERATOR, later)
        await uow.lots.issue_certificate(young.id, "EFF-BBBB-BBBB", OPERATOR, later)
        await uow.lots.add_erasure(never.id, replace(WIPE, device_serial="PF3"), OPERATOR, NOW)
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
