"""A database that cannot be written: its file, its folder or its filesystem read-only.

At start the operator gets one line on stderr and exit code 2, as for a bad setting, instead
of a traceback (a file in a read-only folder) or a bot that starts and then drops every
message with a traceback (a read-only file: SQLite opens it read-only without a word). While
running, a write refused by SQLite (``SQLITE_READONLY``, ``SQLITE_CANTOPEN``, a disk I/O error)
is told to the person as a locked or full database is: the service is unavailable for now.

The start is checked on real file permissions, in a child process. Tests may run as root
(CI does), and root's file access ignores permissions by its capabilities
``CAP_DAC_OVERRIDE`` and ``CAP_DAC_READ_SEARCH``: the child then drops them from its bounding
set before starting the bot, so that ``chmod`` binds it as it binds anyone else. Each test
first checks, in such a child, that the file or folder really refuses a write: the check
cannot pass vacuously. A running bot whose filesystem turns read-only is simulated with
``PRAGMA query_only`` on its own connection, the way ``test_storage_faults`` makes a full disk
with ``PRAGMA max_page_count``: SQLite refuses the write with ``SQLITE_READONLY``, the error a
read-only file gives.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build
from bot.settings import load
from flows.messages import Incoming, UserKey
from flows.ports import StorageUnavailable
from storage.db import CannotOpen, Database
from tests.faults.test_storage_faults import ACCESS, UNAVAILABLE, snapshot
from tests.support import Chat, start_serving, texts

ROOT = Path(__file__).resolve().parent.parent.parent

AS_ANYONE = """
import ctypes, os, sys
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            sys.exit("cannot drop root's file capabilities: " + os.strerror(ctypes.get_errno()))
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""
"""Run ``python ARGS`` as an ordinary user would: as root, without the capabilities that let
root write a file whatever its permissions (dropped from the bounding set, then exec: the new
program starts without them)."""


def as_anyone(args: list[str], stdin: str = "", cwd: Path = ROOT,
              ) -> subprocess.CompletedProcess[str]:
    prefixes = ("FILIERE_", "TELEGRAM_", "MATRIX_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-c", AS_ANYONE, *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=cwd, timeout=60, check=False)


def refuses_writes(target: Path) -> bool:
    """Whether a process of this user, as :func:`as_anyone` runs it, cannot write ``target``
    (a file: opened for writing; a folder: a new file in it)."""
    probe = (f"open({str(target)!r}, 'r+b')" if target.is_file()
             else f"open({str(target / 'probe')!r}, 'x')")
    result = as_anyone(["-c", probe])
    assert "cannot drop" not in result.stderr, result.stderr
    return result.returncode != 0 and "PermissionError" in result.stderr


@contextmanager
def read_only(target: Path) -> Iterator[None]:
    """``target`` (a file or a folder) without write permission for the block."""
    mode = target.stat().st_mode
    target.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        yield
    finally:
        target.chmod(mode)


async def made(db: Path) -> None:
    """A database as a first start leaves it: migrated, territory and demo data loaded (a
    start that finds it so writes nothing, which is why SQLite's read-only open went
    unnoticed)."""
    app = await build(load({}, dotenv=None), {}, database=db)
    await app.close()


@pytest.mark.parametrize("case", ["file", "folder", "new file in folder", "new folder"])
async def test_a_database_that_cannot_be_written_stops_the_start_with_one_line(
    tmp_path: Path, case: str,
):
    folder = tmp_path / "var"
    folder.mkdir()
    db = folder / "filiere.sqlite3"
    if case in ("file", "folder"):
        await made(db)
    if case == "new folder":
        db = folder / "sub" / "filiere.sqlite3"
    target = db if case == "file" else folder
    with read_only(target):
        assert refuses_writes(target), f"{target} still takes writes: the test would be void"
        result = as_anyone(["-m", "bot", "console", "--db", str(db)], "bonjour\n", tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"filiere-bot: cannot write to the database {db}: ")
    assert "writable" in lines[0]
    assert "Que souhaitez-vous faire" not in result.stdout


async def test_a_database_locked_past_the_busy_timeout_at_start_cannot_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
):
    db = tmp_path / "locked.sqlite3"
    await (await Database.open(db)).close()
    monkeypatch.setattr("storage.db.BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CannotOpen, match="database is locked"):
            await Database.open(db)
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_start_up_write_refused_after_opening_cannot_open_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
):
    """The disk fills up between opening and loading the territory: the same one line."""
    opened: list[Database] = []
    open_database = Database.open

    async def full_once_opened(path: str | Path) -> Database:
        db = await open_database(path)
        await db.conn.execute("VACUUM")  # no free page left (a migration drops a table)
        pages = next(iter(await db.conn.execute_fetchall("PRAGMA page_count")))[0]
        await db.conn.execute(f"PRAGMA max_page_count = {int(pages)}")
        opened.append(db)
        return db

    monkeypatch.setattr(Database, "open", full_once_opened)
    with pytest.raises(CannotOpen, match="full"):
        await build(load({}, dotenv=None), {}, database=tmp_path / "full.sqlite3")
    with pytest.raises(ValueError, match="no active connection"):  # closed, not left open
        await opened[0].conn.execute("SELECT 1")


async def test_a_database_turned_read_only_while_running_tells_the_person(chat: Chat):
    await chat.script("ana", *ACCESS)
    before = await snapshot(chat)
    await chat.app.db.conn.execute("PRAGMA query_only = ON")
    first = len(chat.recorder.sent)
    await chat.app.core.handle(Incoming(UserKey("cli:ana"), "06 12 34 56 78"))
    told = chat.recorder.sent[first:]
    assert [m.to for m in told] == ["cli:ana"]
    assert UNAVAILABLE in told[0].text
    assert await snapshot(chat) == before
    # Writable again: the same answer, sent again, is taken where it was left.
    await chat.app.db.conn.execute("PRAGMA query_only = OFF")
    sent = await chat.say("ana", "06 12 34 56 78")
    assert "Vérifiez avant d'envoyer" in texts(sent, "ana")


async def test_a_refused_delivery_record_is_storage_unavailable(chat: Chat):
    """The dispatcher's one-statement writes are translated as transactions are."""
    await chat.app.db.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageUnavailable, match="SQLITE_READONLY"):
        async with chat.app.storage.autocommit() as uow:
            await uow.outbox.delivered(1, chat.clock())


async def test_a_bot_whose_database_turned_read_only_still_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
):
    """The last step of a stop waits for the database's lock by taking it: refused, it has
    nothing to wait for, and the stop is still clean (no traceback, status 0)."""
    built: list[App] = []

    async def keep(*args: Any, **kwargs: Any) -> App:
        app = await build(*args, **kwargs)
        built.append(app)
        return app

    monkeypatch.setattr("bot.serve.build", keep)
    task, stop = await start_serving(load({"FILIERE_DEMO": "no"}, dotenv=None),
                                     tmp_path / "stop.sqlite3", within=20)
    await built[0].db.conn.execute("PRAGMA query_only = ON")
    stop.set()
    assert await task == 0
