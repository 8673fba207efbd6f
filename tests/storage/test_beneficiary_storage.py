"""Storage of the after-donation service: seats, one-time codes, reminders, forgetting.

The races run over several connections to one file, as several processes would: SQLite's
``BEGIN IMMEDIATE`` and the conditional UPDATEs are what keep them right, not a Python lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.messages import UserKey
from flows.records import PlaceId, PlaceKind
from flows.workshops import Refusal
from storage import territory as territory_store
from storage.engines import open_database
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


@pytest.fixture
async def path(database_target: Path | str) -> AsyncIterator[Path | str]:
    file = database_target
    db = await open_database(file)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
    storage = SqliteStorage(db)
    async with storage.transaction() as uow:
        place = await uow.places.add("Lieu", PlaceKind.HUB, "05179", "Rue", "lun. 9 h-12 h")
        assert place == 1
        for n in range(8):
            key = UserKey(f"cli:b{n}")
            await uow.users.create(key, "fr", NOW)
            await uow.beneficiaries.join(key, PlaceId(1), f"REJ00000{n}", None, True, NOW)
        await uow.workshops.add(PlaceId(1), "safety", LATER, 60, 3)
    await db.close()
    yield file


async def open_many(path: Path | str, n: int) -> list[SqliteStorage]:
    return [SqliteStorage(await open_database(path)) for _ in range(n)]


async def close_all(stores: list[SqliteStorage]) -> None:
    for store in stores:
        await store.db.close()


async def test_seats_are_never_overbooked_by_concurrent_processes(path: Path):
    stores = await open_many(path, 8)

    async def book(n: int) -> Refusal | None:
        async with stores[n].transaction() as uow:
            return await uow.workshops.book(1, UserKey(f"cli:b{n}"), NOW)

    try:
        results = await asyncio.gather(*(book(n) for n in range(8)))
        async with stores[0].transaction() as uow:
            workshop = await uow.workshops.get(1)
            attendees = await uow.workshops.attendees(1)
    finally:
        await close_all(stores)
    assert results.count(None) == 3 and results.count(Refusal.FULL) == 5
    assert workshop is not None and workshop.booked == 3 and len(attendees) == 3


async def test_a_seat_is_booked_once_and_given_back_once(path: Path):
    [store] = await open_many(path, 1)
    key = UserKey("cli:b0")
    try:
        async with store.transaction() as uow:
            assert await uow.workshops.book(1, key, NOW) is None
            assert await uow.workshops.book(1, key, NOW) is Refusal.ALREADY
            assert await uow.workshops.cancel(1, key)
            assert not await uow.workshops.cancel(1, key)
            assert (await uow.workshops.get(1)).booked == 0  # type: ignore[union-attr]
            assert await uow.workshops.book(1, key, LATER) is Refusal.STARTED
    finally:
        await close_all([store])


async def test_a_code_is_claimed_by_one_process_only(path: Path):
    stores = await open_many(path, 4)
    async with stores[0].transaction() as uow:
        await uow.beneficiaries.add_code("REJ777777", PlaceId(1), UserKey("cli:lieu"), NOW,
                                         NOW + timedelta(days=30))

    async def claim(store: SqliteStorage) -> bool:
        async with store.transaction() as uow:
            return await uow.beneficiaries.claim_code("REJ777777", NOW)

    try:
        results = await asyncio.gather(*(claim(s) for s in stores))
        async with stores[0].transaction() as uow:
            state = await uow.beneficiaries.code("REJ777777")
            expired = await uow.beneficiaries.claim_code("REJ777777", NOW + timedelta(days=31))
    finally:
        await close_all(stores)
    assert results.count(True) == 1 and state is not None and state.used and not expired


async def test_a_due_reminder_is_queued_once(path: Path):
    stores = await open_many(path, 2)
    key = UserKey("cli:b0")
    async with stores[0].transaction() as uow:
        await uow.workshops.book(1, key, NOW)
        await uow.reminders.add(1, key, [NOW + timedelta(hours=1)])

    async def take(store: SqliteStorage) -> int:
        async with store.transaction() as uow:
            due = await uow.reminders.due(NOW + timedelta(hours=2), 10)
            return sum([await uow.reminders.mark(d.id, "queued", NOW) for d in due])

    try:
        assert sum(await asyncio.gather(*(take(s) for s in stores))) == 1
    finally:
        await close_all(stores)


async def test_forgetting_leaves_no_row_about_the_person(path: Path):
    [store] = await open_many(path, 1)
    key = UserKey("cli:b0")
    try:
        async with store.transaction() as uow:
            await uow.beneficiaries.add_code("REJ000000", PlaceId(1), UserKey("cli:lieu"), NOW,
                                             NOW + timedelta(days=30))
            await uow.workshops.book(1, key, NOW)
            await uow.reminders.add(1, key, [NOW + timedelta(hours=1)])
            await uow.help.open(key, PlaceId(1), NOW)
            await uow.beneficiaries.forget(key)
            await uow.users.delete(key)
        counts = {}
        for table, column in (("beneficiaries", "user_key"), ("bookings", "user_key"),
                              ("reminders", "user_key"), ("help_tickets", "user_key"),
                              ("users", "key")):
            async with store.db.conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = ?", (key,)
            ) as cur:
                counts[table] = (await cur.fetchone())[0]
        async with store.transaction() as uow:
            assert (await uow.workshops.get(1)).booked == 0  # type: ignore[union-attr]
            assert await uow.beneficiaries.code("REJ000000") is None
    finally:
        await close_all([store])
    assert set(counts.values()) == {0}


async def test_attendance_is_recorded_counted_and_missed_sessions_read_in_a_row(path: Path):
    """On both engines: who came is set by join code, the rest did not; the path reads the
    topics attended; two sessions missed in a row are told apart from one."""
    [store] = await open_many(path, 1)
    ana, bob = UserKey("cli:b0"), UserKey("cli:b1")
    try:
        async with store.transaction() as uow:
            second = await uow.workshops.add(PlaceId(1), "video_calls",
                                             LATER + timedelta(days=7), 60, 3)
            for workshop in (1, second):
                for key in (ana, bob):
                    assert await uow.workshops.book(workshop, key, NOW) is None
            assert await uow.workshops.record_attendance(1, ["REJ000000"]) == [
                (ana, True), (bob, False)]
            assert await uow.workshops.record_attendance(second, []) == [
                (ana, False), (bob, False)]
            assert await uow.workshops.attended(ana) == ["safety"]
            assert await uow.workshops.attended(bob) == []
            assert await uow.workshops.missed_in_a_row(ana, 2) == 1
            assert await uow.workshops.missed_in_a_row(bob, 2) == 2
            held = await uow.workshops.held_at(PlaceId(1), NOW, LATER + timedelta(days=8), 5)
            assert [w.id for w in held] == [second, 1]
            await uow.beneficiaries.set_paused(bob, NOW)
            paused = await uow.beneficiaries.get(bob)
            assert paused is not None and paused.paused_at == NOW
            assert [(a.name, a.attended) for a in await uow.workshops.attendees(1)] == [
                ("REJ 000 000", True), ("REJ 000 001", False)]
    finally:
        await close_all([store])
