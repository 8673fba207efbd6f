"""The Telegram transport calls a far server several times at once, a near one once at a time.

From a small French host, api.telegram.org is tens of milliseconds away: one call at a time
would cap delivery under the 30 messages a second Telegram allows. Against a server that
answers at once, parallel calls only cost the bot CPU. The transport measures the time a call
takes and keeps as many in flight as the rate limit needs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.i18n import Rendered
from bot.pacing import Pacer
from bot.telegram import CONCURRENT_SENDS, TelegramTransport
from flows.messages import UserKey


class Server:
    """Stands for python-telegram-bot's Bot: each call takes ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.texts: list[str] = []

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        await asyncio.sleep(self.seconds)
        self.texts.append(text)


async def deliver(server: Server, count: int, rate: float = 30) -> TelegramTransport:
    transport = TelegramTransport(server, Pacer(rate, 1, max_wait=5))
    for n in range(count):
        await transport.send(Rendered(UserKey(f"tg:{n}"), f"message {n}", (), None,
                                      f"outbox:{n}"))
    return transport


async def test_a_far_server_gets_several_calls_at_once():
    """30 a second at 60 ms a call need 2 calls in flight, plus headroom."""
    transport = await deliver(Server(0.06), 3)
    assert 1 < transport.concurrency <= CONCURRENT_SENDS


async def test_without_a_rate_to_reach_one_call_at_a_time_is_enough():
    transport = await deliver(Server(0.06), 3, rate=0)
    assert transport.concurrency == 1


async def test_a_near_server_gets_one_call_at_a_time():
    transport = await deliver(Server(0.0), 3)
    assert transport.concurrency == 1


async def test_a_server_that_comes_near_again_goes_back_to_one_call_at_a_time():
    server = Server(0.06)
    transport = await deliver(server, 2)
    server.seconds = 0.0
    for n in range(20):
        await transport.send(Rendered(UserKey("tg:1"), "again", (), None, f"outbox:x{n}"))
    assert transport.concurrency == 1
