"""Repair tickets, transfers, drivers and the impact report's once-only mark, on both
engines: status changes conditional (a double tap changes once), keys cleared on erasure."""

from __future__ import annotations

from datetime import date, timedelta

from flows.messages import UserKey
from flows.records import DeviceCategory, DeviceState
from flows.transfer_lifecycle import TransferStatus
from flows.warranty import Problem, TicketStatus
from storage.sqlite import SqliteStorage
from tests.storage.test_devices import STAFF, a_place, storage  # noqa: F401 (fixture)
from tests.storage.test_lots import DONOR, DRAFT, NOW

PERSON = UserKey("cli:lea")
DRIVER = UserKey("cli:marc")


async def a_handed_device(storage: SqliteStorage):  # noqa: F811
    place = await a_place(storage)
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)
        device = await uow.devices.register("HA-7K3P", lot.id, DeviceCategory.LAPTOP, "laptop",
                                            "", None, place, NOW, STAFF)
        assert device is not None
        assert await uow.devices.change(device.id, [DeviceState.RECEIVED],
                                        DeviceState.HANDED_OVER, "handed_over", NOW, STAFF,
                                        join_code="REJ234567")
    return lot, device, place


async def test_a_ticket_closes_once_and_forgets_its_reporter(storage: SqliteStorage):  # noqa: F811
    lot, device, place = await a_handed_device(storage)
    async with storage.transaction() as uow:
        assert (await uow.devices.handed_with("REJ234567")).id == device.id
        assert await uow.devices.handed_at(device.id) == NOW
        ticket = await uow.repairs.open(device.id, None, place, None, PERSON, Problem.SCREEN,
                                        date(2027, 5, 23), NOW)
        assert (await uow.repairs.open_for(device.id)).id == ticket.id
        assert [t.id for t in await uow.repairs.open_at(place)] == [ticket.id]
        assert await uow.repairs.close(ticket.id, TicketStatus.REPAIRED, NOW)
        assert not await uow.repairs.close(ticket.id, TicketStatus.REPLACED, NOW)
        assert await uow.repairs.open_for(device.id) is None
        await uow.beneficiaries.forget(PERSON)
        found = await uow.repairs.get(ticket.id)
        assert (found.status, found.reported_by, found.warranty_until) == (
            TicketStatus.REPAIRED, None, date(2027, 5, 23))
        assert await uow.lots.mark_impact_told(lot.id, NOW)
        assert not await uow.lots.mark_impact_told(lot.id, NOW + timedelta(days=1))


async def test_one_driver_takes_a_transfer(storage: SqliteStorage):  # noqa: F811
    _lot, device, place = await a_handed_device(storage)
    other = await a_place(storage, "Gap")
    async with storage.transaction() as uow:
        for key in (DRIVER, UserKey("cli:zoe")):
            await uow.users.create(key, "fr", NOW)
            assert await uow.transfers.set_driver(key, True, STAFF, NOW)
        assert not await uow.transfers.set_driver(DRIVER, True, STAFF, NOW)
        assert await uow.transfers.drivers() == [DRIVER, UserKey("cli:zoe")]
        transfer = await uow.transfers.plan(device.id, "laptop", None, place, other, "a-b",
                                            STAFF, NOW)
        assert [t.id for t in await uow.transfers.open(DRIVER)] == [transfer.id]
        assert await uow.transfers.change(transfer.id, [TransferStatus.PLANNED],
                                          TransferStatus.TAKEN, NOW, driver=DRIVER)
        assert not await uow.transfers.change(transfer.id, [TransferStatus.PLANNED],
                                              TransferStatus.TAKEN, NOW,
                                              driver=UserKey("cli:zoe"))
        assert await uow.transfers.open(UserKey("cli:zoe")) == []
        assert (await uow.transfers.get(transfer.id)).driver == DRIVER
        assert (await uow.transfers.open_for_device(device.id)).id == transfer.id
        assert await uow.transfers.set_driver(DRIVER, False, STAFF, NOW)
        assert not await uow.transfers.is_driver(DRIVER)
