"""The Matrix adapter end to end, against a real Synapse started by the tests on 127.0.0.1.

People are matrix-nio clients of their own (``tests/bot/matrix_person.py``); the bot runs the
way ``filiere-bot run`` runs it (``bot.serve.serve``). Synapse is installed once into
``var/synapse-venv`` and started once per test session (``tests/bot/synapse.py``, the fixture
``synapse`` of ``tests/conftest.py``); the bot and the people are ``tests/bot/matrix_world.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio import DownloadResponse, RoomCreateResponse

from bot.i18n import Rendered
from bot.matrix_content import (
    file_content,
    png_size,
    received_file,
    text_contents,
    typed_text,
    user_id_of,
)
from flows.messages import Attachment, UserKey
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.matrix_world import World, bodies, matrix_world, no_repeats
from tests.bot.synapse import Synapse
from tests.handlers.test_donations import organisation_lot
from tests.handlers.test_equipment_requests import ACCESS, answers
from tests.support import LogWatch

PRESCRIBER_ACCESS = [line.format(role="1") for line in ACCESS]
TELEGRAM_TOKEN = "123456789:AAEfiliereTestTokenForTheFakeBotApi0"


@pytest.fixture
async def world(synapse: Synapse, tmp_path: Path) -> AsyncIterator[World]:
    async with matrix_world(synapse, tmp_path) as world:
        yield world


# --- conversations -----------------------------------------------------------------------------


async def test_a_donor_declares_a_lot_in_a_plain_direct_room_and_gets_the_receipt(world: World):
    await world.bot.start()
    donor = await world.direct("donor")
    home = await world.ask(donor, "bonjour")
    assert "1. J'accompagne des personnes (accès professionnel)" in bodies(home)
    assert "<ol><li>" in home[-1].content["formatted_body"]
    seen = await world.ask(donor, *organisation_lot()[1:], "1")
    assert "LOT-2026-0001" in bodies(seen)
    receipt = seen[-1]
    assert receipt.msgtype == "m.file"
    assert receipt.content["info"]["mimetype"] == "application/pdf"
    assert receipt.body.startswith("recu-LOT-2026-0001")
    downloaded = await donor.client.download(receipt.content["url"])
    assert isinstance(downloaded, DownloadResponse) and downloaded.body.startswith(b"%PDF-")
    assert not any(s.encrypted for s in donor.seen)
    no_repeats(donor)


async def test_a_prescriber_request_in_an_encrypted_room_with_a_coordinator_on_matrix(
    synapse: Synapse, tmp_path: Path, world: World,
):
    coordinator = await world.person("coord", auto_join=True)
    world.bot.coordinators = [f"mx:{coordinator.account.user_id}"]
    await world.bot.start()
    ana = await world.direct("ana", encrypted=True)
    seen = await world.ask(ana, *PRESCRIBER_ACCESS)
    assert "demande d'accès est envoyée" in bodies(seen)
    # The coordinator never wrote to the bot: it opens a direct room and invites them. Not a
    # user of the bot, their delivered messages keep no recipient in the outbox (personal
    # data), so the test waits for what reaches them rather than for the outbox.
    notice = await coordinator.read(1)
    assert "Nouvelle demande d'accès" in bodies(notice)
    assert "1. Approuver la demande" in bodies(notice)
    await world.ask(coordinator, "1", "Aucun lieu")
    told = await world.answered(ana)
    assert "accès professionnel est validé" in bodies(told)
    seen = await world.ask(ana, "menu", "1", "Demander du matériel", *answers())
    assert "Demande DEM-2026-0001 enregistrée" in bodies(seen)
    assert ana.seen and all(s.encrypted for s in ana.seen)
    assert all(s.encrypted for s in coordinator.seen)
    assert ana.undecryptable == 0
    no_repeats(ana)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_restart_mid_conversation_resumes_and_answers_nothing_twice(
    world: World, encrypted: bool,
):
    await world.bot.start()
    ana = await world.direct("ana", encrypted)
    await world.ask(ana, *PRESCRIBER_ACCESS[:4])  # ... role chosen, structure given
    before = world.bot.session()
    devices = await asyncio.to_thread(
        world.synapse.call, "GET", f"/_synapse/admin/v2/users/{world.bot.account.user_id}"
        "/devices", None, world.synapse.admin_account().access_token)
    assert await world.bot.stop() == 0
    # Ana goes on while the bot is down.
    address = await ana.say(PRESCRIBER_ACCESS[4])
    commune = await ana.say(PRESCRIBER_ACCESS[5])
    await world.bot.start()
    await world.ledger.wait_handled("mx", address)
    await world.ledger.wait_handled("mx", commune)
    seen = await world.answered(ana)
    assert [s.body for s in seen] == ["Commune ou code postal de la structure ?",
                                      "Vos prénom et nom ?"]
    after = world.bot.session()
    assert after["device_id"] == before["device_id"]
    again = await asyncio.to_thread(
        world.synapse.call, "GET", f"/_synapse/admin/v2/users/{world.bot.account.user_id}"
        "/devices", None, world.synapse.admin_account().access_token)
    assert again["total"] == devices["total"]  # no new device at restart
    seen = await world.ask(ana, *PRESCRIBER_ACCESS[6:])
    assert "demande d'accès est envoyée" in bodies(seen)
    assert all(s.encrypted == encrypted for s in ana.seen)
    no_repeats(ana)
    # Nothing older came back after the restart: every message she got is one the bot
    # delivered once (an old event answered again would be one more), each question once.
    assert len(ana.seen) == await world.ledger.wait_delivered(f"mx:{ana.account.user_id}")
    questions = [s.body for s in ana.seen if s.body.endswith("?")]
    assert len(questions) == len(set(questions))


async def test_a_message_sent_with_the_invitation_is_answered_once_the_bot_joins(
    world: World,
):
    await world.bot.start()
    ana = await world.person("ana")
    await ana.open_direct_room(world.bot.account.user_id)
    first = await ana.say("bonjour")  # as Element does: the first message goes with the invite
    await world.ledger.wait_handled("mx", first)
    assert "Que souhaitez-vous faire ?" in bodies(await world.answered(ana))


async def test_a_message_the_bot_cannot_decrypt_is_answered_with_a_request_to_resend(
    world: World,
):
    ana = await world.person("ana")
    await ana.open_direct_room(world.bot.account.user_id, encrypted=True)
    await ana.say("bonjour")  # encrypted before the bot had any device to encrypt for
    await world.bot.start()
    told = await ana.read(1)
    assert "Je n'ai pas pu lire votre dernier message" in bodies(told)
    # Her app encrypts the next message for the devices it knows: it must have fetched the
    # bot's (reading the bot's message does not mean it has).
    await ana.wait_knows_device(world.bot.account.user_id, world.bot.session()["device_id"])
    again = await ana.say("bonjour")
    await world.ledger.wait_handled("mx", again)
    # Her answer, read as it comes: the ledger cannot count the first one for her, sent
    # before she was a user (its recipient blanked once delivered).
    seen = await ana.read(1)
    assert "Que souhaitez-vous faire ?" in bodies(seen)
    assert all(s.encrypted for s in ana.seen)


async def test_the_first_start_skips_what_was_said_before(world: World):
    ana = await world.person("ana")
    room = await ana.open_direct_room(world.bot.account.user_id)
    joined = await asyncio.to_thread(
        world.synapse.call, "POST", f"/_matrix/client/v3/join/{room}", {},
        world.bot.account.access_token)
    assert joined["room_id"] == room
    old = await ana.say("bonjour")  # before the bot ever ran
    await world.bot.start()
    fresh = await ana.say("bonjour")
    await world.ledger.wait_handled("mx", fresh)
    seen = await world.answered(ana)
    assert "Que souhaitez-vous faire ?" in bodies(seen)
    assert not await world.ledger.query(
        "SELECT 1 FROM processed_events WHERE event_id = ?", f"mx:{old}")


async def test_the_bot_recovers_when_the_homeserver_is_down_for_a_while(
    world: World, caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.WARNING, logger="bot.matrix")
    await world.bot.start()
    ana = await world.direct("ana")
    await world.ask(ana, "bonjour")
    failed = LogWatch("bot.matrix", "sync failed")
    with failed:
        await asyncio.to_thread(world.synapse.stop)
        await failed.seen(times=2)  # the bot found it down, and again after its back-off
    await asyncio.to_thread(world.synapse.start)
    seen = await world.ask(ana, "4")  # Aide
    assert "Mots utiles" in bodies(seen)
    assert "sync failed" in caplog.text and "reachable again" in caplog.text
    no_repeats(ana)


async def test_one_process_serves_matrix_and_telegram_side_by_side(world: World):
    """A Matrix user's request reaches a coordinator on Telegram, whose button answers it."""
    api = FakeBotApi(TELEGRAM_TOKEN)
    await api.start()
    try:
        world.bot.coordinators = ["tg:900"]
        world.bot.env = {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
                         "TELEGRAM_API_BASE_URL": api.url,
                         "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0"}
        await world.bot.start()
        ana = await world.direct("ana")
        seen = await world.ask(ana, *PRESCRIBER_ACCESS)
        assert "demande d'accès est envoyée" in bodies(seen)
        notice = await api.wait_sent(900, 1)
        assert "Nouvelle demande d'accès n° 1" in notice[-1].text
        pressed = api.press(900, notice[-1], "acc:ok:1")
        await world.ledger.wait_handled("tg", str(pressed))
        assert "accès professionnel est validé" in bodies(await world.answered(ana))
        assert await world.bot.stop() == 0
    finally:
        await api.stop()


# --- files people send -------------------------------------------------------------------------


PLACES = "nom;type;commune;horaires\nTiers-lieu de Guillestre;relais;Guillestre;\n"


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_coordinator_sends_a_places_file_and_it_is_imported(
    world: World, encrypted: bool,
):
    coordinator = await world.person("coord")
    world.bot.coordinators = [f"mx:{coordinator.account.user_id}"]
    await world.bot.start()
    await coordinator.open_direct_room(world.bot.account.user_id, encrypted)
    await coordinator.wait_joined(world.bot.account.user_id)
    await world.ask(coordinator, "bonjour")
    event_id = await coordinator.send_file(PLACES.encode("utf-8"), "lieux.csv")
    await world.ledger.wait_handled("mx", event_id)
    seen = await world.answered(coordinator)
    assert "Fichier de lieux du réseau enregistré : 1 lignes" in bodies(seen)
    assert "Tiers-lieu de Guillestre" in str(await world.ledger.query("SELECT name FROM places"))
    assert all(s.encrypted == encrypted for s in coordinator.seen)


async def test_a_file_announced_over_20_mb_is_refused_and_nothing_imported(world: World):
    coordinator = await world.person("coord")
    world.bot.coordinators = [f"mx:{coordinator.account.user_id}"]
    await world.bot.start()
    await coordinator.open_direct_room(world.bot.account.user_id)
    await coordinator.wait_joined(world.bot.account.user_id)
    await world.ask(coordinator, "bonjour")
    await coordinator.send_file(PLACES.encode("utf-8"), "lieux.csv", size=30 * 1024 * 1024)
    told = await coordinator.read(1)
    assert bodies(told) == "Ce fichier est trop gros (20 Mo au plus)."
    assert "Guillestre" not in str(await world.ledger.query("SELECT name FROM places"))


# --- rooms -------------------------------------------------------------------------------------


async def test_an_invitation_to_a_room_that_is_not_direct_is_declined(world: World):
    await world.bot.start()
    ana = await world.person("ana")
    created = await ana.client.room_create(invite=[world.bot.account.user_id])
    assert isinstance(created, RoomCreateResponse)

    def declined() -> bool:
        room = ana.client.rooms.get(created.room_id)
        return room is not None and world.bot.account.user_id not in room.users

    await ana.wait(declined)
    assert world.bot.account.user_id not in ana.client.rooms[created.room_id].users


async def test_the_bot_leaves_a_direct_room_the_person_left(world: World):
    await world.bot.start()
    ana = await world.direct("ana")
    await world.ask(ana, "bonjour")
    assert ana.room_id is not None
    admin = world.synapse.admin_account().access_token

    async def members() -> list[str]:
        found = await asyncio.to_thread(
            world.synapse.call, "GET", f"/_synapse/admin/v1/rooms/{ana.room_id}/members",
            None, admin)
        return list(found["members"])

    left = LogWatch("bot.matrix", "leaving")
    with left:
        await ana.client.room_leave(ana.room_id)
        await left.seen()  # the bot saw her leave: it leaves and forgets the room
    await world.bot.stop()  # finishes the batch in hand: the leave request is answered
    assert await members() == []


# --- limits ------------------------------------------------------------------------------------


async def test_under_synapses_rate_limit_every_message_arrives_once_and_in_order(
    world: World,
):
    await world.bot.start()
    ana = await world.direct("ana")
    await world.ask(ana, "bonjour")
    # A Synapse limit for the bot, as there is one until an administrator lifts it
    # (Synapse's default is 0.2 a second after a burst of 10; the admin API takes integers).
    await asyncio.to_thread(world.synapse.override_ratelimit, world.bot.account.user_id, 1, 2)
    said = [await ana.say("4") for _ in range(3)]  # "Aide": the help, then the menu again
    for event_id in said:
        await world.ledger.wait_handled("mx", event_id)
    seen = await world.answered(ana)
    assert len(seen) == 6
    assert [("Mots utiles" in s.body, "Que souhaitez-vous faire" in s.body) for s in seen] == \
        [(True, False), (False, True)] * 3
    assert any("M_LIMIT_EXCEEDED" in e
               for e in await world.ledger.errors(f"mx:{ana.account.user_id}"))
    no_repeats(ana)
    await asyncio.to_thread(world.synapse.override_ratelimit, world.bot.account.user_id, 0, 0)


# --- contents ----------------------------------------------------------------------------------


def test_choices_are_a_numbered_list_in_the_plain_and_the_html_body():
    message = Rendered(UserKey("mx:@ana:example.org"), "Que faire ? <b>&</b>",
                       (("m:a", "Donner"), ("m:b", "Recevoir")), None)
    [content] = text_contents(message)
    assert content["body"] == "Que faire ? <b>&</b>\n\n1. Donner\n2. Recevoir"
    assert content["formatted_body"] == ("<p>Que faire ? &lt;b&gt;&amp;&lt;/b&gt;</p>"
                                         "<ol><li>Donner</li><li>Recevoir</li></ol>")


def test_a_very_long_text_is_sent_in_several_events_with_the_choices_on_the_last():
    message = Rendered(UserKey("mx:@ana:example.org"), ("mot " * 5000 + "\n\n") * 2,
                       (("ok", "OK"),), None)
    contents = text_contents(message)
    assert len(contents) >= 3
    assert all(len(c["body"]) <= 16_100 for c in contents)
    assert contents[-1]["body"].endswith("1. OK") and "1. OK" not in contents[0]["body"]


def test_files_are_m_file_and_images_m_image_with_their_size():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (90).to_bytes(4, "big") * 2 + b"rest"
    image = file_content(Attachment("qr.png", "image/png", png), "mxc://hs/abc", None)
    assert image["msgtype"] == "m.image" and image["url"] == "mxc://hs/abc"
    assert (image["info"]["w"], image["info"]["h"]) == (90, 90) == png_size(png)
    keys = {"key": {"k": "x"}, "iv": "i", "hashes": {"sha256": "h"}, "v": "v2"}
    pdf = file_content(Attachment("recu.pdf", "application/pdf", b"%PDF-1.4"), "mxc://hs/d",
                       keys)
    assert pdf["msgtype"] == "m.file" and "url" not in pdf
    assert pdf["file"] == {"url": "mxc://hs/d", **keys}


def test_a_reply_reaches_the_router_without_its_quotation_and_an_edit_not_at_all():
    reply = {"msgtype": "m.text", "body": "> <@bot:hs> Quel est votre rôle ?\n> 1. A\n\n2",
             "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}
    assert typed_text(reply) == "2"
    edit = {"msgtype": "m.text", "body": "* 3", "m.relates_to": {"rel_type": "m.replace"}}
    assert typed_text(edit) is None
    assert typed_text({"msgtype": "m.text", "body": "> cité\nsans ligne vide"}) == \
        "> cité\nsans ligne vide"


def test_a_received_file_has_its_name_type_size_and_caption():
    assert received_file({"msgtype": "m.file", "body": "lieux.csv",
                          "info": {"mimetype": "text/csv", "size": 12}}) == \
        ("lieux.csv", "text/csv", 12, "")
    assert received_file({"msgtype": "m.file", "body": "mes lieux", "filename": "l.csv"}) == \
        ("l.csv", "application/octet-stream", None, "mes lieux")
    assert received_file({"msgtype": "m.file", "info": {"size": "big"}})[::2] == \
        ("fichier", None)


def test_only_matrix_user_keys_have_a_matrix_id():
    assert user_id_of(UserKey("mx:@ana:example.org")) == "@ana:example.org"
    assert user_id_of(UserKey("tg:123")) is None
    assert user_id_of(UserKey("mx:ana")) is None
