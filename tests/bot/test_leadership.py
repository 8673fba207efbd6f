"""Two bot processes started on one database: one serves (receives, sends, runs the jobs),
the other stands by and takes over as soon as the first ends. On SQLite the lead is a lock
on a file beside the database; on PostgreSQL an advisory lock on a connection of its own,
released by the server when that connection ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.serve import serve
from bot.settings import load
from tests.support import START


async def test_the_second_process_stands_by_then_takes_over(database_target: Path | str,
                                                            catalogs: None):
    settings = load({"FILIERE_DEMO": "no"}, dotenv=None)
    first_stop, first_started = asyncio.Event(), asyncio.Event()
    second_stop, second_started = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(serve(settings, first_stop, database=database_target,
                                      started=first_started, clock=lambda: START))
    await asyncio.wait_for(first_started.wait(), 30)
    second = asyncio.create_task(serve(settings, second_stop, database=database_target,
                                       started=second_started, clock=lambda: START))
    try:
        # The second process has opened the database and is trying for the lead: it waits.
        for _ in range(20):
            await asyncio.sleep(0.05)
            assert not second_started.is_set(), "two processes served at once"
            assert not second.done()
        first_stop.set()
        assert await asyncio.wait_for(first, 30) == 0
        await asyncio.wait_for(second_started.wait(), 30)  # took over
    finally:
        first_stop.set()
        second_stop.set()
        assert await asyncio.wait_for(second, 30) == 0


async def test_a_process_asked_to_stop_while_standing_by_stops(database_target: Path | str,
                                                                catalogs: None):
    settings = load({"FILIERE_DEMO": "no"}, dotenv=None)
    first_stop, first_started = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(serve(settings, first_stop, database=database_target,
                                      started=first_started, clock=lambda: START))
    await asyncio.wait_for(first_started.wait(), 30)
    second_stop, second_started = asyncio.Event(), asyncio.Event()
    second = asyncio.create_task(serve(settings, second_stop, database=database_target,
                                       started=second_started, clock=lambda: START))
    second_stop.set()
    assert await asyncio.wait_for(second, 30) == 0
    assert not second_started.is_set()
    first_stop.set()
    assert await asyncio.wait_for(first, 30) == 0
