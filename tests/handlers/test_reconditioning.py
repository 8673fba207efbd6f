"""Reconditioning records: the school's diagnoses in chat or as a CSV, erasures sent as files,
nwipe's log imported on the device it erased.
"""

from __future__ import annotations

from flows.messages import Attachment
from flows.records import DeviceCategory
from tests.flows.test_reconditioning import ERASED, nwipe_log
from tests.handlers.chain import (
    RECOND,
    SCHOOL,
    STAFF,
    WIPE_MEDIUM,
    diagnosis_works,
    received_lot,
    rows,
    value,
)
from tests.support import Chat, texts


def csv_file(name: str, text: str) -> Attachment:
    return Attachment(name, "text/csv", text.encode())


async def state_of(chat: Chat, device: int) -> str:
    return str(await value(chat, "SELECT state FROM devices WHERE id = ?", device))


async def test_a_device_that_works_is_ready_once_its_erasure_is_recorded(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    device, label = devices[0]
    sent = await chat.say(RECOND, choice=f"dv:dx:{device}")
    assert f"Appareil {label} : votre diagnostic ?" in texts(sent, RECOND)
    sent = await chat.script(RECOND, *diagnosis_works())
    assert "fonctionne, effacement à enregistrer" in texts(sent, RECOND)
    assert await state_of(chat, device) == "tested"
    assert await rows(chat, "SELECT diagnosis, system, parts, grade, battery, organisation"
                            " FROM device_diagnoses WHERE device_id = ?", device) == [
        ("works", "Linux Mint", "SSD 240 Go", "B", "good", SCHOOL)]
    assert await rows(chat, "SELECT model, serial, grade FROM devices WHERE id = ?",
                      device) == [("Lenovo ThinkPad T480", "PF1ABC23", "B")]
    await chat.say(RECOND, choice=f"dv:wipe:{device}")
    sent = await chat.script(RECOND, *WIPE_MEDIUM)  # the serial is known now: not asked
    assert f"Appareil {label} : prêt, en stock." in texts(sent, RECOND)
    assert await state_of(chat, device) == "ready"
    card = texts(await chat.say(STAFF, label), STAFF)
    assert "Note : B : traces d'usage" in card and "Système installé : Linux Mint" in card
    assert "Batterie : bonne" in card


async def test_a_device_erased_first_is_ready_as_soon_as_it_is_diagnosed(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    device, _label = devices[0]
    await chat.say(RECOND, choice=f"dv:wipe:{device}")
    await chat.script(RECOND, "PF1ABC23", *WIPE_MEDIUM)
    await chat.say(RECOND, choice=f"dv:dx:{device}")
    sent = await chat.script(RECOND, "1", "Lenovo ThinkPad T480", "1", "passer", "1", "1", "1")
    assert "prêt, en stock" in texts(sent, RECOND)
    assert await state_of(chat, device) == "ready"


async def test_a_device_to_repair_says_what_it_needs_and_one_for_parts_leaves_the_bench(
        chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    (first, _l1), (second, _l2) = devices[:2]
    await chat.say(RECOND, choice=f"dv:dx:{first}")
    sent = await chat.script(RECOND, "2", "passer", "passer", "Charnière gauche cassée")
    assert "à réparer" in texts(sent, RECOND)
    await chat.say(RECOND, choice=f"dv:dx:{second}")
    await chat.script(RECOND, "3", "passer", "passer", "passer")
    assert [await state_of(chat, d) for d in (first, second)] == ["repair", "parts"]
    sent = await chat.say(RECOND, choice=f"dv:dx:{second}")
    assert "pas de diagnostic à enregistrer" in texts(sent, RECOND)


# --- Files ---------------------------------------------------------------------------------------

async def test_an_erasure_csv_sent_as_a_file_is_read_from_its_bytes(chat: Chat):
    lot, ref, devices = await received_lot(chat)
    device, _label = devices[0]
    async with chat.app.storage.transaction() as uow:
        await uow.devices.set_details(device, "Lenovo T480", "PF1ABC23")
    await chat.say(RECOND, "/effacements")  # the paste it asks for never comes: a file does
    sent = await chat.say(RECOND, attachment=csv_file("effacements.csv", (
        "lot;device_category;device_model;device_serial;medium_kind;medium_model;"
        "medium_serial;tool;tool_version;method;result;started_at;ended_at\n"
        f"{ref};laptop;Lenovo T480;PF1ABC23;ssd;Samsung 860;S3Z9NB0K;nwipe;0.34;overwrite;"
        "verified;23/11/2026 08:00;23/11/2026 09:10\n")))
    assert f"1 effacement enregistré : {ref}" in texts(sent, RECOND)
    assert "Le fichier est vide" not in texts(sent, RECOND)
    assert await value(chat, "SELECT wiped_at IS NOT NULL FROM devices WHERE id = ?",
                       device) == 1
    assert await value(chat, "SELECT count(*) FROM conversations") == 0
    assert lot


async def test_a_diagnoses_csv_records_every_line_with_the_operator_as_given(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    (first, l1), (second, l2) = devices[:2]
    sent = await chat.say(RECOND, attachment=csv_file("diagnostics.csv", (
        "label;diagnosis;system;parts;grade;battery;operator;done_at\n"
        f"{l1};works;Linux Mint 22;;A;replaced;Léa (2nde SN);23/11/2026 09:30\n"
        f"{l2};recycle;;carte mère grillée;;;Tom;\n")))
    assert "2 diagnostics enregistrés" in texts(sent, RECOND)
    assert await rows(chat, "SELECT device_id, diagnosis, operator_name, organisation"
                            " FROM device_diagnoses WHERE device_id IN (?, ?) ORDER BY id",
                      first, second) == [
        (first, "works", "Léa (2nde SN)", SCHOOL), (second, "recycle", "Tom", SCHOOL)]
    assert [await state_of(chat, d) for d in (first, second)] == ["tested", "recycled"]


async def test_a_diagnoses_csv_with_a_bad_line_records_nothing(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    sent = await chat.say(RECOND, attachment=csv_file("diagnostics.csv", (
        "label;diagnosis;system;parts;grade;battery;operator;done_at\n"
        f"{devices[0][1]};works;;;A;;;\n"
        "HA-3333;works;;;A;;;\n")))
    assert "Ligne 3 : l'appareil HA-3333 n'est pas à diagnostiquer" in texts(sent, RECOND)
    assert await value(chat, "SELECT count(*) FROM device_diagnoses WHERE device_id = ?",
                       devices[0][0]) == 0


async def test_an_nwipe_log_named_after_the_label_records_the_erasure_of_its_disks(
        chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    device, label = devices[0]
    sent = await chat.say(RECOND, attachment=Attachment(f"{label}.log", "text/plain",
                                                        nwipe_log(ERASED).encode()))
    assert f"Journal nwipe enregistré pour {label} : 1 support." in texts(sent, RECOND)
    assert await rows(chat, "SELECT d.device_id, d.serial, r.medium_serial, r.tool,"
                            " r.tool_version, r.result FROM erasure_records r"
                            " JOIN lot_devices d ON d.id = r.device_id") == [
        (device, "PF2XYZ99", "WD-WX31A9876543", "nwipe", "0.34", "verified")]
    assert await value(chat, "SELECT serial FROM devices WHERE id = ?", device) == "PF2XYZ99"


async def test_an_nwipe_log_finds_its_device_by_the_computer_serial_nwipe_read(chat: Chat):
    _lot, _ref, devices = await received_lot(chat, {DeviceCategory.LAPTOP: 2})
    device, _label = devices[1]
    async with chat.app.storage.transaction() as uow:
        await uow.devices.set_details(device, None, "PF2XYZ99")
    sent = await chat.say(RECOND, attachment=Attachment("nwipe.log", "text/plain",
                                                        nwipe_log(ERASED).encode()))
    assert "Journal nwipe enregistré" in texts(sent, RECOND)
    assert await value(chat, "SELECT device_id FROM lot_devices") == device


async def test_an_unverified_nwipe_log_records_nothing_and_says_why(chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    sent = await chat.say(RECOND, attachment=Attachment(
        f"{devices[0][1]}.log", "text/plain", nwipe_log(ERASED, total="1R+B+NV").encode()))
    assert "sans vérification" in texts(sent, RECOND)
    assert await value(chat, "SELECT count(*) FROM erasure_records") == 0


async def test_an_unknown_file_gets_the_files_a_reconditioner_may_send(chat: Chat):
    sent = await chat.say(RECOND, attachment=csv_file("notes.csv", "a;b\n1;2\n"))
    assert "Je ne reconnais pas ce fichier" in texts(sent, RECOND)
    assert "label;diagnosis" in texts(sent, RECOND)


async def test_a_reconditioner_s_deletion_leaves_their_records_without_their_account(
        chat: Chat):
    _lot, _ref, devices = await received_lot(chat)
    device, _label = devices[0]
    await chat.say(RECOND, choice=f"dv:dx:{device}")
    await chat.script(RECOND, *diagnosis_works())
    await chat.say(RECOND, choice="pv:erase:ok")
    assert await rows(chat, "SELECT operator, organisation FROM device_diagnoses"
                            " WHERE device_id = ?", device) == [(None, SCHOOL)]
    assert await value(chat, "SELECT count(*) FROM device_events WHERE by_user = ?",
                       f"cli:{RECOND}") == 0
    assert await value(chat, "SELECT state FROM devices WHERE id = ?", device) == "tested"
