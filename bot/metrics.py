"""What the running bot counts, for ``/metrics`` in Prometheus' text format (prometheus_client).

Each :class:`~bot.app.App` has its own registry (tests build many apps in one process). The
process records as it goes: messages received (``serve`` counts what the adapters hand the
router), delivered, given up, the platforms' "too many requests" answers and the delivery
latency (the dispatcher), errors (every log record at ERROR or above, by component: the
router's apology for a bug, a failed job, a transport's surprise all log one). What is a state
rather than an event (the outbox's backlog, each adapter's connection, each job's last run)
is read when ``/metrics`` is scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.health import Status
from flows.messages import Incoming, platform_of

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
"""Seconds from the outbox to the platform: a reply takes well under a second, a message held
behind a flood limit or a network failure minutes."""
REMINDERS_JOB = "beneficiaries.reminders"


class Metrics:
    """The counters of one running bot."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._received = Counter("filiere_messages_received", "Messages and button presses "
                                 "received from people", ["platform"], registry=r)
        self._sent = Counter("filiere_messages_sent", "Messages delivered to people",
                             ["platform"], registry=r)
        self._given_up = Counter("filiere_messages_given_up", "Messages given up as "
                                 "undeliverable (bot blocked, unknown chat, eight failures)",
                                 ["platform"], registry=r)
        self._too_many = Counter("filiere_platform_429", "Answers 429 Too Many Requests (flood "
                                 "limit) from a platform", ["platform"], registry=r)
        self._latency = Histogram("filiere_delivery_latency_seconds", "Time from the outbox "
                                  "to the platform's acceptance, per message",
                                  ["platform"], buckets=LATENCY_BUCKETS, registry=r)
        self._errors = Counter("filiere_errors", "Errors logged (ERROR and above), by "
                               "component", ["component"], registry=r)
        self._state: Status | None = None
        r.register(_StateCollector(self))
        self._children: dict[tuple[int, str], Any] = {}

    def _child(self, metric: Any, label: str) -> Any:
        """A labelled child, looked up once (``labels()`` costs a few microseconds)."""
        key = (id(metric), label)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(label)
        return child

    def received(self, batch: Sequence[Incoming]) -> None:
        for incoming in batch:
            self._child(self._received, platform_of(incoming.user)).inc()

    def sent(self, platform: str, seconds: float | None) -> None:
        self._child(self._sent, platform).inc()
        if seconds is not None:
            self._child(self._latency, platform).observe(max(0.0, seconds))

    def given_up(self, platform: str) -> None:
        self._child(self._given_up, platform).inc()

    def too_many_requests(self, platform: str) -> None:
        self._child(self._too_many, platform).inc()

    def error(self, component: str) -> None:
        self._child(self._errors, component).inc()

    def exposition(self, state: Status) -> bytes:
        """The text format, with the state just read (backlog, adapters, jobs)."""
        self._state = state
        try:
            return generate_latest(self.registry)
        finally:
            self._state = None


class _StateCollector(Collector):
    """What is read at each scrape: the outbox, the adapters, the jobs."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> Iterable[Any]:
        return []  # no fixed samples: collected only when scraped

    def collect(self) -> Iterator[Any]:
        state = self.metrics._state
        if state is None:
            return
        if state.outbox is not None:
            yield GaugeMetricFamily("filiere_outbox_pending", "Messages waiting in the outbox",
                                    value=state.outbox.pending)
            yield GaugeMetricFamily("filiere_outbox_oldest_pending_seconds", "Age of the "
                                    "oldest message waiting in the outbox (0: none)",
                                    value=state.outbox.oldest_seconds or 0.0)
        yield GaugeMetricFamily("filiere_database_up", "1 when the database answers",
                                value=int(state.database_ok))
        connected = GaugeMetricFamily("filiere_adapter_connected", "1 when the platform's "
                                      "last call went through", labels=["platform"])
        for adapter in state.adapters:
            connected.add_metric([adapter.platform], int(adapter.connected))
        yield connected
        runs = CounterMetricFamily("filiere_job_runs", "Runs of the periodic jobs, by outcome",
                                   labels=["job", "outcome"])
        last = GaugeMetricFamily("filiere_job_last_run_timestamp_seconds", "When each job "
                                 "last finished a run (Unix time)", labels=["job"])
        reminders = 0
        for job in state.jobs:
            runs.add_metric([job.name, "ok"], job.ok_runs)
            runs.add_metric([job.name, "failed"], job.failed_runs)
            if job.finished is not None:
                last.add_metric([job.name], job.finished.timestamp())
            if job.name == REMINDERS_JOB:
                reminders = job.items
        yield runs
        yield last
        yield CounterMetricFamily("filiere_reminders_sent", "Workshop reminders sent (queued "
                                  "for delivery by the reminders job)", value=reminders)


class ErrorCounter(logging.Handler):
    """Counts the log records at ERROR and above, by component (``bot.dispatcher``...)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.ERROR)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self.metrics.error(".".join(record.name.split(".")[:2]))
