"""Access requests end to end: a professional asks, a coordinator decides, both are told."""

from __future__ import annotations

from tests.support import Chat, texts

REQUEST = ["bonjour", "1", "1", "CCAS de Veynes", "3 rue de la Gare", "veynes",
           "Ana Martin", "Conseillère sociale", "06 12 34 56 78"]


async def test_a_professional_requests_access_and_the_coordinator_is_notified(chat: Chat):
    sent = await chat.script("ana", *REQUEST)
    assert "Vérifiez avant d'envoyer" in texts(sent, "ana")
    assert "Veynes" in texts(sent, "ana")
    sent = await chat.say("ana", "1")  # Confirmer
    assert "demande d'accès est envoyée" in texts(sent, "ana")
    notice = [m for m in sent if m.to == "cli:coord"]
    assert len(notice) == 1
    assert "CCAS de Veynes" in notice[0].text and "+33612345678" in notice[0].text
    assert next(label for _, label in notice[0].choices).startswith("Approuver")


async def test_approval_in_one_action_notifies_the_requester(chat: Chat):
    await chat.script("ana", *REQUEST, "1")
    sent = await chat.say("coord", "1")  # "Approuver" from the notice menu
    assert "approuvée" in texts(sent, "coord")
    assert "accès professionnel est validé" in texts(sent, "ana")
    sent = await chat.say("ana", "1")
    assert "Espace professionnel" in texts(sent, "ana")


async def test_rejection_notifies_the_requester(chat: Chat):
    await chat.script("ana", *REQUEST, "1")
    sent = await chat.say("coord", "2")
    assert "refusée" in texts(sent, "coord")
    assert "pas été acceptée" in texts(sent, "ana")


async def test_professional_space_is_refused_until_approved(chat: Chat):
    await chat.script("ana", *REQUEST, "1")
    sent = await chat.script("ana", "menu", "1")
    assert "en cours d'examen" in texts(sent, "ana")
    assert "Espace professionnel" not in texts(sent, "ana")


async def test_only_a_coordinator_can_decide(chat: Chat):
    await chat.script("ana", *REQUEST, "1")
    sent = await chat.say("mallory", choice="acc:ok:1")
    assert "pas (ou plus) valable pour vous" in texts(sent, "mallory")
    sent = await chat.script("ana", "menu", "1")
    assert "en cours d'examen" in texts(sent, "ana")


async def test_a_request_decided_twice_is_refused_the_second_time(chat: Chat):
    await chat.script("ana", *REQUEST, "1")
    await chat.say("coord", choice="acc:ok:1")
    sent = await chat.say("coord", choice="acc:no:1")
    assert "déjà été traitée" in texts(sent, "coord")
    assert texts(sent, "ana") == ""
