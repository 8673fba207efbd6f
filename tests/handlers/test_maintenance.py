"""Housekeeping: old event ids are forgotten, recent ones still protect against redelivery."""

from __future__ import annotations

from handlers.maintenance import purge_event_ids
from tests.support import Chat, texts


async def test_event_ids_older_than_a_week_are_purged_and_recent_ones_kept(chat: Chat):
    await chat.say("ana", "bonjour", event_id="1")
    chat.clock.advance(days=3)
    await chat.say("ana", "menu", event_id="2")
    chat.clock.advance(days=5)
    assert await purge_event_ids(chat.app.storage, chat.clock()) == 1
    assert await chat.say("ana", "menu", event_id="2") == []  # still known: dropped
    assert "Que souhaitez-vous faire" in texts(await chat.say("ana", "menu", event_id="1"))
