"""The SQLite implementation of :class:`flows.ports.Storage`: a unit of work per transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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


@dataclass
class SqliteUnitOfWork:
    """The repositories bound to one open transaction."""

    conn: Connection
    users: SqliteUserRepo
    conversations: SqliteConversationRepo
    events: SqliteEventRepo
    outbox: SqliteOutboxRepo
    menus: SqliteMenuRepo
    access: SqliteAccessRepo
    places: SqlitePlaceRepo
    workshops: SqliteWorkshopRepo
    catalogue: SqliteCatalogueRepo
    requests: SqliteRequestRepo
    beneficiaries: SqliteBeneficiaryRepo
    reminders: SqliteReminderRepo
    help: SqliteHelpRepo
    lots: SqliteLotRepo
    audit: SqliteAuditRepo
    coordination: SqliteCoordinationRepo
    reports: SqliteReportRepo


class SqliteStorage:
    """Hands out units of work on one :class:`Database`."""

    def __init__(self, db: Database, coordinators: frozenset[str] = frozenset()) -> None:
        self.db = db
        self.coordinators = coordinators

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteUnitOfWork]:
        async with self.db.transaction() as conn:
            yield SqliteUnitOfWork(
                conn=conn,
                users=SqliteUserRepo(conn, self.coordinators),
                conversations=SqliteConversationRepo(conn),
                events=SqliteEventRepo(conn),
                outbox=SqliteOutboxRepo(conn),
                menus=SqliteMenuRepo(conn),
                access=SqliteAccessRepo(conn),
                places=SqlitePlaceRepo(conn),
                workshops=SqliteWorkshopRepo(conn),
                catalogue=SqliteCatalogueRepo(conn),
                requests=SqliteRequestRepo(conn),
                beneficiaries=SqliteBeneficiaryRepo(conn),
                reminders=SqliteReminderRepo(conn),
                help=SqliteHelpRepo(conn),
                lots=SqliteLotRepo(conn),
                audit=SqliteAuditRepo(conn),
                coordination=SqliteCoordinationRepo(conn),
                reports=SqliteReportRepo(conn),
            )
