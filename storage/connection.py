"""SQLite statements run on the event loop's own thread, behind aiosqlite's async interface.

Why not a worker thread per statement (aiosqlite): a statement of this bot takes 5-30 µs in
SQLite, while handing it to a thread and back costs 60-150 µs on a 2-core machine. A message
runs 10-20 statements, so the hops were nine tenths of its cost (issue 8's benchmarks).
Running them inline is safe here because nothing in them waits:

* the write lock is taken by ``BEGIN IMMEDIATE`` with no busy timeout: when another process
  holds it, :meth:`storage.db.Database.transaction` sleeps asynchronously and tries again,
  so the loop keeps serving while it waits;
* in WAL mode readers never wait for the writer, and with ``synchronous = NORMAL`` a commit
  appends to the WAL without syncing it; the only syncing step, the checkpoint, is taken off
  the loop (:mod:`storage.checkpoint`).

The repositories are written against the subset of aiosqlite's API below (``await
conn.execute``, ``async with conn.execute(...) as cur``, ``execute_fetchall``,
``executemany``, ``fetchone``/``fetchall``, ``lastrowid``/``rowcount``), so they read the same
as with aiosqlite and the tests can use either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterable, Sequence
from types import TracebackType
from typing import Any

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]


class Cursor:
    """The result of one statement; its rows are read without waiting."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Row | None:
        row: Row | None = self._cursor.fetchone()
        return row

    async def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._cursor.close()


class Statement:
    """``conn.execute(...)``: awaited for its cursor, or used as ``async with``."""

    def __init__(self, conn: sqlite3.Connection, sql: str, params: Params) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params
        self._cursor: Cursor | None = None

    def _run(self) -> Cursor:
        return Cursor(self._conn.execute(self._sql, self._params))

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run()
        yield  # a generator that never suspends: the statement has already run

    async def __aenter__(self) -> Cursor:
        self._cursor = self._run()
        return self._cursor

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class Connection:
    """One sqlite3 connection in autocommit mode; transactions are explicit SQL."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        raw.row_factory = sqlite3.Row
        self.raw = raw

    @classmethod
    def open(cls, path: str) -> Connection:
        """Open ``path`` without a busy timeout (waiting is the caller's, asynchronously)."""
        return cls(sqlite3.connect(path, isolation_level=None, timeout=0,
                                   check_same_thread=False))

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def execute(self, sql: str, params: Params = ()) -> Statement:
        return Statement(self.raw, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        return Cursor(self.raw.executemany(sql, rows))

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self.raw.execute(sql, params).fetchall()

    async def close(self) -> None:
        self.raw.close()
