"""The devices repository on both engines: labels and serials unique, changes conditional and
recorded, reconditioning records, erasure proofs attached, the five-year purge."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flows.messages import UserKey
from flows.records import (
    Battery,
    DeviceCategory,
    DeviceState,
    Diagnosis,
    Grade,
    NewDiagnosis,
    PlaceKind,
    Signatory,
)
from storage import territory as territory_store
from storage.engines import open_database
from storage.sqlite import SqliteStorage
from tests.storage.test_lots import DONOR, DRAFT, NOW, OPERATOR, SIGNED, WIPE

STAFF = UserKey("cli:staff")


@pytest.fixture
async def storage(database_target: Path | str):
    db = await open_database(database_target)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
    storage = SqliteStorage(db)
    async with storage.transaction() as uow:
        await uow.users.create(DONOR, "fr", NOW)
    yield storage
    await db.close()


async def a_place(storage: SqliteStorage, name: str = "Veynes"):
    async with storage.transaction() as uow:
        return await uow.places.add(name, PlaceKind.HUB, "05179", "", "", ())


async def test_a_device_comes_back_as_registered_and_its_label_is_its_own(
        storage: SqliteStorage):
    place = await a_place(storage)
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        device = await uow.devices.register("HA-7K3P", lot.id, DeviceCategory.LAPTOP, "laptop",
                                            "ThinkPad T480", "PF1", place, NOW, STAFF)
        assert device is not None
        assert (device.label, device.lot_id, device.kind, device.state, device.place_id) == (
            "HA-7K3P", lot.id, "laptop", DeviceState.RECEIVED, place)
        assert await uow.devices.register("HA-7K3P", lot.id, DeviceCategory.LAPTOP, None, "",
                                          None, place, NOW, STAFF) is None
        assert await uow.devices.register("HA-7K3Q", lot.id, DeviceCategory.LAPTOP, None, "",
                                          "PF1", place, NOW, STAFF) is None
        assert (await uow.devices.by_label("HA-7K3P")) == device
        assert (await uow.devices.by_serial("PF1")) == device
        assert [d.id for d in await uow.devices.of_lot(lot.id)] == [device.id]


async def test_a_change_happens_once_from_the_expected_state_and_is_recorded(
        storage: SqliteStorage):
    veynes, gap = await a_place(storage), await a_place(storage, "Gap")
    async with storage.transaction() as uow:
        device = await uow.devices.register("HA-7K3P", None, DeviceCategory.LAPTOP, "laptop",
                                            "", None, veynes, NOW, STAFF)
        assert device is not None
        ready = [DeviceState.RECEIVED]
        assert await uow.devices.change(device.id, ready, DeviceState.READY, "passed", NOW,
                                        OPERATOR, place_id=gap)
        assert not await uow.devices.change(device.id, ready, DeviceState.READY, "passed",
                                            NOW, OPERATOR)
        assert [d.id for d in await uow.devices.ready_at(gap, "laptop")] == [device.id]
        assert await uow.devices.ready_at(veynes, None) == []
        assert await uow.devices.change(device.id, [DeviceState.READY],
                                        DeviceState.HANDED_OVER, "handed_over", NOW, STAFF,
                                        request_id=None, join_code="REJ7K3M9P")
        moved = await uow.devices.get(device.id)
        assert moved is not None and moved.place_id == gap  # KEEP: stays where it was
        assert moved.join_code == "REJ7K3M9P"
        events = await uow.conn.execute_fetchall(
            "SELECT event, state, place_id, by_user FROM device_events ORDER BY id")
    assert [tuple(e) for e in events] == [
        ("registered", "received", veynes, STAFF), ("passed", "ready", gap, OPERATOR),
        ("handed_over", "handed_over", gap, STAFF)]


async def test_a_reconditioning_record_grades_the_device(storage: SqliteStorage):
    async with storage.transaction() as uow:
        device = await uow.devices.register("HA-7K3P", None, DeviceCategory.LAPTOP, "laptop",
                                            "", None, None, NOW, STAFF)
        assert device is not None
        record = NewDiagnosis(Diagnosis.WORKS, NOW - timedelta(hours=1), "Linux Mint 22",
                              "SSD 240 Go", Grade.B, Battery.WORN)
        stored = await uow.devices.add_diagnosis(device.id, record, OPERATOR, SIGNED, NOW)
        assert stored.signatory == SIGNED and stored.done_at == record.done_at
        assert await uow.devices.diagnoses(device.id) == [stored]
        graded = await uow.devices.get(device.id)
        assert graded is not None and (graded.grade, graded.battery) == (Grade.B, Battery.WORN)
        assert await uow.devices.set_details(device.id, "T480", "PF9")
        other = await uow.devices.register("HA-7K3Q", None, DeviceCategory.LAPTOP, None, "",
                                           None, None, NOW, STAFF)
        assert other is not None and not await uow.devices.set_details(other.id, None, "PF9")


async def test_an_erasure_proof_names_its_device_and_five_years_on_who_and_serials_go(
        storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        device = await uow.devices.register("HA-7K3P", lot.id, DeviceCategory.LAPTOP,
                                            "laptop", "T480", "PF1", None, NOW, STAFF)
        assert device is not None
        await uow.lots.add_erasure(lot.id, WIPE, OPERATOR, NOW, signatory=SIGNED,
                                   device_id=device.id)
        assert await uow.devices.erasures(device.id) == 1
        await uow.devices.add_diagnosis(device.id, NewDiagnosis(Diagnosis.WORKS, NOW),
                                        OPERATOR, Signatory("Lycée", "Léa"), NOW)
        await uow.lots.issue_certificate(lot.id, "EFF-AAAA-BBBB", OPERATOR, NOW,
                                         signatory=SIGNED)
    later = NOW + timedelta(days=5 * 366)
    async with storage.transaction() as uow:
        await uow.lots.purge_proofs(later - timedelta(days=5 * 365), later)
        assert await uow.devices.purge(later - timedelta(days=5 * 365)) == 2
        kept = await uow.devices.get(device.id)
        [record] = await uow.devices.diagnoses(device.id)
    assert kept is not None and kept.serial is None and kept.label == "HA-7K3P"
    assert record.signatory == Signatory("Lycée", "") and record.diagnosis is Diagnosis.WORKS
