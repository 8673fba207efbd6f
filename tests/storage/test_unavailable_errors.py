"""Which SQLite errors mean "not now" (the person is told to try again) and which are bugs.

``storage/db.py`` is the one place where SQLite's errors are translated. Some of them cannot
be caused at will in a test (a WAL file that cannot be opened, a disk failing a write), so
the translation is checked here on the error as SQLite names it, on every way in: a
transaction, a one-statement write, a read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from flows.ports import StorageUnavailable
from storage.db import Database


def sqlite_error(name: str) -> sqlite3.OperationalError:
    """An error as the sqlite3 module raises it, with SQLite's own name for it."""
    error = sqlite3.OperationalError(f"{name.lower()} (as SQLite says it)")
    error.sqlite_errorname = name  # type: ignore[attr-defined]
    return error


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "errors.sqlite3")
    yield database
    await database.close()


def scopes(db: Database) -> list[AbstractAsyncContextManager[Any]]:
    return [db.transaction(), db.autocommit(), db.reading()]


@pytest.mark.parametrize("name", [
    "SQLITE_READONLY",  # attempt to write a readonly database
    "SQLITE_READONLY_DIRECTORY",  # the folder became read-only
    "SQLITE_READONLY_DBMOVED",  # the file was deleted or replaced under the bot
    "SQLITE_CANTOPEN",  # unable to open database file (its WAL, its shared memory)
    "SQLITE_IOERR_WRITE",  # disk I/O error
    "SQLITE_FULL",
    "SQLITE_BUSY",
])
async def test_a_database_that_cannot_serve_now_is_storage_unavailable(db: Database, name: str):
    for scope in scopes(db):
        with pytest.raises(StorageUnavailable, match=name):
            async with scope:
                raise sqlite_error(name)
    assert not db.conn.in_transaction
    assert await db.conn.execute_fetchall("SELECT 1")  # and it still serves


@pytest.mark.parametrize("name", ["SQLITE_ERROR", "SQLITE_CONSTRAINT"])
async def test_a_bug_is_left_as_it_is(db: Database, name: str):
    for scope in scopes(db):
        with pytest.raises(sqlite3.OperationalError):
            async with scope:
                raise sqlite_error(name)
