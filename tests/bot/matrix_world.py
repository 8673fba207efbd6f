"""The world of the Matrix end-to-end tests: the bot's process, the people, their waits.

Shared by ``tests/bot/test_matrix.py`` and the fault tests (``tests/faults``). The homeserver
itself is the session fixture ``synapse`` of ``tests/conftest.py``, so one Synapse serves every
test of a run, whichever folders it covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bot.settings import load
from tests.bot.ledger import Ledger
from tests.bot.matrix_person import Person, Seen
from tests.bot.synapse import Account, Synapse
from tests.support import start_serving


@dataclass
class Bot:
    """The bot's process, started and stopped as ``filiere-bot run`` would be."""

    synapse: Synapse
    account: Account
    workdir: Path
    coordinators: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    task: asyncio.Task[int] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    homeserver: str | None = None
    """Where the bot reaches the homeserver when not directly (a :class:`Relay`); set it
    before the first start, since the kept session belongs to one homeserver URL."""

    @property
    def db(self) -> Path:
        return self.workdir / "bot.sqlite3"

    @property
    def store(self) -> Path:
        return self.workdir / "matrix-store"

    async def start(self) -> None:
        settings = load({
            "MATRIX_HOMESERVER": self.homeserver or self.synapse.url,
            "MATRIX_USER_ID": self.account.user_id,
            "MATRIX_PASSWORD": self.account.password,
            "MATRIX_STORE_PATH": str(self.store),
            "MATRIX_MESSAGES_PER_SECOND": "0",
            "FILIERE_DEMO": "yes",
            "FILIERE_COORDINATORS": ",".join(self.coordinators or ["cli:coord"]),
            **self.env,
        }, dotenv=None)
        self.task, self.stop_event = await start_serving(settings, self.db, within=30)

    async def stop(self) -> int:
        assert self.task is not None
        self.stop_event.set()
        status = await self.task
        self.task = None
        return status

    def session(self) -> dict[str, str]:
        return dict(json.loads((self.store / "session.json").read_text()))


@dataclass
class World:
    """A homeserver, the bot, and people to talk to it."""

    synapse: Synapse
    workdir: Path
    bot: Bot
    people: list[Person] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.bot.db)

    async def person(self, name: str, auto_join: bool = False) -> Person:
        account = await asyncio.to_thread(self.synapse.register,
                                          f"{name}{secrets.token_hex(3)}")
        person = Person(self.synapse.url, account, self.workdir / name, auto_join=auto_join)
        await person.start()
        self.people.append(person)
        return person

    async def direct(self, name: str, encrypted: bool = False) -> Person:
        """A person who opens a direct room with the bot, which joins."""
        person = await self.person(name)
        await person.open_direct_room(self.bot.account.user_id, encrypted)
        await person.wait_joined(self.bot.account.user_id)
        return person

    async def ask(self, person: Person, *lines: str) -> list[Seen]:
        """Say each line, waiting each time until the bot has answered everything."""
        new: list[Seen] = []
        for line in lines:
            event_id = await person.say(line)
            await self.ledger.wait_handled("mx", event_id)
            new += await self.answered(person)
        return new

    async def answered(self, person: Person) -> list[Seen]:
        """Everything the bot has queued for ``person`` once it has reached them: nothing
        left in the outbox for them, and the bot's last message in their room received by
        their app. (Not a count of the outbox's rows: a message to someone who was not a
        user yet, a coordinator's first notice, loses its recipient once delivered.)"""
        await self.ledger.wait_delivered(f"mx:{person.account.user_id}")
        if person.auto_join:
            await person.wait(lambda: person.room_id is not None)
        last = await self.last_from_bot(person)
        if last is not None:
            await person.wait(lambda: any(seen.event_id == last for seen in person.seen))
        return await person.read(0)

    async def last_from_bot(self, person: Person) -> str | None:
        """The id of the last message the bot sent in ``person``'s room, as the homeserver
        has it."""
        if person.room_id is None:
            return None
        found = await asyncio.to_thread(
            self.synapse.call, "GET",
            f"/_matrix/client/v3/rooms/{quote(person.room_id)}/messages?dir=b&limit=20",
            None, self.bot.account.access_token)
        for event in found.get("chunk", []):
            if event.get("sender") == self.bot.account.user_id and \
                    event.get("type") in ("m.room.message", "m.room.encrypted"):
                return str(event["event_id"])
        return None


def bodies(seen: list[Seen]) -> str:
    return "\n".join(s.body for s in seen)


@contextlib.asynccontextmanager
async def matrix_world(synapse: Synapse, workdir: Path) -> AsyncIterator[World]:
    """A world with a fresh bot account; its people and bot are stopped at the end."""
    account = await asyncio.to_thread(synapse.register, f"bot{secrets.token_hex(3)}")
    world = World(synapse, workdir, Bot(synapse, account, workdir))
    try:
        yield world
    finally:
        for person in world.people:
            await person.stop()
        if world.bot.task is not None:
            assert await world.bot.stop() == 0


def no_repeats(person: Person) -> None:
    """Every message the person received is a different event."""
    ids = [s.event_id for s in person.seen]
    assert len(ids) == len(set(ids))
