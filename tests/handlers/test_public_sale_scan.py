"""A sticker scanned while a question asks for a device answers it: on Telegram the phone's
camera opens the sticker's deep link, which reaches the bot as ``/start d-HA-7K3P``, a command;
in the middle of a sale it must be the device sold, not the device's card opened over it."""

from __future__ import annotations

import pytest

from tests.handlers.chain import STAFF, rows
from tests.handlers.test_handover import one_ready_laptop
from tests.support import Chat, texts


async def reserved_and_selling(chat: Chat) -> str:
    """Someone reserved Veynes' laptop; its staff pressed "sold": the device is asked."""
    _device, label = await one_ready_laptop(chat)
    await chat.say("passerby", choice="buy:rs:laptop")
    await chat.script("passerby", "J. D.", "Passer", "Confirmer")
    sent = await chat.say(STAFF, choice="buy:sold:1")
    assert "Quel appareil est vendu ?" in texts(sent, STAFF)
    return label


@pytest.mark.parametrize("scanned", ["/start d-{label}", "/{label}", "/start {label}"])
async def test_a_sticker_scanned_at_the_sale_answers_which_device_is_sold(
        chat: Chat, scanned: str):
    label = await reserved_and_selling(chat)
    sent = await chat.say(STAFF, scanned.format(label=label))
    told = texts(sent, STAFF)
    assert "Comment a-t-il été payé ?" in told
    assert f"Appareil {label}" not in told  # not its card
    sent = await chat.script(STAFF, "Espèces", "90")
    assert f"Appareil : {label}" in texts(sent, STAFF)  # the summary
    sent = await chat.say(STAFF, "Confirmer")
    assert "Vente enregistrée : REC-2026-0001" in texts(sent, STAFF)
    assert await rows(chat, "SELECT state FROM devices WHERE label = ?", label) == [
        ("handed_over",)]
    # With no question open, the same sticker opens the device's card again.
    sent = await chat.say(STAFF, f"/start d-{label}")
    assert f"Appareil {label}" in texts(sent, STAFF)


async def test_a_sticker_scanned_to_correct_the_device_from_the_summary_answers_too(
        chat: Chat):
    label = await reserved_and_selling(chat)
    await chat.script(STAFF, "HA-3333", "Espèces", "90")  # a label mistyped
    sent = await chat.say(STAFF, "Corriger : Appareil")
    assert "Quel appareil est vendu ?" in texts(sent, STAFF)
    sent = await chat.say(STAFF, f"/start d-{label}")
    assert f"Appareil : {label}" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "Confirmer")
    assert "Vente enregistrée" in texts(sent, STAFF)


async def test_a_sticker_scanned_at_another_question_opens_the_card_as_before(chat: Chat):
    label = await reserved_and_selling(chat)
    await chat.say(STAFF, label)  # "how was it paid?" asks no device
    sent = await chat.say(STAFF, f"/start d-{label}")
    assert f"Appareil {label}" in texts(sent, STAFF)
    assert "Comment a-t-il été payé ?" not in texts(sent, STAFF)

