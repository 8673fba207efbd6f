"""Conversations as a user lives them: restarts, expiry, redelivered events, language."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.i18n import Renderer
from flows.messages import Outgoing, UserKey
from flows.text import _, by_gesture, from_json, to_json
from tests.handlers.test_donations import organisation_lot
from tests.support import Chat, Clock, make_chat, texts

START_REQUEST = ["bonjour", "1", "1", "CCAS de Veynes"]


async def test_a_restarted_bot_resumes_the_conversation_at_the_same_step(
    db_path: Path, clock: Clock
):
    first = await make_chat(db_path, clock)
    sent = await first.script("ana", *START_REQUEST)
    assert "Adresse de la structure" in texts(sent)
    await first.app.close()  # the process dies between two messages

    second = await make_chat(db_path, clock)
    try:
        sent = await second.say("ana", "3 rue de la Gare")
        assert "Commune ou code postal" in texts(sent)
        sent = await second.script("ana", "veynes", "Ana Martin", "Conseillère",
                                   "0612345678")
        summary = texts(sent, "ana")
        assert "CCAS de Veynes" in summary and "3 rue de la Gare" in summary
    finally:
        await second.app.close()


async def test_an_abandoned_conversation_expires_and_says_so(chat: Chat):
    await chat.script("ana", *START_REQUEST)
    chat.clock.advance(hours=25)
    sent = await chat.say("ana", "3 rue de la Gare")
    assert "a expiré" in texts(sent, "ana")
    assert "Que souhaitez-vous faire" in texts(sent, "ana")
    sent = await chat.say("ana", "3 rue de la Gare")  # not read as an answer any more
    assert "Je n'ai pas compris" in texts(sent, "ana")


async def test_the_same_platform_event_is_handled_once(chat: Chat):
    await chat.say("ana", "bonjour", event_id="42")
    first = await chat.say("ana", "1", event_id="43")
    again = await chat.say("ana", "1", event_id="43")
    assert "Quel est votre rôle" in texts(first)
    assert again == []
    sent = await chat.say("ana", "1", event_id="44")
    assert "Nom de votre structure" in texts(sent)


async def test_a_bad_answer_is_explained_and_nothing_is_lost(chat: Chat):
    await chat.script("ana", *START_REQUEST, "3 rue de la Gare")
    sent = await chat.say("ana", "75011")
    assert "n'est pas sur le territoire" in texts(sent)
    sent = await chat.say("ana", "05000")
    assert "Plusieurs communes" in texts(sent) and "Gap (05000)" in texts(sent)
    sent = await chat.say("ana", "Gap (05000)")
    assert "Vos prénom et nom" in texts(sent)
    sent = await chat.script("ana", "Ana", "Conseillère", "0612345678")
    assert "Gap" in texts(sent) and "CCAS de Veynes" in texts(sent)


async def test_cancel_works_at_any_step_and_writes_nothing(chat: Chat):
    await chat.script("ana", *START_REQUEST)
    sent = await chat.say("ana", "annuler")
    assert "Rien n'a été enregistré" in texts(sent)
    async with chat.app.storage.transaction() as uow:
        assert await uow.access.latest_for("cli:ana") is None  # type: ignore[arg-type]
        assert await uow.conversations.get("cli:ana") is None  # type: ignore[arg-type]


async def test_the_language_comes_from_the_platform_and_can_be_changed(chat: Chat):
    sent = await chat.say("tom", "hello", lang="en-GB")
    assert "What would you like to do?" in texts(sent)
    sent = await chat.script("tom", "langue", "Français")
    assert "Que souhaitez-vous faire" in texts(sent)
    sent = await chat.script("ana", "bonjour")
    assert "Que souhaitez-vous faire" in texts(sent)


async def test_a_stale_or_forged_button_is_refused_politely(chat: Chat):
    await chat.say("ana", "bonjour")
    sent = await chat.say("ana", choice="zz:unknown")
    assert "Ce bouton n'est plus valable" in texts(sent)
    sent = await chat.say("ana", choice="acc:ok:999999")
    assert "pas (ou plus) valable pour vous" in texts(sent)


async def test_where_choices_are_typed_a_gesture_is_worded_as_writing(chat: Chat):
    """The console (as Matrix) lists choices to answer by writing: nothing to touch."""
    sent = await chat.script("ana", *organisation_lot()[:5], "123")  # no phone, no e-mail
    assert "ou répondez « Passer »." in texts(sent, "ana")
    assert "ouchez" not in texts(sent, "ana")


def test_a_gesture_is_worded_after_the_readers_platform():
    renderer = Renderer(("fr", "en"), "fr", ZoneInfo("Europe/Paris"))
    skip = by_gesture(_("Touchez « Passer » si vous ne l'avez pas."),
                      _("Répondez « Passer » si vous ne l'avez pas."))
    kept = from_json(json.loads(json.dumps(to_json(skip))))  # as the outbox keeps it
    worded = {platform: renderer.render(Outgoing(UserKey(f"{platform}:x"), (kept,)), "fr").text
              for platform in ("tg", "mx", "cli")}
    assert worded == {"tg": "Touchez « Passer » si vous ne l'avez pas.",
                      "mx": "Répondez « Passer » si vous ne l'avez pas.",
                      "cli": "Répondez « Passer » si vous ne l'avez pas."}
