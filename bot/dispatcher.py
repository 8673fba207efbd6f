"""The outbox dispatcher: delivers queued messages through each platform's transport.

Each message is rendered in its recipient's language at delivery time, sent, then marked
delivered by one statement committed on its own (``Storage.autocommit``). A transport says
how a failure should be treated: retry after a delay (flood limit, network error, 5xx) or give
up (the person blocked the bot). The database is the record: a restart resumes with whatever
is still pending. The one window left is a crash between a platform accepting a message and
the "delivered" commit, where the message may be sent again: at-least-once is the best any
chat API without idempotency keys allows, and the window is one SQLite commit wide.

Messages go out by priority (``flows.messages.Priority``: replies to the person who wrote,
then notices, then reminders and broadcasts), as the outbox orders them. A round is cut short
when something new is queued (``wake``): a "bonjour" written while a morning's reminders go
out at 30 a second is read at once and sent next, not after the round's hundred reminders.

A record the database cannot take (disk full, read-only, locked past the busy timeout) must
not widen that window: the message's row still says pending, and the next round would send it
again, round after round. The record is kept in memory instead, the round stops, and nothing
more is sent until it is written: the message is never sent again by this process, and a crash
meanwhile repeats only the messages whose records were waiting (the ones in flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from bot.i18n import Rendered, Renderer
from flows.messages import Priority, UserKey, platform_of
from flows.ports import OutboxItem, Storage, StorageUnavailable, UnitOfWork, Unreached

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
IDLE_SECONDS = 5.0
ROUND = 100
"""Messages read from the outbox per round, at most."""
FIRST_ROUND = 10
"""Messages read by a round after a quiet spell or a cut-short one. People writing to the bot
cut rounds short all the time (each answer queued wakes the dispatcher, which reads the outbox
again for it): reading a hundred rows to send two cost a third of the bot's time in a
benchmark of people filling a form. The size doubles while rounds come back full (a morning's
reminders soon go out a hundred a read)."""

Record = Callable[[UnitOfWork], Awaitable[None]]
"""What became of a message, as the outbox records it (sent, put off, given up), with what
it taught about its recipient's chat (blocked, never opened)."""


class RetryLater(Exception):
    """The platform asked to wait (flood limit) or failed transiently (network, 5xx).

    ``failed`` is False for a wait that says nothing about the message: pacing under a flood
    limit, or the platform's own "too many requests". Those do not count towards giving the
    message up: a coordinator receiving fifty notices at once must get the fiftieth.
    """

    def __init__(self, seconds: float, reason: str, *, failed: bool = True,
                 too_many_requests: bool = False) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.failed = failed
        self.too_many_requests = too_many_requests
        """The platform itself answered 429 (counted by the metrics), not our own pacing."""


class Undeliverable(Exception):
    """The message can never be delivered (unknown chat, bot blocked): do not retry."""


class Unreachable(Undeliverable):
    """The platform refuses every message to this person for now: they blocked the bot
    (the message is given up, and nothing more is sent until they come back), or never
    opened a chat with it (the message waits, with the next ones, until they first write)."""

    def __init__(self, reason: Unreached, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Outcome(Enum):
    """What became of one message: what the same person's next message may do."""

    SENT = "sent"
    GIVEN_UP = "given up"  # undeliverable: the next one may still go
    HELD = "held"  # to be retried: the next ones wait behind it


class Transport(Protocol):
    """One platform's way of sending a rendered message.

    A transport may say how many messages it can have in flight at once (``concurrency``,
    default 1): a platform far away takes tens of milliseconds a call, and one call at a time
    would cap the rate under its flood limit. Its ``send`` must then be safe to run for
    several people at once; one person's messages are never sent concurrently.
    """

    platform: str

    async def send(self, message: Rendered) -> None: ...


class Slots:
    """Calls in flight to one platform, up to what its transport allows at that moment (a
    transport may allow more once it finds its server far away)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.busy = 0
        self._freed = asyncio.Event()

    @property
    def limit(self) -> int:
        return max(1, getattr(self.transport, "concurrency", 1))

    @property
    def alone(self) -> bool:
        """Only one call allowed, and none in flight."""
        return self.limit == 1 and self.busy == 1

    async def take(self) -> None:
        while self.busy >= self.limit:
            self._freed.clear()
            await self._freed.wait()
        self.busy += 1

    def give(self) -> None:
        self.busy -= 1
        self._freed.set()


def _lowest_priority_after(items: Sequence[OutboxItem]) -> list[int]:
    """For each position in a round, the lowest priority (highest value) from there on."""
    lowest: list[int] = []
    value = Priority.REPLY
    for item in reversed(items):
        value = max(value, item.message.priority)
        lowest.append(value)
    return lowest[::-1]


def backoff(attempts: int) -> float:
    """Seconds to wait before the next attempt: 2, 4, 8 ... capped at ten minutes."""
    return float(min(600, 2 ** max(1, attempts)))


class Dispatcher:
    """Drains the outbox for the platforms it has transports for."""

    def __init__(
        self,
        storage: Storage,
        renderer: Renderer,
        transports: Mapping[str, Transport],
        clock: Callable[[], datetime],
        metrics: Metrics | None = None,
    ) -> None:
        self.storage = storage
        self.metrics = metrics
        self.renderer = renderer
        self.transports = dict(transports)
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._retries: list[float] = []  # monotonic times of the retries scheduled (a heap)
        self._sent = 0  # messages delivered since start
        self._size = FIRST_ROUND  # messages the next round of ``drain`` reads
        # One round at a time: two rounds side by side would read the same pending messages
        # and send each of them twice (the console draining after a line while the loop
        # delivers, several tasks draining at once).
        self._rounds = asyncio.Lock()
        self._unwritten: dict[int, Record] = {}
        """Records the database could not take, by outbox id, oldest first: written before
        anything more is sent (their rows still say pending: read again, they would go out
        again)."""

    def stop(self) -> None:
        """Finish the message in hand, then stop (``run_forever`` returns): a clean exit."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Ask for a delivery round now (called after each handled message); a round going
        on stops after the messages in flight, and the next reads the outbox again."""
        self._wake.set()

    @property
    def paused(self) -> bool:
        """Deliveries wait for records the database refused (``/healthz`` reports it)."""
        return bool(self._unwritten)

    async def run_once(self, limit: int = ROUND) -> int:
        """Deliver every due message (up to ``limit``); returns how many were delivered."""
        async with self._rounds:
            delivered, _ = await self._round(limit)
        return delivered

    async def _round(self, limit: int) -> tuple[int, bool]:
        """One delivery round: (messages delivered, whether more may be due already)."""
        if not self.transports:
            return 0, False
        if self._unwritten:
            await self._write_unwritten()  # still refused: raises, and nothing is sent
        sent_before = self._sent
        self._wake.clear()  # what is queued from now on wakes (and cuts short) this round
        async with self.storage.reading() as uow:
            items = await uow.outbox.due(self.clock(), list(self.transports), limit)
        # Messages go out in the outbox's order, up to ``concurrency`` at a time per platform
        # (one for the console, so its output keeps that order exactly). One person's
        # messages are chained: each waits for the one before, and if that one must be
        # retried, the later ones stay pending behind it.
        slots = {name: Slots(transport) for name, transport in self.transports.items()}
        last: dict[str, asyncio.Future[Outcome]] = {}
        cut = False
        # A message queued meanwhile (a reply, at best) can only overtake the round's
        # messages of a lower priority: while none is left, the round goes on.
        lowest_after = _lowest_priority_after(items)
        for index, item in enumerate(items):
            if self._stopping or self._unwritten:
                break
            if self._wake.is_set() and last and lowest_after[index] > Priority.REPLY:
                cut = True  # (after one message at least: a round always makes progress)
                break
            slot = slots[platform_of(item.message.to)]
            await slot.take()
            turn = self._in_turn(last.get(item.message.to), item, slot)
            if slot.alone:  # one at a time: delivered here, no task to create and switch to
                settled = asyncio.get_running_loop().create_future()
                settled.set_result(await turn)
                last[item.message.to] = settled
            else:
                last[item.message.to] = asyncio.ensure_future(turn)
        if any(not settled.done() for settled in last.values()):
            await asyncio.wait(last.values())  # (not gather: done ones would cost a loop turn)
        for settled in last.values():
            settled.result()  # what a delivery raised, raised here
        if self._unwritten:
            raise StorageUnavailable(f"{len(self._unwritten)} delivery record(s) not written:"
                                     " deliveries paused until they are")
        return self._sent - sent_before, (len(items) == limit or cut) and not self._stopping

    async def _in_turn(self, before: asyncio.Future[Outcome] | None, item: OutboxItem,
                       slot: Slots) -> Outcome:
        """Deliver ``item`` once the same person's previous message is settled."""
        try:
            if before is not None and await before is Outcome.HELD:
                return Outcome.HELD
            if self._stopping or self._unwritten:
                return Outcome.HELD
            return await self._deliver(item)
        finally:
            slot.give()

    async def _deliver(self, item: OutboxItem) -> Outcome:
        message = item.message
        if item.blocked:
            await self._record(item.id, _given_up(item.id, self.clock(),
                                                  "the recipient blocked the bot"))
            return Outcome.GIVEN_UP
        transport = self.transports[platform_of(message.to)]
        rendered = self.renderer.render(message, item.lang, f"outbox:{item.id}")
        try:
            await transport.send(rendered)
        except RetryLater as exc:
            if exc.too_many_requests and self.metrics is not None:
                self.metrics.too_many_requests(transport.platform)
            if exc.failed:
                await self._retry_or_give_up(item, max(exc.seconds, backoff(item.attempts)),
                                             str(exc))
            else:
                await self._wait(item, exc.seconds, str(exc))
            return Outcome.HELD
        except Unreachable as exc:
            now = self.clock()
            if exc.reason is Unreached.BLOCKED:
                log.info("outbox %s: %s blocked the bot", item.id, message.to)
                await self._record(item.id, _given_up(item.id, now, str(exc), message.to))
                return Outcome.GIVEN_UP
            log.info("outbox %s: %s never opened the bot; kept until they write", item.id,
                     message.to)
            await self._record(item.id, _kept(item.id, now, str(exc), message.to))
            return Outcome.HELD
        except Undeliverable as exc:
            log.warning("outbox %s undeliverable: %s", item.id, exc)
            await self._record(item.id, _given_up(item.id, self.clock(), str(exc)))
            if self.metrics is not None:
                self.metrics.given_up(transport.platform)
            return Outcome.GIVEN_UP
        except Exception as exc:  # a transport bug must not stop the other deliveries
            log.exception("outbox %s: unexpected transport error", item.id)
            await self._retry_or_give_up(item, backoff(item.attempts), repr(exc))
            return Outcome.HELD
        now = self.clock()
        try:  # _record's, written out: the one write of every delivery, without a closure
            async with self.storage.autocommit() as uow:
                await uow.outbox.delivered(item.id, now)
        except StorageUnavailable as exc:
            self._keep(item.id, _delivered(item.id, now), exc)
        self._sent += 1
        if self.metrics is not None:
            self.metrics.sent(transport.platform, (now - item.created_at).total_seconds()
                              if item.created_at is not None else None)
        return Outcome.SENT

    async def _retry_or_give_up(self, item: OutboxItem, delay: float, reason: str) -> None:
        if item.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("outbox %s: giving up after %s attempts", item.id, item.attempts + 1)
            await self._record(item.id, _given_up(item.id, self.clock(), reason))
            if self.metrics is not None:
                self.metrics.given_up(platform_of(item.message.to))
            return
        await self._wait(item, delay, reason, failed=True)

    async def _wait(self, item: OutboxItem, delay: float, reason: str,
                    failed: bool = False) -> None:
        """Put ``item`` off for ``delay`` seconds, as one more failed attempt or not."""
        await self._record(item.id, _put_off(item.id, self.clock() + timedelta(seconds=delay),
                                             reason, failed))
        # Remembered once the row says so, so that the wake-up finds it due; every retry is
        # kept, not only the earliest, or a later one would wait for the next idle round.
        heapq.heappush(self._retries, time.monotonic() + delay)

    async def _record(self, item_id: int, record: Record) -> None:
        """Write what became of a message, in a statement committed on its own; if the
        database cannot take it now, keep it to write before anything more is sent."""
        try:
            async with self.storage.autocommit() as uow:
                await record(uow)
        except StorageUnavailable as exc:
            self._keep(item_id, record, exc)

    def _keep(self, item_id: int, record: Record, exc: StorageUnavailable) -> None:
        """Keep a record the database refused: deliveries pause until it is written."""
        if not self._unwritten:
            log.warning("outbox %s: record not written (%s): deliveries paused until it is",
                        item_id, exc)
        self._unwritten[item_id] = record

    async def _write_unwritten(self) -> None:
        """Write the records kept in memory, oldest first; raises
        :class:`~flows.ports.StorageUnavailable`, with the rest still kept, if the database
        still cannot take them."""
        while self._unwritten:
            item_id, record = next(iter(self._unwritten.items()))
            async with self.storage.autocommit() as uow:
                await record(uow)
            del self._unwritten[item_id]
        log.info("outbox records written: deliveries resume")

    async def drain(self) -> int:
        """Deliver until nothing is due now (the console uses it after every line).

        A round that read fewer than :data:`ROUND` messages saw everything due; what is
        queued after its read wakes the dispatcher again, so no empty round is needed to
        make sure. Raises :class:`~flows.ports.StorageUnavailable` when the database cannot
        take a delivery's record: what was sent is remembered, nothing more goes out, and a
        later call writes the record first.
        """
        total = 0
        async with self._rounds:
            while True:
                size = self._size
                sent, more = await self._round(size)
                total += sent
                # Full rounds read more next time; a round cut short or not full starts small.
                self._size = min(ROUND, size * 2) if more and sent >= size else FIRST_ROUND
                if not more:
                    return total

    async def run_forever(self) -> None:
        """Deliver whenever woken, and at least every few seconds (for retries)."""
        while not self._stopping:
            until_retry = (max(0.0, self._retries[0] - time.monotonic()) if self._retries
                           else math.inf)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(IDLE_SECONDS, until_retry))
            self._wake.clear()
            now = time.monotonic()
            while self._retries and self._retries[0] <= now:
                heapq.heappop(self._retries)
            if self._stopping:
                break
            try:
                await self.drain()
            except StorageUnavailable as exc:
                log.warning("deliveries paused, next round in %s s at most: %s",
                            IDLE_SECONDS, exc)
            except Exception:
                log.exception("dispatcher round failed; next round in %s s", IDLE_SECONDS)
        await self._last_records()

    async def _last_records(self) -> None:
        """At a stop, a last try at the records kept in memory."""
        if not self._unwritten:
            return
        try:
            await self._write_unwritten()
        except StorageUnavailable as exc:
            log.error("stopping with the records of outbox %s not written (%s): a message "
                      "among them that was sent goes out again at the next start",
                      ", ".join(map(str, self._unwritten)), exc)


def _delivered(item_id: int, when: datetime) -> Record:
    async def record(uow: UnitOfWork) -> None:
        await uow.outbox.delivered(item_id, when)
    return record


def _put_off(item_id: int, until: datetime, reason: str, failed: bool) -> Record:
    async def record(uow: UnitOfWork) -> None:
        await uow.outbox.retry_later(item_id, until, reason, attempt=failed)
    return record


def _given_up(item_id: int, when: datetime, reason: str, blocked: UserKey | None = None
              ) -> Record:
    """The message given up; ``blocked``: its recipient, who blocked the bot."""
    async def record(uow: UnitOfWork) -> None:
        if blocked is not None:
            await uow.reach.refused(blocked, Unreached.BLOCKED, when)
        await uow.outbox.give_up(item_id, when, reason)
    return record


def _kept(item_id: int, when: datetime, reason: str, recipient: UserKey) -> Record:
    """The message kept for someone who never opened the bot, until they first write (it is
    not read again until then, nor the messages after it)."""
    async def record(uow: UnitOfWork) -> None:
        await uow.reach.refused(recipient, Unreached.NOT_STARTED, when)
        await uow.outbox.retry_later(item_id, when, reason, attempt=False)
    return record
