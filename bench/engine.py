"""Engine benchmark: accepted answers per second through the router, against SQLite's floor.

What a person's answer costs end to end in one process: ``Core.handle`` (one transaction:
event, user, conversation, flow step, outbox) then the dispatcher's delivery round (read the
outbox, render, hand to the console transport writing to a null sink, record the delivery),
exactly what the console adapter does for each line, on a real SQLite file.

For information, the same machine's bare aiosqlite loop of one upsert and one commit per
answer, with the pragmas of ``storage/db.py`` (each commit synced to the disk), and the same
upserts with the standard library's sqlite3 on the loop, which no bot doing anything more
than an upsert can reach. Floors and engine alternate user by user (14 answers each), so all
see the same noise; the figures are medians over rounds.

Targets: >= 300 answers/s (ten times Telegram's whole flood allowance), p99 under 50 ms.
``python -m bench.engines`` measures both engines with several people at once and the event
loop's lag.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import aiosqlite

from bench.common import bot_settings, heading, machine, median, percentile
from bot.app import App, build
from bot.console import ConsoleTransport
from flows.messages import Incoming, UserKey
from storage.db import BUSY_TIMEOUT_MS

ACCESS_SCRIPT = ("bonjour", "1", "1", "CCAS de Veynes", "3 rue de la Gare", "veynes",
                 "Ana Martin", "Conseillère sociale", "06 12 34 56 78", "1")
"""A professional's access request from the first hello to the confirmed summary: ten
messages, each accepted and committed (the last also notifies the coordinator)."""

LANGUAGE_SCRIPT = ("langue", "English", "language", "Français")
"""Two short flows (command, one answer, a setting saved)."""

TARGET_RATE = 300.0
"""Answers per second: ten times Telegram's whole flood allowance (30 messages/s)."""
TARGET_P99_MS = 50.0


def script_for(number: int) -> tuple[str, ...]:
    """One user's messages: an access request, then language changes."""
    return ACCESS_SCRIPT + LANGUAGE_SCRIPT


async def engine_slice(app: App, round_no: int, number: int) -> tuple[float, list[float]]:
    """One user's script; returns (seconds taken, latency of each answer in seconds)."""
    latencies: list[float] = []
    key = UserKey(f"cli:r{round_no}u{number}")
    started = time.perf_counter()
    for text in script_for(number):
        t0 = time.perf_counter()
        await app.core.handle(Incoming(key, text))
        await app.dispatcher.drain()
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


async def engine_round(app: App, round_no: int, users: int) -> tuple[float, list[float]]:
    """Every user's script in turn; returns (answers per second, latencies in seconds)."""
    took, latencies = 0.0, []
    for number in range(users):
        seconds, more = await engine_slice(app, round_no, number)
        took, latencies = took + seconds, latencies + more
    return len(latencies) / took, latencies


async def open_floor(path: Path) -> aiosqlite.Connection:
    """An aiosqlite connection with the pragmas of ``storage/db.py``."""
    conn = await aiosqlite.connect(path)
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("CREATE TABLE IF NOT EXISTS answers (user_key TEXT PRIMARY KEY,"
                       " state TEXT NOT NULL, updated_at TEXT NOT NULL)")
    await conn.commit()
    return conn


async def floor_slice(conn: aiosqlite.Connection, round_no: int, first: int,
                      answers: int, per_user: int) -> float:
    """One upsert and one commit per answer, a conversation-sized JSON state each; returns
    the seconds taken."""
    started = time.perf_counter()
    for n in range(first, first + answers):
        state = json.dumps({"flow": "access", "step": f"s{n % per_user}",
                            "answers": {"structure": "CCAS de Veynes", "n": n},
                            "history": ["role", "structure"]}, ensure_ascii=False)
        await conn.execute(
            "INSERT INTO answers (user_key, state, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (f"cli:r{round_no}u{n // per_user}", state,
             datetime.now(UTC).isoformat(timespec="microseconds")))
        await conn.commit()
    return time.perf_counter() - started


def open_inline_floor(path: Path) -> sqlite3.Connection:
    """A sqlite3 connection with the same pragmas, used on the loop's thread."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "foreign_keys = ON", "synchronous = FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE IF NOT EXISTS answers (user_key TEXT PRIMARY KEY,"
                 " state TEXT NOT NULL, updated_at TEXT NOT NULL)")
    return conn


async def inline_floor_slice(conn: sqlite3.Connection, round_no: int, first: int,
                             answers: int, per_user: int) -> float:
    """The same upserts, each committed, with no thread hop; returns the seconds taken."""
    started = time.perf_counter()
    for n in range(first, first + answers):
        state = json.dumps({"flow": "access", "step": f"s{n % per_user}",
                            "answers": {"structure": "CCAS de Veynes", "n": n},
                            "history": ["role", "structure"]}, ensure_ascii=False)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO answers (user_key, state, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (f"cli:r{round_no}u{n // per_user}", state,
             datetime.now(UTC).isoformat(timespec="microseconds")))
        conn.execute("COMMIT")
        await asyncio.sleep(0)  # what an async caller gives back to the loop, at least
    return time.perf_counter() - started


async def run(rounds: int, users: int, profile: bool, sink: TextIO) -> dict[str, float]:
    """Alternate floor and engine rounds; print and return the medians and the ratio."""
    heading("engine: answers committed per second, against the bare aiosqlite floor")
    print(machine())
    per_user = len(script_for(0))
    with tempfile.TemporaryDirectory(prefix="filiere-bench-") as tmp:
        app = await build(bot_settings(), {"cli": ConsoleTransport(sink)},
                          database=Path(tmp) / "engine.sqlite3")
        floor_conn = await open_floor(Path(tmp) / "floor.sqlite3")
        inline_conn = open_inline_floor(Path(tmp) / "inline.sqlite3")
        try:
            await engine_round(app, -1, 5)  # warm-up: imports, caches, catalogs
            await floor_slice(floor_conn, -1, 0, 200, per_user)
            inline_rates: list[float] = []
            floor_rates: list[float] = []
            engine_rates: list[float] = []
            all_latencies: list[float] = []
            round_p99: list[float] = []
            for round_no in range(rounds):
                # Slice by slice (one user's script, then as many floor answers), so that the
                # machine's noise falls on all three alike.
                took = {"floor": 0.0, "inline": 0.0, "engine": 0.0}
                latencies = []
                for number in range(users):
                    first = number * per_user
                    took["floor"] += await floor_slice(floor_conn, round_no, first, per_user,
                                                       per_user)
                    took["inline"] += await inline_floor_slice(inline_conn, round_no, first,
                                                               per_user, per_user)
                    seconds, more = await engine_slice(app, round_no, number)
                    took["engine"] += seconds
                    latencies += more
                answers = users * per_user
                floor_rates.append(answers / took["floor"])
                inline_rates.append(answers / took["inline"])
                rate = answers / took["engine"]
                engine_rates.append(rate)
                all_latencies += latencies
                round_p99.append(percentile(latencies, 0.99))
                print(f"  round {round_no + 1}: floor {floor_rates[-1]:8.0f}/s   engine "
                      f"{rate:7.0f}/s   ratio {rate / floor_rates[-1]:5.1%}   "
                      f"p99 {round_p99[-1] * 1000:5.2f} ms", flush=True)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                await engine_round(app, rounds, users)
                profiler.disable()
                report = io.StringIO()
                pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(18)
                print("  profile of one engine round (top functions by own time):")
                print("\n".join("    " + line for line in report.getvalue().splitlines()
                                if line.strip())[:6000])
        finally:
            inline_conn.close()
            await floor_conn.close()
            await app.close()
    floor, engine = median(floor_rates), median(engine_rates)
    ratios = [e / f for e, f in zip(engine_rates, floor_rates, strict=True)]
    p50, p99 = percentile(all_latencies, 0.5) * 1000, percentile(all_latencies, 0.99) * 1000
    share = median(ratios)
    print(f"  answers per round: {users * per_user} ({users} users x {per_user} messages)")
    print(f"  floor (upsert + commit): median {floor:.0f} answers/s")
    print(f"  engine (handle + delivery): median {engine:.0f} answers/s")
    inline = median(inline_rates)
    print(f"  for scale, sqlite3 on the loop (upsert + commit, no thread): median {inline:.0f}"
          f" answers/s; engine/that: median "
          f"{median([e / f for e, f in zip(engine_rates, inline_rates, strict=True)]):.1%}")
    print(f"  ratio engine/floor: median {share:.1%} (information: the floor commits one"
          " statement per answer)")
    print(f"  engine: median {engine:.0f} answers/s   (target >= {TARGET_RATE:.0f}/s: "
          f"{'met' if engine >= TARGET_RATE else 'MISSED'})")
    print(f"  latency per answer: p50 {p50:.2f} ms, p99 {p99:.2f} ms, median of round p99 "
          f"{median(round_p99) * 1000:.2f} ms   (target p99 < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if p99 < TARGET_P99_MS else 'MISSED'})")
    return {"floor": floor, "engine": engine, "ratio": share, "p50_ms": p50, "p99_ms": p99}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--users", type=int, default=60, help="users per round")
    parser.add_argument("--profile", action="store_true", help="profile one more round")
    args = parser.parse_args(argv)
    with open(os.devnull, "w", encoding="utf-8") as sink:  # the console, minus the terminal
        asyncio.run(run(args.rounds, args.users, args.profile, sink))


if __name__ == "__main__":
    main()
