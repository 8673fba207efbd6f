"""Retention purges delete in batches: a country's six hours of events is hundreds of
thousands of rows, and one statement would hold the write lock and the loop for seconds."""

from __future__ import annotations

from datetime import timedelta

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
