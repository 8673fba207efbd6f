"""A text sent through ``JsonBody`` reaches the Bot API whole, as JSON or as a form.

The transport posts its texts through the bot's request object (``bot/telegram_request.py``):
the server must see the same message, accents and keyboard included, and a refusal must raise
python-telegram-bot's own exceptions, whichever request object the bot was built with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.error import Forbidden
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram import keyboard
from bot.telegram_request import JsonBody, JsonRequest
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.test_telegram import TOKEN

TEXT = "Où en est la demande n° 12 ? « Prête » ✅"
MENU = (("req.status", "Voir l'état"), ("home", "Accueil"))


@pytest.fixture(params=[JsonRequest, HTTPXRequest], ids=["json", "form"])
async def request_object(request: pytest.FixtureRequest) -> AsyncIterator[BaseRequest]:
    made: BaseRequest = request.param()
    await made.initialize()
    yield made
    await made.shutdown()


async def send(api: FakeBotApi, request_object: BaseRequest, chat_id: int) -> None:
    markup = keyboard(MENU)
    assert markup is not None
    await request_object.post(f"{api.url}/bot{TOKEN}/sendMessage", request_data=JsonBody(
        {"chat_id": chat_id, "text": TEXT, "reply_markup": markup.to_dict()}))


async def test_the_server_gets_the_text_and_its_buttons(api: FakeBotApi,
                                                        request_object: BaseRequest):
    await send(api, request_object, 4242)
    [sent] = await api.wait_sent(4242, 1)
    assert sent.text == TEXT
    assert [label for label, _ in sent.buttons] == ["Voir l'état", "Accueil"]


async def test_a_refusal_raises_python_telegram_bots_exception(api: FakeBotApi,
                                                               request_object: BaseRequest):
    api.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked"):
        await send(api, request_object, 4242)
    assert api.to(4242) == []
