"""The chat platforms misbehaving while the bot delivers a backlog to several people.

Telegram: the local Bot API stand-in (``tests/bot/fake_bot_api.py``) answers some calls only
after the client has given up waiting, closes the connection on others without a word, and
mixes in 429s (with ``retry_after``) and 500s, while five people each have six messages queued.
Matrix: the real Synapse of the Matrix tests is stopped in the middle of the deliveries to
three people, right after it stored a message whose answer never reached the bot (a relay
loses it), then started again.

What is checked is what the people notice: every message arrives, each person's messages in
the order they were queued, nothing lost, and a message seen twice only where the design says
it may be. The dispatcher's docstring states that window: a platform that accepted a message
without the bot learning it (the answer lost) is asked again, since the Bot API has no
idempotency key; Matrix has one (the transaction id, derived from the outbox row), so there
every message must arrive exactly once. Every outbox row must end ``sent``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import bot.telegram
from bot.app import build
from bot.settings import load
from flows.messages import Outgoing, UserKey
from flows.text import verbatim
from tests.bot.fake_bot_api import FakeBotApi, Fault
from tests.bot.matrix_world import World, matrix_world, no_repeats
from tests.bot.synapse import Relay, Synapse
from tests.bot.test_telegram import TOKEN, TelegramWorld

READ_TIMEOUT = 1.0
"""The bot's read timeout on Bot API calls in these tests. python-telegram-bot's default is
5 s; a shorter one keeps the file fast and changes nothing in what happens after a timeout."""
SLOW = READ_TIMEOUT + 0.5
"""How long a slow answer takes: past the read timeout, so the bot has given up on it."""


async def queue(db: Path, messages: list[tuple[str, str]]) -> None:
    """Put ``(recipient, text)`` messages in the outbox, in this order, as a broadcast or a
    batch of reminders would, before the bot starts (it delivers them first thing). The
    recipients are users, as theirs are (the outbox forgets the key of a non-user once the
    message is delivered)."""
    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {}, database=db)
    try:
        async with app.storage.transaction() as uow:
            for to, text in messages:
                await uow.users.create(UserKey(to), None, app.dispatcher.clock())
                await uow.outbox.add(Outgoing(UserKey(to), (verbatim(text),)),
                                     app.dispatcher.clock())
    finally:
        await app.close()


def as_received(queued: list[str], repeated: set[str]) -> list[str]:
    """What a person should see: the queued messages in order, a repeated one twice in a row
    (its retry goes out before anything queued after it)."""
    return [text for text in queued for _ in range(2 if text in repeated else 1)]


# --- Telegram ----------------------------------------------------------------------------------


@pytest.fixture
async def tg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TelegramWorld]:
    # A shorter read timeout on the bot's calls (long polling keeps its own).
    monkeypatch.setattr(bot.telegram, "CALL_READ_TIMEOUT", READ_TIMEOUT)
    api = FakeBotApi(TOKEN)
    await api.start()
    world = TelegramWorld(api, tmp_path)
    yield world
    if world.task is not None:
        assert await world.stop() == 0
    await api.stop()


PEOPLE = [7101, 7102, 7103, 7104, 7105]
EACH = 6


def tg_text(person: int, number: int) -> str:
    return f"Rappel {number}/{EACH} pour {person}"


async def test_a_burst_to_five_people_through_timeouts_drops_429s_and_500s_arrives_in_order(
    tg: TelegramWorld,
):
    queued = {p: [tg_text(p, n) for n in range(1, EACH + 1)] for p in PEOPLE}
    await queue(tg.db, [(f"tg:{p}", queued[p][n]) for n in range(EACH) for p in PEOPLE])

    def on(person: int, number: int) -> Callable[[dict[str, Any]], bool]:
        text = tg_text(person, number)
        return lambda params: params.get("text") == text

    faults = [  # (person, message number, fault); two on one message strike in turn
        (7101, 2, Fault("slow", delay=SLOW, accepted=True)),  # sent, the answer too late
        (7102, 4, Fault("slow", delay=SLOW)),  # never carried out, the answer too late
        (7103, 1, Fault("drop")),  # connection closed before the call was carried out
        (7104, 5, Fault("drop", accepted=True)),  # ... and after
        (7105, 3, Fault("error", 429, retry_after=1)),
        (7105, 3, Fault("error", 500)),
        (7101, 5, Fault("error", 429, retry_after=1)),
        (7103, 6, Fault("error", 500)),
    ]
    for person, number, fault in faults:
        tg.api.inject("sendMessage", fault, on(person, number))
    accepted_unanswered = {tg_text(p, n) for p, n, f in faults if f.accepted}

    await tg.start()
    for person in PEOPLE:  # bounded: a few back-offs of the dispatcher, not one per fault
        await tg.ledger.wait_delivered(f"tg:{person}", within=30)

    assert tg.api.faults_left == 0, "every fault struck"
    for person in PEOPLE:
        received = [sent.text for sent in tg.api.to(person)]
        assert received == as_received(queued[person], accepted_unanswered), person
    assert await tg.ledger.query("SELECT DISTINCT status FROM outbox") == [("sent",)]
    assert await tg.ledger.query("SELECT count(*) FROM outbox") == [(len(PEOPLE) * EACH,)]


# --- Matrix ------------------------------------------------------------------------------------


async def unreachable_met(world: World, people: list[Any], within: float = 60.0) -> None:
    """Until a message to one of ``people`` has failed for the homeserver being down."""
    async def met() -> bool:
        for person in people:
            errors = await world.ledger.errors(f"mx:{person.account.user_id}")
            if "homeserver unreachable" in str(errors):
                return True
        return False

    async with asyncio.timeout(within):
        while True:
            if await met():
                return
            await asyncio.sleep(0.05)  # polling the bot's database, as the ledger does


@pytest.fixture
async def world(synapse: Synapse, tmp_path: Path) -> AsyncIterator[World]:
    async with matrix_world(synapse, tmp_path) as world:
        yield world


async def test_synapse_stopped_mid_backlog_and_restarted_every_message_arrives_once_in_order(
    world: World,
):
    # The bot reaches Synapse through a relay that will lose one answer: the worst moment for
    # the homeserver to stop, a message stored but not known to the bot as sent.
    relay = Relay(world.synapse.port)
    world.bot.homeserver = await relay.start()
    # One message a second after the burst: the backlog is still going out when Synapse is
    # stopped, whatever the speed of the machine.
    world.bot.env = {"MATRIX_MESSAGES_PER_SECOND": "1"}
    try:
        await world.bot.start()
        people = [await world.direct(name) for name in ("ana", "bea", "chloe")]
        assert await world.bot.stop() == 0
        queued = {p.account.user_id: [f"Rappel {n}/{EACH} pour {p.account.user_id}"
                                      for n in range(1, EACH + 1)] for p in people}
        await queue(world.bot.db, [(f"mx:{user}", texts[n]) for n in range(EACH)
                                   for user, texts in queued.items()])
        ana = people[0].account.user_id
        relay.lose_answer(queued[ana][2].encode())  # among the first ten, sent at once

        await world.bot.start()
        async with asyncio.timeout(20):
            await relay.lost.wait()
        await asyncio.to_thread(world.synapse.stop)
        try:
            [(sent,)] = await world.ledger.query(
                "SELECT count(*) FROM outbox WHERE status = 'sent'")
            # The homeserver stays down until the bot has met the outage (a send failed
            # with it), however long the lost answer's wait lasts on this machine.
            await unreachable_met(world, people)
        finally:
            await asyncio.to_thread(world.synapse.start)  # later tests need it, come what may
        assert sent < len(people) * EACH, "the homeserver stopped mid-way through the backlog"

        for person in people:  # bounded: a few of the dispatcher's back-offs
            last = queued[person.account.user_id][-1]
            await person.wait(lambda p=person, t=last: any(s.body == t for s in p.seen),
                              within=40)
        for person in people:
            # Synapse's timeline has everything it stored before the last message ahead of
            # it, so a repeat would be there already: exactly once, in the order queued.
            assert [s.body for s in person.seen] == queued[person.account.user_id]
            no_repeats(person)
        assert await world.ledger.query("SELECT DISTINCT status FROM outbox") == [("sent",)]
        errors = [await world.ledger.errors(f"mx:{p.account.user_id}") for p in people]
        assert "homeserver unreachable" in str(errors)  # the outage was met, not slipped past
    finally:
        if world.bot.task is not None:
            assert await world.bot.stop() == 0  # before the relay it talks through goes
        await relay.stop()
