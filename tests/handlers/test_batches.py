"""Messages received together (a Telegram ``getUpdates`` answer) are handled in one transaction.

Committing a batch at once is what lets the bot keep up with a burst (bench/telegram.py);
what people see must not change: everyone in the batch is answered in order, a message that
fails on a bug costs nobody else theirs (its author is told, with a reference found in the
log, and asked the question again), and a database that cannot take the write tells each
person once, keeping nothing half-written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from flows import engine
from flows.action_codec import Command, Who
from flows.messages import Incoming, UserKey
from handlers.session import Session
from tests.faults.test_storage_faults import UNAVAILABLE, write_lock
from tests.support import Chat, texts

MENU = "Que souhaitez-vous faire"
SORRY = "Désolé, un problème technique nous a empêchés de traiter votre message"
KIND = "Vous donnez en tant que"


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


def break_command(chat: Chat, handler: Callable[[Session, str], Awaitable[None]]) -> None:
    """Add a command ``/casse`` that anyone may type, carried out by ``handler``."""
    chat.app.core.commands["/casse"] = Command("casse", ("/casse",), frozenset({Who.ANYONE}))
    chat.app.core.command_handlers["casse"] = handler


def reference(text: str) -> str:
    """The reference an apology gives."""
    found = re.search(r"\(réf\. ([0-9A-Z]+)\)", text)
    assert found is not None, text
    return found.group(1)


async def test_a_message_that_fails_is_rolled_back_alone_and_its_author_told(
    chat: Chat, caplog: pytest.LogCaptureFixture,
):
    async def broken(session: Session, text: str) -> None:
        session.say("never sent")
        raise RuntimeError("a bug in a feature")

    break_command(chat, broken)
    before = len(chat.recorder.sent)
    with caplog.at_level(logging.ERROR, logger="handlers.core"):
        await chat.app.core.handle_batch([
            said("ana", "bonjour", "e1"), said("zoe", "/casse", "e2"),
            said("bea", "bonjour", "e3"),
        ])
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent[before:]
    assert [m.to for m in sent] == ["cli:ana", "cli:zoe", "cli:zoe", "cli:bea"]
    assert "never sent" not in texts(sent)
    # Zoe is told, with a reference that is in the log line of the failure, and gets the menu.
    apology, menu = sent[1:3]
    assert SORRY in apology.text
    ref = reference(apology.text)
    [failure] = [r for r in caplog.records if r.exc_info]
    assert "cli:zoe" in failure.getMessage() and ref in failure.getMessage()
    assert MENU in menu.text
    users = await known_users(chat)
    assert {"cli:ana", "cli:bea"} <= users
    assert "cli:zoe" not in users  # her first contact was part of the message rolled back
    # The failed event was not recorded as handled either: a redelivery is tried again.
    del chat.app.core.commands["/casse"]
    del chat.app.core.command_handlers["casse"]
    await chat.app.core.handle_batch([said("zoe", "bonjour", "e2")])
    await chat.app.dispatcher.drain()
    assert MENU in texts(chat.recorder.sent[before + 4:], "zoe")


async def test_the_apology_is_in_the_persons_language(chat: Chat):
    async def broken(session: Session, text: str) -> None:
        raise RuntimeError("a bug in a feature")

    await chat.say("eve", "hello", lang="en")
    break_command(chat, broken)
    sent = await chat.say("eve", "/casse", lang="en")
    assert "Sorry, a technical problem kept us from handling your message" in sent[0].text
    assert "What would you like to do" in sent[1].text


async def test_an_answer_that_fails_is_asked_again_and_nothing_of_it_is_kept(
    chat: Chat, monkeypatch: pytest.MonkeyPatch,
):
    await chat.script("ana", "bonjour", "2")  # starts a donation: "Vous donnez en tant que"
    async with chat.app.storage.transaction() as uow:
        saved = await uow.conversations.get(UserKey("cli:ana"))
    assert saved is not None

    def broken(*args: object) -> engine.Turn:
        raise RuntimeError("a bug in a step")

    monkeypatch.setattr(engine, "handle", broken)
    sent = await chat.say("ana", "1")
    assert len(sent) == 2 and SORRY in sent[0].text
    assert KIND in sent[1].text and len(sent[1].choices) == 4  # the same question again
    async with chat.app.storage.transaction() as uow:
        after = await uow.conversations.get(UserKey("cli:ana"))
    assert after == saved  # the answer was not taken
    monkeypatch.undo()
    sent = await chat.say("ana", "1")
    assert "Nom de votre structure" in texts(sent, "ana")


async def test_when_the_question_cannot_be_asked_again_the_apology_goes_alone(chat: Chat):
    await chat.script("ana", "bonjour", "2")

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug in what a flow reads")

    chat.app.core.facts["donation"] = broken  # type: ignore[assignment]
    before = len(chat.recorder.sent)
    await chat.app.core.handle_batch([said("ana", "1", "e1"), said("bea", "bonjour", "e2")])
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent[before:]
    assert [m.to for m in sent] == ["cli:ana", "cli:bea"]
    assert SORRY in sent[0].text and MENU in sent[1].text


async def test_when_even_the_apology_fails_the_batch_goes_on(chat: Chat):
    ctx_for = chat.app.core.ctx_for

    def broken(user, now):  # type: ignore[no-untyped-def]
        if user.key == "cli:zoe":
            raise RuntimeError("a bug before anything can be said to zoe")
        return ctx_for(user, now)

    chat.app.core.ctx_for = broken  # type: ignore[method-assign]
    before = len(chat.recorder.sent)
    await chat.app.core.handle_batch([said("zoe", "bonjour", "e1"), said("bea", "bonjour", "e2")])
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent[before:]
    assert [m.to for m in sent] == ["cli:bea"] and MENU in sent[0].text


async def test_a_locked_database_tells_each_person_of_the_batch_once(chat: Chat, db_path: Path):
    await chat.say("ana", "bonjour")
    await chat.app.db.set_busy_timeout(0.2)
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
