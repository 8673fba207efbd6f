"""The outbox dispatcher delivers one person's messages in order, even around a retry."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.app import App, build
from bot.dispatcher import MAX_ATTEMPTS, RetryLater
from bot.i18n import Rendered
from bot.settings import load
from flows.messages import Outgoing, UserKey
from flows.text import verbatim
from tests.support import Clock


@dataclass
class Flaky:
    """A console transport that asks to retry the first time it sees ``fail_on``."""

    fail_on: str
    platform: str = "cli"
    sent: list[tuple[str, str]] = field(default_factory=list)
    failed: bool = False

    async def send(self, message: Rendered) -> None:
        if message.text == self.fail_on and not self.failed:
            self.failed = True
            raise RetryLater(30, "flood limit")
        self.sent.append((message.to, message.text))


async def test_a_retry_holds_back_that_persons_later_messages_but_nobody_elses(
    tmp_path: Path, clock: Clock,
):
    transport = Flaky("ana 2")
    settings = load({"FILIERE_DEMO": "no"}, dotenv=None)
    app = await build(settings, {"cli": transport}, database=tmp_path / "db.sqlite3",
                      clock=clock)
    try:
        async with app.storage.transaction() as uow:
            for to, text in [("ana", "ana 1"), ("ana", "ana 2"), ("bob", "bob 1"),
                             ("ana", "ana 3"), ("bob", "bob 2")]:
                await uow.outbox.add(Outgoing(UserKey(f"cli:{to}"), (verbatim(text),)),
                                     clock())
        await app.dispatcher.drain()
        assert transport.sent == [("cli:ana", "ana 1"), ("cli:bob", "bob 1"),
                                  ("cli:bob", "bob 2")]
        async with app.storage.transaction() as uow:  # Ana writes again meanwhile
            await uow.outbox.add(Outgoing(UserKey("cli:ana"), (verbatim("ana 4"),)), clock())
        await app.dispatcher.drain()
        assert len(transport.sent) == 3
        clock.advance(seconds=31)
        await app.dispatcher.drain()
        assert [text for to, text in transport.sent if to == "cli:ana"] == \
            ["ana 1", "ana 2", "ana 3", "ana 4"]
    finally:
        await app.close()


@dataclass
class Distant:
    """A transport whose every call takes a while, allowing a few calls at once."""

    concurrency: int
    fail_on: str = ""
    platform: str = "cli"
    sent: list[tuple[str, str]] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    most_at_once: int = 0
    same_person_at_once: bool = False

    async def send(self, message: Rendered) -> None:
        self.same_person_at_once |= message.to in self.in_flight
        self.in_flight.append(message.to)
        self.most_at_once = max(self.most_at_once, len(self.in_flight))
        try:
            await asyncio.sleep(0.01)
            if message.text == self.fail_on:
                raise RetryLater(30, "flood limit")
            self.sent.append((message.to, message.text))
        finally:
            self.in_flight.remove(message.to)


async def queue(app: App, clock: Clock, people: int, each: int) -> None:
    async with app.storage.transaction() as uow:
        for n in range(each):
            for person in range(people):
                await uow.outbox.add(Outgoing(UserKey(f"cli:p{person}"),
                                              (verbatim(f"p{person} {n}"),)), clock())


async def test_a_distant_platform_gets_several_people_at_once_each_in_order(
    tmp_path: Path, clock: Clock,
):
    """One call at a time to a server 50 ms away could not reach Telegram's 30 a second:
    a few people are served at once, but never one person twice at once, and each
    person's messages keep their order, a retry holding back only that person."""
    transport = Distant(concurrency=4, fail_on="p2 1")
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {"cli": transport},
                      database=tmp_path / "db.sqlite3", clock=clock)
    try:
        await queue(app, clock, people=6, each=3)
        await app.dispatcher.drain()
        assert transport.most_at_once == 4
        assert not transport.same_person_at_once
        for person in range(6):
            mine = [text for to, text in transport.sent if to == f"cli:p{person}"]
            expected = ["p2 0"] if person == 2 else [f"p{person} {n}" for n in range(3)]
            assert mine == expected
    finally:
        await app.close()


async def test_a_one_at_a_time_transport_delivers_in_the_outbox_order_exactly(
    tmp_path: Path, clock: Clock,
):
    """The console prints what it is given: its readers follow the outbox order."""
    transport = Distant(concurrency=1)
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {"cli": transport},
                      database=tmp_path / "db.sqlite3", clock=clock)
    try:
        await queue(app, clock, people=3, each=2)
        await app.dispatcher.drain()
        assert transport.most_at_once == 1
        assert [text for _, text in transport.sent] == \
            ["p0 0", "p1 0", "p2 0", "p0 1", "p1 1", "p2 1"]
    finally:
        await app.close()


@dataclass
class Busy:
    """A transport whose platform asks, once per person, to come back after some seconds."""

    waits: dict[str, float]
    platform: str = "cli"
    sent: dict[str, float] = field(default_factory=dict)
    both: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Rendered) -> None:
        wait = self.waits.pop(message.to, None)
        if wait is not None:
            raise RetryLater(wait, "flood limit")
        self.sent[message.to] = time.monotonic()
        if len(self.sent) == 2:
            self.both.set()


async def test_every_retry_goes_out_when_due_not_only_the_earliest(tmp_path: Path):
    """Two people told to wait 2 s and 3 s: the second must not wait for the idle round
    (5 s) because the first retry's wake-up came and went."""
    transport = Busy({"cli:ana": 2.0, "cli:bob": 3.0})
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {"cli": transport},
                      database=tmp_path / "db.sqlite3")
    started = time.monotonic()
    running = asyncio.create_task(app.dispatcher.run_forever())
    try:
        async with app.storage.transaction() as uow:
            for to in ("cli:ana", "cli:bob"):
                await uow.outbox.add(Outgoing(UserKey(to), (verbatim("Bonjour"),)),
                                     datetime.now(UTC))
        app.dispatcher.wake()
        async with asyncio.timeout(10):
            await transport.both.wait()
    finally:
        app.dispatcher.stop()
        await running
        await app.close()
    assert 2.0 <= transport.sent["cli:ana"] - started < 2.8
    assert 3.0 <= transport.sent["cli:bob"] - started < 3.8


@dataclass
class Crowded:
    """A platform that says "too many requests" a number of times before taking a message."""

    refusals: int
    platform: str = "cli"
    sent: list[str] = field(default_factory=list)

    async def send(self, message: Rendered) -> None:
        if self.refusals:
            self.refusals -= 1
            raise RetryLater(3, "flood limit", failed=False)
        self.sent.append(message.text)


async def test_waiting_under_a_flood_limit_never_gives_a_message_up(
    tmp_path: Path, clock: Clock,
):
    """A coordinator receiving fifty notices at once is paced for minutes: those waits are
    not failures, and the last notice must arrive like the first."""
    transport = Crowded(refusals=3 * MAX_ATTEMPTS)
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {"cli": transport},
                      database=tmp_path / "db.sqlite3", clock=clock)
    try:
        async with app.storage.transaction() as uow:
            await uow.outbox.add(Outgoing(UserKey("cli:coord"), (verbatim("Notice 50"),)),
                                 clock())
        for _ in range(3 * MAX_ATTEMPTS + 1):
            await app.dispatcher.drain()
            clock.advance(seconds=3)
        assert transport.sent == ["Notice 50"]
        found = await app.db.conn.execute_fetchall("SELECT status FROM outbox")
        assert [row[0] for row in found] == ["sent"]
    finally:
        await app.close()
