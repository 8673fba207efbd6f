"""The composition root: open storage, load the territory, build the router and dispatcher.

This is the one place where features are composed and dependencies handed out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.dispatcher import Dispatcher, Transport
from bot.i18n import Renderer
from bot.settings import LANGUAGES, Settings
from flows.messages import Outgoing, UserKey, platform_of
from flows.text import Msg
from flows.workshops import ReminderPolicy
from handlers import access as access_handlers
from handlers import privacy
from handlers.beneficiaries import Beneficiaries, BeneficiaryConfig
from handlers.coordination import coordination_feature
from handlers.core import Core, CoreConfig
from handlers.donations import donations_feature
from handlers.home import home_feature
from handlers.maintenance import MaintenanceConfig, maintenance_feature
from handlers.phones import check_french_phone
from handlers.requests import requests_feature
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


def features(core_ref: Callable[[], Core], settings: Settings) -> list[Feature]:
    """Every feature of the bot, in one list (the order does not matter: no prefix is shared)."""

    async def start_flow(session: Session, name: str) -> None:
        await core_ref().start_flow(session, name)

    async def start_flow_with(
        session: Session, name: str, answers: dict[str, Any] | None = None
    ) -> None:
        await core_ref().start_flow(session, name, answers)

    service = Beneficiaries(
        BeneficiaryConfig(
            policy=ReminderPolicy(settings.reminder_offsets, settings.quiet_hours,
                                  settings.timezone),
            code_validity=timedelta(days=settings.join_code_days),
            telegram_bot=settings.telegram_bot_username,
            booklet_url=settings.booklet_url,
            retention=timedelta(days=settings.beneficiary_retention_days),
            reminders_every=timedelta(seconds=settings.reminders_every_seconds),
        ),
        start_flow_with,
        lambda: core_ref().territory,
    )

    return [home_feature(start_flow), access_handlers.FEATURE,
            requests_feature(start_flow, lambda: core_ref().territory,
                             lambda: core_ref().config.coordinators),
            service.feature(), donations_feature(start_flow_with),
            maintenance_feature(MaintenanceConfig(
                access_requests_kept=timedelta(days=settings.access_request_retention_days),
                conversation_ttl=settings.conversation_ttl)),
            coordination_feature(start_flow_with, settings.timezone), privacy.FEATURE]


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

    async def tell_directly(to: UserKey, text: Msg, lang: str) -> None:
        """When the database cannot take a write, the outbox cannot either: say it now."""
        transport = transports.get(platform_of(to))
        if transport is None:
            return
        try:
            await transport.send(renderer.render(Outgoing(to, (text,)), lang))
        except Exception:
            log.warning("could not tell %s that the service is unavailable", to, exc_info=True)

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
        features(core_ref, settings),
        clock=clock,
        translator=renderer.translator,
        check_phone=check_french_phone,
        wake=dispatcher.wake,
        unavailable=tell_directly,
    )
    return App(settings, db, storage, renderer, core, dispatcher)
