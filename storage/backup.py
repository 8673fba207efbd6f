"""Consistent copies of a database the bot is using, checked, and putting one back.

SQLite: the online backup API (``sqlite3.Connection.backup``) on a thread, from a connection
of its own, in one step. The copy is the database as it was when that connection's read
transaction began, whatever the bot commits meanwhile: in WAL mode a reader and the writer do
not wait for each other, so the bot goes on answering. The copy is then checked (``PRAGMA
integrity_check`` and ``foreign_key_check``) and its main tables counted.

PostgreSQL: ``pg_dump --format=custom`` (compressed; ``pg_restore`` reads it table by table),
inside a snapshot exported by a connection of this module, so that the rows counted are those
of the dump. The tools are the ``pg_dump`` and ``pg_restore`` on the ``PATH``, or those of
``FILIERE_PG_BINDIR``; the password never goes on their command line, which other users of
the machine can read: it goes through ``PGPASSWORD``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from storage.db import BUSY_TIMEOUT_MS
from storage.postgres import connect, safe_url

MAIN_TABLES: tuple[tuple[str, str], ...] = (
    ("users", "created_at"),
    ("access_requests", "created_at"),
    ("equipment_requests", "updated_at"),
    ("request_events", "at"),
    ("lots", "created_at"),
    ("erasure_certificates", "issued_at"),
    ("beneficiaries", "joined_at"),
    ("bookings", "booked_at"),
    ("devices", "updated_at"),
    ("audit_log", "at"),
    ("outbox", "created_at"),
)
"""The tables a backup and a restore count, each with the time of its newest row: who is
known, what was asked and decided, the proofs owed to donors, the devices followed, the
messages written."""

_MAIN = frozenset(t for t, _c in MAIN_TABLES)
MESSAGES = "outbox"

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message says why, in one line."""


class Refused(BackupError):
    """A restore that would replace a database or a store that exists, without ``--force``."""


@dataclass(frozen=True)
class Summary:
    """What a database holds, as a backup and a restore print it."""

    version: int
    """Its schema version (the last migration applied)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Rows of each main table it has, in the order of :data:`MAIN_TABLES`."""
    newest_message: str | None = None
    """When the newest message of the outbox was written (UTC ISO), if any is left."""
    newest_record: str | None = None
    """The newest time of any main table's rows."""

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": self.version, "counts": self.counts,
                "newest_message": self.newest_message, "newest_record": self.newest_record}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(int(data["schema_version"]), {k: int(v) for k, v in data["counts"].items()},
                   data.get("newest_message"), data.get("newest_record"))


def summary_sql(present: Collection[str]) -> str:
    """One statement both engines read: the count and newest time of each main table."""
    parts = []
    for table, column in MAIN_TABLES:  # names from MAIN_TABLES only, never from outside
        if table in present:
            parts += [f"(SELECT count(*) FROM {table})",  # noqa: S608
                      f"(SELECT max({column}) FROM {table})"]  # noqa: S608
    return "SELECT " + ", ".join(parts)


def summarise(version: int, present: Collection[str], row: Sequence[Any] | None) -> Summary:
    """The :class:`Summary` of :func:`summary_sql`'s row."""
    tables = [(t, c) for t, c in MAIN_TABLES if t in present]
    values = list(row or ())
    counts = {t: int(values[2 * i]) for i, (t, _c) in enumerate(tables)}
    newest = {t: values[2 * i + 1] for i, (t, _c) in enumerate(tables)}
    times = [str(v) for v in newest.values() if v is not None]
    message = newest.get(MESSAGES)
    return Summary(version, counts, None if message is None else str(message),
                   max(times) if times else None)


def kind_of(path: Path) -> str | None:
    """``"sqlite"`` or ``"pgdump"`` as the file's first bytes say, or None."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError:
        return None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pgdump"
    return None


def create_private(path: Path) -> None:
    """A new empty file that only its owner may read (a copy of people's data)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# --- SQLite -------------------------------------------------------------------------------


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    """A connection to the existing file ``path`` (``mode`` ``ro`` or ``rw``: never creates)."""
    uri = f"file:{quote(str(path.resolve()))}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def read_snapshot(conn: sqlite3.Connection) -> None:
    """Begin a read transaction: from now on ``conn`` sees the database as it is at this
    moment, and a backup from it copies that, whatever is committed meanwhile."""
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source``, in use or not, into the new file ``target``
    (readable by its owner only, in rollback-journal mode: one self-contained file).

    Opened read-write but only read: a read-only connection to a database in WAL mode that
    nobody has open leaves its ``-wal`` and ``-shm`` files behind, which another user (the
    bot's, when root ran the backup) could then not open."""
    if kind_of(source) != "sqlite":
        raise BackupError(f"{source} is not an SQLite database")
    try:
        src = _connect(source, "rw")
        try:
            read_snapshot(src)
            create_private(target)
            dst = sqlite3.connect(target, isolation_level=None)
            try:
                src.backup(dst)  # every page in one step: the snapshot read above
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
            src.execute("COMMIT")
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source}: {exc}") from exc


def check_sqlite(path: Path) -> Summary:
    """Check the SQLite file ``path`` (integrity, foreign keys) and count its main tables;
    :class:`BackupError` naming the first problems found."""
    if kind_of(path) != "sqlite":
        raise BackupError(f"{path} is not an SQLite database")
    try:
        conn = _connect(path, "ro")
        try:
            problems = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} fails its integrity check: {'; '.join(problems[:3])}")
            orphans = conn.execute("PRAGMA foreign_key_check").fetchall()
            if orphans:
                found = "; ".join(f"{r[0]} row {r[1]} refers to a missing {r[2]}"
                                  for r in orphans[:3])
                raise BackupError(f"{path} fails its foreign key check: {found}")
            return sqlite_summary(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is damaged or cannot be read ({exc})") from exc


def sqlite_summary(conn: sqlite3.Connection) -> Summary:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    present = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    row = conn.execute(summary_sql(present)).fetchone() if present & _MAIN else None
    return summarise(version, present, row)


def summarise_sqlite(path: Path) -> Summary:
    """The :class:`Summary` of the SQLite file ``path`` (no integrity check)."""
    try:
        conn = _connect(path, "rw")
        try:
            return sqlite_summary(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc


def restore_sqlite(source: Path, target: Path) -> None:
    """Put the SQLite copy ``source`` in place of ``target``.

    A new ``target`` is written under another name, then renamed: it appears whole or not at
    all. An existing one is overwritten through the backup API, under its write lock, so
    that a process that still had it open sees the old database or the new one, never a
    mix (stopping the bot first is still the procedure)."""
    try:
        src = _connect(source, "ro")
        try:
            if target.exists():
                dst = _connect(target, "rw")
                try:
                    src.backup(dst)
                finally:
                    dst.close()
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.restoring")
            partial.unlink(missing_ok=True)
            create_private(partial)
            dst = sqlite3.connect(partial, isolation_level=None)
            try:
                src.backup(dst)
            finally:
                dst.close()
            os.replace(partial, target)
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore {source} into {target}: {exc}") from exc



# --- PostgreSQL ---------------------------------------------------------------------------


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL as PostgreSQL's tools take it, without its password, and the environment
    that gives them the password instead."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, {}
    user, _sep, host = parts.netloc.rpartition("@")
    netloc = f"{user.split(':', 1)[0]}@{host}"
    return urlunsplit(parts._replace(netloc=netloc)), {"PGPASSWORD": unquote(parts.password)}


def tool(name: str, bindir: Path | None) -> str:
    """Where ``pg_dump`` or ``pg_restore`` is: in ``bindir`` when given, else on the PATH."""
    found = (str(bindir / name) if os.access(bindir / name, os.X_OK) else None) if bindir \
        else shutil.which(name)
    if found is None:
        where = f"in FILIERE_PG_BINDIR ({bindir})" if bindir else "on the PATH"
        raise BackupError(f"{name} not found {where}: install PostgreSQL's client tools of the "
                          "server's major version or newer (Debian: postgresql-client-15)")
    return found


async def run_tool(command: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL tool to its end and return what it printed; :class:`BackupError`
    with its last words if it fails."""
    process = await asyncio.create_subprocess_exec(
        command, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})})
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["(no message)"]
        raise BackupError(f"{Path(command).name} failed (exit {process.returncode}): "
                          f"{lines[-1]}")
    return out.decode(errors="replace")


async def postgres_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    return [row[0] for row in rows]


async def postgres_summary(conn: asyncpg.Connection) -> Summary:
    present = set(await postgres_tables(conn))
    version = 0
    if "schema_migrations" in present:
        version = int(await conn.fetchval(
            "SELECT coalesce(max(number), 0) FROM schema_migrations"))
    row = await conn.fetchrow(summary_sql(present)) if present & _MAIN else None
    return summarise(version, present, row)


async def dump_postgres(url: str, target: Path, bindir: Path | None) -> Summary:
    """``pg_dump --format=custom`` of the database ``url`` into the new file ``target``,
    and the counts of the same snapshot."""
    pg_dump = tool("pg_dump", bindir)
    dsn, env = libpq_target(url)
    conn = await connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            summary = await postgres_summary(conn)
            await asyncio.to_thread(create_private, target)
            await run_tool(pg_dump, "--format=custom", f"--snapshot={snapshot}",
                           f"--file={target}", f"--dbname={dsn}", env=env)
    except asyncpg.PostgresError as exc:
        raise BackupError(f"cannot back up {safe_url(url)}: {exc}") from exc
    finally:
        await conn.close()
    return summary


async def check_dump(path: Path, bindir: Path | None) -> set[str]:
    """Read the whole archive, every table's data included, as a restore would (into
    nothing); the tables it holds."""
    pg_restore = tool("pg_restore", bindir)
    try:
        await run_tool(pg_restore, f"--file={os.devnull}", str(path))
        listing = await run_tool(pg_restore, "--list", str(path))
    except BackupError as exc:
        raise BackupError(f"{path} is not a readable pg_dump archive: {exc}") from exc
    tables = set()
    for line in listing.splitlines():  # "215; 1259 16385 TABLE public users postgres"
        words = line.partition(";")[2].split()
        if not line.startswith(";") and len(words) >= 5 and words[2] == "TABLE" \
                and words[3] != "DATA":
            tables.add(words[4])
    return tables


async def tables_in(url: str) -> list[str]:
    """The tables the database ``url`` holds already (in its current schema)."""
    conn = await connect(url)
    try:
        return await postgres_tables(conn)
    finally:
        await conn.close()


async def restore_postgres(source: Path, archived: Collection[str], url: str,
                           bindir: Path | None) -> Summary:
    """Replace what ``url`` holds with the archive ``source`` (checked by :func:`check_dump`,
    which gave the tables it holds); the summary of the result.

    ``pg_restore --clean --single-transaction --exit-on-error``: the archive's tables are
    dropped and made again in one transaction, which the first error rolls back whole. A
    table the archive does not have (made by a later release's migration) is dropped first,
    on its own: left there, the next start would try to make it again."""
    pg_restore = tool("pg_restore", bindir)
    dsn, env = libpq_target(url)
    conn = await connect(url)
    try:
        extra = [name for name in await postgres_tables(conn) if name not in archived]
        if extra:
            names = ", ".join('"' + name.replace('"', '""') + '"' for name in extra)
            async with conn.transaction():
                await conn.execute(f"DROP TABLE {names} CASCADE")
    finally:
        await conn.close()
    await run_tool(pg_restore, "--clean", "--if-exists", "--exit-on-error",
                   "--single-transaction", "--no-owner", "--no-privileges", f"--dbname={dsn}",
                   str(source), env=env)
    conn = await connect(url)
    try:
        return await postgres_summary(conn)
    finally:
        await conn.close()
