"""Retention purges delete in batches: a country's six hours of events is hundreds of
thousands of rows, and one statement would hold the write lock and the loop for seconds. The
beneficiaries' retention forgot everyone inactive in one transaction: 17 to 20 s with the
event loop held, every six hours, at a country's scale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from handlers import beneficiary_jobs
from handlers.maintenance import PURGE_BATCH, purge_event_ids, purge_sent_messages
from storage.db import ts
from tests.support import Chat


async def test_event_ids_older_than_a_week_go_batch_after_batch_and_the_recent_stay(
    chat: Chat,
):
    now = chat.clock()
    old, recent = 2 * PURGE_BATCH + 7, 3
    conn = chat.app.db.conn
    await conn.executemany("INSERT INTO processed_events (event_id, seen_at) VALUES (?, ?)",
                           [(f"tg:old{n}", ts(now - timedelta(days=8))) for n in range(old)]
                           + [(f"tg:new{n}", ts(now - timedelta(days=1)))
                              for n in range(recent)])
    assert await purge_event_ids(chat.app.storage, now) == old
    left = await conn.execute_fetchall("SELECT event_id FROM processed_events"
                                       " WHERE event_id LIKE 'tg:%'")
    assert sorted(row[0] for row in left) == [f"tg:new{n}" for n in range(recent)]


async def test_sent_messages_older_than_a_month_go_and_pending_ones_stay(chat: Chat):
    now = chat.clock()
    conn = chat.app.db.conn
    old = PURGE_BATCH + 1
    rows = [("tg:1", "tg", "{}", ts(now), ts(now), "sent", ts(now - timedelta(days=31)))
            for _ in range(old)]
    rows.append(("tg:2", "tg", "{}", ts(now), ts(now), "pending", None))
    await conn.executemany(
        "INSERT INTO outbox (recipient, platform, payload, created_at, not_before, status,"
        " sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    assert await purge_sent_messages(chat.app.storage, now) == old
    left = await conn.execute_fetchall("SELECT status FROM outbox WHERE platform = 'tg'")
    assert [row[0] for row in left] == ["pending"]


class CountingStorage:
    """The bot's storage, recording how many beneficiaries are left after each transaction."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.left: list[int] = []

    def transaction(self) -> Any:
        return _Counted(self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chat.app.storage, name)


class _Counted:
    def __init__(self, counting: CountingStorage) -> None:
        self.counting = counting
        self.scope = counting.chat.app.storage.transaction()

    async def __aenter__(self) -> Any:
        return await self.scope.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        await self.scope.__aexit__(*exc)
        [(left,)] = await self.counting.chat.app.db.conn.execute_fetchall(
            "SELECT count(*) FROM beneficiaries")
        self.counting.left.append(left)


async def test_inactive_beneficiaries_are_forgotten_over_several_short_transactions(
    chat: Chat, monkeypatch: pytest.MonkeyPatch,
):
    """The retention purge reads and forgets a few beneficiaries per transaction, their
    messages with them; someone inactive who booked a session meanwhile is kept."""
    monkeypatch.setattr(beneficiary_jobs, "RETENTION_SCAN", 16)
    monkeypatch.setattr(beneficiary_jobs, "RETENTION_BATCH", 5)
    now = chat.clock()
    conn = chat.app.db.conn
    long_ago, lately = ts(now - timedelta(days=400)), ts(now - timedelta(days=10))
    inactive = [f"cli:b{n:03d}" for n in range(0, 69, 3)]  # 23, between the active ones
    active = [f"cli:b{n:03d}" for n in range(69) if n % 3]
    booked = "cli:b999"  # joined long ago, comes to a session next week
    for key in [*inactive, *active, booked]:
        await conn.execute("INSERT INTO users (key, lang, created_at) VALUES (?, 'fr', ?)",
                           (key, long_ago))
        await conn.execute(
            "INSERT INTO beneficiaries (user_key, place_id, ref, reminders, joined_at)"
            " VALUES (?, NULL, ?, 1, ?)", (key, key[-4:], long_ago if key not in active
                                           else lately))
        await conn.executemany(
            "INSERT INTO outbox (recipient, platform, payload, created_at, not_before,"
            " status, sent_at) VALUES (?, 'cli', '{}', ?, ?, 'sent', ?)",
            [(key, lately, lately, lately)] * 3)
    cur = await conn.execute(
        "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats, booked)"
        " VALUES (1, 'getting_started', ?, 90, 8, 1)", (ts(now + timedelta(days=7)),))
    await conn.execute("INSERT INTO bookings (workshop_id, user_key, booked_at)"
                       " VALUES (?, ?, ?)", (cur.lastrowid, booked, lately))
    counting = CountingStorage(chat)
    job = next(j for j in chat.app.core.jobs if j.name == "beneficiaries.purge")

    assert await job.run(counting, now) == len(inactive)

    kept = await conn.execute_fetchall("SELECT user_key FROM beneficiaries ORDER BY user_key")
    assert [row[0] for row in kept] == sorted([*active, booked])
    messages = await conn.execute_fetchall("SELECT DISTINCT recipient FROM outbox"
                                           " WHERE recipient LIKE 'cli:b%'")
    assert sorted(row[0] for row in messages) == sorted([*active, booked])
    # The expired codes first, then five at most per transaction: at least five of them.
    forgotten = [before - after for before, after in
                 zip(counting.left, counting.left[1:], strict=False)]
    assert max(forgotten) == 5 and sum(forgotten) == 23 and len(forgotten) >= 5
