"""Is the bot well? What ``/healthz`` answers (and ``/metrics`` exports): the database answers,
every adapter's last call to its platform went through, the outbox is not falling behind,
deliveries are not paused, and every periodic job ran lately and without failing.

A problem is a sentence naming what is wrong, for whoever is woken up by it; the HTTP status
is 503 as long as there is one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from flows.ports import Storage

DATABASE_TIMEOUT = 5.0
"""Seconds the database has to answer the health check's read."""
OUTBOX_LATE = timedelta(minutes=15)
"""A message waiting longer than this means deliveries are stuck: a reply goes out within a
second, a message for someone who blocked the bot is given up after eight attempts (about
four minutes), a broadcast to every prescriber at 30 a second takes about a minute."""
JOB_GRACE = timedelta(minutes=5)
"""A job is late when it has not started for two of its intervals and this."""


class Connected(Protocol):
    """An adapter, as health sees it."""

    @property
    def platform(self) -> str: ...

    @property
    def connected(self) -> bool: ...


@dataclass
class JobState:
    """A periodic job's runs since the process started."""

    name: str
    every: timedelta
    started: datetime | None = None
    finished: datetime | None = None
    failed: bool = False
    """Whether its last finished run raised."""
    ok_runs: int = 0
    failed_runs: int = 0
    items: int = 0
    """What its runs did, added up (reminders queued, rows purged...)."""


class JobRuns:
    """The scheduler's record of each job's runs (the database stays the record of the work)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.since = clock()
        self._jobs: dict[str, JobState] = {}

    def add(self, name: str, every: timedelta) -> None:
        self._jobs.setdefault(name, JobState(name, every))

    def started(self, name: str) -> None:
        self._jobs[name].started = self.clock()

    def done(self, name: str, items: int) -> None:
        job = self._jobs[name]
        job.finished, job.failed = self.clock(), False
        job.ok_runs += 1
        job.items += items

    def failed(self, name: str) -> None:
        job = self._jobs[name]
        job.finished, job.failed = self.clock(), True
        job.failed_runs += 1

    def snapshot(self) -> tuple[JobState, ...]:
        return tuple(replace(job) for job in self._jobs.values())


@dataclass(frozen=True)
class AdapterState:
    platform: str
    connected: bool


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_seconds: float | None
    """Age of the oldest message waiting; None when none waits."""


@dataclass(frozen=True)
class Status:
    """The bot's health at one moment."""

    at: datetime
    database_ok: bool
    outbox: Backlog | None
    """None when the database could not be read."""
    deliveries_paused: bool
    adapters: tuple[AdapterState, ...]
    jobs: tuple[JobState, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """The body of ``/healthz``."""
        return {
            "status": "ok" if self.ok else "failing",
            "problems": list(self.problems),
            "database": {"ok": self.database_ok},
            "adapters": {a.platform: {"connected": a.connected} for a in self.adapters},
            "outbox": None if self.outbox is None else {
                "pending": self.outbox.pending,
                "oldest_pending_seconds": self.outbox.oldest_seconds,
                "deliveries_paused": self.deliveries_paused,
            },
            "jobs": {j.name: {
                "every_seconds": j.every.total_seconds(),
                "last_started": j.started.isoformat() if j.started else None,
                "last_finished": j.finished.isoformat() if j.finished else None,
                "last_run_failed": j.failed,
                "runs": j.ok_runs, "failed_runs": j.failed_runs,
            } for j in self.jobs},
        }


async def read_status(storage: Storage, platforms: Sequence[str],
                      adapters: Sequence[Connected], deliveries_paused: bool, runs: JobRuns,
                      now: datetime) -> Status:
    """Look at everything once; ``platforms`` are those the dispatcher delivers to."""
    problems: list[str] = []
    backlog: Backlog | None = None
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            async with storage.reading() as uow:
                pending, oldest = await uow.outbox.backlog(platforms)
        backlog = Backlog(pending, (now - oldest).total_seconds() if oldest else None)
    except Exception as exc:  # unreachable, locked past the timeout, a disk error...
        problems.append(f"database: not answering ({type(exc).__name__})")
    if backlog is not None and backlog.oldest_seconds is not None \
            and backlog.oldest_seconds > OUTBOX_LATE.total_seconds():
        problems.append(f"outbox: the oldest of {backlog.pending} waiting messages was queued "
                        f"{backlog.oldest_seconds:.0f} s ago")
    if deliveries_paused:
        problems.append("outbox: deliveries paused, their records cannot be written")
    states = tuple(AdapterState(a.platform, bool(a.connected)) for a in adapters)
    problems += [f"adapter {a.platform}: not connected" for a in states if not a.connected]
    jobs = runs.snapshot()
    for job in jobs:
        if job.failed:
            problems.append(f"job {job.name}: its last run failed")
        last = job.started or runs.since
        if now - last > 2 * job.every + JOB_GRACE:
            problems.append(f"job {job.name}: not started since {last.isoformat()}")
    return Status(now, backlog is not None, backlog, deliveries_paused, states, jobs,
                  tuple(problems))
