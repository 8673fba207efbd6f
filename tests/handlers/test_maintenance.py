"""Housekeeping: old event ids are forgotten, recent ones still protect against redelivery."""

from __future__ import annotations

from flows.messages import UserKey
from flows.ports import Unreached
from handlers.maintenance import give_up_waiting_messages, purge_event_ids, purge_sent_messages
from tests.handlers.test_equipment_requests import ACCESS
from tests.support import Chat, texts


async def test_event_ids_older_than_a_week_are_purged_and_recent_ones_kept(chat: Chat):
    await chat.say("ana", "bonjour", event_id="1")
    chat.clock.advance(days=3)
    await chat.say("ana", "menu", event_id="2")
    chat.clock.advance(days=5)
    assert await purge_event_ids(chat.app.storage, chat.clock()) == 1
    assert await chat.say("ana", "menu", event_id="2") == []  # still known: dropped
    assert "Que souhaitez-vous faire" in texts(await chat.say("ana", "menu", event_id="1"))


async def test_delivery_records_are_kept_a_week_and_no_longer(chat: Chat):
    await chat.say("ana", "bonjour")
    conn = chat.app.db.conn
    count = "SELECT count(*) FROM outbox WHERE recipient = 'cli:ana'"
    assert (await conn.execute_fetchall(count))[0][0] == 1
    chat.clock.advance(days=6)
    assert await purge_sent_messages(chat.app.storage, chat.clock()) == 0
    chat.clock.advance(days=2)
    assert await purge_sent_messages(chat.app.storage, chat.clock()) == 1
    assert (await conn.execute_fetchall(count))[0][0] == 0


async def test_what_waits_for_someone_who_never_opened_the_bot_is_given_up_after_a_month(
    chat: Chat,
):
    """The coordinator named in the settings never wrote: the notices for them wait, then go
    (texts blanked), and who they were is forgotten once nothing waits."""
    coord = UserKey("cli:coord")
    async with chat.app.storage.transaction() as uow:
        await uow.reach.refused(coord, Unreached.NOT_STARTED, chat.clock())
    await chat.script("ana", *[line.format(role="1") for line in ACCESS])
    conn = chat.app.db.conn
    waiting = "SELECT status, payload FROM outbox WHERE recipient = 'cli:coord'"
    [(status, payload)] = await conn.execute_fetchall(waiting)
    assert status == "pending" and "Nouvelle demande" in payload
    chat.clock.advance(days=29)
    assert await give_up_waiting_messages(chat.app.storage, chat.clock()) == 0
    chat.clock.advance(days=2)
    assert await give_up_waiting_messages(chat.app.storage, chat.clock()) == 2  # + who
    assert await conn.execute_fetchall(waiting) == []  # not a user: the key is gone too
    assert await conn.execute_fetchall("SELECT * FROM unreachable") == []
