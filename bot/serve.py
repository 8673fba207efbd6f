"""One process, every configured platform: the adapters, the outbox dispatcher, the scheduler.

Start order: the adapters are built first (their transports are handed to the dispatcher),
then the application, then each adapter logs in and starts receiving, then the web pages
(``bot/web.py``, when ``FILIERE_WEB_PORT`` is set). Stop order is the reverse of what could
lose or repeat a message: the web pages stop, then every adapter stops receiving and
finishes the event in hand, then the dispatcher finishes the message in hand and stops, and
only then are the platform clients closed and the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.app import App, build, system_clock
from bot.dispatcher import Transport
from bot.health import JobRuns, Status, read_status
from bot.i18n import Renderer
from bot.scheduler import build_scheduler
from bot.settings import Settings
from flows.messages import Handle, Incoming, Outgoing, Priority, UserKey
from flows.ports import StorageUnavailable
from flows.text import Msg

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.web import WebServer

log = logging.getLogger(__name__)


class Adapter(Protocol):
    """A platform's receiving side; its ``transport`` is the sending side."""

    @property
    def platform(self) -> str: ...

    @property
    def transport(self) -> Transport: ...

    @property
    def connected(self) -> bool:
        """Whether the platform answered its last call (``/healthz``)."""
        ...

    async def start(self, handle: Handle, renderer: Renderer,
                    tell: Callable[[UserKey, Msg], Awaitable[None]]) -> None: ...

    async def stop_receiving(self) -> None: ...

    async def close(self) -> None: ...


async def _lead(leadership: Leadership, stop: asyncio.Event) -> bool:
    """Wait to be the process that serves the bot (one per bot account, among those started
    on one database: a platform's receiving and its flood limits want one); False if told to
    stop first. A process standing by takes over as soon as the serving one ends."""
    waiting = asyncio.create_task(leadership.acquire(stop))
    done, _ = await asyncio.wait({waiting}, timeout=0.5)
    if not done:
        log.info("standing by: another process serves the bot on this database")
    leading = await waiting
    if leading:
        log.info("serving the bot")
    return leading


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class Leadership(Protocol):
    lost: asyncio.Event

    async def acquire(self, stop: asyncio.Event) -> bool: ...

    async def release(self) -> None: ...


def make_adapters(settings: Settings) -> list[Adapter]:
    """An adapter for every platform whose settings are present (imported only if used)."""
    adapters: list[Adapter] = []
    if settings.telegram is not None:
        from bot.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(settings.telegram))
    if settings.matrix is not None:
        from bot.matrix import MatrixAdapter

        adapters.append(MatrixAdapter(settings.matrix))
    if settings.sms is not None:
        from bot.sms import SmsAdapter

        adapters.append(SmsAdapter(settings.sms, quiet=settings.quiet_hours,
                                   tz=settings.timezone, coordinators=settings.coordinators))
    return adapters


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    database: Path | str | None = None,
    clock: Callable[[], datetime] = system_clock,
    started: asyncio.Event | None = None,
) -> int:
    """Run until ``stop`` is set; 0 after a clean stop, 1 when an adapter cannot start."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick otherwise
    adapters = make_adapters(settings)
    app = await build(settings, {a.platform: a.transport for a in adapters},
                      database=database, clock=clock)
    for adapter in adapters:  # an adapter that keeps records of its own (SMS on their way)
        bind = getattr(adapter, "bind", None)
        if bind is not None:
            bind(app.storage, clock, app.dispatcher.wake)
    running: list[Adapter] = []

    async def tell(to: UserKey, text: Msg) -> None:
        """A notice from an adapter itself (an unreadable message), through the outbox."""
        async with app.storage.transaction() as uow:
            await uow.outbox.add(Outgoing(to, (text,), priority=Priority.REPLY), clock())
        app.dispatcher.wake()

    dispatcher_task: asyncio.Task[None] | None = None
    mail_task: asyncio.Task[None] | None = None
    scheduler = None
    web = None
    runs = JobRuns(clock)
    handle = app.core.handle_batch
    errors = None
    if app.metrics is not None:
        from bot.metrics import ErrorCounter

        errors = ErrorCounter(app.metrics)
        logging.getLogger().addHandler(errors)
        handle = _counted(handle, app.metrics)
    status = 0
    leadership = app.db.leadership()
    try:
        if not await _lead(leadership, stop):
            return status
        for adapter in adapters:
            try:
                await adapter.start(handle, app.renderer, tell)
            except Exception as exc:
                log.error("%s adapter could not start: %s", adapter.platform, exc)
                running.append(adapter)  # so that whatever it opened is closed
                status = 1
                return status
            running.append(adapter)
        dispatcher_task = asyncio.create_task(app.dispatcher.run_forever(), name="dispatcher")
        if app.mail is not None:  # e-mails (bot/mail.py), when a relay is configured
            mail_task = asyncio.create_task(app.mail.run_forever(), name="mail")
        scheduler = build_scheduler(app.core, app.dispatcher, runs)
        scheduler.start()
        app.dispatcher.wake()  # whatever was left in the outbox by the last run
        if settings.web is not None:
            try:
                web = await start_web(settings, app, running, runs, clock)
            except OSError as exc:  # the port is taken, the address is not this machine's
                log.error("the web pages could not listen on %s:%s: %s", settings.web.listen,
                          settings.web.port, exc)
                status = 1
                return status
        # What start-up loaded (territory, catalogs, locale data, libraries) stays for the
        # whole run: out of the garbage collector's sight, it is not walked again and again
        # as messages come and go.
        gc.freeze()
        log.info("filiere-bot running: %s", ", ".join(a.platform for a in running))
        if started is not None:
            started.set()
        await _first(stop, leadership.lost)
        if leadership.lost.is_set():
            log.error("stopping: another process may serve the bot now")
            status = 1
        log.info("stopping: finishing the messages in hand")
        return status
    finally:
        if web is not None:
            await web.stop()
        for adapter in reversed(running):
            try:
                await adapter.stop_receiving()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        app.dispatcher.stop()
        if dispatcher_task is not None:
            await dispatcher_task
        if mail_task is not None and app.mail is not None:
            app.mail.stop()  # finishes the e-mail in hand
            await mail_task
        for adapter in reversed(running):
            try:
                await adapter.close()
            except Exception:
                log.exception("%s adapter did not close cleanly", adapter.platform)
        await leadership.release()
        # Waits for a cancelled job to roll back before the database closes; a database
        # that cannot take a write any more (read-only, full) has nothing to wait for.
        try:
            with contextlib.suppress(StorageUnavailable):
                async with app.storage.transaction():
                    pass
        finally:
            await app.close()  # aiosqlite's thread would keep the process from exiting
            if errors is not None:
                logging.getLogger().removeHandler(errors)


def _counted(handle: Handle, metrics: Metrics) -> Handle:
    """``handle``, counting the messages the adapters hand over."""
    async def counted(batch: Sequence[Incoming]) -> None:
        metrics.received(batch)
        await handle(batch)
    return counted


async def start_web(settings: Settings, app: App, adapters: Sequence[Adapter], runs: JobRuns,
                     clock: Callable[[], datetime]) -> WebServer:
    """The pages, ``/healthz`` and ``/metrics`` (imported only when they are on)."""
    from bot.web import WebServer

    assert settings.web is not None

    async def status() -> Status:
        return await read_status(app.storage, list(app.dispatcher.transports), adapters,
                                 app.dispatcher.paused, runs, clock())

    web = WebServer(settings.web, app, status, clock=clock)
    await web.start()
    return web
