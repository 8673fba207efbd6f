"""The handover that opens the follow-up: the device picked by its sticker, linked to the
request and to a join code created then, and the kit the person leaves with."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from flows.mednum import MediationPlace
from flows.messages import UserKey
from flows.records import DeviceCategory, Role
from tests.bot.browser import ensure_pdf_tools, pdf_text, qr_codes_on_pdf
from tests.handlers.chain import (
    STAFF,
    ready_device,
    received_lot,
    rows,
    set_stock,
    value,
)
from tests.handlers.test_equipment_requests import approve, ask
from tests.support import Chat, Clock, make_chat, texts

CODE = re.compile(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}")


async def one_ready_laptop(chat: Chat) -> tuple[int, str]:
    """Veynes' demo laptops gone; one laptop of a received lot made ready there."""
    await set_stock(chat, "laptop", {})
    _lot, _ref, devices = await received_lot(chat, {DeviceCategory.LAPTOP: 2})
    await ready_device(chat, devices[0][0])
    return devices[0]


async def requested(chat: Chat) -> None:
    """Ana asks a laptop for Léa of Veynes: it is held at Veynes; its staff confirm the
    getting-started session."""
    await approve(chat, "ana", Role.PRESCRIBER)
    sent = await ask(chat, "ana")
    assert "Centre de ressources de Veynes" in texts(sent, "ana")


async def directory(chat: Chat) -> None:
    async with chat.app.storage.transaction() as uow:
        await uow.coordination.save_mediation([
            MediationPlace("fs-veynes", "", "France Services de Veynes", "05179", "05400",
                           "12 rue Jean Jaurès", "", (), date(2026, 9, 1),
                           phone="04 92 00 00 00"),
            MediationPlace("mt-aspres", "", "Médiathèque d'Aspres", "05010", "05140",
                           "Place du Village", "", (), date(2026, 9, 1)),
            MediationPlace("fs-briancon", "", "France Services de Briançon", "05023",
                           "05100", "Rue Centrale", "", (), date(2026, 9, 1))],
            chat.clock())


async def test_scanning_the_sticker_hands_the_device_over_with_a_kit_that_opens_the_follow_up(
        tmp_path: Path, clock: Clock):
    ensure_pdf_tools()
    chat = await make_chat(tmp_path / "bot.sqlite3", clock,
                           TELEGRAM_BOT_USERNAME="reemploi05_bot",
                           FILIERE_BOOKLET_URL="https://example.org/livret-mint.pdf",
                           FILIERE_WARRANTY_MONTHS="6")
    try:
        device, label = await one_ready_laptop(chat)
        await directory(chat)
        await requested(chat)
        sent = await chat.say(STAFF, choice="rq:hy:1")
        assert f"{label} Lenovo ThinkPad T480 (B)" in texts(sent, STAFF)
        sent = await chat.say(STAFF, f"/start d-{label}")  # the phone's camera on the sticker
        told = texts(sent, STAFF)
        assert f"Remise enregistrée pour DEM-2026-0001 : appareil {label}" in told
        code = CODE.search(told)
        assert code is not None
        canonical = code.group(0).replace(" ", "")
        assert await rows(chat, "SELECT state, request_id, join_code FROM devices WHERE id = ?",
                          device) == [("handed_over", 1, canonical)]
        assert await value(chat, "SELECT place_id FROM join_codes WHERE code = ?",
                           canonical) == await value(chat, "SELECT place_id FROM devices"
                                                           " WHERE id = ?", device)
        assert await value(chat, "SELECT status FROM equipment_requests") == "handed_over"
        assert "a été remis à la personne" in texts(sent, "ana")
        [pdf] = [m.attachment.data for m in sent if m.attachment]
        # The person joins with the code of their kit: their pseudonymous record is linked.
        await chat.script("lea", code.group(0), "1", "Passer", "1")
        assert await value(chat, "SELECT d.label FROM beneficiaries b JOIN devices d"
                                 " ON d.join_code = b.ref WHERE b.user_key = 'cli:lea'") == label
    finally:
        await chat.app.close()
    kit = pdf_text(pdf, tmp_path)
    assert label in kit and "Lenovo ThinkPad T480" in kit and "B : traces d'usage" in kit
    assert code.group(0) in kit and "Le code marche une seule fois" in kit
    assert "Prochains ateliers à Centre de ressources de Veynes" in kit
    assert "France Services de Veynes" in kit and "Médiathèque d'Aspres" in kit
    assert kit.index("Veynes :") < kit.index("Aspres")  # the person's commune first
    assert "Briançon" not in kit  # another intercommunality
    assert "https://example.org/livret-mint.pdf" in kit
    assert "garanti 6 mois, jusqu'au dimanche 23 mai 2027" in kit
    assert "ne suit pas ce que vous faites avec cet appareil" in kit
    assert qr_codes_on_pdf(pdf, tmp_path) == [f"https://t.me/reemploi05_bot?start={canonical}"]


async def test_a_device_of_another_kind_place_or_state_is_refused_and_asked_again(chat: Chat):
    device, label = await one_ready_laptop(chat)
    await requested(chat)
    _lot, _ref, devices = await received_lot(chat, {DeviceCategory.SCREEN: 1})
    await chat.say(STAFF, choice="rq:hy:1")
    sent = await chat.say(STAFF, devices[0][1])  # a screen, not a laptop
    assert "attend un autre type de matériel" in texts(sent, STAFF)
    assert "Quel appareil remettez-vous" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "HA-3333")
    assert "Aucun appareil de votre lieu ne porte l'étiquette HA-3333" in texts(sent, STAFF)
    assert await value(chat, "SELECT status FROM equipment_requests") == "sent"
    sent = await chat.say(STAFF, label)
    assert "Remise enregistrée" in texts(sent, STAFF)
    assert device


async def test_without_a_ready_device_nothing_is_handed_over(chat: Chat):
    await requested(chat)
    await set_stock(chat, "laptop", {})  # the device the request held went to recycling
    sent = await chat.say(STAFF, choice="rq:hy:1")
    assert "Aucun appareil prêt de ce type" in texts(sent, STAFF)
    assert await value(chat, "SELECT count(*) FROM conversations WHERE user_key = ?",
                       "cli:demo-veynes") == 0
    assert await value(chat, "SELECT status FROM equipment_requests") == "sent"


async def test_the_figures_count_the_device_handed_over_in_the_person_s_intercommunality(
        chat: Chat):
    _device, label = await one_ready_laptop(chat)
    await requested(chat)
    await chat.say(STAFF, choice="rq:hy:1")
    await chat.say(STAFF, label)
    async with chat.app.storage.transaction() as uow:
        events = await uow.reports.events(datetime(2026, 1, 1, tzinfo=UTC), chat.clock())
    handed = [(e.epci, e.count, e.kind) for e in events if e.indicator.value == "handed_over"]
    assert handed == [("200067445", 1, "laptop")]  # Veynes: CC Buëch-Dévoluy
    made = [(e.count, e.kind) for e in events if e.indicator.value == "reconditioned"]
    assert made == [(1, "laptop")]  # the one the school made ready, not the demo's
    assert UserKey("cli:ana")
