"""A coordinator's figures over a country's year do not stop everybody else's messages.

SQL statements run on the event loop; the report's hundred thousand events are read on a
thread instead, so the loop goes on (deliveries, polling, other tasks) while they are read.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from flows.report import Indicator
from tests.handlers.test_reminder_burst import MORNING, plant_due
from tests.support import Chat

PEOPLE = 5_000


async def test_the_events_of_a_large_report_are_read_while_the_loop_goes_on(chat: Chat):
    await plant_due(chat, PEOPLE)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    running = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    async with chat.app.storage.transaction() as uow:
        events = await uow.reports.events(datetime(2026, 1, 1, tzinfo=UTC), MORNING)
    during = ticks - before
    running.cancel()
    joined = sum(e.count for e in events if e.indicator is Indicator.BENEFICIARIES)
    assert joined >= PEOPLE
    assert during > 1, "the loop stood still while the report was read"
