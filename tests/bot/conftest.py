"""Fixtures shared by the Telegram tests of this folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.test_telegram import TOKEN


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The stand-in Bot API server on 127.0.0.1, for the bot with ``TOKEN``."""
    server = FakeBotApi(TOKEN)
    await server.start()
    yield server
    await server.stop()
