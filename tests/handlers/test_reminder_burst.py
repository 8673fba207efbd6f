"""A morning's burst of reminders (every "0d@08:00" of the day falls due at once) is queued by
one run of the job, batch after batch, each reminder once: one batch per run would leave the
rest for the next ticks, five minutes apart, and the last ones would arrive after the session.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from flows.messages import Incoming, UserKey
from handlers.beneficiary_jobs import REMINDER_BATCH
from storage.db import ts
from tests.support import Chat

MORNING = datetime(2026, 11, 24, 7, 1, tzinfo=UTC)  # 08:01 in Paris, out of the quiet hours


async def plant_due(chat: Chat, count: int) -> None:
    """``count`` beneficiaries booked on today's sessions, their reminder due at 08:00."""
    conn = chat.app.db.conn
    place = next(iter(await conn.execute_fetchall("SELECT id FROM places LIMIT 1")))[0]
    now = ts(chat.clock())
    starts = ts(MORNING + timedelta(hours=6))
    for first in range(0, count, 100):
        cur = await conn.execute(
            "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats, booked)"
            " VALUES (?, 'getting_started', ?, 90, 100, 0)", (place, starts))
        workshop = cur.lastrowid
        users = [f"tg:{900_000 + n}" for n in range(first, min(count, first + 100))]
        await conn.executemany("INSERT INTO users (key, lang, created_at) VALUES (?, 'fr', ?)",
                               [(u, now) for u in users])
        await conn.executemany(
            "INSERT INTO beneficiaries (user_key, place_id, ref, reminders, joined_at)"
            " VALUES (?, ?, 'REJ000000', 1, ?)", [(u, place, now) for u in users])
        await conn.executemany("INSERT INTO bookings (workshop_id, user_key, booked_at)"
                               " VALUES (?, ?, ?)", [(workshop, u, now) for u in users])
        await conn.executemany("INSERT INTO reminders (workshop_id, user_key, due_at)"
                               " VALUES (?, ?, ?)",
                               [(workshop, u, ts(MORNING - timedelta(minutes=1)))
                                for u in users])


async def test_one_job_run_queues_a_burst_larger_than_a_batch_each_reminder_once(chat: Chat):
    count = 2 * REMINDER_BATCH + 37
    await plant_due(chat, count)
    chat.clock.now = MORNING
    job = next(j for j in chat.app.core.jobs if j.name == "beneficiaries.reminders")
    assert await chat.app.core.run_job(job) == count
    assert await chat.app.core.run_job(job) == 0  # nothing is queued twice
    conn = chat.app.db.conn
    queued = await conn.execute_fetchall(
        "SELECT count(*), count(DISTINCT recipient) FROM outbox WHERE recipient LIKE 'tg:9%'")
    assert tuple(next(iter(queued))) == (count, count)
    left = await conn.execute_fetchall("SELECT count(*) FROM reminders WHERE status = 'pending'")
    assert next(iter(left))[0] == 0


async def test_a_person_writing_during_the_burst_is_answered_before_it_ends(chat: Chat):
    """Statements run on the event loop: the job must hand it over between its batches, or a
    person's message would wait for the whole morning's burst."""
    count = 4 * REMINDER_BATCH
    await plant_due(chat, count)
    chat.clock.now = MORNING
    job = next(j for j in chat.app.core.jobs if j.name == "beneficiaries.reminders")
    queued_when_answered: list[int] = []

    async def person() -> None:
        await chat.app.core.handle(Incoming(UserKey("cli:ana"), "bonjour"))
        found = await chat.app.db.conn.execute_fetchall(
            "SELECT count(*) FROM outbox WHERE recipient LIKE 'tg:9%'")
        queued_when_answered.append(next(iter(found))[0])

    burst = asyncio.ensure_future(chat.app.core.run_job(job))
    await asyncio.sleep(0)  # the job has started its first batch
    await person()
    assert await burst == count
    assert queued_when_answered[0] < count, "the person waited for the whole burst"
