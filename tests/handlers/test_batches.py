"""Messages received together (a Telegram ``getUpdates`` answer) are handled in one transaction.

Committing a batch at once is what lets the bot keep up with a burst (bench/telegram.py);
what people see must not change: everyone in the batch is answered in order, a message that
fails on a bug costs nobody else theirs, and a database that cannot take the write tells
each person once, keeping nothing half-written.
"""

from __future__ import annotations

from pathlib import Path

from flows.messages import Incoming, UserKey
from handlers.session import Session
from tests.faults.test_storage_faults import UNAVAILABLE, write_lock
from tests.support import Chat, texts

MENU = "Que souhaitez-vous faire"


def said(who: str, text: str, event: str) -> Incoming:
    return Incoming(UserKey(f"cli:{who}"), text, event_id=event)


async def known_users(chat: Chat) -> set[str]:
    rows = await chat.app.db.conn.execute_fetchall("SELECT key FROM users")
    return {row[0] for row in rows}


async def test_everyone_in_a_batch_is_answered_in_order(chat: Chat):
    await chat.say("ana", "bonjour")
    before = len(chat.recorder.sent)
    await chat.app.core.handle_batch([
        said("ana", "1", "e1"), said("bea", "bonjour", "e2"), said("ana", "menu", "e3"),
    ])
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent[before:]
    assert [m.to for m in sent] == ["cli:ana", "cli:bea", "cli:ana"]
    assert "professionnel" in texts(sent[:1]).lower()  # ana's "1" answered the menu
    assert MENU in texts(sent[1:2]) and MENU in texts(sent[2:])
    assert {"cli:ana", "cli:bea"} <= await known_users(chat)


async def test_a_message_that_fails_is_rolled_back_alone(chat: Chat):
    async def broken(session: Session, text: str) -> None:
        session.say("never sent")
        raise RuntimeError("a bug in a feature")

    chat.app.core.commands["/casse"] = broken
    before = len(chat.recorder.sent)
    await chat.app.core.handle_batch([
        said("ana", "bonjour", "e1"), said("zoe", "/casse", "e2"), said("bea", "bonjour", "e3"),
    ])
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent[before:]
    assert [m.to for m in sent] == ["cli:ana", "cli:bea"]
    assert "never sent" not in texts(sent)
    users = await known_users(chat)
    assert {"cli:ana", "cli:bea"} <= users
    assert "cli:zoe" not in users  # her first contact was part of the message rolled back
    # The failed event was not recorded as handled either: a redelivery is tried again.
    del chat.app.core.commands["/casse"]
    await chat.app.core.handle_batch([said("zoe", "bonjour", "e2")])
    await chat.app.dispatcher.drain()
    assert MENU in texts(chat.recorder.sent[before + 2:], "zoe")


async def test_a_locked_database_tells_each_person_of_the_batch_once(chat: Chat, db_path: Path):
    await chat.say("ana", "bonjour")
    chat.app.db.busy_timeout = 0.2
    before = len(chat.recorder.sent)
    with write_lock(db_path):
        await chat.app.core.handle_batch([
            said("ana", "1", "e1"), said("bea", "bonjour", "e2"), said("ana", "2", "e3"),
        ])
    told = chat.recorder.sent[before:]
    assert sorted(m.to for m in told) == ["cli:ana", "cli:bea"]
    assert all(UNAVAILABLE in m.text for m in told)
    assert "cli:bea" not in await known_users(chat)
    # Once the lock is gone, the same messages are handled as if for the first time.
    await chat.app.core.handle_batch([said("ana", "1", "e1"), said("bea", "bonjour", "e2")])
    await chat.app.dispatcher.drain()
    assert MENU in texts(chat.recorder.sent[before + 2:], "bea")
