"""The SMS repository's contract, on SQLite and on PostgreSQL: numbers, STOP and START, SMS
on their way (taken once, posted, sent and counted, or given up), and what goes with the
person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.messages import Outgoing, UserKey
from flows.records import PlaceId, PlaceKind
from flows.text import verbatim
from storage import territory as territory_store
from storage.engines import open_database
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANA, BEA = UserKey("sms:ana-token"), UserKey("sms:bea-token")
PHONE = "+33612345678"


@pytest.fixture
async def storage(database_target: Path | str) -> AsyncIterator[SqliteStorage]:
    db = await open_database(database_target)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
    store = SqliteStorage(db)
    async with store.transaction() as uow:
        await uow.places.add("Lieu", PlaceKind.HUB, "05179", "Rue", "lun. 9 h-12 h")
        for key in (ANA, BEA):
            await uow.users.create(key, None, NOW)
            await uow.beneficiaries.join(key, PlaceId(1), f"REJ{key[4:7].upper()}23456", None,
                                         True, NOW)
        assert await uow.sms.register(ANA, PHONE, NOW)
    yield store
    await db.close()


async def test_a_number_is_one_persons(storage: SqliteStorage):
    async with storage.transaction() as uow:
        assert not await uow.sms.register(BEA, PHONE, NOW)
        contact = await uow.sms.by_phone(PHONE)
        assert contact is not None and contact.key == ANA and not contact.stopped
        assert await uow.sms.contact(BEA) is None


async def test_stop_drops_what_waits_and_start_undoes_it(storage: SqliteStorage):
    async with storage.transaction() as uow:
        await uow.outbox.add(Outgoing(ANA, (verbatim("waiting"),)), NOW)
        await uow.sms.queue("1.ab", ANA, "queued", 1, None, False, NOW, NOW)
        assert await uow.sms.stop(ANA, NOW) == 2
        contact = await uow.sms.contact(ANA)
        assert contact is not None and contact.stopped and not contact.stop_told
        await uow.sms.stop_told(ANA)
        assert (await uow.sms.contact(ANA)).stop_told  # type: ignore[union-attr]
        assert await uow.sms.start(ANA)
        assert not await uow.sms.start(ANA)
        assert not (await uow.sms.contact(ANA)).stopped  # type: ignore[union-attr]


async def test_an_sms_is_taken_once_posted_in_order_then_counted_when_sent(
        storage: SqliteStorage):
    async with storage.transaction() as uow:
        first = await uow.sms.queue("7.aa", ANA, "un", 1, 3, False, NOW, NOW)
        assert await uow.sms.queue("7.aa", ANA, "un", 1, 3, False, NOW, NOW) is None
        second = await uow.sms.queue("8.bb", ANA, "deux", 2, None, True, NOW, NOW)
        assert first is not None and second is not None
        assert await uow.sms.waiting_before(ANA, second)
        due = await uow.sms.due(NOW, 10)
        assert [(o.id, o.phone, o.body, o.workshop_id, o.any_hour) for o in due] == [
            (first, PHONE, "un", 3, False), (second, PHONE, "deux", None, True)]
        await uow.sms.posted(first, "g-1", NOW, NOW + timedelta(seconds=30))
        assert not await uow.sms.waiting_before(ANA, second)
        assert [o.id for o in await uow.sms.due(NOW, 10)] == [second]
        later = NOW + timedelta(minutes=1)
        (posted, _queued) = await uow.sms.due(later, 10)
        assert posted.status == "posted" and posted.gateway_id == "g-1"
        await uow.sms.sent(first, later, "2026-11")
        await uow.sms.sent(first, later, "2026-11")  # counted once
        await uow.sms.put_off(second, later, "refused", attempt=True)
        (again,) = await uow.sms.due(later, 10)
        assert again.attempts == 1 and again.status == "queued"
        await uow.sms.posted(second, "g-2", later, later)
        await uow.sms.sent(second, later, "2026-12")
        assert await uow.sms.usage(["2026-10", "2026-11", "2026-12"]) == {
            "2026-10": 0, "2026-11": 1, "2026-12": 2}
        assert await uow.sms.due(later + timedelta(days=1), 10) == []


async def test_texts_are_blanked_when_done_and_records_purged_after(storage: SqliteStorage):
    async with storage.transaction() as uow:
        sms_id = await uow.sms.queue("9.cc", ANA, "secret words", 1, None, False, NOW, NOW)
        assert sms_id is not None
        await uow.sms.failed(sms_id, NOW, "given up")
    async with storage.reading() as uow:
        rows = await uow.conn.execute_fetchall("SELECT body, status FROM sms_messages")
    assert [tuple(r) for r in rows] == [("", "failed")]
    async with storage.transaction() as uow:
        assert await uow.sms.purge(NOW - timedelta(days=1)) == 0
        assert await uow.sms.purge(NOW + timedelta(days=1)) == 1


async def test_the_number_and_its_sms_go_with_the_person(storage: SqliteStorage):
    async with storage.transaction() as uow:
        await uow.sms.queue("10.dd", ANA, "bonjour", 1, None, False, NOW, NOW)
        await uow.beneficiaries.forget(ANA)
        await uow.users.delete(ANA)
    async with storage.reading() as uow:
        assert await uow.sms.by_phone(PHONE) is None
        rows = await uow.conn.execute_fetchall("SELECT count(*) FROM sms_messages")
    assert rows[0][0] == 0
