"""The SQLite database: migrations from empty, pragmas, and the repository contracts."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from flows.engine import Conversation
from flows.messages import Attachment, Choice, Outgoing, UserKey
from flows.ports import Unreached
from flows.text import Money, When, _
from storage.db import Database, migrations
from storage.engines import open_database
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANA = UserKey("cli:ana")


@pytest.fixture
async def storage(database_target: Path | str):
    db = await open_database(database_target)
    yield SqliteStorage(db, frozenset({"cli:coord"}))
    await db.close()


async def test_migrations_bring_an_empty_file_to_the_latest_version(tmp_path: Path):
    path = tmp_path / "new.sqlite3"
    db = await Database.open(path)
    latest = migrations()[-1][0]
    assert await db.version() == latest
    await db.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        recorded = [row[0] for row in raw.execute("SELECT number FROM schema_migrations")]
        assert recorded == [number for number, _name, _sql in migrations()]  # each, in order
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert {"users", "conversations", "outbox", "processed_events", "communes"} <= tables
    finally:
        raw.close()


async def test_reopening_applies_nothing_twice(tmp_path: Path):
    path = tmp_path / "again.sqlite3"
    await (await Database.open(path)).close()
    db = await Database.open(path)
    try:
        assert await db.migrate() == []
    finally:
        await db.close()


async def test_foreign_keys_are_enforced(storage: SqliteStorage):
    with pytest.raises((sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)):
        async with storage.transaction() as uow:
            await uow.conversations.save(UserKey("cli:nobody"), Conversation("f", "s"), NOW)


async def test_a_failed_transaction_leaves_nothing_half_written(storage: SqliteStorage):
    with pytest.raises(RuntimeError):
        async with storage.transaction() as uow:
            await uow.users.create(ANA, "fr", NOW)
            await uow.outbox.add(Outgoing(ANA, (_("Bonjour"),)), NOW)
            raise RuntimeError("crash in the middle")
    async with storage.transaction() as uow:
        assert await uow.users.get(ANA) is None
        assert await uow.outbox.pending_count() == 0


async def test_users_know_coordinators_from_the_settings(storage: SqliteStorage):
    async with storage.transaction() as uow:
        coord = await uow.users.create(UserKey("cli:coord"), None, NOW)
        ana = await uow.users.create(ANA, "en", NOW)
    assert coord.is_coordinator and not ana.is_coordinator and ana.lang == "en"


async def test_events_are_seen_once(storage: SqliteStorage):
    async with storage.transaction() as uow:
        assert await uow.events.first_time("tg:1", NOW)
        assert not await uow.events.first_time("tg:1", NOW)
        assert await uow.events.purge_before(NOW + timedelta(days=1)) == 1


async def test_conversations_round_trip_and_clear(storage: SqliteStorage):
    conv = Conversation("access", "phone", {"role": "prescriber", "contact": "Zoé"}, ("role",))
    async with storage.transaction() as uow:
        await uow.users.create(ANA, "fr", NOW)
        await uow.conversations.save(ANA, conv, NOW)
        saved = await uow.conversations.get(ANA)
        assert saved is not None and saved.conversation == conv and saved.updated_at == NOW
        await uow.conversations.clear(ANA)
        assert await uow.conversations.get(ANA) is None


async def test_outbox_keeps_typed_texts_choices_and_files(storage: SqliteStorage):
    message = Outgoing(
        ANA,
        (_("Prix : {price}, le {when}", price=Money(150), when=When(NOW)),),
        (Choice("a:1", _("Oui")),),
        Attachment("c.pdf", "application/pdf", b"%PDF-1.4"),
    )
    async with storage.transaction() as uow:
        item_id = await uow.outbox.add(message, NOW)
        due = await uow.outbox.due(NOW, ["cli"], 10)
        assert [(i.id, i.message) for i in due] == [(item_id, message)]
        assert await uow.outbox.due(NOW, ["tg"], 10) == []


async def test_an_edit_keeps_the_message_it_replaces(storage: SqliteStorage):
    message = Outgoing(ANA, (_("Bonjour"),), replaces="1234")
    async with storage.transaction() as uow:
        await uow.outbox.add(message, NOW)
        [item] = await uow.outbox.due(NOW, ["cli"], 10)
        assert item.message == message


async def test_messages_to_someone_who_never_opened_the_bot_wait_until_they_write(
    storage: SqliteStorage,
):
    bea = UserKey("cli:bea")
    async with storage.transaction() as uow:
        first = await uow.outbox.add(Outgoing(bea, (_("Bonjour"),)), NOW)
        await uow.outbox.add(Outgoing(ANA, (_("Bonjour"),)), NOW)
        await uow.reach.refused(bea, Unreached.NOT_STARTED, NOW)
        second = await uow.outbox.add(Outgoing(bea, (_("Encore"),)), NOW)
        assert [i.message.to for i in await uow.outbox.due(NOW, ["cli"], 10)] == [ANA]
        assert await uow.reach.back(bea) and not await uow.reach.back(bea)
        assert [i.id for i in await uow.outbox.due(NOW, ["cli"], 10)
                if i.message.to == bea] == [first, second]


async def test_messages_to_a_blocked_chat_come_marked_until_they_come_back(
    storage: SqliteStorage,
):
    async with storage.transaction() as uow:
        await uow.users.create(ANA, "fr", NOW)
        await uow.outbox.add(Outgoing(ANA, (_("Bonjour"),)), NOW)
        await uow.reach.refused(ANA, Unreached.BLOCKED, NOW)
        assert [i.blocked for i in await uow.outbox.due(NOW, ["cli"], 10)] == [True]
        user = await uow.users.get(ANA)
        assert user is not None and user.unreached
        assert await uow.reach.blocked_among([ANA, UserKey("cli:bea")]) == {ANA}
        await uow.reach.back(ANA)
        assert [i.blocked for i in await uow.outbox.due(NOW, ["cli"], 10)] == [False]
        user = await uow.users.get(ANA)
        assert user is not None and not user.unreached
        await uow.reach.refused(ANA, Unreached.BLOCKED, NOW)
        await uow.users.delete(ANA)  # forgotten with the account
        assert await uow.reach.blocked_among([ANA]) == set()


async def test_outbox_retries_later_then_delivers_once(storage: SqliteStorage):
    async with storage.transaction() as uow:
        item_id = await uow.outbox.add(Outgoing(ANA, (_("Bonjour"),)), NOW)
        await uow.outbox.retry_later(item_id, NOW + timedelta(seconds=30), "429")
        assert await uow.outbox.due(NOW, ["cli"], 10) == []
        later = NOW + timedelta(seconds=31)
        assert [i.attempts for i in await uow.outbox.due(later, ["cli"], 10)] == [1]
        await uow.outbox.delivered(item_id, later)
        assert await uow.outbox.due(later, ["cli"], 10) == []
        assert await uow.outbox.pending_count() == 0


async def test_a_transaction_cancelled_while_it_waits_for_the_lock_leaves_none_open(
        tmp_path: Path):
    """A job cancelled at a stop while its ``BEGIN`` waits for another process's lock: that
    ``BEGIN`` still runs on aiosqlite's thread once the lock is free, and must be rolled back,
    or the next transaction (the stop's own) finds one open."""
    path = tmp_path / "cancel.sqlite3"
    db = await Database.open(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")

        async def job() -> None:
            async with db.transaction():
                raise AssertionError("the lock was never free")

        waiting = asyncio.create_task(job())
        await asyncio.sleep(0.2)  # its BEGIN is waiting in SQLite's busy timeout
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.to_thread(other.execute, "ROLLBACK")
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO processed_events (event_id, seen_at) VALUES"
                               " ('x', '2026')")
        assert not db.conn.in_transaction
    finally:
        other.close()
        await db.close()


async def test_the_outbox_backlog_counts_what_waits_for_the_served_platforms(
    storage: SqliteStorage,
):
    """What /healthz reads: how many messages wait, and since when the oldest one does."""
    async with storage.transaction() as uow:
        assert await uow.outbox.backlog(["cli"]) == (0, None)
        first = await uow.outbox.add(Outgoing(ANA, (_("Bonjour"),)), NOW)
        await uow.outbox.add(Outgoing(ANA, (_("Bonjour"),)), NOW + timedelta(minutes=3))
        await uow.outbox.add(Outgoing(UserKey("tg:1"), (_("Bonjour"),)),
                             NOW - timedelta(hours=1))
        assert await uow.outbox.backlog(["cli"]) == (2, NOW)
        [item, _later] = await uow.outbox.due(NOW + timedelta(minutes=3), ["cli"], 10)
        assert item.created_at == NOW
        await uow.outbox.delivered(first, NOW + timedelta(minutes=5))
        assert await uow.outbox.backlog(["cli"]) == (1, NOW + timedelta(minutes=3))
        assert await uow.outbox.backlog(["cli", "tg"]) == (2, NOW - timedelta(hours=1))
