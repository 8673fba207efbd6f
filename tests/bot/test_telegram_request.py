"""The bot's request object (``bot/telegram_request.py``) behaves as python-telegram-bot's own.

The ``Bot`` sends through it: the server must see the same message, accents and keyboard
included, a file must arrive whole, and a refusal must raise python-telegram-bot's own
exceptions, whichever request object the bot was built with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import Forbidden
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram import keyboard
from bot.telegram_request import JsonRequest
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.test_telegram import TOKEN

TEXT = "Où en est la demande n° 12 ? « Prête » ✅"
MENU = (("req.status", "Voir l'état"), ("home", "Accueil"))


@pytest.fixture(params=[JsonRequest, HTTPXRequest], ids=["json", "form"])
async def bot(request: pytest.FixtureRequest, api: FakeBotApi) -> AsyncIterator[Bot]:
    made: BaseRequest = request.param()
    async with Bot(TOKEN, base_url=f"{api.url}/bot", request=made) as ready:
        yield ready


async def test_the_server_gets_the_text_and_its_buttons(api: FakeBotApi, bot: Bot):
    sent = await bot.send_message(4242, TEXT, reply_markup=keyboard(MENU))
    [seen] = await api.wait_sent(4242, 1)
    assert seen.text == TEXT == sent.text
    assert [label for label, _ in seen.buttons] == ["Voir l'état", "Accueil"]


async def test_a_file_arrives_whole_with_its_caption(api: FakeBotApi, bot: Bot):
    await bot.send_document(4242, b"%PDF-1.4 \xe9", caption=TEXT, filename="recu.pdf")
    [seen] = await api.wait_sent(4242, 1)
    assert (seen.file, seen.text) == (b"%PDF-1.4 \xe9", TEXT)
    assert seen.message["document"]["file_name"] == "recu.pdf"


async def test_a_refusal_raises_python_telegram_bots_exception(api: FakeBotApi, bot: Bot):
    api.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(4242, TEXT)
    assert api.to(4242) == []
