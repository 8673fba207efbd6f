"""A message sent whose delivery record the database refuses is never sent again.

The dispatcher records each delivery after the platform took the message. With the disk full,
that record failed, the row still said pending, and every following round sent the message
again: one person got the same question 23 times. Now the record is kept in memory, the round
stops, and nothing more goes out until the record is written: the message goes out once, the
next ones once the database takes writes again, and a crash meanwhile repeats only it.

The database refuses the records two ways: a full disk, simulated by the dispatcher's storage
raising :class:`~flows.ports.StorageUnavailable` as ``storage/db.py`` does for
``SQLITE_FULL`` (the one-statement record shrinks its row, so ``PRAGMA max_page_count`` cannot
make it fail); and SQLite's own refusal, ``PRAGMA query_only`` on the bot's connection
(``SQLITE_READONLY``, what a read-only file gives), through the real translation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import App, build
from bot.dispatcher import Dispatcher
from bot.i18n import Rendered
from bot.settings import load
from flows.messages import Outgoing, UserKey
from flows.ports import StorageUnavailable, UnitOfWork
from flows.text import verbatim
from storage.sqlite import SqliteStorage
from tests.support import Clock

ROUNDS = 5
"""Delivery rounds run while the records are refused."""
GUARD = 30.0
"""Seconds after which a wait for an event is a failure (a hang), never a margin."""


@dataclass
class Counting:
    """A console transport that keeps what it is given; ``concurrency`` as a platform far
    away allows it (several people's messages in flight at once)."""

    concurrency: int = 1
    platform: str = "cli"
    sent: list[tuple[str, str]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Rendered) -> None:
        self.sent.append((message.to, message.text))
        self.arrived.set()

    def texts(self) -> list[str]:
        return [text for _, text in self.sent]


class Refusing:
    """The bot's storage as the dispatcher sees it, whose one-statement writes (the delivery
    records) are refused while :attr:`refusing`: by a full disk (``how="full"``) or by
    SQLite itself (``how="read-only"``). Counts the refusals, and signals each."""

    def __init__(self, storage: SqliteStorage, how: str) -> None:
        self.storage = storage
        self.how = how
        self.refusing = False
        self.refused = 0
        self.refusal = asyncio.Event()

    async def refuse(self, on: bool) -> None:
        self.refusing = on
        if self.how == "read-only":
            await self.storage.db.conn.execute(f"PRAGMA query_only = {int(on)}")

    def reading(self) -> object:
        return self.storage.reading()

    def transaction(self) -> object:
        return self.storage.transaction()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[UnitOfWork]:
        try:
            if self.refusing and self.how == "full":
                raise StorageUnavailable("SQLITE_FULL: database or disk is full")
            async with self.storage.autocommit() as uow:
                yield uow
        except StorageUnavailable:
            self.refused += 1
            self.refusal.set()
            raise


@dataclass
class World:
    app: App
    transport: Counting
    storage: Refusing

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app.dispatcher

    async def queue(self, *messages: tuple[str, str]) -> None:
        async with self.app.storage.transaction() as uow:
            for to, text in messages:
                await uow.outbox.add(Outgoing(UserKey(f"cli:{to}"), (verbatim(text),)),
                                     self.dispatcher.clock())

    async def statuses(self) -> dict[str, str]:
        rows = await self.app.db.conn.execute_fetchall(
            "SELECT id, status FROM outbox ORDER BY id")
        return {str(row[0]): row[1] for row in rows}

    async def refused_round(self) -> None:
        """One delivery round while the records are refused: it raises, and says so."""
        with pytest.raises(StorageUnavailable):
            await self.dispatcher.drain()


@pytest.fixture(params=["full", "read-only"])
async def world(request: pytest.FixtureRequest, tmp_path: Path,
                clock: Clock) -> AsyncIterator[World]:
    transport = Counting()
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {"cli": transport},
                      database=tmp_path / "records.sqlite3", clock=clock)
    storage = Refusing(app.storage, request.param)
    app.dispatcher.storage = storage  # type: ignore[assignment]
    yield World(app, transport, storage)
    await storage.refuse(False)
    await app.close()


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_sent_message_whose_record_is_refused_goes_out_once(
    world: World, concurrency: int,
):
    world.transport.concurrency = concurrency
    await world.queue(("ana", "question"), ("bob", "bob 1"), ("ana", "ana 2"))
    await world.storage.refuse(True)
    for _ in range(ROUNDS):
        await world.refused_round()
    sent = world.transport.texts()
    assert sent[0] == "question" and len(sent) == len(set(sent)), "each sent once at most"
    assert "ana 2" not in sent, "nothing to ana after a message whose record is unwritten"
    if concurrency == 1:
        assert sent == ["question"], "one call at a time: nothing after it"
    in_flight = len(sent)  # records refused in the first round, one per message sent
    assert world.storage.refused == ROUNDS - 1 + in_flight, \
        "each later round tried the kept records again, and nothing else"
    assert set((await world.statuses()).values()) == {"pending"}

    await world.storage.refuse(False)  # the disk has room again
    assert await world.dispatcher.drain() == 3 - in_flight
    assert sorted(world.transport.texts()) == ["ana 2", "bob 1", "question"]
    assert [t for to, t in world.transport.sent if to == "cli:ana"] == ["question", "ana 2"]
    assert set((await world.statuses()).values()) == {"sent"}


async def test_a_crash_while_a_record_waits_repeats_that_message_only(
    world: World, clock: Clock,
):
    """The record in memory is lost with the process: its message goes out once more at
    the next start (the one repeat the design allows), and every other message once."""
    world.transport.concurrency = 4
    await world.queue(("ana", "question"), ("bob", "bob 1"), ("ana", "ana 2"))
    await world.storage.refuse(True)
    await world.refused_round()
    await world.refused_round()
    await world.storage.refuse(False)
    restarted = Dispatcher(world.app.storage, world.app.renderer, {"cli": world.transport},
                           clock)  # a new process: nothing in memory
    assert await restarted.drain() == 3
    texts = world.transport.texts()
    assert texts.count("question") == 2 and texts.count("ana 2") == 1
    assert texts.count("bob 1") in (1, 2)  # repeated only if it was in flight at the crash
    assert set(texts) == {"ana 2", "bob 1", "question"}


async def test_the_running_dispatcher_pauses_without_a_traceback_and_resumes(
    world: World, caplog: pytest.LogCaptureFixture,
):
    """Rounds go on (each woken by a new message, as people keep writing) and each only
    tries the record again; once the disk is back, the record is written first and the
    next message goes out."""
    caplog.set_level(logging.INFO)
    await world.queue(("ana", "question"))
    await world.storage.refuse(True)
    task = asyncio.create_task(world.dispatcher.run_forever())
    try:
        for _ in range(ROUNDS):
            world.storage.refusal.clear()
            world.dispatcher.wake()
            await asyncio.wait_for(world.storage.refusal.wait(), GUARD)
        assert world.transport.texts() == ["question"]
        assert world.storage.refused >= ROUNDS
        assert not [r for r in caplog.records if r.exc_info], "a traceback per round"

        await world.storage.refuse(False)
        await world.queue(("ana", "next"))
        world.transport.arrived.clear()
        world.dispatcher.wake()
        await asyncio.wait_for(world.transport.arrived.wait(), GUARD)
        assert world.transport.texts() == ["question", "next"]
        assert set((await world.statuses()).values()) == {"sent"}
    finally:
        world.dispatcher.stop()
        await asyncio.wait_for(task, GUARD)


async def test_a_stop_writes_a_waiting_record_or_says_which_message_may_repeat(
    world: World, caplog: pytest.LogCaptureFixture,
):
    await world.queue(("ana", "question"), ("bob", "bob 1"))
    await world.storage.refuse(True)
    await world.refused_round()
    world.dispatcher.stop()
    await asyncio.wait_for(world.dispatcher.run_forever(), GUARD)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(said) == 1 and "outbox 1 " in said[0] and "next start" in said[0]

    await world.storage.refuse(False)
    await asyncio.wait_for(world.dispatcher.run_forever(), GUARD)  # stopped: only records
    assert await world.statuses() == {"1": "sent", "2": "pending"}
    assert world.transport.texts() == ["question"]
