"""The beneficiary journey as a newcomer meets it, each step a defect found from outside.

The clock starts on Monday 23 November 2026 at 10:00 in Paris; the demo's Veynes sessions
are on Thursdays at 14:00 (26 November, 3 and 10 December).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flows.text import Msg
from tests.flows.test_beneficiary_texts import problems
from tests.handlers.test_beneficiaries import (
    book_first,
    join,
    make_staff,
    new_code,
    reminders,
    rows,
    run_job,
)
from tests.support import Chat, Clock, texts


async def test_a_code_typed_without_spaces_as_the_first_message_joins(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    sent = await chat.say("lea", code.replace(" ", ""))
    assert "Choisissez votre langue" in texts(sent, "lea")
    sent = await chat.say("paul", code.replace(" ", "").lower())
    assert "déjà servi" not in texts(sent, "paul")  # not used yet: Léa has not picked
    assert "Choisissez votre langue" in texts(sent, "paul")


async def test_a_joined_beneficiary_who_types_menu_gets_her_own_home(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    for typed in ("menu", "euh je sais pas", "bonjour"):
        sent = await chat.say("lea", typed)
        said = texts(sent, "lea")
        assert "Mes ateliers" in said and "J'ai besoin d'aide" in said, typed
        assert "Vous avez fait 0 atelier sur 7." in said, typed
        assert "professionnel" not in said and "·" not in said, typed


async def test_the_home_follows_the_role_and_has_no_middle_dots_for_newcomers(chat: Chat):
    sent = await chat.say("inconnu", "bonjour")
    assert "·" not in texts(sent, "inconnu")
    await make_staff(chat)
    sent = await chat.say("lieu", "menu")
    assert "Espace professionnel" in texts(sent, "lieu")


async def test_the_session_just_declined_is_not_offered_again(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert len(reminders(await run_job(chat))) == 1
    sent = await chat.say("lea", "je ne peux pas venir")
    said = texts(sent, "lea")
    assert "Votre place est libérée" in said
    assert "26 novembre" not in said and "3 décembre" in said


async def test_typing_je_viens_answers_the_reminder(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    await run_job(chat)
    sent = await chat.say("lea", "Je viens !")
    assert "Merci ! À bientôt." in texts(sent, "lea")
    assert await rows(chat, "SELECT coming FROM bookings") == [(1,)]


async def test_right_after_joining_three_short_sentences_at_most_before_the_question(
        chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    await chat.script("lea", code, "1", "Léa")
    sent = [m for m in await chat.say("lea", "1") if m.to == "cli:lea"]
    assert len(sent) == 1, [m.text for m in sent]
    text = sent[0].text
    assert problems(text) == [], text
    before_question = text[:text.rindex("?")]
    assert before_question.count(".") + before_question.count("!") <= 3, text
    assert sent[0].choices, "the question comes with its buttons"
    _ = Msg
