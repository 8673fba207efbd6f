"""PostgreSQL through asyncpg, behind the same interface as the SQLite database.

The repositories are written once, against the connection interface of
:mod:`storage.connection` (aiosqlite's): ``?`` placeholders, ``await conn.execute(...)`` or
``async with conn.execute(...) as cur``, rows read by name or position. This module is the one
place where PostgreSQL differs: placeholders become ``$1, $2...``, a statement's row count is
read from its status, a write transaction is ``BEGIN`` (rows are locked as they are written,
where SQLite takes the whole database with ``BEGIN IMMEDIATE``), and the migrations' few
SQLite words are said the PostgreSQL way (:func:`migration_sql`).

One connection, serialised by an asyncio lock, as for SQLite: the bot's transactions are
short, and one process needs no pool. Several processes share one database safely: each has
its own connection, and PostgreSQL's row locks order their writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from types import TracebackType
from typing import Any

import asyncpg

from flows.ports import StorageUnavailable
from storage.db import CannotOpen, NewerDatabase, Unreachable, migrations, statements, ts

log = logging.getLogger(__name__)

LOCK_TIMEOUT_MS = 5000
"""How long a statement waits for a row another process holds before giving up."""

UNAVAILABLE_STATES = ("08", "53", "57P", "55P03", "40P01", "25006")
"""SQLSTATE classes and codes that mean "not now" rather than a bug: the connection was lost
(08), the server is out of disk, memory or connections (53), it is shutting down (57P), a lock
was not granted in time (55P03) or a deadlock was broken (40P01), the server is read-only
(25006: a standby, or ``default_transaction_read_only``)."""


_JSON_LIST = re.compile(r"(NOT\s+)?IN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\?\)\s*\)",
                        re.I)
_FUNCTIONS = (
    (re.compile(r"\bgroup_concat\((\w+(?:\.\w+)?)\)", re.I), r"string_agg(\1::text, ',')"),
    (re.compile(r"\bjson_group_array\(json_array\(", re.I), "json_agg(json_build_array("),
)
LIST = "\x00"
"""Marks, while a statement is translated, the ``?`` of a list given as JSON."""


@lru_cache(maxsize=2048)
def translate(sql: str) -> tuple[str, tuple[int, ...]]:
    """A statement as the repositories write it, as PostgreSQL reads it, and which of its
    parameters are lists given as JSON text.

    The repositories' few SQLite words have a PostgreSQL twin: ``x IN (SELECT value FROM
    json_each(?))`` (a list passed as one JSON parameter) is ``x = ANY($n)`` with the list
    itself, typed by the column it is compared with; ``group_concat`` is ``string_agg``;
    ``json_group_array(json_array(...))`` is ``json_agg(json_build_array(...))``; the scalar
    ``max(a, b)`` and ``min(a, b)`` are ``greatest`` and ``least``. Then ``?``
    placeholders become ``$1, $2...`` (one inside a quoted literal is left alone)."""
    sql = _JSON_LIST.sub(lambda m: ("<> ALL(" if m.group(1) else "= ANY(") + "?" + LIST + ")",
                         sql)
    for pattern, replacement in _FUNCTIONS:
        sql = pattern.sub(replacement, sql)
    sql = _scalar_extremes(sql)
    out: list[str] = []
    lists: list[int] = []
    number = 0
    quote: str | None = None
    for char in sql:
        if char == LIST:
            lists.append(number - 1)
            continue
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out), tuple(lists)


def _scalar_extremes(sql: str) -> str:
    """SQLite's ``max(a, b)`` and ``min(a, b)`` of several arguments are PostgreSQL's
    ``greatest`` and ``least`` (one argument: the aggregate, the same in both)."""
    out = sql
    for match in reversed(list(re.finditer(r"\b(max|min)\(", sql, re.I))):
        depth, start = 0, match.end()
        for index in range(start, len(sql)):
            char = sql[index]
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                name = "greatest" if match.group(1).lower() == "max" else "least"
                out = out[:match.start()] + name + out[match.start() + 3:]
                break
    return out


def arguments(params: Sequence[Any], lists: tuple[int, ...]) -> list[Any]:
    """The parameters, with the JSON lists given as lists."""
    found = list(params)
    for index in lists:
        found[index] = json.loads(found[index])
    return found


_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW)\b|\bRETURNING\b", re.I | re.S)
_PRIMARY_KEY = re.compile(r"\bINTEGER PRIMARY KEY\b")


def migration_sql(statement: str) -> str:
    """A migration statement written for SQLite, as PostgreSQL says it: an ``INTEGER PRIMARY
    KEY`` numbers its rows by itself, bytes are ``BYTEA``, floats ``DOUBLE PRECISION``."""
    statement = _PRIMARY_KEY.sub("INTEGER PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY",
                                 statement)
    statement = re.sub(r"\bBLOB\b", "BYTEA", statement)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)


class PgCursor:
    """The rows and row count of one statement, already fetched."""

    __slots__ = ("_next", "_rows", "rowcount")

    def __init__(self, rows: Sequence[Any], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    @property
    def lastrowid(self) -> int:
        raise NotImplementedError("PostgreSQL has no last row id: use INSERT ... RETURNING id")

    async def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[Any]:
        rest = list(self._rows[self._next:])
        self._next = len(self._rows)
        return rest

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> PgCursor:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None


class PgStatement:
    """``conn.execute(...)``: awaited for its cursor, or used as ``async with``."""

    __slots__ = ("_conn", "_params", "_sql")

    def __init__(self, conn: asyncpg.Connection, sql: str, params: Sequence[Any]) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params

    async def _run(self) -> PgCursor:
        sql, lists = translate(self._sql)
        params = arguments(self._params, lists) if lists else self._params
        try:
            if _RETURNS_ROWS.search(sql):
                rows = await self._conn.fetch(sql, *params)
                return PgCursor(rows, len(rows))
            status = await self._conn.execute(sql, *params)
        except asyncpg.PostgresError as exc:
            _not_now(exc)
            raise
        count = status.rsplit(" ", 1)[-1]
        return PgCursor((), int(count) if count.isdigit() else -1)

    def __await__(self) -> Any:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run()

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None


class PgConnection:
    """An asyncpg connection with the interface the repositories are written against."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgStatement:
        return PgStatement(self.raw, sql, params)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await (await self.execute(sql, params)).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        try:
            query, lists = translate(sql)
            await self.raw.executemany(query, [arguments(row, lists) for row in rows])
        except asyncpg.PostgresError as exc:
            _not_now(exc)
            raise
        return PgCursor((), -1)

    @property
    def in_transaction(self) -> bool:
        return self.raw.is_in_transaction()

    async def close(self) -> None:
        await self.raw.close()


class PostgresDatabase:
    """An open PostgreSQL database with its migrations applied (the same interface as
    :class:`storage.db.Database`)."""

    engine = "postgresql"

    def __init__(self, conn: PgConnection, url: str) -> None:
        self.conn = conn
        self.path = url
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect to ``url`` and bring the schema up to date; :class:`CannotOpen` when the
        server cannot be reached or refuses writes."""
        raw = await connect(url)
        db = cls(PgConnection(raw), url)
        try:
            await db.migrate()
            await db._check_writable()
        except asyncpg.PostgresError as exc:
            await raw.close()
            raise CannotOpen(safe_url(url), exc) from exc
        except BaseException:
            await raw.close()
            raise
        return db

    async def _check_writable(self) -> None:
        async with self.transaction() as conn:
            await conn.execute("SELECT number FROM schema_migrations FOR UPDATE")
            await conn.execute("UPDATE schema_migrations SET name = name WHERE number = 0")

    async def set_busy_timeout(self, seconds: float) -> None:
        """Wait at most ``seconds`` for a row another process holds."""
        async with self._lock:
            await self.conn.raw.execute(f"SET lock_timeout = {int(seconds * 1000)}")

    async def close(self) -> None:
        await self.conn.close()

    async def version(self) -> int:
        found = await self.conn.raw.fetchval(
            "SELECT coalesce(max(number), 0) FROM schema_migrations")
        return int(found)

    async def migrate(self) -> list[str]:
        """Apply every migration newer than the highest recorded, each in a transaction; an
        advisory lock keeps two processes starting together from applying one twice."""
        applied = []
        raw = self.conn.raw
        async with self._lock:
            await raw.execute("SELECT pg_advisory_lock(4242)")
            try:
                await raw.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                current = await self.version()
                known = migrations()
                if known and current > known[-1][0]:
                    raise NewerDatabase(safe_url(self.path), current, known[-1][0])
                for number, name, sql in known:
                    if number <= current:
                        continue
                    async with raw.transaction():
                        for statement in statements(sql, "postgresql"):
                            await raw.execute(migration_sql(statement))
                        await raw.execute(
                            "INSERT INTO schema_migrations (number, name, applied_at)"
                            " VALUES ($1, $2, $3)", number, name, ts(datetime.now(UTC)))
                    log.info("applied migration %s", name)
                    applied.append(name)
            finally:
                await raw.execute("SELECT pg_advisory_unlock(4242)")
        return applied

    def transaction(self) -> PgTransaction:
        return PgTransaction(self)

    def autocommit(self) -> PgAutocommit:
        return PgAutocommit(self)

    def leadership(self, every: float = 1.0) -> PgLeadership:
        """Which of the processes sharing this database receives and sends (one per bot
        account: Telegram's polling, Matrix's sync and the flood limits want one)."""
        return PgLeadership(self.path, every)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """An advisory lock named ``name``: granted to one process at a time among those
        sharing the database (a periodic job runs once, not once per process), and released
        with the block, or with the process's connection if it dies."""
        raw = self.conn.raw
        async with self._lock:
            mine = bool(await raw.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", name))
        try:
            yield mine
        finally:
            if mine and not raw.is_closed():  # a closed connection released it already
                async with self._lock:
                    await raw.execute("SELECT pg_advisory_unlock(hashtext($1))", name)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[PgConnection]:
        async with self._lock:
            yield self.conn


async def connect(url: str) -> asyncpg.Connection:
    """A connection to ``url`` (UTC, the bot's lock timeout); :class:`Unreachable` when the
    server cannot be reached, refuses us, or the URL cannot be read."""
    try:
        return await asyncpg.connect(url, server_settings={
            "lock_timeout": str(LOCK_TIMEOUT_MS), "timezone": "UTC"})
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise Unreachable(safe_url(url), exc) from exc
    except (ValueError, asyncpg.InterfaceError) as exc:  # a URL asyncpg cannot read
        raise Unreachable(safe_url(url), f"not a valid PostgreSQL URL ({exc})") from exc


class PgLeadership:
    """Which process serves the bot on this database: the one holding an advisory lock on a
    connection of its own. PostgreSQL releases it when that connection ends (the process
    killed, the machine gone), and a process standing by takes it at its next try; the
    leader watches its connection and learns (``lost``) when it can no longer be sure."""

    KEY = "filiere-bot:serving"

    def __init__(self, url: str, every: float) -> None:
        self._url = url
        self._every = every
        self._raw: asyncpg.Connection | None = None
        self._watch: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()

    async def acquire(self, stop: asyncio.Event) -> bool:
        raw = await connect(self._url)
        while not stop.is_set():
            if await raw.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", self.KEY):
                self._raw = raw
                self._watch = asyncio.create_task(self._keep(), name="leadership")
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
        await raw.close()
        return False

    async def _keep(self) -> None:
        """Ask the server every so often; a connection that fails has lost the lock."""
        assert self._raw is not None
        try:
            while True:
                await asyncio.sleep(self._every)
                await asyncio.wait_for(self._raw.fetchval("SELECT 1"), self._every * 5)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            log.error("the database connection that holds the lead was lost")
            self.lost.set()

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._raw is not None and not self._raw.is_closed():
            await self._raw.close()
        self._raw = None


class PgTransaction:
    """``BEGIN`` ... ``COMMIT`` or ``ROLLBACK`` under the asyncio lock."""

    __slots__ = ("_db",)

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def __aenter__(self) -> PgConnection:
        db = self._db
        await db._lock.acquire()
        try:
            await db.conn.raw.execute("BEGIN")
        except asyncpg.PostgresError as exc:
            db._lock.release()
            _not_now(exc)
            raise
        except BaseException:
            db._lock.release()
            raise
        return db.conn

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        db = self._db
        raw = db.conn.raw
        try:
            if exc is not None:
                if raw.is_in_transaction():
                    await raw.execute("ROLLBACK")
                if isinstance(exc, asyncpg.PostgresError):
                    _not_now(exc)
                return
            try:
                await raw.execute("COMMIT")
            except asyncpg.PostgresError as error:
                if raw.is_in_transaction():
                    await raw.execute("ROLLBACK")
                _not_now(error)
                raise
        finally:
            db._lock.release()


class PgAutocommit:
    """Statements that each commit alone, under the asyncio lock."""

    __slots__ = ("_db",)

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    async def __aenter__(self) -> PgConnection:
        await self._db._lock.acquire()
        return self._db.conn

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._db._lock.release()


def _not_now(exc: asyncpg.PostgresError) -> None:
    """Raise :class:`StorageUnavailable` for a server that cannot take the write now."""
    state = getattr(exc, "sqlstate", "") or ""
    if state.startswith(UNAVAILABLE_STATES):
        raise StorageUnavailable(f"{state}: {exc}") from exc


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
