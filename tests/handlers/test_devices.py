"""Devices of a received lot: registered with a label, their stickers, their card.

A lot's devices are registered at its reception, in one message each or all at once; each
gets a label and the lot a sheet of stickers whose QR codes open the bot on the device. Its
card is for its staff; anyone else scanning the sticker learns nothing about it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.records import DeviceCategory
from tests.bot.browser import (
    ensure_pdf_tools,
    pdf_text,
    qr_codes_on_stickers,
)
from tests.handlers.chain import (
    RECOND,
    STAFF,
    WIPE_MEDIUM,
    received_lot,
    rows,
    seed_lot,
    value,
)
from tests.support import Chat, Clock, make_chat, texts

LABEL = re.compile(r"HA-[34679ACDEFGHJKMNPQRTUVWXY]{4}")


async def test_receiving_a_lot_offers_to_register_its_devices(chat: Chat):
    lot, _ref = await seed_lot(chat)
    sent = await chat.say(STAFF, choice=f"lot:rcv:{lot}")
    shown = texts(sent, STAFF)
    assert "Enregistrez maintenant ses appareils" in shown
    assert "Enregistrer les 4 appareils, détails plus tard" in shown


async def test_the_whole_lot_is_registered_at_once_each_with_its_own_label(chat: Chat):
    lot, ref = await seed_lot(chat, {DeviceCategory.LAPTOP: 12, DeviceCategory.SCREEN: 3})
    await chat.say(STAFF, choice=f"lot:rcv:{lot}")
    sent = await chat.say(STAFF, choice=f"dv:rest:{lot}")
    assert f"15 appareils enregistrés pour le lot {ref}" in texts(sent, STAFF)
    labels = await rows(chat, "SELECT label, category, kind, state, place_id FROM devices"
                              " WHERE lot_id = ?", lot)
    assert len({label for label, *_rest in labels}) == 15
    assert all(LABEL.fullmatch(label) for label, *_rest in labels)
    assert sorted(c for _l, c, *_r in labels).count("laptop") == 12
    assert {(k, s) for _l, c, k, s, _p in labels if c == "laptop"} == {("laptop", "received")}
    assert {k for _l, c, k, _s, _p in labels if c == "screen"} == {None}
    [(pdf_name, _pdf)] = [(m.attachment.filename, m.attachment.data) for m in sent
                          if m.attachment]
    assert pdf_name == f"etiquettes-{ref}.pdf"
    again = await chat.say(STAFF, choice=f"dv:rest:{lot}")
    assert "déjà enregistrés" in texts(again, STAFF)
    assert await value(chat, "SELECT count(*) FROM devices WHERE lot_id = ?", lot) == 15


async def test_devices_are_registered_one_message_each_until_done(chat: Chat):
    lot, _ref = await seed_lot(chat)
    await chat.say(STAFF, choice=f"lot:rcv:{lot}")
    sent = await chat.say(STAFF, choice=f"dv:reg:{lot}:laptop")
    assert "0 enregistré(s) sur 3" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "Lenovo ThinkPad T480, pf-1abc 23")
    assert re.search(r"HA-\w{4} enregistré : Ordinateur portable", texts(sent, STAFF))
    assert "1 enregistré(s) sur 3" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "Dell Latitude 5490; PF-1ABC23")
    assert "déjà celui de l'appareil" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "Sans détails")
    assert "2 enregistré(s) sur 3" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "x")
    assert "marque et le modèle" in texts(sent, STAFF)
    sent = await chat.say(STAFF, "Terminé")
    assert "Appareils du lot" in texts(sent, STAFF)
    assert await rows(chat, "SELECT model, serial FROM devices WHERE lot_id = ? ORDER BY id",
                      lot) == [
        ("Lenovo ThinkPad T480", "PF-1ABC23"), ("", None)]


async def test_devices_wait_for_their_lot_to_be_received(chat: Chat):
    lot, _ref = await seed_lot(chat)
    sent = await chat.say(STAFF, choice=f"dv:rest:{lot}")
    assert "pas encore marqué comme reçu" in texts(sent, STAFF)
    assert await value(chat, "SELECT count(*) FROM devices WHERE lot_id = ?", lot) == 0


async def test_the_label_sheet_prints_each_label_and_a_qr_code_that_opens_the_bot(
        tmp_path: Path, clock: Clock):
    ensure_pdf_tools()
    chat = await make_chat(tmp_path / "bot.sqlite3", clock,
                           TELEGRAM_BOT_USERNAME="reemploi05_bot")
    try:
        lot, _ref, devices = await received_lot(chat, {DeviceCategory.LAPTOP: 22})
        sent = await chat.say(STAFF, choice=f"dv:pdf:{lot}")
    finally:
        await chat.app.close()
    [pdf] = [m.attachment.data for m in sent if m.attachment]
    text = pdf_text(pdf, tmp_path)
    assert text.count("Réemploi solidaire") == 22 and text.count("Hautes-Alpes") == 22
    assert all(label in text for _id, label in devices)
    assert text.count("\f") == 2  # 21 stickers a page
    scanned = qr_codes_on_stickers(pdf, tmp_path)
    assert sorted(scanned) == sorted(f"https://t.me/reemploi05_bot?start=d-{label}"
                                     for _id, label in devices)


async def test_without_a_telegram_username_the_qr_code_holds_the_label(
        chat: Chat, tmp_path: Path):
    ensure_pdf_tools()
    lot, _ref, devices = await received_lot(chat, {DeviceCategory.LAPTOP: 2})
    sent = await chat.say(STAFF, choice=f"dv:pdf:{lot}")
    [pdf] = [m.attachment.data for m in sent if m.attachment]
    assert sorted(qr_codes_on_stickers(pdf, tmp_path)) == sorted(label for _i, label in devices)


# --- The card ----------------------------------------------------------------------------------

async def test_typing_a_label_opens_the_card_for_its_workshop_with_what_it_may_do(chat: Chat):
    _lot, ref, devices = await received_lot(chat)
    device, label = devices[0]
    sent = await chat.say(RECOND, label.lower().replace("-", " "))
    card = texts(sent, RECOND)
    assert f"Appareil {label} : Ordinateur portable" in card
    assert "reçu, à diagnostiquer" in card and f"Don : {ref}" in card
    assert "Effacement : pas encore enregistré" in card
    assert {cid for m in sent for cid, _l in m.choices} >= {f"dv:dx:{device}",
                                                            f"dv:wipe:{device}"}


async def test_a_scanned_sticker_opens_the_card_for_the_staff_of_its_place(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    _device, label = devices[0]
    sent = await chat.say(STAFF, f"/start d-{label}")
    assert f"Appareil {label}" in texts(sent, STAFF)
    assert "Lieu : Centre de ressources de Veynes" in texts(sent, STAFF)


@pytest.mark.parametrize("who", ["stranger", "donor2"])
async def test_anyone_else_scanning_a_sticker_learns_nothing_about_the_device(
        chat: Chat, who: str):
    _lot, ref, devices = await received_lot(chat)
    _device, label = devices[0]
    for typed in (f"/start d-{label}", label):
        sent = await chat.say(who, typed)
        shown = texts(sent, who)
        assert "réseau de réemploi solidaire" in shown
        assert label not in shown and ref not in shown and "Veynes" not in shown


async def test_staff_of_another_place_get_the_answer_of_an_unknown_label(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    theirs = texts(await chat.say("demo-gap", devices[0][1]), "demo-gap")
    unknown = texts(await chat.say("demo-gap", "HA-3333"), "demo-gap")
    assert theirs == unknown and "Aucun appareil de votre lieu" in theirs


# --- Erasures attach to the device -----------------------------------------------------------

async def test_an_erasure_from_the_card_is_a_proof_of_the_lot_attached_to_the_device(
        chat: Chat):
    lot, ref, devices = await received_lot(chat)
    device, label = devices[0]
    sent = await chat.say(RECOND, choice=f"dv:wipe:{device}")
    assert "numéro de série" in texts(sent, RECOND).lower()  # registered without it
    sent = await chat.script(RECOND, "PF1ABC23", *WIPE_MEDIUM)
    assert f"Appareil {label} : reçu, à diagnostiquer" in texts(sent, RECOND)
    assert await rows(chat, "SELECT d.serial, d.device_id, r.medium_serial FROM lot_devices d"
                            " JOIN erasure_records r ON r.device_id = d.id") == [
        ("PF1ABC23", device, "S3Z9NB0K")]
    assert await rows(chat, "SELECT serial, wiped_at IS NOT NULL FROM devices WHERE id = ?",
                      device) == [("PF1ABC23", 1)]
    sent = await chat.say(RECOND, label)
    assert "Effacement : enregistré (1 support(s))" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice=f"lot:cert:{lot}")
    assert f"pour le lot {ref}" in texts(sent, RECOND)  # the per-medium proofs certify


async def test_an_erasure_typed_from_the_lot_finds_the_device_by_its_serial(chat: Chat):
    lot, _ref, devices = await received_lot(chat)
    device, _label = devices[1]
    await chat.say(STAFF, f"/start d-{devices[1][1]}")
    async with chat.app.storage.transaction() as uow:
        await uow.devices.set_details(device, "Dell Latitude 5490", "CN0ABC12")
    await chat.say(RECOND, choice=f"lot:wipe:{lot}")
    await chat.script(RECOND, "1", "Dell Latitude 5490", "CN0ABC12", *WIPE_MEDIUM)
    assert await value(chat, "SELECT device_id FROM lot_devices WHERE serial = 'CN0ABC12'") \
        == device


async def test_the_coordination_registers_a_lot_s_devices_one_by_one_too(chat: Chat):
    lot, _ref = await seed_lot(chat)
    await chat.say(STAFF, choice=f"lot:rcv:{lot}")
    await chat.say("coord", choice=f"dv:reg:{lot}:laptop")
    sent = await chat.say("coord", "Lenovo ThinkPad T480")
    assert re.search(r"HA-\w{4} enregistré", texts(sent, "coord"))
    assert await value(chat, "SELECT place_id FROM devices WHERE lot_id = ?", lot) == \
        await value(chat, "SELECT place_id FROM lots WHERE id = ?", lot)


async def test_a_word_that_only_looks_like_a_label_is_not_understood(chat: Chat):
    sent = await chat.say(STAFF, "ha bon")
    assert "Je n'ai pas compris" in texts(sent, STAFF)
