"""Housekeeping: old event ids are forgotten, recent ones still protect against redelivery."""

from __future__ import annotations

from handlers.maintenance import purge_event_ids, purge_sent_messages
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
