"""The composition root: open storage, load the territory, build the router and dispatcher.

This is the one place where features are composed and dependencies handed out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.dispatcher import Dispatcher, Transport
from bot.i18n import Renderer
from bot.settings import LANGUAGES, Settings
from handlers import access as access_handlers
from handlers.core import Core, CoreConfig
from handlers.home import home_feature
from handlers.phones import check_french_phone
from handlers.session import Feature, Session
from storage import territory as territory_store
from storage.db import Database
from storage.demo import seed_demo
from storage.sqlite import SqliteStorage

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """Everything a running bot is made of; adapters only need ``core`` and ``dispatcher``."""

    settings: Settings
    db: Database
    storage: SqliteStorage
    renderer: Renderer
    core: Core
    dispatcher: Dispatcher

    async def close(self) -> None:
        await self.db.close()


def features(core_ref: Callable[[], Core]) -> list[Feature]:
    """Every feature of the bot, in one list (the order does not matter: no prefix is shared)."""

    async def start_flow(session: Session, name: str) -> None:
        await core_ref().start_flow(session, name)

    return [home_feature(start_flow), access_handlers.FEATURE]


async def build(
    settings: Settings,
    transports: dict[str, Transport],
    *,
    database: Path | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> App:
    """Open the database (migrating it), load the territory and demo data, wire everything."""
    db = await Database.open(database or settings.database)
    storage = SqliteStorage(db, frozenset(settings.coordinators))
    async with db.transaction() as conn:
        if not await territory_store.is_loaded(conn):
            count = await territory_store.replace_territory(
                conn, territory_store.shipped_territory(), clock()
            )
            log.info("territory loaded: %s communes", count)
    if settings.demo:
        async with storage.transaction() as uow:
            if await seed_demo(uow, clock(), settings.timezone):
                log.info("demo data seeded")
    territory = await territory_store.load_territory(db.conn)
    renderer = Renderer(LANGUAGES, settings.default_lang, settings.timezone)
    dispatcher = Dispatcher(storage, renderer, transports, clock)
    core: Core | None = None

    def core_ref() -> Core:
        assert core is not None
        return core

    core = Core(
        storage,
        territory,
        CoreConfig(
            coordinators=settings.coordinators,
            default_lang=settings.default_lang,
            languages=LANGUAGES,
            conversation_ttl=settings.conversation_ttl,
        ),
        features(core_ref),
        clock=clock,
        translator=renderer.translator,
        check_phone=check_french_phone,
        wake=dispatcher.wake,
    )
    return App(settings, db, storage, renderer, core, dispatcher)
