"""The database locked by another writer, and the disk full: a clear word, nothing half-written.

Another process holding SQLite's write lock (a backup, a second bot started by mistake) is
waited for up to the busy timeout; past it, the person is told at once to try again and
nothing of their message is kept, so trying again works. A full disk is simulated with
``PRAGMA max_page_count`` on the bot's own connection (the file may not grow): the write that
needs space fails whole, the person is told, and everything works again once there is room.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.console import run_console
from flows.messages import Incoming, UserKey
from tests.support import Chat, texts

UNAVAILABLE = "Le service est momentanément indisponible"
ACCESS = ["bonjour", "1", "1", "CCAS de Veynes", "3 rue de la Gare", "veynes", "Ana Martin",
          "Conseillère sociale"]
COMPANY_LOT = ["bonjour", "2", "1", "ACME Informatique 73282932000074", "Jeanne Dupont",
               "06 12 34 56 78", "12 portables, 5 écrans", "2, 5, 7", "2", "5", "veynes", "1"]
"""A company's lot up to its summary; "1" then confirms it (a receipt PDF is queued)."""


@contextmanager
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the write lock until the block ends."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def snapshot(chat: Chat) -> tuple[int, str | None, int, int]:
    """(outbox rows, ana's saved conversation, access requests, lots): what a message writes."""
    conn = chat.app.db.conn
    rows = []
    for sql in ("SELECT count(*) FROM outbox",
                "SELECT state FROM conversations WHERE user_key = 'cli:ana'",
                "SELECT count(*) FROM access_requests", "SELECT count(*) FROM lots"):
        found = await conn.execute_fetchall(sql)
        rows.append(next(iter(found))[0] if found else None)
    return rows[0], rows[1], rows[2], rows[3]


async def test_a_lock_shorter_than_the_busy_timeout_is_waited_for(chat: Chat, db_path: Path):
    await chat.script("ana", *ACCESS)
    loop = asyncio.get_running_loop()
    with write_lock(db_path) as other:
        loop.call_later(1.0, other.execute, "COMMIT")
        started = time.monotonic()
        sent = await chat.say("ana", "06 12 34 56 78")
    assert time.monotonic() - started >= 0.9
    assert "Vérifiez avant d'envoyer" in texts(sent, "ana")
    assert UNAVAILABLE not in texts(sent)


async def test_past_the_busy_timeout_the_person_is_told_and_nothing_is_written(
    chat: Chat, db_path: Path,
):
    await chat.script("ana", *ACCESS)
    before = await snapshot(chat)
    await chat.app.db.set_busy_timeout(0.2)
    with write_lock(db_path):
        first = len(chat.recorder.sent)
        await chat.app.core.handle(Incoming(UserKey("cli:ana"), "06 12 34 56 78"))
        told = chat.recorder.sent[first:]
    assert [m.to for m in told] == ["cli:ana"]
    assert UNAVAILABLE in told[0].text
    assert await snapshot(chat) == before
    # The lock is gone: the same answer, sent again, is taken where it was left.
    sent = await chat.say("ana", "06 12 34 56 78")
    assert "Vérifiez avant d'envoyer" in texts(sent, "ana")


async def test_the_console_carries_on_when_the_database_stays_locked(
    chat: Chat, db_path: Path,
):
    """A console line during a long lock gets the clear message; the next ones work."""
    await chat.app.db.set_busy_timeout(0.2)
    out = io.StringIO()
    lines = io.StringIO("bonjour\n")
    with write_lock(db_path):
        status = await run_console(chat.app.core.handle, chat.app.dispatcher.drain,
                                   UserKey("cli:ana"), None, lines, out)
    assert status == 0
    assert UNAVAILABLE in texts(chat.recorder.sent, "ana")
    status = await run_console(chat.app.core.handle, chat.app.dispatcher.drain,
                               UserKey("cli:ana"), None, io.StringIO("bonjour\n"), out)
    assert "Que souhaitez-vous faire" in texts(chat.recorder.sent, "ana")


async def full_disk(chat: Chat) -> None:
    """The database file may not grow by a single page from now on."""
    conn = chat.app.db.conn
    pages = next(iter(await conn.execute_fetchall("PRAGMA page_count")))[0]
    free = next(iter(await conn.execute_fetchall("PRAGMA freelist_count")))[0]
    assert free <= 2, "free pages would absorb the next writes"
    await conn.execute(f"PRAGMA max_page_count = {int(pages)}")


async def test_a_full_disk_keeps_the_conversation_and_recovers_when_space_returns(chat: Chat):
    await chat.script("acme", *COMPANY_LOT)
    conn = chat.app.db.conn
    lots = "SELECT count(*) FROM lots"
    outbox = "SELECT count(*) FROM outbox"
    await full_disk(chat)
    before = [next(iter(await conn.execute_fetchall(q)))[0] for q in (lots, outbox)]
    sent = await chat.say("acme", "1")  # confirm: the lot, its receipt PDF, the notices
    assert [m.to for m in sent] == ["cli:acme"]
    assert UNAVAILABLE in sent[0].text
    assert [next(iter(await conn.execute_fetchall(q)))[0] for q in (lots, outbox)] == before
    saved = await conn.execute_fetchall(
        "SELECT state FROM conversations WHERE user_key = 'cli:acme'")
    assert '"step": "_confirm"' in next(iter(saved))[0], "still at the summary"

    await conn.execute("PRAGMA max_page_count = 1073741823")  # space is back
    sent = await chat.say("acme", "1")
    assert "LOT-" in texts(sent, "acme")
    assert any(m.attachment is not None for m in sent if m.to == "cli:acme")
    assert next(iter(await conn.execute_fetchall(lots)))[0] == before[0] + 1
