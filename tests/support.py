"""Test helpers: a real bot on a real SQLite file, with a fixed clock.

``chat`` drives the bot as users would: ``await chat.say("ana", "bonjour")`` handles the
message, delivers the outbox, and returns every message that was sent (to anyone) as rendered
text, so a test reads like a transcript.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest

from bot.app import App, build
from bot.i18n import Rendered
from bot.serve import serve
from bot.settings import Settings, load
from flows.engine import unbind
from flows.messages import Attachment, Incoming, UserKey

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def in_ci(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the tests run in CI (``CI=true``, as CI services set it)."""
    return env.get("CI", "").strip().lower() in {"true", "1", "yes"}


def unavailable(reason: str, env: Mapping[str, str] = os.environ) -> NoReturn:
    """A service the test needs (Synapse, PostgreSQL) is missing: skip the test, saying why
    (``-rs`` shows it in the summary), or fail it in CI, where every service must be there."""
    if in_ci(env):
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(reason)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Recorder:
    """A transport that keeps what it is given instead of sending it."""

    platform: str = "cli"
    sent: list[Rendered] = field(default_factory=list)

    async def send(self, message: Rendered) -> None:
        self.sent.append(message)


@dataclass
class Chat:
    """A running bot and helpers to talk to it like a user."""

    app: App
    clock: Clock
    recorder: Recorder

    async def say(self, who: str, text: str = "", *, choice: str | None = None,
                  event_id: str | None = None, lang: str | None = None,
                  attachment: Attachment | None = None) -> list[Rendered]:
        """``who`` says ``text`` (or picks ``choice``, or sends a file); returns every message
        sent meanwhile."""
        before = len(self.recorder.sent)
        key = UserKey(who if ":" in who else f"cli:{who}")
        await self.app.core.handle(Incoming(key, text, choice, event_id, lang,
                                            attachment=attachment))
        await self.app.dispatcher.drain()
        return self.recorder.sent[before:]

    async def press(self, who: str, choice: str) -> list[Rendered]:
        """``who`` presses the button ``choice`` of the last message that offered it to them
        (a question's buttons are bound to it: ``flows.engine.bind``)."""
        key = who if ":" in who else f"cli:{who}"
        for message in reversed(self.recorder.sent):
            if message.to != key:
                continue
            for data, _label in message.choices:
                bound = unbind(data)
                if data == choice or (bound is not None and bound.choice == choice):
                    return await self.say(who, choice=data)
        raise AssertionError(f"no button {choice!r} was offered to {who}")

    async def script(self, who: str, *lines: str) -> list[Rendered]:
        """Several messages in a row; returns everything sent."""
        sent: list[Rendered] = []
        for line in lines:
            sent += await self.say(who, line)
        return sent


class LogWatch(logging.Handler):
    """Counts a logger's records that contain ``text``, for a test to wait on what the bot
    did when it says so only in its log (found the homeserver down, left a room)::

        with LogWatch("bot.matrix", "sync failed") as failed:
            ...
            await failed.seen()
    """

    def __init__(self, logger: str, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.logger = logging.getLogger(logger)
        self.text = text
        self.count = 0
        self._level = self.logger.level
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.count += 1
            if self._loop is not None:  # a record may come from another thread
                self._loop.call_soon_threadsafe(self._changed.set)

    def __enter__(self) -> LogWatch:
        self._loop = asyncio.get_running_loop()
        self.logger.addHandler(self)
        if not self.logger.isEnabledFor(logging.DEBUG):
            self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self._level)

    async def seen(self, times: int = 1, within: float = 30.0) -> None:
        """Until ``times`` such records were logged in all."""
        async with asyncio.timeout(within):
            while self.count < times:
                self._changed.clear()
                await self._changed.wait()


def texts(messages: list[Rendered], to: str | None = None) -> str:
    """All the text sent (to one user if given), with choice labels, for ``in`` assertions."""
    parts = []
    for message in messages:
        if to is None or message.to == (to if ":" in to else f"cli:{to}"):
            parts.append(message.text)
            parts.extend(label for _, label in message.choices)
    return "\n".join(parts)


async def make_chat(db: Path | str, clock: Clock, **env: str) -> Chat:
    """A bot on ``db`` (an SQLite file or a PostgreSQL URL; created and migrated if needed)
    with the demo data."""
    settings = load({"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "yes", **env},
                    dotenv=None)
    recorder = Recorder()
    app = await build(settings, {"cli": recorder}, database=db, clock=clock)
    return Chat(app, clock, recorder)




def compile_catalogs() -> None:
    """Compile ``locales/*/LC_MESSAGES/filiere.po`` to ``.mo`` (what `make locales` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from bot.i18n import DOMAIN, LOCALES_DIR

    for po in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=True)


async def start_serving(settings: Settings, database: Path,
                        within: float) -> tuple[asyncio.Task[int], asyncio.Event]:
    """The bot's ``serve`` (adapters, dispatcher, scheduler) started in this process, as a
    deployment runs it; returns once it is ready, with the event that stops it."""
    stop = asyncio.Event()
    started = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, database=database, started=started))
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiting], timeout=within, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    assert started.is_set(), "the bot did not start"
    return task, stop
