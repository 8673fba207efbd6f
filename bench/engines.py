"""The two storage engines side by side: answers per second, latency, and the event loop.

For SQLite (aiosqlite, ``synchronous = FULL``) and PostgreSQL (asyncpg, a throwaway local
PostgreSQL 15 cluster with its defaults, fsync on), in one run:

* **answers**: people answering the access-request form (ten answers each, then language
  changes), several at once, each answer handled through ``Core.handle`` and durably
  committed, then delivered by the dispatcher; answers per second, p50/p99 latency;
* **the loop**: a monitor task asks to wake every millisecond and records how late it wakes
  (max and p99), while the answers flow, while a coordinator's yearly report reads 100,000
  events, and while a coordinator sends a 40,000-row national directory of mediation places.

Targets: >= 300 answers/s with p99 < 50 ms on each engine; loop lag p99 < 10 ms, max < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import bot_settings, heading, machine, median, percentile
from bot.app import App, build
from bot.console import ConsoleTransport
from flows.mednum import COLUMNS as MEDNUM_COLUMNS
from flows.messages import Attachment, Incoming, UserKey
from storage.db import ts

SCRIPT = ("bonjour", "1", "1", "CCAS de Veynes", "3 rue de la Gare", "veynes", "Ana Martin",
          "Conseillère sociale", "06 12 34 56 78", "1", "langue", "English", "language",
          "Français")
TARGET_RATE = 300.0
TARGET_P99_MS = 50.0
TARGET_LAG_P99_MS = 10.0
TARGET_LAG_MAX_MS = 50.0


class LoopLag:
    """How late a 1 ms timer fires, sampled for as long as it runs."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(0.001)
            self.delays.append(max(0.0, loop.time() - asked - 0.001))

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def figures(self) -> str:
        if not self.delays:
            return "no sample"
        return (f"loop lag p99 {percentile(self.delays, 0.99) * 1000:.1f} ms, "
                f"max {max(self.delays) * 1000:.1f} ms ({len(self.delays)} samples)")

    def within_targets(self) -> bool:
        return bool(self.delays) and percentile(self.delays, 0.99) * 1000 < TARGET_LAG_P99_MS \
            and max(self.delays) * 1000 < TARGET_LAG_MAX_MS


async def person(app: App, name: str, latencies: list[float]) -> None:
    for text in SCRIPT:
        started = time.perf_counter()
        await app.core.handle(Incoming(UserKey(f"cli:{name}"), text))
        await app.dispatcher.drain()
        latencies.append(time.perf_counter() - started)


async def answers(app: App, people: int, together: int) -> tuple[float, list[float], LoopLag]:
    """``people`` go through the script, ``together`` at a time."""
    latencies: list[float] = []
    with LoopLag() as lag:
        started = time.perf_counter()
        for first in range(0, people, together):
            await asyncio.gather(*(person(app, f"p{n}", latencies)
                                   for n in range(first, min(people, first + together))))
        took = time.perf_counter() - started
    return len(latencies) / took, latencies, lag


async def seed_events(app: App, count: int) -> None:
    """``count`` units arrived in stock over the last year (events the report counts)."""
    now = datetime.now(UTC)
    async with app.storage.transaction() as uow:
        await uow.conn.executemany(
            "INSERT INTO stock_arrivals (place_id, kind, units, at) VALUES (?, ?, ?, ?)",
            [(1 + n % 6, "laptop", 1, ts(now - timedelta(minutes=5 * n)))
             for n in range(count)])


def directory(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MEDNUM_COLUMNS)
    for n in range(rows):
        values = {"id": f"b{n}", "nom": f"Lieu de médiation {n}", "commune": "Gap",
                  "code_postal": "05000", "adresse": f"{n} rue Carnot",
                  "date_maj": "2026-11-01"}
        writer.writerow([values.get(column, "") for column in MEDNUM_COLUMNS])
    return out.getvalue().encode()


async def timed(action: Callable[[], Awaitable[object]]) -> tuple[float, LoopLag]:
    with LoopLag() as lag:
        started = time.perf_counter()
        await action()
        took = time.perf_counter() - started
    return took, lag


async def measure(target: Path | str, label: str, people: int, together: int,
                  events: int, rows: int) -> bool:
    heading(f"{label}")
    app = await build(bot_settings(), {"cli": ConsoleTransport(io.StringIO())},
                      database=target)
    ok = True
    try:
        await person(app, "warm", [])
        rate, latencies, lag = await answers(app, people, together)
        p50, p99 = median(latencies) * 1000, percentile(latencies, 0.99) * 1000
        good = rate >= TARGET_RATE and p99 < TARGET_P99_MS
        ok &= good
        print(f"answers: {len(latencies)} from {people} people, {together} at a time: "
              f"{rate:.0f}/s (target >= {TARGET_RATE:.0f}), p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f}) {'ok' if good else 'MISSED'}")
        print(f"  while answering: {lag.figures()}")
        await seed_events(app, events)
        took, lag = await timed(lambda: app.core.handle(Incoming(UserKey("cli:coord"), "",
                                                                choice="co:fig")))
        ok &= lag.within_targets()
        print(f"a year's report over {events:,} events: {took:.2f} s; {lag.figures()} "
              f"{'ok' if lag.within_targets() else 'MISSED'}")
        data = directory(rows)
        took, lag = await timed(lambda: app.core.handle(Incoming(
            UserKey("cli:coord"), "", attachment=Attachment("lieux.csv", "text/csv", data))))
        ok &= lag.within_targets()
        print(f"a national directory of {rows:,} rows sent: {took:.2f} s; {lag.figures()} "
              f"{'ok' if lag.within_targets() else 'MISSED'}")
    finally:
        await app.close()
    return ok


async def run(args: argparse.Namespace) -> int:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        ok = await measure(Path(tmp) / "bench.sqlite3", "SQLite (aiosqlite, synchronous = FULL)",
                           args.people, args.together, args.events, args.rows)
    from tests.pg import Cluster, PostgresUnavailable, find_bindir

    try:
        cluster = Cluster(find_bindir(), durable=True)
        cluster.start()
    except PostgresUnavailable as exc:
        print(f"PostgreSQL: not measured ({exc})")
        return 0 if ok else 1
    try:
        async with cluster.database() as url:
            ok &= await measure(url, "PostgreSQL 15 (asyncpg, fsync on)", args.people,
                                args.together, args.events, args.rows)
    finally:
        cluster.stop()
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__)
    parser.add_argument("--people", type=int, default=120)
    parser.add_argument("--together", type=int, default=10)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=40_000)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
