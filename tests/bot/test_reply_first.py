"""Replies go out before reminders and broadcasts, and one person's messages never overtake
each other.

The outbox is sent at the platform's pace (Telegram: 30 messages a second): in id order, a
"bonjour" written after a morning's 800 reminders waited 25 seconds for its answer. Through
the real dispatcher and a recording transport, nothing is timed: the order of the sends is
what is checked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.i18n import Rendered
from flows.messages import Incoming, Outgoing, Priority, UserKey
from flows.text import verbatim
from storage.db import ts
from tests.support import Chat, texts


async def plant_reminders(chat: Chat, people: int) -> list[str]:
    """``people`` beneficiaries booked on a session in two hours, each with a reminder due
    now (written by SQL, as booking would leave them); returns their keys."""
    now = chat.clock()
    keys = [f"cli:b{n}" for n in range(people)]
    conn = chat.app.db.conn
    async with chat.app.storage.transaction() as uow:
        place = (await uow.places.all())[0].id
    cur = await conn.execute(
        "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats, booked)"
        " VALUES (?, 'getting_started', ?, 90, ?, ?)",
        (place, ts(now + timedelta(hours=2)), people, people))
    workshop = cur.lastrowid
    await conn.executemany("INSERT INTO users (key, lang, created_at) VALUES (?, 'fr', ?)",
                           [(k, ts(now)) for k in keys])
    await conn.executemany(
        "INSERT INTO beneficiaries (user_key, place_id, ref, reminders, joined_at)"
        " VALUES (?, ?, ?, 1, ?)", [(k, place, f"REJ{n:06d}", ts(now))
                                    for n, k in enumerate(keys)])
    await conn.executemany("INSERT INTO bookings (workshop_id, user_key, booked_at)"
                           " VALUES (?, ?, ?)", [(workshop, k, ts(now)) for k in keys])
    await conn.executemany("INSERT INTO reminders (workshop_id, user_key, due_at)"
                           " VALUES (?, ?, ?)",
                           [(workshop, k, ts(now - timedelta(minutes=1))) for k in keys])
    return keys


async def queue_reminders(chat: Chat, people: int) -> list[str]:
    """The real reminders job queues the reminders of ``people`` beneficiaries."""
    keys = await plant_reminders(chat, people)
    job = next(j for j in chat.app.core.jobs if j.name == "beneficiaries.reminders")
    assert await chat.app.core.run_job(job) == people
    return keys


def is_reminder(message: Rendered) -> bool:
    return message.text.startswith("Rappel")


async def test_a_reply_queued_after_800_reminders_goes_out_before_them(chat: Chat):
    await queue_reminders(chat, 800)
    await chat.app.core.handle(Incoming(UserKey("cli:ana"), "bonjour"))
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent
    assert sum(map(is_reminder, sent)) == 800
    first_reminder = next(n for n, m in enumerate(sent) if is_reminder(m))
    to_ana = [n for n, m in enumerate(sent) if m.to == "cli:ana"]
    assert to_ana and max(to_ana) < first_reminder
    assert to_ana == list(range(len(to_ana)))  # the very first messages sent


@dataclass
class Talking:
    """A recording transport; when the ``at``-th message is sent, someone writes (their
    message is handled, which wakes the dispatcher) before the send returns."""

    at: int
    write: Callable[[], Awaitable[None]]
    platform: str = "cli"
    sent: list[Rendered] = field(default_factory=list)

    async def send(self, message: Rendered) -> None:
        self.sent.append(message)
        if len(self.sent) == self.at:
            await self.write()


async def test_a_reply_written_while_reminders_go_out_is_the_next_message_sent(chat: Chat):
    """A delivery round reads a hundred messages at a time: the reply does not wait for the
    end of the round it was written in."""
    await queue_reminders(chat, 300)

    async def ana_writes() -> None:
        await chat.app.core.handle(Incoming(UserKey("cli:ana"), "bonjour"))

    transport = Talking(5, ana_writes)
    chat.app.dispatcher.transports["cli"] = transport
    await chat.app.dispatcher.drain()
    order = [m.to for m in transport.sent]
    assert all(is_reminder(m) for m in transport.sent[:5])
    assert order[5] == "cli:ana"
    assert sum(map(is_reminder, transport.sent)) == 300


async def test_someones_reminder_goes_just_before_the_reply_to_them_and_ahead_of_others(
    chat: Chat,
):
    """A reply does not overtake the reminder its recipient was already waiting for: the
    reminder is raised to the reply's turn instead."""
    keys = await queue_reminders(chat, 200)
    bea = keys[150]
    await chat.app.core.handle(Incoming(UserKey(bea), "bonjour"))
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent
    to_bea = [n for n, m in enumerate(sent) if m.to == bea]
    assert is_reminder(sent[to_bea[0]]) and not is_reminder(sent[to_bea[-1]])
    assert to_bea == list(range(len(to_bea)))  # hers first, in the order queued
    assert sum(map(is_reminder, sent)) == 200


async def test_each_persons_messages_keep_their_order_whatever_their_priorities(chat: Chat):
    """Messages of every priority to a few people, queued in a random order: each person
    gets theirs in the order queued, and the outbox otherwise sends by priority, a person's
    messages raised to the priority of their latest."""
    rng = random.Random(8)
    queued: list[tuple[str, str, Priority]] = []
    async with chat.app.storage.transaction() as uow:
        for number in range(300):
            to = f"cli:p{rng.randrange(12)}"
            priority = rng.choice(list(Priority))
            text = f"{to} {number}"
            await uow.outbox.add(Outgoing(UserKey(to), (verbatim(text),), priority=priority),
                                 chat.clock())
            queued.append((to, text, priority))
    await chat.app.dispatcher.drain()
    sent = [(m.to, m.text) for m in chat.recorder.sent]
    for person in {to for to, _, _ in queued}:
        assert [t for to, t in sent if to == person] == \
            [t for to, t, _ in queued if to == person]
    # The whole order: each message at the priority of its recipient's most urgent message
    # queued with or after it, then in the order queued.
    raised = []
    for index, (to, text, _priority) in enumerate(queued):
        later = [p for t, _, p in queued[index:] if t == to]
        raised.append((min(later), index, to, text))
    assert sent == [(to, text) for _, _, to, text in sorted(raised)]


async def test_replies_notices_and_broadcasts_are_queued_with_their_priorities(chat: Chat):
    conn = chat.app.db.conn
    await chat.say("coord", choice="co:bc")
    await chat.script("coord", "Tous les accompagnant·es", "Fermeture le 24 décembre.",
                      "Confirmer")
    rows = await conn.execute_fetchall("SELECT recipient, priority FROM outbox")
    assert {p for r, p in rows if r == "cli:coord"} == {Priority.REPLY}
    assert {p for r, p in rows if r != "cli:coord"} == {Priority.BULK}  # the prescribers
    [(last,)] = await conn.execute_fetchall("SELECT max(id) FROM outbox")
    sent = await chat.script("ana", "menu", "1", "1", "CCAS de Veynes", "3 rue de la Gare",
                             "veynes", "Ana Martin", "Conseillère sociale", "06 12 34 56 78",
                             "1")  # an access request: the coordination is told
    assert "CCAS de Veynes" in texts(sent, "coord")
    rows = await conn.execute_fetchall("SELECT recipient, priority FROM outbox WHERE id > ?",
                                       (last,))
    assert {p for r, p in rows if r == "cli:ana"} == {Priority.REPLY}
    assert {p for r, p in rows if r == "cli:coord"} == {Priority.NOTICE}


async def test_a_reply_written_while_replies_go_out_waits_its_turn_behind_them(chat: Chat):
    """Among replies, first written, first answered: a round of replies is not cut short for
    a newer one (it could not overtake them), and none of them is left behind."""
    for n in range(30):
        await chat.app.core.handle(Incoming(UserKey(f"cli:p{n}"), "bonjour"))

    async def zoe_writes() -> None:
        await chat.app.core.handle(Incoming(UserKey("cli:zoe"), "bonjour"))

    transport = Talking(5, zoe_writes)
    chat.app.dispatcher.transports["cli"] = transport
    await chat.app.dispatcher.drain()
    order = [m.to for m in transport.sent]
    first_to_zoe = order.index("cli:zoe")
    assert {f"cli:p{n}" for n in range(30)} <= set(order[:first_to_zoe])
    assert all(to == "cli:zoe" for to in order[first_to_zoe:])


async def test_drains_side_by_side_send_each_message_once(chat: Chat):
    """The console drains after a line while the loop delivers; two rounds at once would
    read the same pending messages and send each twice."""
    for n in range(10):
        await chat.app.core.handle(Incoming(UserKey(f"cli:p{n}"), "bonjour"))
    async with chat.app.storage.reading() as uow:
        pending = len(await uow.outbox.due(chat.clock(), ["cli"], 1000))
    chat.recorder.sent.clear()
    await asyncio.gather(*(chat.app.dispatcher.drain() for _ in range(5)))
    assert len(chat.recorder.sent) == pending
    assert len({m.ref for m in chat.recorder.sent}) == pending
