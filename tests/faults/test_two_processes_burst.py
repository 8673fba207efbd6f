"""Two deployed bots (``python -m bot run``, Telegram by long polling) on one database, the one
serving killed with SIGKILL at random points of a burst of 1,000 outgoing messages.

A network that wants no gap when a machine or a process dies runs two processes on the same
database: one serves (receives, sends, runs the jobs), the other stands by and takes over when
the first ends (``bot/serve.py``: a lock on a file beside an SQLite database, an advisory lock
on PostgreSQL). Here the serving one is killed three times in the middle of the burst; after
each kill a new process is started to stand by behind the one that took over, as a service
manager restarts a dead unit.

What people would notice, checked at the Bot API stand-in (``tests/bot/fake_bot_api.py``):
every one of the 1,000 messages arrives (none lost), and a message arrives twice only when it
was in flight at a kill: the server had accepted it but the dead process had not recorded it
as sent, so the process that takes over sends it again (at most one per kill). Both engines.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build
from bot.settings import load
from flows.messages import Outgoing, Priority, UserKey
from flows.text import verbatim
from tests.faults.test_process_kill_telegram import (
    TOKEN,
    Bot,
    KillingBotApi,
    polling,
    stop,
)

SEED = 20261203
BURST = 1_000
FIRST_CHAT = 700_000
KILLS = 3


@pytest.fixture
async def api() -> AsyncIterator[KillingBotApi]:
    server = KillingBotApi(TOKEN)
    await server.start()
    yield server
    await server.stop()


async def queue_burst(target: Path | str) -> None:
    """1,000 messages to 1,000 people in the outbox, as a broadcast leaves them, before any
    bot runs; each text is unique, so that a repeat shows."""
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {}, database=target)
    try:
        now = app.dispatcher.clock()
        async with app.storage.transaction() as uow:
            for n in range(BURST):
                to = UserKey(f"tg:{FIRST_CHAT + n}")
                await uow.users.create(to, None, now)
                await uow.outbox.add(Outgoing(to, (verbatim(f"Message n° {n}"),),
                                              priority=Priority.BULK), now)
    finally:
        await app.close()


async def spawn(api: KillingBotApi, workdir: Path, target: Path | str, run: int) -> Bot:
    log = workdir / f"run-{run:02d}.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        # No pacing: the burst goes out as fast as a process can, so the kills find it busy.
        "TELEGRAM_MESSAGES_PER_SECOND": "0",
        "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
        "FILIERE_DATABASE": str(target),
        "FILIERE_DEMO": "no",
        "FILIERE_LOG_LEVEL": "WARNING",
        "FILIERE_QUIET_HOURS": "00:00-00:00",
    }
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=workdir, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err)
    return Bot(process, log, len(api.calls))


async def sending_again(api: KillingBotApi, after: int) -> None:
    """Until the server accepts a message beyond the first ``after``: someone serves."""
    await api.wait_until(lambda: len(api.sent) > after, within=60)


async def test_the_serving_process_killed_in_a_burst_loses_nothing_and_repeats_only_in_flight(
    api: KillingBotApi, database_target: Path | str, tmp_path: Path, catalogs: None,
):
    await queue_burst(database_target)
    rng = random.Random(SEED)
    kill_points: list[int] = []

    serving = await spawn(api, tmp_path, database_target, 0)
    await polling(api, serving)
    standby = await spawn(api, tmp_path, database_target, 1)
    runs = 2
    kills = 0
    try:
        for _ in range(KILLS):
            # A point ahead of what has been sent, never passed before it is set.
            point = len(api.sent) + rng.randint(20, 250)
            kill_points.append(point)
            api.kill_at_message(serving.process, point)
            async with asyncio.timeout(60):
                await serving.process.wait()
            assert serving.process.returncode == -signal.SIGKILL, serving.read_log()
            kills += 1
            # The server finishes the call the dead process had begun, then the process
            # standing by takes over and sends the rest.
            await api.wait_until(lambda: api.sending == 0, within=10)
            await sending_again(api, len(api.sent))
            serving, standby = standby, await spawn(api, tmp_path, database_target, runs)
            runs += 1
        await api.wait_until(lambda: len({s.text for s in api.sent}) >= BURST, within=120)
    finally:
        for bot in (serving, standby):
            if bot.process.returncode is None:
                await stop(bot)

    received = Counter(sent.text for sent in api.sent)
    missing = [n for n in range(BURST) if received[f"Message n° {n}"] == 0]
    repeated = {text: count for text, count in received.items() if count > 1}
    print(f"\n{kills} kills at {kill_points}, {runs} processes started: {len(api.sent)} "
          f"messages accepted for {BURST} queued, {len(repeated)} repeated")
    assert kills == KILLS
    assert missing == [], f"{len(missing)} messages never arrived: {missing[:10]}"
    assert sum(count - 1 for count in repeated.values()) <= kills, repeated
    assert all(sent.chat_id - FIRST_CHAT == int(sent.text.split()[-1]) for sent in api.sent)
    assert serving.process.returncode == 0 and standby.process.returncode == 0
