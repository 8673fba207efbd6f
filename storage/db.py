"""The SQLite database through aiosqlite: one connection, WAL, foreign keys, migrations.

Every statement runs on aiosqlite's own thread, so nothing the database does holds the event
loop: waiting for another process's write lock (SQLite's busy timeout), syncing a commit to
the disk (``synchronous = FULL``: a commit survives a power cut, not only a killed process)
and the WAL checkpoints SQLite runs by itself. Writes go through :meth:`Database.transaction`,
which serialises them on the connection (an asyncio lock: two tasks must never interleave
statements inside one transaction) and opens them with ``BEGIN IMMEDIATE``, so a transaction
that cannot get the write lock fails before it wrote anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite

from flows.ports import StorageUnavailable
from storage.connection import Connection, Params

log = logging.getLogger(__name__)
logging.getLogger("aiosqlite").setLevel(logging.INFO)
"""aiosqlite logs every statement with its parameters (names, phone numbers) at DEBUG:
personal data never goes to the logs, whatever level the operator sets."""

NO_LIMIT = 2**31 - 1
"""A ``LIMIT`` that limits nothing, said the same way to both engines (SQLite's -1 is
refused by PostgreSQL)."""

BUSY_TIMEOUT_MS = 5000
"""How long a statement waits for another process's write lock before giving up."""

UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR",
               "SQLITE_READONLY", "SQLITE_CANTOPEN")
"""SQLite errors that mean "not now" rather than a bug: another writer holds the lock past
the busy timeout, the disk (or the size limit) is full, the disk failed a write, the file,
its folder or its filesystem became read-only, a file of the database (its WAL, its shared
memory) cannot be opened. Extended codes (``SQLITE_READONLY_DIRECTORY``) share the prefix."""


DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
"""SQLite errors that mean the file itself is wrong: not a database at all (another file
named by mistake, a file overwritten), or pages SQLite finds malformed (a disk fault, a copy
taken while it was written). No retry helps; a backup does."""


class CannotOpen(Exception):
    """The database cannot be opened for writing at start (read-only file, folder or
    filesystem, a folder that cannot be created, locked or full): nothing can be served, and
    the operator is told in one line what to fix."""

    def __init__(self, path: str, reason: object, *, access: bool = False) -> None:
        hint = " (the file and its folder must be writable by this user)" if access else ""
        super().__init__(self.sentence(path, reason) + hint)
        self.path = path

    @staticmethod
    def sentence(path: str, reason: object) -> str:
        return f"cannot write to the database {path}: {reason}"


class DamagedDatabase(CannotOpen):
    """The file is not an SQLite database, or SQLite found its pages malformed."""

    @staticmethod
    def sentence(path: str, reason: object) -> str:
        return (f"the database {path} is damaged or is not an SQLite database ({reason}): "
                "restore the last backup (filiere-bot restore)")


class Unreachable(CannotOpen):
    """The database server cannot be reached, or refuses the connection (a wrong password,
    a database that does not exist)."""

    @staticmethod
    def sentence(path: str, reason: object) -> str:
        return f"cannot connect to the database {path}: {reason}"


def ts(moment: datetime) -> str:
    """Store an aware datetime as a sortable UTC ISO string."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_ts(text: str) -> datetime:
    """Read back a timestamp written by :func:`ts`."""
    return datetime.fromisoformat(text)


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migration files shipped in ``storage/migrations``, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    # Numbers are handed out ahead to work done side by side (0011 here, 0014 there), so a
    # branch may miss some until they are merged; the same number twice is always a mistake.
    if len(set(numbers)) != len(numbers) or (numbers and numbers[0] != 1):
        raise RuntimeError(f"migrations must be numbered from 1, each once, got {numbers}")
    return found


class Database:
    """An open SQLite database with its migrations applied."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn: Connection = conn
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) the file at ``path``, bring its schema up to date and
        make sure it takes writes.

        Raises :class:`CannotOpen` when it cannot be written: SQLite opens a write-protected
        file read-only without a word, and a database already up to date is not written at
        start, so without the check every message would fail instead.
        """
        path = str(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CannotOpen(path, exc.strerror or exc,
                             access=isinstance(exc, PermissionError)) from exc
        try:
            # Tried first on a plain thread: when aiosqlite's own connect fails, its worker
            # thread answers after the loop may be gone (a traceback at exit).
            await asyncio.to_thread(_try_open, path)
        except sqlite3.OperationalError as exc:
            _cannot_open(path, exc)
            raise
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = FULL")
            await db.migrate()
            await db._check_writable()
        except BaseException as exc:
            await conn.close()
            _cannot_open(path, exc)
            raise
        return db

    async def set_busy_timeout(self, seconds: float) -> None:
        """Wait at most ``seconds`` for another process's write lock (tests shorten it)."""
        async with self._lock:
            await self.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    async def _check_writable(self) -> None:
        """Write the schema version again in a transaction rolled back: SQLite refuses it
        (``SQLITE_READONLY``) when the file, its folder or its filesystem is read-only."""
        version = await self.version()
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            await self.conn.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            await self._rollback()

    async def close(self) -> None:
        await self.conn.close()

    async def version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> list[str]:
        """Apply every migration newer than ``PRAGMA user_version``, each in a transaction.

        A database made by a newer release is refused: its schema holds what this code does
        not know, and writing to it could lose that."""
        applied = []
        async with self._lock:
            await self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = await self.version()
            known = migrations()
            if known and current > known[-1][0]:
                raise NewerDatabase(self.path, current, known[-1][0])
            for number, name, sql in known:
                if number <= current:
                    continue
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements(sql):
                        await self.conn.execute(statement)
                    await self.conn.execute(
                        "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?,?,?)",
                        (number, name, ts(datetime.now(UTC))),
                    )
                    await self.conn.execute(f"PRAGMA user_version = {int(number)}")
                    await self.conn.execute("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
                log.info("applied migration %s", name)
                applied.append(name)
        return applied

    def transaction(self) -> Transaction:
        """A write transaction: commits on normal exit, rolls back on any exception.

        A locked, full or read-only database raises :class:`~flows.ports.StorageUnavailable`
        once everything is rolled back, whether it struck at the start, mid-way or at the
        commit.
        """
        return Transaction(self)

    def autocommit(self) -> Autocommit:
        """Writes of one statement each, every statement committed by itself.

        For records that are one statement, written at every delivery (sent, to retry, given
        up): SQLite commits a lone statement as its own transaction. A locked or full
        database raises :class:`~flows.ports.StorageUnavailable` with nothing written.
        """
        return Autocommit(self)

    def leadership(self, every: float = 1.0) -> FileLeadership:
        """Which of the processes started on this file receives and sends (one per bot
        account: Telegram's polling, Matrix's sync and the flood limits want one)."""
        return FileLeadership(self.path, every)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Always granted: an SQLite file serves one bot process (two processes still write
        safely, and every job is made of conditional updates, so a job run twice by two
        processes overlapping for a moment does each thing once)."""
        yield True

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection]:
        """Reads of what is committed, with no transaction and no write lock taken. The
        asyncio lock is still held: another task's transaction may be open on this very
        connection, and its uncommitted rows must not be read as if they were. A read that
        fails for want of the disk (a WAL file that cannot be opened, an I/O error) raises
        :class:`~flows.ports.StorageUnavailable`, as a write does."""
        async with self._lock:
            try:
                yield self.conn
            except sqlite3.OperationalError as exc:
                _not_now(exc)
                raise

    async def _rollback(self) -> None:
        """Roll back what is left. Queued behind any statement still running on aiosqlite's
        thread (a task cancelled while waiting for its ``BEGIN`` leaves that ``BEGIN`` to run
        after it gave up), so it is asked whatever ``in_transaction`` says now; when SQLite
        already rolled back by itself (disk full), there is nothing to undo."""
        try:
            await self.conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc):
                raise


class FileLeadership:
    """Which process serves the bot on this SQLite file: the one holding an exclusive lock on
    a file beside it (``<database>.serving``). The system releases it when that process
    exits, however it exits, and a process standing by takes over at its next try."""

    def __init__(self, path: str, every: float) -> None:
        self._path = f"{path}.serving"
        self._every = every
        self._fd: int | None = None
        self.lost = asyncio.Event()
        """Never set: a process loses its file lock only by ending."""

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait until this process leads, or ``stop`` is set (False then)."""
        if self._path.startswith(":memory:"):
            return True
        fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
        while not stop.is_set():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._every)
                continue
            self._fd = fd
            return True
        os.close(fd)
        return False

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None


class NewerDatabase(Exception):
    """The database was upgraded by a newer release than this code."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(f"the database {path} is at schema version {found}, newer than this "
                         f"release knows ({known}): run the newer release, or restore a "
                         "backup made by this one")


class Transaction:
    """:meth:`Database.transaction`: the asyncio lock, ``BEGIN IMMEDIATE``, then ``COMMIT``
    or ``ROLLBACK``; SQLite's "not now" errors become :class:`StorageUnavailable`."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __aenter__(self) -> Connection:
        db = self._db
        await db._lock.acquire()
        try:
            await db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            db._lock.release()
            _not_now(exc)
            raise
        except BaseException:  # cancelled: the BEGIN may still run on aiosqlite's thread
            try:
                await asyncio.shield(db._rollback())
            finally:
                db._lock.release()
            raise
        return db.conn

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        db = self._db
        try:
            if exc is not None:
                await db._rollback()
                if isinstance(exc, sqlite3.OperationalError):
                    _not_now(exc)
                return  # the exception goes on
            try:
                await db.conn.execute("COMMIT")
            except sqlite3.OperationalError as error:
                await db._rollback()  # a failed COMMIT leaves the transaction open
                _not_now(error)
                raise
        finally:
            db._lock.release()


class Autocommit:
    """:meth:`Database.autocommit`: the asyncio lock held (no other task's transaction may be
    open on the connection, or the statements would join it), statements that commit alone."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __aenter__(self) -> Connection:
        db = self._db
        await db._lock.acquire()
        if db.conn.in_transaction:  # a bug: a statement here would join that transaction
            db._lock.release()
            raise RuntimeError("autocommit inside an open transaction")
        return _OneStatementEach(db.conn)

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._db._lock.release()
        if isinstance(exc, sqlite3.OperationalError):
            _not_now(exc)


class _OneStatementEach:
    """The connection as :class:`Autocommit` lends it; ``executemany`` is refused, since it
    would commit row by row and a failure would leave some rows written."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> Any:
        return self._conn.execute(sql, params)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> Iterable[Any]:
        return await self._conn.execute_fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Any:
        raise TypeError("executemany commits row by row in autocommit: use a transaction")

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


class Savepoint:
    """A part of the open transaction that can fail alone: on an exception it is rolled back
    to where it began, the rest of the transaction kept, and the exception goes on.

    A locked or full database raises :class:`~flows.ports.StorageUnavailable`: SQLite may
    have rolled back the whole transaction by itself then, so nothing after it may run in it.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def __aenter__(self) -> None:
        await self._conn.execute("SAVEPOINT part")

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        conn = self._conn
        if exc is None:
            await conn.execute("RELEASE part")
            return
        if conn.in_transaction:
            await conn.execute("ROLLBACK TO part")
            await conn.execute("RELEASE part")
        if isinstance(exc, sqlite3.OperationalError):
            _not_now(exc)


def _not_now(exc: sqlite3.OperationalError) -> None:
    """Raise :class:`StorageUnavailable` for a locked, full or read-only database; other
    errors are bugs, left to propagate as they are."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(UNAVAILABLE):
        raise StorageUnavailable(f"{name}: {exc}") from exc


def _cannot_open(path: str, exc: BaseException) -> None:
    """Raise :func:`start_failure`'s :class:`CannotOpen`, if ``exc`` is one."""
    failure = start_failure(path, exc)
    if failure is not None:
        raise failure from exc


def start_failure(path: str, exc: BaseException) -> CannotOpen | None:
    """What an error met at start tells the operator: :class:`CannotOpen` for what
    :func:`_not_now` calls "not now" (read-only, locked, full), :class:`DamagedDatabase` for
    a file that is not a database or is malformed; None for anything else (a bug)."""
    error = exc.__cause__ if isinstance(exc, StorageUnavailable) else exc
    if not isinstance(error, sqlite3.DatabaseError):
        return CannotOpen(path, exc) if isinstance(exc, StorageUnavailable) else None
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(DAMAGED):
        return DamagedDatabase(path, error)
    if isinstance(error, sqlite3.OperationalError) and name.startswith(UNAVAILABLE):
        access = name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))
        return CannotOpen(path, error, access=access)
    return None


def _try_open(path: str) -> None:
    sqlite3.connect(path).close()


def statements(sql: str, engine: str = "sqlite") -> list[str]:
    """Split a migration file into statements (our files hold no ';' inside literals), keeping
    those for ``engine``: a statement under a line ``-- only: sqlite`` (or ``postgresql``)
    runs on that engine alone (reading what only that engine has, SQLite's ``rowid``)."""
    found = []
    kept = [line for line in sql.splitlines()
            if not line.strip().startswith("--") or line.strip().startswith("-- only:")]
    for chunk in "\n".join(kept).split(";"):
        lines = chunk.splitlines()
        only = [line.split(":", 1)[1].strip() for line in lines
                if line.strip().startswith("-- only:")]
        body = "\n".join(line for line in lines if not line.strip().startswith("--")).strip()
        if body and (not only or only[0] == engine):
            found.append(body)
    return found
