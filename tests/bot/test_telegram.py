"""The Telegram adapter end to end: the real python-telegram-bot Application, run the way
``filiere-bot run`` runs it, against a local Bot API server (``tests/bot/fake_bot_api.py``)
that speaks Telegram's methods, response shapes and flood limits on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot as PtbBot
from telegram import Update

from bot.dispatcher import RetryLater, Undeliverable
from bot.i18n import Rendered
from bot.pacing import Pacer
from bot.settings import load
from bot.telegram import (
    BY_NUMBER,
    STALE_CHOICE,
    TelegramTransport,
    incoming_from,
    keyboard,
    plan,
    split_text,
    utf16_len,
)
from flows.messages import Attachment, Pressed, UserKey
from flows.records import Role
from tests.bot.fake_bot_api import BOT_USER, FakeBotApi, Sent
from tests.bot.ledger import Ledger
from tests.bot.test_pacing import FakeTime
from tests.handlers.chain import place_id
from tests.handlers.test_donations import organisation_lot
from tests.handlers.test_equipment_requests import ACCESS, answers
from tests.handlers.test_handover import one_ready_laptop
from tests.support import Clock, make_chat, start_serving

TOKEN = "123456789:AAEfiliereTestTokenForTheFakeBotApi0"
ANA, BEA, COORD = 4242, 4343, 900
PRESCRIBER_ACCESS = [line.format(role="1") for line in ACCESS]


@dataclass
class TelegramWorld:
    """The fake Bot API, the bot, and helpers to talk to it as people would."""

    api: FakeBotApi
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    task: asyncio.Task[int] | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    cursor: dict[int, int] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.workdir / "bot.sqlite3"

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.db)

    async def start(self, **env: str) -> None:
        settings = load({
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self.api.url,
            "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
            "FILIERE_DEMO": "yes",
            "FILIERE_COORDINATORS": f"tg:{COORD}",
            **self.env, **env,
        }, dotenv=None)
        self.task, self.stop_event = await start_serving(settings, self.db, within=20)

    async def stop(self) -> int:
        assert self.task is not None
        self.stop_event.set()
        status = await self.task
        self.task = None
        return status

    async def answered(self, chat: int, *update_ids: int) -> list[Sent]:
        """Once the updates are handled and the chat's outbox delivered: what is new there."""
        for update_id in update_ids:
            await self.ledger.wait_handled("tg", str(update_id))
        await self.ledger.wait_delivered(f"tg:{chat}")
        sent = self.api.to(chat)
        new = sent[self.cursor.get(chat, 0):]
        self.cursor[chat] = len(sent)
        return new

    async def say(self, chat: int, *lines: str, lang: str | None = "fr") -> list[Sent]:
        new: list[Sent] = []
        for line in lines:
            new += await self.answered(chat, self.api.say(chat, line, lang))
        return new

    async def press(self, chat: int, on: Sent, label: str) -> list[Sent]:
        """Press the button whose label contains ``label`` on the message ``on``."""
        data = next(data for text, data in on.buttons if label in text)
        return await self.answered(chat, self.api.press(chat, on, data))


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in sent)


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[TelegramWorld]:
    api = FakeBotApi(TOKEN)
    await api.start()
    world = TelegramWorld(api, tmp_path)
    yield world
    if world.task is not None:
        assert await world.stop() == 0
    await api.stop()


# --- conversations -----------------------------------------------------------------------------


async def test_a_donor_declares_a_lot_with_buttons_and_words_and_gets_the_receipt(
    tg: TelegramWorld,
):
    await tg.start()
    home = await tg.say(ANA, "/start")
    assert "Que souhaitez-vous faire ?" in home[-1].text
    assert [data for _, data in home[-1].buttons] == ["m:pro", "m:give", "m:got", "m:help",
                                                      "m:lang", "m:buy"]
    seen = await tg.press(ANA, home[-1], "donner du matériel")
    assert tg.api.answered, "the button press is answered (the phone stops spinning)"
    pressed = tg.api.stored(home[-1])
    assert "reply_markup" not in pressed and pressed["text"].endswith(
        "✓ 2. Je veux donner du matériel")
    assert seen[-1].buttons  # the next question, with its choices as buttons
    seen = await tg.say(ANA, *organisation_lot()[2:], "1")
    assert "LOT-2026-0001" in texts(seen)
    receipt = next(s for s in seen if s.method == "sendDocument")
    assert receipt.message["document"]["file_name"] == "recu-LOT-2026-0001.pdf"
    assert receipt.message["document"]["mime_type"] == "application/pdf"
    assert receipt.file is not None and receipt.file.startswith(b"%PDF-")
    assert all(utf16_len(s.text) <= 4096 for s in tg.api.sent)


async def test_a_prescriber_request_with_the_coordinator_pressing_buttons(tg: TelegramWorld):
    await tg.start()
    seen = await tg.say(ANA, *PRESCRIBER_ACCESS)
    assert "demande d'accès est envoyée" in texts(seen)
    notice = await tg.answered(COORD)
    assert "Nouvelle demande d'accès n° 1" in notice[-1].text
    seen = await tg.press(COORD, notice[-1], "Approuver")
    assert "approuvée" in texts(seen)
    await tg.press(COORD, seen[-1], "Aucun lieu")
    assert "accès professionnel est validé" in texts(await tg.answered(ANA))
    seen = await tg.say(ANA, "menu")
    seen = await tg.press(ANA, seen[-1], "Espace professionnel")
    seen = await tg.press(ANA, seen[-1], "Demander du matériel")
    seen = await tg.say(ANA, *answers())
    assert "Demande DEM-2026-0001 enregistrée" in texts(seen)


async def test_the_language_comes_from_telegrams_language_code(tg: TelegramWorld):
    await tg.start(TELEGRAM_API_BASE_URL=f"{tg.api.url}/bot")  # the ".../bot" form works too
    seen = await tg.say(BEA, "hello", lang="en-GB")
    assert "What would you like to do?" in seen[-1].text


async def test_the_command_menu_is_published_in_french_and_english(tg: TelegramWorld):
    await tg.start()
    french = [c["command"] for c in tg.api.commands["fr"]]
    english = [c["command"] for c in tg.api.commands["en"]]
    assert french == ["start", "aide", "langue", "annuler"]
    assert english == ["start", "help", "language", "cancel"]
    assert tg.api.commands[None] == tg.api.commands["fr"]  # everyone else: the default
    assert tg.api.commands["en"][2]["description"] == "Change language"
    seen = await tg.say(BEA, "/language", lang="en")
    assert "Choisissez votre langue" in texts(seen) or "Choose your language" in texts(seen)


async def test_a_deep_link_reaches_the_router_as_start_and_its_code(tg: TelegramWorld):
    await tg.start()
    seen = await tg.say(BEA, "/start REJ7K3M9P")
    assert "Je ne connais pas ce code" in texts(seen)  # checked by the beneficiaries feature


async def test_a_sticker_scanned_during_a_sale_is_the_device_sold(tg: TelegramWorld):
    """The phone's camera on the sticker opens ``t.me/<bot>?start=d-HA-…``: Telegram sends
    ``/start d-HA-…``, which answers "which device is sold?" instead of opening its card."""
    chat = await make_chat(tg.db, Clock())
    try:
        _device, label = await one_ready_laptop(chat)
        async with chat.app.storage.transaction() as uow:
            await uow.users.create(UserKey(f"tg:{ANA}"), "fr", chat.clock())
            await uow.users.set_role(UserKey(f"tg:{ANA}"), Role.PLACE_STAFF,
                                     await place_id(chat, "Centre de ressources de Veynes"))
    finally:
        await chat.app.close()
    await tg.start()
    seen = await tg.say(BEA, "menu", "Acheter un ordinateur reconditionné",
                        "Réserver : Ordinateur portable", "J. D.", "Passer", "Confirmer")
    assert "C'est réservé : RES-0001" in texts(seen)
    seen = await tg.say(ANA, "Réservations du lieu", "Vendu : RES-0001")
    assert "Quel appareil est vendu ?" in texts(seen)
    seen = await tg.say(ANA, f"/start d-{label}")
    assert "Comment a-t-il été payé ?" in texts(seen)
    assert f"Appareil {label}" not in texts(seen)


# --- files people send -----------------------------------------------------------------------


async def test_a_coordinator_sends_back_the_places_file_and_it_is_imported(tg: TelegramWorld):
    await tg.start()
    seen = await tg.say(COORD, "bonjour")
    places = "nom;type;commune;horaires\nTiers-lieu de Guillestre;relais;Guillestre;\n"
    update = tg.api.send_file(COORD, places.encode("utf-8"), "lieux.csv", "text/csv",
                              caption="mes lieux")
    seen = await tg.answered(COORD, update)
    assert len(tg.api.downloads) == 1  # fetched through getFile and the file URL
    assert "Fichier de lieux du réseau enregistré : 1 lignes" in texts(seen)
    assert "Tiers-lieu de Guillestre" in str(await tg.ledger.query("SELECT name FROM places"))


async def test_a_file_over_20_mb_is_refused_politely_without_downloading(tg: TelegramWorld):
    await tg.start()
    places = b"nom;type;commune;horaires\nLieu trop gros;relais;Gap;\n"
    tg.api.send_file(COORD, places, "lieux.csv", "text/csv", size=30 * 1024 * 1024)
    [refusal] = await tg.api.wait_sent(COORD, 1)
    assert refusal.text == "Ce fichier est trop gros (20 Mo au plus)."
    await tg.say(BEA, "hello", lang="en")
    tg.api.send_file(BEA, places, None, None, lang="en", size=30 * 1024 * 1024)
    refusal = (await tg.api.wait_sent(BEA, 2))[-1]
    assert refusal.text == "This file is too big (20 MB at most)."
    assert tg.api.downloads == [] and not [m for m, _ in tg.api.calls if m == "getFile"]
    assert "Lieu trop gros" not in str(await tg.ledger.query("SELECT name FROM places"))


def test_a_document_keeps_its_caption_as_the_text():
    bot = PtbBot(TOKEN)
    found = incoming_from(Update.de_json({"update_id": 4, "message": {
        "message_id": 4, "date": 0, "chat": {"id": ANA, "type": "private"},
        "from": {"id": ANA, "is_bot": False, "first_name": "Ana"}, "caption": "voici",
        "document": {"file_id": "f", "file_unique_id": "u", "file_size": 3}}}, bot))
    assert found is not None and found.text == "voici" and found.attachment is None


# --- buttons that must not be acted on -------------------------------------------------------


async def test_a_forged_button_is_refused_politely_and_never_acted_on(tg: TelegramWorld):
    await tg.start()
    await tg.say(ANA, *PRESCRIBER_ACCESS)
    notice = await tg.answered(COORD)
    home = await tg.say(BEA, "bonjour")
    # Bea forges the coordinator's "approve" on her own menu, then on the coordinator's message.
    refused = await tg.answered(BEA, tg.api.press(BEA, home[-1], "acc:ok:1"))
    assert "Ce bouton n'est plus valable" in texts(refused)
    refused = await tg.answered(BEA, tg.api.press(BEA, notice[-1], "acc:ok:1"))
    assert "Ce bouton n'est plus valable" in texts(refused)
    assert len(tg.api.answered) == 2  # both presses answered
    assert tg.api.to(ANA)[-1].text.startswith("Merci ! Votre demande d'accès est envoyée")
    assert "reply_markup" in tg.api.stored(notice[-1])  # the real buttons are still there


async def test_a_stale_button_of_a_finished_question_is_not_taken_as_an_answer(
    tg: TelegramWorld,
):
    await tg.start()
    seen = await tg.say(ANA, *PRESCRIBER_ACCESS[:2])  # "Quel est votre rôle ?" with buttons
    role_question = seen[-1]
    await tg.say(ANA, "1", "CCAS de Veynes")  # role answered, structure given
    seen = await tg.answered(ANA, tg.api.press(ANA, role_question, "Accompagnant"))
    assert "Adresse de la structure" not in texts(seen[:-1])
    assert "Adresse de la structure" in seen[-1].text  # still the current question


def test_a_press_on_another_chats_message_or_unknown_data_becomes_a_refused_choice():
    bot = PtbBot(TOKEN)
    message = {"message_id": 7, "from": BOT_USER, "date": 0,
               "chat": {"id": ANA, "type": "private"}, "text": "Q ?",
               "reply_markup": {"inline_keyboard": [[{"text": "Oui", "callback_data": "ok"}]]}}

    def press(user: int, data: str) -> Any:
        return incoming_from(Update.de_json({"update_id": 9, "callback_query": {
            "id": "c", "from": {"id": user, "is_bot": False, "first_name": "X"},
            "chat_instance": "i", "message": message, "data": data}}, bot))

    incoming = press(ANA, "ok")
    assert (incoming.choice, incoming.event_id) == ("ok", "9")
    assert incoming.pressed == Pressed("7", "Q ?", "Oui")
    refused = [press(ANA, "acc:ok:1"), press(BEA, "ok")]
    assert [(r.choice, r.pressed) for r in refused] == [(STALE_CHOICE, None)] * 2


def test_a_deep_link_and_a_shared_phone_number_are_passed_as_typed():
    bot = PtbBot(TOKEN)
    person = {"id": ANA, "is_bot": False, "first_name": "Ana", "language_code": "fr"}
    chat = {"id": ANA, "type": "private"}
    start = Update.de_json({"update_id": 1, "message": {
        "message_id": 1, "from": person, "chat": chat, "date": 0, "text": "/start REJ7K3M9P",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}, bot)
    found = incoming_from(start)
    assert found is not None and found.text == "/start REJ7K3M9P"
    assert found.lang_hint == "fr"
    contact = Update.de_json({"update_id": 2, "message": {
        "message_id": 2, "from": person, "chat": chat, "date": 0,
        "contact": {"phone_number": "+33612345678", "first_name": "Ana", "user_id": ANA}}}, bot)
    found = incoming_from(contact)
    assert found is not None and found.text == "+33612345678"
    group = Update.de_json({"update_id": 3, "message": {
        "message_id": 3, "from": person, "date": 0, "text": "bonjour",
        "chat": {"id": -100, "type": "group", "title": "G"}}}, bot)
    assert incoming_from(group) is None


# --- sending -------------------------------------------------------------------------------


def test_long_texts_are_split_under_telegrams_limit_at_paragraphs():
    text = "\n\n".join(f"Paragraphe {n} " + "mot " * 300 for n in range(12))
    pieces = split_text(text)
    assert len(pieces) > 3 and all(utf16_len(p) <= 4096 for p in pieces)
    assert all(p.startswith("Paragraphe") for p in pieces)
    emoji = split_text("😀" * 3000)
    assert [utf16_len(p) for p in emoji] == [4096, 1904]


def test_choice_ids_over_64_bytes_become_their_position():
    message = Rendered(UserKey("tg:1"), "Q ?", (("x" * 70, "Long"), ("ok", "Oui")), None)
    [call] = plan(message)
    assert call.markup is not None
    datas = [b.callback_data for row in call.markup.inline_keyboard for b in row]
    assert datas == [f"{BY_NUMBER}1", "ok"]


async def test_a_long_text_with_a_file_is_sent_as_pieces_then_the_file_with_the_buttons(
    tg: TelegramWorld,
):
    async with PtbBot(TOKEN, base_url=f"{tg.api.url}/bot") as bot:
        transport = TelegramTransport(bot, Pacer(0, 1))
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        await transport.send(Rendered(UserKey(f"tg:{ANA}"), "Texte. " * 1500,
                                      (("ok", "OK"),), Attachment("qr.png", "image/png", png),
                                      "outbox:1"))
        await transport.send(Rendered(UserKey(f"tg:{ANA}"), "Votre reçu.", (),
                                      Attachment("recu.pdf", "application/pdf", b"%PDF-1.4"),
                                      "outbox:2"))
    sent = tg.api.to(ANA)
    assert [s.method for s in sent] == ["sendMessage"] * 3 + ["sendPhoto", "sendDocument"]
    assert [bool(s.buttons) for s in sent] == [False, False, False, True, False]
    assert sent[3].file == png and sent[4].text == "Votre reçu."  # a short text: the caption


async def test_a_retried_split_message_sends_only_the_pieces_not_yet_accepted(
    tg: TelegramWorld,
):
    async with PtbBot(TOKEN, base_url=f"{tg.api.url}/bot") as bot:
        transport = TelegramTransport(bot, Pacer(0, 1))
        message = Rendered(UserKey(f"tg:{ANA}"), "Texte. " * 1500, (), None, "outbox:9")
        tg.api.fail("sendMessage", 502, times=1)  # the first piece fails...
        tg.api.chat_limit, tg.api.window = 2, 60  # ...and the third hits the flood limit
        with pytest.raises(RetryLater):
            await transport.send(message)
        transport.pacer = Pacer(0, 1)  # the dispatcher would have waited out the pause
        with pytest.raises(RetryLater) as flood:
            await transport.send(message)
        assert flood.value.seconds == 1
        tg.api.chat_limit = None
        transport.pacer = Pacer(0, 1)
        await transport.send(message)
    texts_sent = [s.text for s in tg.api.to(ANA)]
    assert len(texts_sent) == 3 and "".join(texts_sent).count("Texte.") == 1500


async def test_a_blocked_bot_is_undeliverable(tg: TelegramWorld):
    tg.api.blocked.add(ANA)
    async with PtbBot(TOKEN, base_url=f"{tg.api.url}/bot") as bot:
        with pytest.raises(Undeliverable):
            await TelegramTransport(bot, Pacer(0, 1)).send(
                Rendered(UserKey(f"tg:{ANA}"), "Bonjour", (), None, "outbox:3"))


async def test_a_burst_meets_429s_and_every_message_arrives_once_in_order(tg: TelegramWorld):
    tg.api.chat_limit, tg.api.window, tg.api.retry_after = 3, 1.0, 1
    await tg.start()
    await tg.say(ANA, "bonjour")
    updates = [tg.api.say(ANA, "4") for _ in range(4)]  # "Aide": the help, then the menu
    seen = await tg.answered(ANA, *updates)
    assert tg.api.too_many > 0
    assert len(seen) == 8
    assert [("Mots utiles" in s.text, "Que souhaitez-vous faire" in s.text) for s in seen] == \
        [(True, False), (False, True)] * 4
    assert any("429" in e for e in await tg.ledger.errors(f"tg:{ANA}"))


async def test_network_errors_and_5xx_are_retried_and_a_blocked_person_given_up(
    tg: TelegramWorld,
):
    await tg.start()
    tg.api.fail("sendMessage", 502, times=1, description="Bad Gateway")
    seen = await tg.say(ANA, "bonjour")
    assert len(seen) == 1 and "Que souhaitez-vous faire ?" in seen[0].text
    assert any("unreachable" in e for e in await tg.ledger.errors(f"tg:{ANA}"))
    tg.api.blocked.add(BEA)
    await tg.say(BEA, "bonjour")
    assert await tg.ledger.query(
        "SELECT status FROM outbox WHERE recipient = ?", f"tg:{BEA}") == [("failed",)]


async def test_the_bot_paces_itself_under_the_per_chat_limit(tg: TelegramWorld):
    # Two a second after a burst of three never makes more than five in one second.
    tg.api.chat_limit, tg.api.window = 5, 1.0
    await tg.start(TELEGRAM_CHAT_MESSAGES_PER_SECOND="2")
    await tg.say(ANA, "bonjour")
    updates = [tg.api.say(ANA, "4") for _ in range(3)]
    seen = await tg.answered(ANA, *updates)
    assert len(seen) == 6 and tg.api.too_many == 0


# --- restarts and webhooks -------------------------------------------------------------------


async def test_a_restart_never_handles_an_update_twice(tg: TelegramWorld):
    await tg.start()
    first = tg.api.say(ANA, "bonjour")
    await tg.answered(ANA, first)
    assert await tg.stop() == 0
    assert tg.api.confirmed > first  # the offset was confirmed at the clean stop
    await tg.start()
    replayed = tg.api.update(tg.api.message_update(ANA, "bonjour"), update_id=first)
    fresh = tg.api.say(ANA, "4")
    seen = await tg.answered(ANA, replayed, fresh)
    assert len(seen) == 2 and "Mots utiles" in seen[0].text  # only the fresh one answered


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_registers_the_url_and_checks_the_secret_on_every_call(
    tg: TelegramWorld,
):
    port = free_port()
    await tg.start(TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg/hook",
                   TELEGRAM_WEBHOOK_SECRET="s3cret-token", TELEGRAM_WEBHOOK_PORT=str(port))
    assert tg.api.webhook is not None
    assert tg.api.webhook["url"] == "https://bot.example.org/tg/hook"
    assert tg.api.webhook["secret_token"] == "s3cret-token"
    update = {"update_id": 77, **tg.api.message_update(ANA, "bonjour")}
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/tg/hook"
        wrong = await client.post(url, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert wrong.status_code == 403
        missing = await client.post(url, content=json.dumps(update),
                                    headers={"Content-Type": "application/json"})
        assert missing.status_code == 403
        right = await client.post(url, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
        assert right.status_code == 200
    seen = await tg.answered(ANA, 77)
    assert "Que souhaitez-vous faire ?" in seen[-1].text


async def test_a_webhook_update_is_acknowledged_only_once_handled(tg: TelegramWorld):
    """Telegram stops delivering an update once answered 200: answered before the bot has
    recorded it, the update would be lost to a crash in between. While the database is
    held by another writer, the answer waits."""
    port = free_port()
    await tg.start(TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg/hook",
                   TELEGRAM_WEBHOOK_SECRET="s3cret-token", TELEGRAM_WEBHOOK_PORT=str(port))
    url, secret = f"http://127.0.0.1:{port}/tg/hook", {
        "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    async with httpx.AsyncClient() as client:
        hello = {"update_id": 80, **tg.api.message_update(ANA, "bonjour")}
        assert (await client.post(url, json=hello, headers=secret)).status_code == 200
        home = await tg.answered(ANA, 80)
        # A press: the bot answers the press at once (the phone stops spinning), then
        # records the update; that first call says the update is in its hands.
        press = {"update_id": 81, **tg.api.press_update(ANA, home[-1], "m:help")}
        other = sqlite3.connect(tg.db, isolation_level=None, check_same_thread=False)
        # Taken on a thread: the bot runs on this loop, and may be finishing a transaction
        # of its own (the jobs run at start), which it could not while the loop waits here.
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
        try:
            answer = asyncio.ensure_future(client.post(url, json=press, headers=secret))
            await tg.api.wait_until(lambda: len(tg.api.answered) == 1)
            assert not answer.done(), "acknowledged while the update could not be recorded"
            other.execute("COMMIT")
            assert (await answer).status_code == 200
        finally:
            other.close()
    assert await tg.ledger.query("SELECT 1 FROM processed_events WHERE event_id = 'tg:81'")


# --- buttons bound to their question (issue 18) -----------------------------------------------


DONATION_TO_DATA = organisation_lot()[:8]
"""A donation up to "what do the devices still hold?" (several choices, then "Valider"); the
question after it, "anything else to know?", also has a "Valider"."""
DATA = "Que contiennent encore les appareils"
OPTIONS = "Autre chose à savoir"


async def conversation_step(tg: TelegramWorld, chat: int) -> str | None:
    rows = await tg.ledger.query("SELECT state FROM conversations WHERE user_key = ?",
                                 f"tg:{chat}")
    return json.loads(rows[0][0])["step"] if rows else None


async def test_an_old_keyboard_does_not_answer_the_current_question(tg: TelegramWorld):
    """Two questions in a row offer "Valider": a press on the first one's keyboard, answered
    by typing, is refused and the current question asked again, unanswered."""
    await tg.start()
    data = (await tg.say(ANA, *DONATION_TO_DATA))[-1]
    assert DATA in data.text
    assert all(len(d.encode()) <= 64 for _, d in data.buttons)
    options = await tg.say(ANA, "2")  # typed: the data question's keyboard stays
    assert OPTIONS in options[-1].text
    seen = await tg.press(ANA, data, "Valider")
    assert "répond à une question précédente" in texts(seen)
    assert OPTIONS in seen[-1].text and seen[-1].buttons  # asked again, with its buttons
    assert await conversation_step(tg, ANA) == "donation.options"
    old = tg.api.stored(data)
    assert "✓" not in old["text"] and "reply_markup" not in old  # no pick shown; keys gone
    seen = await tg.press(ANA, seen[-1], "Valider")  # the current keyboard still answers
    assert OPTIONS not in seen[-1].text and "Dans quelle commune" in seen[-1].text
    assert tg.api.stored(options[-1])["text"] == options[-1].text  # never pressed: untouched


async def test_a_quick_double_tap_counts_once(tg: TelegramWorld):
    await tg.start()
    kind = (await tg.say(ANA, *organisation_lot()[:2]))[-1]
    assert "Vous donnez en tant que" in kind.text
    data = next(data for label, data in kind.buttons if "Une entreprise" in label)
    first, second = tg.api.press(ANA, kind, data), tg.api.press(ANA, kind, data)
    seen = await tg.answered(ANA, first)
    await tg.api.wait_until(lambda: tg.api.confirmed > second)  # both fetched and handled
    seen += await tg.answered(ANA)
    assert len(tg.api.answered) == 2  # both presses answered (the phone stops spinning)
    assert [s.text for s in seen if s.method == "sendMessage"] == [seen[0].text]
    assert "Nom de votre structure" in seen[0].text and "précédente" not in texts(seen)
    assert await conversation_step(tg, ANA) == "donation.structure"
    assert tg.api.stored(kind)["text"].endswith("✓ 1. Une entreprise")
    assert await tg.ledger.query("SELECT 1 FROM processed_events WHERE event_id = ?",
                                 f"tg:{second}") == []  # dropped by the adapter


async def test_a_multi_select_ticks_its_keyboard_in_place(tg: TelegramWorld):
    await tg.start()
    data = (await tg.say(ANA, *DONATION_TO_DATA))[-1]
    assert DATA in data.text and len(data.buttons) == 10
    assert await tg.press(ANA, data, "Fichiers et photos") == []  # no new message
    assert await tg.press(ANA, data, "Données de santé") == []
    shown = tg.api.stored(data)
    labels = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    ticked = [label for label in labels if "✓" in label]
    assert ticked == ["1. ✓ Fichiers et photos personnels", "3. ✓ Données de santé"]
    assert len(labels) == 10 and DATA in shown["text"]
    assert "Choisi : Fichiers et photos personnels, Données de santé. Ajoutez-en ou touchez " \
        "« Valider »." in shown["text"]
    seen = await tg.press(ANA, data, "Valider")
    assert OPTIONS in seen[-1].text
    assert tg.api.stored(data)["text"].endswith("✓ 10. Valider")


async def test_age_state_and_chargers_tick_in_place_and_are_taken_at_the_third_tap(
    tg: TelegramWorld,
):
    """Three questions' buttons in one message: one tap each, as three questions were."""
    await tg.start()
    state = (await tg.say(ANA, *organisation_lot()[:7]))[-1]
    assert "Touchez une réponse pour chacun" in state.text and len(state.buttons) == 9
    assert await tg.press(ANA, state, "Plus de 8 ans") == []
    assert await tg.press(ANA, state, "En panne") == []
    shown = tg.api.stored(state)
    labels = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert [label for label in labels if "✓" in label] == ["✓ Plus de 8 ans", "✓ En panne"]
    assert "Reste : les chargeurs." in shown["text"]
    seen = await tg.press(ANA, state, "Sans chargeurs")
    assert DATA in seen[-1].text


async def test_the_lot_is_typed_in_one_line_or_built_with_buttons(tg: TelegramWorld):
    await tg.start()
    items = (await tg.say(ANA, *organisation_lot()[:6]))[-1]
    assert "Ou touchez un type." in items.text
    asked = await tg.press(ANA, items, "Écrans")
    assert "Combien d'écrans ?" in texts(asked)
    noted = await tg.say(ANA, "3")
    assert "Noté : 3 écrans." in texts(noted)
    seen = await tg.say(ANA, "12 portables")  # or typed, once the buttons were used
    assert "son âge, son état" in seen[-1].text


# --- edits paced and retried like messages ----------------------------------------------------


async def test_the_pick_shown_after_a_press_waits_out_a_429(tg: TelegramWorld):
    await tg.start()
    home = await tg.say(ANA, "/start")
    tg.api.fail("editMessageText", 429, retry_after=1, description="Too Many Requests")
    await tg.press(ANA, home[-1], "Aide")
    await tg.api.wait_until(lambda: tg.api.stored(home[-1])["text"].endswith("✓ 4. Aide")
                            or tg.api.stored(home[-1])["text"].endswith("✓ Aide"))
    assert "reply_markup" not in tg.api.stored(home[-1])
    assert any("429" in e for e in await tg.ledger.errors(f"tg:{ANA}"))


async def test_edits_wait_for_the_per_chat_pacing_like_messages(tg: TelegramWorld):
    """Three calls at once in a chat (a reply and its menu), then one a second: an edit (the
    pick shown under a question) is one of them."""
    time = FakeTime()
    async with PtbBot(TOKEN, base_url=f"{tg.api.url}/bot") as bot:
        question = await bot.send_message(ANA, "Q ?", reply_markup=keyboard((("a", "A"),)))
        transport = TelegramTransport(bot, Pacer(0, 1, 1, 3, clock=time.clock,
                                                 sleep=time.sleep))
        for n in range(4):
            await transport.send(Rendered(UserKey(f"tg:{ANA}"), f"Q ?\n\n✓ A{n}", (), None,
                                          f"outbox:{n}", replaces=str(question.message_id)))
    assert time.slept == [1.0]
    assert tg.api.stored(tg.api.to(ANA)[0])["text"] == "Q ?\n\n✓ A3"


# --- people who blocked the bot, or never opened it -------------------------------------------


def sends_to(tg: TelegramWorld, chat: int) -> int:
    """Calls made to send or edit something in ``chat`` (accepted or not)."""
    return sum(1 for method, params in tg.api.calls
               if method.startswith(("send", "edit")) and int(params["chat_id"]) == chat)


async def test_a_person_who_blocks_the_bot_is_not_written_to_until_they_come_back(
    tg: TelegramWorld,
):
    await tg.start()
    await tg.say(ANA, *PRESCRIBER_ACCESS)
    notice = await tg.answered(COORD)
    await tg.press(COORD, notice[-1], "Approuver")
    await tg.answered(ANA)
    await tg.answered(ANA, tg.api.block(ANA))
    tried = sends_to(tg, ANA)
    seen = await tg.say(COORD, "/coordination")
    seen = await tg.press(COORD, seen[-1], "Écrire aux accompagnant·es")
    seen = await tg.say(COORD, "Tous les accompagnant·es", "Fermeture le 24 décembre.",
                        "Confirmer")
    # The demo's two prescribers (on the console) are reached; Ana is not tried.
    assert "Message envoyé à 2 accompagnant·es." in texts(seen)
    assert "1 autre a bloqué le bot et ne le recevra pas." in texts(seen)
    await tg.ledger.wait_delivered(f"tg:{ANA}")
    assert sends_to(tg, ANA) == tried
    await tg.answered(ANA, tg.api.unblock(ANA))
    seen = await tg.say(ANA, "bonjour")
    assert "Que souhaitez-vous faire ?" in seen[-1].text


async def test_a_refusal_as_blocked_is_remembered_until_the_person_writes(tg: TelegramWorld):
    await tg.start()
    await tg.say(ANA, *PRESCRIBER_ACCESS[:2])  # the role question, waiting
    tg.api.blocked.add(ANA)  # blocked without Telegram telling the bot (an older block)
    await tg.answered(ANA, tg.api.say(ANA, "1"))  # the answer is refused (403): remembered
    assert await tg.ledger.query("SELECT reason FROM unreachable WHERE recipient = ?",
                                 f"tg:{ANA}") == [("blocked",)]
    tg.api.blocked.discard(ANA)
    seen = await tg.say(ANA, "CCAS de Veynes")  # writing again lifts it
    assert "Adresse de la structure" in seen[-1].text
    assert await tg.ledger.query("SELECT 1 FROM unreachable") == []


async def test_a_notice_to_someone_who_never_opened_the_bot_waits_until_they_write(
    tg: TelegramWorld,
):
    tg.api.never_started.add(COORD)
    await tg.start()
    await tg.say(ANA, *PRESCRIBER_ACCESS)
    await tg.ledger.wait_error(f"tg:{COORD}", "chat not found")  # tried once, kept
    assert tg.api.to(COORD) == []
    assert await tg.ledger.query("SELECT status FROM outbox WHERE recipient = ?",
                                 f"tg:{COORD}") == [("pending",)]
    tried = sends_to(tg, COORD)
    await tg.say(ANA, "menu")  # the dispatcher goes round again: the coordinator is skipped
    assert sends_to(tg, COORD) == tried
    seen = await tg.say(COORD, "bonjour")
    assert "Nouvelle demande d'accès n° 1" in seen[0].text  # first the notice kept
    assert "Que souhaitez-vous faire ?" in seen[-1].text


async def test_telegram_words_a_gesture_as_touching(tg: TelegramWorld):
    """Its choices are buttons (the console words it as writing: test_conversations.py)."""
    await tg.start()
    seen = await tg.say(ANA, *organisation_lot()[:5], "123")  # no phone, no e-mail
    assert "ou touchez « Passer »." in texts(seen)


async def test_an_update_the_library_cannot_read_is_skipped_not_stopping_the_others(
    tg: TelegramWorld, caplog: pytest.LogCaptureFixture,
):
    """A kind of update python-telegram-bot does not know yet, or a malformed one, made its
    ``get_updates`` raise at every poll: nothing after it was ever read again."""
    await tg.start()
    kicked = {"user": BOT_USER, "status": "kicked"}  # "until_date" missing
    unreadable = tg.api.update({"my_chat_member": {
        "chat": {"id": ANA, "type": "private"}, "date": 0,
        "from": {"id": ANA, "is_bot": False, "first_name": "Ana"},
        "old_chat_member": {"user": BOT_USER, "status": "member"}, "new_chat_member": kicked}})
    seen = await tg.say(ANA, "bonjour")
    assert "Que souhaitez-vous faire ?" in seen[-1].text
    assert f"update {unreadable} cannot be read; skipped" in caplog.text
