"""The SQLite implementation of :class:`flows.ports.Storage`: a unit of work per transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property

from storage.access import SqliteAccessRepo
from storage.audit import SqliteAuditRepo
from storage.beneficiaries import SqliteBeneficiaryRepo
from storage.catalogue import SqliteCatalogueRepo
from storage.connection import Connection
from storage.conversations import SqliteConversationRepo
from storage.coordination import SqliteCoordinationRepo
from storage.db import Database
from storage.events import SqliteEventRepo
from storage.help import SqliteHelpRepo
from storage.lots import SqliteLotRepo
from storage.menus import SqliteMenuRepo
from storage.outbox import SqliteOutboxRepo
from storage.places import SqlitePlaceRepo
from storage.reminders import SqliteReminderRepo
from storage.reports import SqliteReportRepo
from storage.requests import SqliteRequestRepo
from storage.users import SqliteUserRepo
from storage.workshops import SqliteWorkshopRepo


class SqliteUnitOfWork:
    """The repositories bound to one open transaction.

    Each is made on first use: a message touches three or four of the eighteen, and making
    them all for every transaction was a measurable share of a reply's cost.
    """

    def __init__(self, conn: Connection, coordinators: frozenset[str], path: str) -> None:
        self.conn = conn
        self._coordinators = coordinators
        self._path = path

    @cached_property
    def users(self) -> SqliteUserRepo:
        return SqliteUserRepo(self.conn, self._coordinators)

    @cached_property
    def conversations(self) -> SqliteConversationRepo:
        return SqliteConversationRepo(self.conn)

    @cached_property
    def events(self) -> SqliteEventRepo:
        return SqliteEventRepo(self.conn)

    @cached_property
    def outbox(self) -> SqliteOutboxRepo:
        return SqliteOutboxRepo(self.conn)

    @cached_property
    def menus(self) -> SqliteMenuRepo:
        return SqliteMenuRepo(self.conn)

    @cached_property
    def access(self) -> SqliteAccessRepo:
        return SqliteAccessRepo(self.conn)

    @cached_property
    def places(self) -> SqlitePlaceRepo:
        return SqlitePlaceRepo(self.conn)

    @cached_property
    def workshops(self) -> SqliteWorkshopRepo:
        return SqliteWorkshopRepo(self.conn)

    @cached_property
    def catalogue(self) -> SqliteCatalogueRepo:
        return SqliteCatalogueRepo(self.conn)

    @cached_property
    def requests(self) -> SqliteRequestRepo:
        return SqliteRequestRepo(self.conn)

    @cached_property
    def beneficiaries(self) -> SqliteBeneficiaryRepo:
        return SqliteBeneficiaryRepo(self.conn)

    @cached_property
    def reminders(self) -> SqliteReminderRepo:
        return SqliteReminderRepo(self.conn)

    @cached_property
    def help(self) -> SqliteHelpRepo:
        return SqliteHelpRepo(self.conn)

    @cached_property
    def lots(self) -> SqliteLotRepo:
        return SqliteLotRepo(self.conn)

    @cached_property
    def audit(self) -> SqliteAuditRepo:
        return SqliteAuditRepo(self.conn)

    @cached_property
    def coordination(self) -> SqliteCoordinationRepo:
        return SqliteCoordinationRepo(self.conn)

    @cached_property
    def reports(self) -> SqliteReportRepo:
        return SqliteReportRepo(self.conn, self._path)


class SqliteStorage:
    """Hands out units of work on one :class:`Database`."""

    def __init__(self, db: Database, coordinators: frozenset[str] = frozenset()) -> None:
        self.db = db
        self.coordinators = coordinators

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteUnitOfWork]:
        async with self.db.transaction() as conn:
            yield SqliteUnitOfWork(conn, self.coordinators, self.db.path)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqliteUnitOfWork]:
        async with self.db.reading() as conn:
            yield SqliteUnitOfWork(conn, self.coordinators, self.db.path)
