"""The SQLite implementation of :class:`flows.ports.Storage`: a unit of work per transaction."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from storage.access import SqliteAccessRepo
from storage.audit import SqliteAuditRepo
from storage.beneficiaries import SqliteBeneficiaryRepo
from storage.catalogue import SqliteCatalogueRepo
from storage.connection import Connection
from storage.conversations import SqliteConversationRepo
from storage.coordination import SqliteCoordinationRepo
from storage.db import Database, Savepoint
from storage.devices import SqliteDeviceRepo
from storage.events import SqliteEventRepo
from storage.help import SqliteHelpRepo
from storage.lots import SqliteLotRepo
from storage.mail import SqliteMailRepo
from storage.menus import SqliteMenuRepo
from storage.outbox import SqliteOutboxRepo
from storage.payments import SqlitePaymentRepo
from storage.places import SqlitePlaceRepo
from storage.postgres import PostgresDatabase
from storage.privacy import SqlitePrivacyRepo
from storage.reach import SqliteReachRepo
from storage.reminders import SqliteReminderRepo
from storage.repairs import SqliteRepairRepo
from storage.reports import SqliteReportRepo
from storage.requests import SqliteRequestRepo
from storage.reservations import SqliteReservationRepo
from storage.sms import SqliteSmsRepo
from storage.transfers import SqliteTransferRepo
from storage.users import SqliteUserRepo
from storage.workshops import SqliteWorkshopRepo


class SqliteUnitOfWork:
    """The repositories bound to one open transaction.

    Each is made on first use (``__getattr__`` runs only for an attribute not set yet): a
    message touches three or four of the eighteen, and making them all for every transaction
    was a measurable share of a reply's cost (so was ``functools.cached_property``, which
    takes a lock on Python 3.11).
    """

    users: SqliteUserRepo
    reach: SqliteReachRepo
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
    devices: SqliteDeviceRepo
    audit: SqliteAuditRepo
    coordination: SqliteCoordinationRepo
    reports: SqliteReportRepo
    privacy: SqlitePrivacyRepo
    mail: SqliteMailRepo
    sms: SqliteSmsRepo
    payments: SqlitePaymentRepo
    reservations: SqliteReservationRepo
    repairs: SqliteRepairRepo
    transfers: SqliteTransferRepo

    def __init__(self, conn: Connection, coordinators: frozenset[str], path: str) -> None:
        self.conn = conn
        self._coordinators = coordinators
        self._path = path

    def part(self) -> AbstractAsyncContextManager[None]:
        return Savepoint(self.conn)

    def __getattr__(self, name: str) -> Any:
        make = _REPOSITORIES.get(name)
        if make is None:
            raise AttributeError(name)
        repo = make(self)
        setattr(self, name, repo)
        return repo


_REPOSITORIES: dict[str, Callable[[SqliteUnitOfWork], Any]] = {
    "users": lambda uow: SqliteUserRepo(uow.conn, uow._coordinators),
    "reach": lambda uow: SqliteReachRepo(uow.conn),
    "conversations": lambda uow: SqliteConversationRepo(uow.conn),
    "events": lambda uow: SqliteEventRepo(uow.conn),
    "outbox": lambda uow: SqliteOutboxRepo(uow.conn),
    "menus": lambda uow: SqliteMenuRepo(uow.conn),
    "access": lambda uow: SqliteAccessRepo(uow.conn),
    "places": lambda uow: SqlitePlaceRepo(uow.conn),
    "workshops": lambda uow: SqliteWorkshopRepo(uow.conn),
    "catalogue": lambda uow: SqliteCatalogueRepo(uow.conn),
    "requests": lambda uow: SqliteRequestRepo(uow.conn),
    "beneficiaries": lambda uow: SqliteBeneficiaryRepo(uow.conn),
    "reminders": lambda uow: SqliteReminderRepo(uow.conn),
    "help": lambda uow: SqliteHelpRepo(uow.conn),
    "lots": lambda uow: SqliteLotRepo(uow.conn),
    "devices": lambda uow: SqliteDeviceRepo(uow.conn),
    "audit": lambda uow: SqliteAuditRepo(uow.conn),
    "coordination": lambda uow: SqliteCoordinationRepo(uow.conn),
    "reports": lambda uow: SqliteReportRepo(uow.conn, uow._path),
    "privacy": lambda uow: SqlitePrivacyRepo(uow.conn, uow._coordinators),
    "mail": lambda uow: SqliteMailRepo(uow.conn),
    "sms": lambda uow: SqliteSmsRepo(uow.conn),
    "payments": lambda uow: SqlitePaymentRepo(uow.conn),
    "reservations": lambda uow: SqliteReservationRepo(uow.conn),
    "repairs": lambda uow: SqliteRepairRepo(uow.conn),
    "transfers": lambda uow: SqliteTransferRepo(uow.conn),
}


class _Scope:
    """A unit of work for the span of a database context (a class, like
    :class:`storage.db.Transaction`, for the cost of one per message and per delivery)."""

    __slots__ = ("_inner", "_storage")

    def __init__(self, inner: AbstractAsyncContextManager[Connection],
                 storage: SqliteStorage) -> None:
        self._inner = inner
        self._storage = storage

    async def __aenter__(self) -> SqliteUnitOfWork:
        conn = await self._inner.__aenter__()
        storage = self._storage
        return SqliteUnitOfWork(conn, storage.coordinators, storage.db.path)

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        return await self._inner.__aexit__(kind, exc, tb)


class SqliteStorage:
    """Hands out units of work on one :class:`Database`."""

    def __init__(self, db: Database | PostgresDatabase,
                 coordinators: frozenset[str] = frozenset()) -> None:
        self.db = db
        self.coordinators = coordinators

    def transaction(self) -> _Scope:
        return _Scope(self.db.transaction(), self)

    def reading(self) -> _Scope:
        return _Scope(self.db.reading(), self)

    def autocommit(self) -> _Scope:
        return _Scope(self.db.autocommit(), self)

    def exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        return self.db.exclusive(name)
