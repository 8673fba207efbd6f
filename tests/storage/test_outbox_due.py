"""The outbox's due messages: the per-recipient order rule, and its cost with a big backlog.

A recipient's message never overtakes an earlier one waiting for a retry. The query that
applies the rule once looked the waiting messages up again for every candidate row: with
thousands pending (a morning's reminders), each delivery round took seconds and the
dispatcher fell far below Telegram's 30 messages a second.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.db import Database, ts
from storage.sqlite import SqliteStorage

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def expected(rows: list[tuple[int, str, str, datetime]], limit: int) -> list[int]:
    """The rule in plain Python: pending, due, on a served platform, no earlier message of
    the same recipient waiting for a retry; in id order."""
    waiting: dict[str, int] = {}
    for row_id, recipient, _platform, not_before in rows:
        if not_before > NOW:
            waiting[recipient] = min(waiting.get(recipient, row_id), row_id)
    found = [row_id for row_id, recipient, platform, not_before in rows
             if platform == "tg" and not_before <= NOW
             and not (recipient in waiting and waiting[recipient] < row_id)]
    return sorted(found)[:limit]


async def test_due_messages_keep_each_recipients_order_and_stay_fast(tmp_path: Path):
    db = await Database.open(tmp_path / "outbox.sqlite3")
    storage = SqliteStorage(db)
    rng = random.Random(5)
    rows: list[tuple[int, str, str, datetime]] = []
    try:
        for number in range(1, 5001):
            platform = "tg" if rng.random() < 0.9 else "mx"
            recipient = f"{platform}:{rng.randrange(1500)}"
            later = rng.random() < 0.03  # waiting for a retry
            rows.append((number, recipient, platform,
                         NOW + timedelta(minutes=5) if later else NOW))
        async with storage.transaction() as uow:
            await uow.conn.executemany(
                "INSERT INTO outbox (id, recipient, platform, payload, created_at, not_before)"
                " VALUES (?, ?, ?, '{\"texts\": [], \"choices\": []}', ?, ?)",
                [(n, r, p, ts(NOW), ts(nb)) for n, r, p, nb in rows])
        for limit in (100, 10_000):
            started = time.perf_counter()
            async with storage.transaction() as uow:
                items = await uow.outbox.due(NOW, ["tg"], limit)
            elapsed = time.perf_counter() - started
            assert [item.id for item in items] == expected(rows, limit)
            assert elapsed < 1.0, f"{elapsed:.2f} s for one delivery round"
    finally:
        await db.close()
