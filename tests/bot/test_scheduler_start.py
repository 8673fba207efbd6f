"""Periodic jobs run once at start, then at their interval.

A bot restarted every day (a deployment, a reboot) must still run its daily and six-hourly
purges: with the first run one interval after start, it never would, and data would outlive
its retention.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.app import build
from bot.scheduler import build_scheduler
from bot.settings import load
from storage.db import ts
from tests.support import Clock


async def test_a_retention_purge_runs_as_soon_as_the_bot_starts(tmp_path: Path, clock: Clock):
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {},
                      database=tmp_path / "db.sqlite3", clock=clock)
    await app.db.conn.execute("INSERT INTO processed_events (event_id, seen_at) VALUES (?, ?)",
                              ("tg:1", ts(clock() - timedelta(days=8))))
    scheduler = build_scheduler(app.core, app.dispatcher)
    scheduler.start()
    try:
        for _ in range(100):  # up to 5 s; the job's interval is six hours
            left = await app.db.conn.execute_fetchall("SELECT 1 FROM processed_events")
            if not left:
                break
            await asyncio.sleep(0.05)
        assert not left, "the purge waits for its first interval"
    finally:
        scheduler.shutdown(wait=False)
        await app.close()
