"""Statements on the event loop's thread: what makes that safe, checked.

Waiting for another process's write lock must not freeze the bot (the loop goes on sending
and polling), and the WAL must still be checkpointed now that SQLite's automatic checkpoint
is off (the file would otherwise grow without end).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.messages import Outgoing, UserKey
from flows.ports import StorageUnavailable
from flows.text import Msg
from storage.checkpoint import COMMITS_PER_CHECKPOINT
from storage.db import Database
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def ticks_while(work: asyncio.Future[object] | asyncio.Task[object]) -> int:
    """How many times another task got the loop, every millisecond, while ``work`` ran."""
    count = 0
    while not work.done():
        await asyncio.sleep(0.001)
        count += 1
    return count


async def while_locked(path: Path, seconds: float,
                       write: Callable[[], Awaitable[object]]) -> tuple[float, int]:
    """Run ``write`` while another process holds the write lock of ``path`` for ``seconds``:
    (how long it took, how many times the loop ran meanwhile)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        asyncio.get_running_loop().call_later(seconds, other.execute, "COMMIT")
        started = time.monotonic()
        work = asyncio.ensure_future(write())
        ticks = await ticks_while(work)
        await work
        return time.monotonic() - started, ticks
    finally:
        other.close()


async def test_waiting_for_another_process_lock_leaves_the_loop_free(tmp_path: Path):
    path = tmp_path / "busy.sqlite3"
    db = await Database.open(path)

    async def write() -> object:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO processed_events (event_id, seen_at)"
                               " VALUES ('tg:1', '2026-11-23')")
        return None

    took, ticks = await while_locked(path, 0.5, write)
    assert took >= 0.45, "the lock was waited for"
    assert ticks >= 100, f"the loop ran only {ticks} times in half a second"
    found = await db.conn.execute_fetchall("SELECT count(*) FROM processed_events")
    assert found[0][0] == 1
    await db.close()


async def test_a_lock_held_past_the_busy_timeout_gives_up_without_writing(tmp_path: Path):
    path = tmp_path / "busy.sqlite3"
    db = await Database.open(path)
    db.busy_timeout = 0.2
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO processed_events (event_id, seen_at)"
                                   " VALUES ('tg:1', '2026-11-23')")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not db.conn.in_transaction
    found = await db.conn.execute_fetchall("SELECT count(*) FROM processed_events")
    assert found[0][0] == 0
    await db.close()


def wal_size(path: Path) -> int:
    return Path(f"{path}-wal").stat().st_size


async def test_the_wal_is_checkpointed_off_the_loop_and_stays_small(tmp_path: Path):
    """Commits without a pause, each queuing a message: the WAL is copied back and started
    again from the beginning, instead of growing with every commit."""
    path = tmp_path / "wal.sqlite3"
    db = await Database.open(path)
    storage = SqliteStorage(db)
    batch = 0
    for n in range(6 * COMMITS_PER_CHECKPOINT):
        async with storage.transaction() as uow:
            await uow.outbox.add(Outgoing(UserKey(f"tg:{n}"), (Msg("x" * 2000),)), NOW)
        if n == COMMITS_PER_CHECKPOINT - 2:
            batch = wal_size(path)  # what one checkpoint's worth of commits writes
    size = wal_size(path)
    await db.close()  # (closing checkpoints and deletes the WAL whatever happened before)
    assert batch > 0
    assert size <= 2 * batch, f"the WAL grew with every commit: {size} bytes, {batch} a batch"
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM outbox").fetchone()[0] == 6 * COMMITS_PER_CHECKPOINT
    raw.close()


async def pending(storage: SqliteStorage) -> list[int]:
    async with storage.reading() as uow:
        return [item.id for item in await uow.outbox.due(NOW, ["tg"], 10)]


async def test_a_delivery_record_waits_for_another_process_lock_then_is_written(
        tmp_path: Path):
    """The record of a delivery commits alone (no transaction), and still waits, loop free,
    for a write lock another process holds, rather than failing and sending again."""
    path = tmp_path / "busy.sqlite3"
    storage = SqliteStorage(await Database.open(path))
    async with storage.transaction() as uow:
        await uow.outbox.add(Outgoing(UserKey("tg:1"), (Msg("Bonjour"),)), NOW)
    [item] = await pending(storage)

    async def record() -> object:
        async with storage.autocommit() as uow:
            await uow.outbox.delivered(item, NOW)
        return None

    took, ticks = await while_locked(path, 0.3, record)
    assert took >= 0.25, "the lock was waited for"
    assert ticks >= 50, f"the loop ran only {ticks} times in 0.3 s"
    assert await pending(storage) == []
    await storage.db.close()


async def test_a_delivery_record_past_the_busy_timeout_leaves_the_message_pending(
        tmp_path: Path):
    path = tmp_path / "busy.sqlite3"
    storage = SqliteStorage(await Database.open(path))
    storage.db.busy_timeout = 0.2
    async with storage.transaction() as uow:
        await uow.outbox.add(Outgoing(UserKey("tg:1"), (Msg("Bonjour"),)), NOW)
    [item] = await pending(storage)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable):
            async with storage.autocommit() as uow:
                await uow.outbox.delivered(item, NOW)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await pending(storage) == [item]
    async with storage.autocommit() as uow:  # the lock gone, the next try is written
        await uow.outbox.delivered(item, NOW)
    assert await pending(storage) == []
    await storage.db.close()


async def test_autocommit_refuses_a_write_of_several_rows(tmp_path: Path):
    """Rows written one commit each could be left half-written: only a transaction may."""
    storage = SqliteStorage(await Database.open(tmp_path / "x.sqlite3"))
    with pytest.raises(TypeError):
        async with storage.autocommit() as uow:
            await uow.conn.executemany("INSERT INTO processed_events (event_id, seen_at)"
                                       " VALUES (?, '2026-11-23')", [("a",), ("b",)])
    found = await storage.db.conn.execute_fetchall("SELECT count(*) FROM processed_events")
    assert found[0][0] == 0
    await storage.db.close()
