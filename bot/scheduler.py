"""APScheduler wakes the dispatcher and runs the features' periodic jobs.

The scheduler keeps nothing of its own: jobs read what is due from the database, so a restart
loses nothing and APScheduler's in-memory job store is only a timer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.dispatcher import Dispatcher
from bot.health import JobRuns
from handlers.core import Core

log = logging.getLogger(__name__)

DISPATCH_EVERY_SECONDS = 5


def build_scheduler(core: Core, dispatcher: Dispatcher,
                    runs: JobRuns | None = None) -> AsyncIOScheduler:
    """A scheduler (not started) with the dispatcher tick and every feature's jobs; ``runs``
    records when each job ran and how it went (for ``/healthz`` and ``/metrics``)."""
    scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(dispatcher.wake, "interval", seconds=DISPATCH_EVERY_SECONDS,
                      id="dispatcher.wake")
    record = runs or JobRuns(lambda: datetime.now(UTC))
    for job in core.jobs:
        record.add(job.name, job.every)

        async def run(job=job) -> None:  # default binds this iteration's job
            record.started(job.name)
            try:
                done = await core.run_job(job)
                if done:
                    log.info("job %s: %s done", job.name, done)
            except Exception:
                record.failed(job.name)
                log.exception("job %s failed; it runs again at its next tick", job.name)
            else:
                record.done(job.name, done)

        # First run at start, not one interval later: a bot restarted more often than a
        # job's interval (a daily purge, deployments every day) would never run it.
        scheduler.add_job(run, "interval", seconds=job.every.total_seconds(), id=job.name,
                          next_run_time=datetime.now(UTC))
    return scheduler
