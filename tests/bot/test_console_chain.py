"""The chain in one scripted console run, as README's "Using the console in scripts" says:
a prescriber's request waits; a lot is received at Veynes and its devices registered with
labels; the school diagnoses and wipes one; the request is served and the device handed over
with its kit. The files the bot sends are saved (``--files``) and read like paper. Then the
whole chain (issue 19's "done when"): stocked at the hub, carried by a volunteer driver,
handed over, returned under warranty and replaced, taken apart, and the donor told."""

from __future__ import annotations

import re
from pathlib import Path

from flows.records import DeviceCategory, Role
from tests.bot.browser import (
    ensure_pdf_tools,
    pdf_text,
    qr_codes_on_pages,
    qr_codes_on_stickers,
)
from tests.bot.test_cli import run_bot
from tests.handlers.chain import seed_lot, set_stock
from tests.handlers.test_equipment_requests import approve
from tests.handlers.test_transfers import make_driver
from tests.support import Clock, make_chat

PRO = "Espace professionnel"
SCRIPT = [
    # A prescriber asks a laptop for Léa of Veynes: none is ready, the request waits.
    "@ana: menu", f"@ana: {PRO}", "@ana: Demander du matériel", "@ana: 1, 4", "@ana: 4",
    "@ana: Passer", "@ana: veynes", "@ana: Ordinateur portable", "@ana: 2", "@ana: Léa",
    "@ana: 2", "@ana: 1",
    # Veynes receives the lot and registers its two laptops: a sheet of labels.
    "@demo-veynes: menu", f"@demo-veynes: {PRO}",
    "@demo-veynes: Dons à réceptionner et à effacer", "@demo-veynes: Voir le lot LOT-2026-0001",
    "@demo-veynes: Marquer comme reçu",
    "@demo-veynes: Enregistrer les 2 appareils, détails plus tard",
    # The school opens the first laptop, diagnoses it, records its disk's erasure.
    "@demo-recond: menu", f"@demo-recond: {PRO}",
    "@demo-recond: Dons à réceptionner et à effacer", "@demo-recond: Voir le lot LOT-2026-0001",
    "@demo-recond: Appareils et étiquettes", "@demo-recond: 1",
    "@demo-recond: Enregistrer un diagnostic", "@demo-recond: Fonctionne",
    "@demo-recond: Lenovo ThinkPad T480", "@demo-recond: PF1ABC23", "@demo-recond: Linux Mint",
    "@demo-recond: SSD 240 Go", "@demo-recond: 2", "@demo-recond: 1",
    "@demo-recond: Centre de ressources de Veynes",
    "@demo-recond: Enregistrer un effacement", "@demo-recond: 2", "@demo-recond: Samsung 860",
    "@demo-recond: S3Z9NB0K", "@demo-recond: nwipe", "@demo-recond: 0.34", "@demo-recond: 1",
    "@demo-recond: 1", "@demo-recond: maintenant", "@demo-recond: maintenant",
    "@demo-recond: Enregistrer",
    # Ready: the waiting request goes to Veynes, which hands the laptop over with its kit.
    "@demo-veynes: Accepter DEM-2026-0001", "@demo-veynes: DEM-2026-0001 : remis",
    "@demo-veynes: Oui, remettre le matériel", "@demo-veynes: 1",
]


async def test_a_lot_goes_from_reception_to_a_handover_with_a_label_and_a_kit(
        tmp_path: Path):
    ensure_pdf_tools()
    db = tmp_path / "chain.sqlite3"
    env = {"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "yes",
           "TELEGRAM_BOT_USERNAME": "reemploi05_bot"}
    chat = await make_chat(db, Clock(), **env)
    try:
        await set_stock(chat, "laptop", {})  # the demo's laptops are gone
        await seed_lot(chat, {DeviceCategory.LAPTOP: 2})
        await approve(chat, "ana", Role.PRESCRIBER)
    finally:
        await chat.app.close()
    files = tmp_path / "files"
    result = run_bot(["console", "--db", str(db), "--files", str(files)],
                     "\n".join(SCRIPT) + "\n", env, tmp_path)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sur liste d'attente, en position 1" in out
    labels = re.findall(r"HA-[0-9A-Z]{4}", out.split("2 appareils enregistrés")[1])[:2]
    assert len(set(labels)) == 2, out[-3000:]
    assert f"Appareil {labels[0]} : Ordinateur portable" in out
    assert f"Appareil {labels[0]} : prêt, en stock." in out
    assert "Du matériel est arrivé pour la demande DEM-2026-0001" in out
    assert f"Remise enregistrée pour DEM-2026-0001 : appareil {labels[0]}" in out
    assert "a été remis à la personne" in out
    code = re.search(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}", out.split("Remise enregistrée")[1])
    assert code is not None
    sheet = (files / "etiquettes-LOT-2026-0001.pdf").read_bytes()
    kit = (files / "kit-DEM-2026-0001.pdf").read_bytes()
    assert f"[fichier : {files / 'kit-DEM-2026-0001.pdf'}]" in out
    assert all(label in pdf_text(sheet, tmp_path) for label in labels)
    assert sorted(qr_codes_on_stickers(sheet, tmp_path / "sheet")) == sorted(
        f"https://t.me/reemploi05_bot?start=d-{label}" for label in labels)
    text = pdf_text(kit, tmp_path)
    assert labels[0] in text and code.group(0) in text and "Garantie" in text
    assert qr_codes_on_pages(kit, tmp_path / "kit") == [
        f"https://t.me/reemploi05_bot?start={code.group(0).replace(' ', '')}"]


# The whole chain, in three console runs on one database (a join code is only known once
# printed): the school stocks both laptops at the hub in Gap; a volunteer driver brings them
# to Veynes, where the waiting request is handed over; the person joins, reports a problem;
# the place replaces the laptop; the school takes the first apart; the donor is told.
HUB = "Pôle de coordination départemental (Gap)"
WHOLE = [
    "@ana: menu", f"@ana: {PRO}", "@ana: Demander du matériel", "@ana: 1, 4", "@ana: 4",
    "@ana: Passer", "@ana: veynes", "@ana: Ordinateur portable", "@ana: 2", "@ana: Léa",
    "@ana: 2", "@ana: 1",
    "@demo-veynes: menu", f"@demo-veynes: {PRO}",
    "@demo-veynes: Dons à réceptionner et à effacer", "@demo-veynes: Voir le lot LOT-2026-0001",
    "@demo-veynes: Marquer comme reçu",
    "@demo-veynes: Enregistrer les 2 appareils, détails plus tard",
    *[line for n, serial in ((1, "PF1ABC23"), (2, "PF2XYZ99")) for line in (
        "@demo-recond: menu", f"@demo-recond: {PRO}",
        "@demo-recond: Dons à réceptionner et à effacer",
        "@demo-recond: Voir le lot LOT-2026-0001",
        "@demo-recond: Appareils et étiquettes", f"@demo-recond: {n}",
        "@demo-recond: Enregistrer un diagnostic", "@demo-recond: Fonctionne",
        "@demo-recond: Lenovo ThinkPad T480", f"@demo-recond: {serial}",
        "@demo-recond: Linux Mint", "@demo-recond: SSD 240 Go", "@demo-recond: 2",
        "@demo-recond: 1", f"@demo-recond: {HUB}",
        "@demo-recond: Enregistrer un effacement", "@demo-recond: 2",
        "@demo-recond: Samsung 860", f"@demo-recond: S{serial}", "@demo-recond: nwipe",
        "@demo-recond: 0.34", "@demo-recond: 1", "@demo-recond: 1", "@demo-recond: maintenant",
        "@demo-recond: maintenant", "@demo-recond: Enregistrer")],
]


async def test_one_lot_along_the_whole_chain_in_the_console(tmp_path: Path):
    ensure_pdf_tools()
    db = tmp_path / "chain.sqlite3"
    env = {"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "yes"}
    chat = await make_chat(db, Clock(), **env)
    try:
        await set_stock(chat, "laptop", {})
        await seed_lot(chat, {DeviceCategory.LAPTOP: 2}, donor="cli:acme")
        await approve(chat, "ana", Role.PRESCRIBER)
        await make_driver(chat, "marc")
    finally:
        await chat.app.close()
    first = run_bot(["console", "--db", str(db)], "\n".join(WHOLE) + "\n", env, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "sur liste d'attente, en position 1" in first.stdout
    one, two = re.findall(r"HA-[0-9A-Z]{4}",
                          first.stdout.split("2 appareils enregistrés")[1])[:2]
    assert first.stdout.count("prêt, en stock.") == 2  # both at the hub, far from Léa

    moves = [f"@coord: {one}", "@coord: Apporter à un autre lieu",
             "@coord: Centre de ressources de Veynes",
             f"@coord: {two}", "@coord: Apporter à un autre lieu",
             "@coord: Centre de ressources de Veynes",
             "@marc: /transports", f"@marc: Je prends {one}",
             "@marc: /transports", f"@marc: Je prends {two}",
             "@marc: /transports", f"@marc: {one} récupéré",
             "@marc: /transports", f"@marc: {two} récupéré",
             "@marc: /transports", f"@marc: {one} livré",
             "@marc: /transports", f"@marc: {two} livré",
             "@demo-veynes: Accepter DEM-2026-0001", "@demo-veynes: DEM-2026-0001 : remis",
             "@demo-veynes: Oui, remettre le matériel", f"@demo-veynes: {one}"]
    second = run_bot(["console", "--db", str(db)], "\n".join(moves) + "\n", env, tmp_path)
    out = second.stdout
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"{one} est arrivé à Centre de ressources de Veynes" in out
    assert "Du matériel est arrivé pour la demande DEM-2026-0001" in out
    assert f"Remise enregistrée pour DEM-2026-0001 : appareil {one}" in out
    code = re.search(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}", out.split("Remise enregistrée")[1])
    assert code is not None

    back = [f"@lea: {code.group(0)}", "@lea: 1", "@lea: Passer", "@lea: 1", "@lea: menu",
            "@lea: Mon appareil a un problème", "@lea: Il ne s'allume pas",
            "@demo-veynes: Voir le problème", "@demo-veynes: Remplacer l'appareil",
            "@demo-veynes: 1",
            f"@demo-recond: {one}", "@demo-recond: Enregistrer un diagnostic",
            "@demo-recond: Pour pièces détachées", "@demo-recond: Passer"]
    third = run_bot(["console", "--db", str(db)], "\n".join(back) + "\n", env, tmp_path)
    out = third.stdout
    assert third.returncode == 0, third.stderr[-2000:]
    assert f"Votre appareil {one} est remplacé par un autre, {two}" in out
    assert f"L'appareil {one} revient en atelier sous garantie" in out
    told = out.split("[→ cli:acme]")[1]
    assert told.startswith("\nCe qu'est devenu votre don LOT-2026-0001 :")
    assert "1 appareil a été remis à une personne accompagnée" in told
    assert "CC Buëch-Dévoluy : 1" in told
    assert "1 appareil a servi de pièces détachées" in told
    assert "Environ 156 kg de CO2e évités" in told and "Léa" not in told
    report = pdf_text((tmp_path / "var" / "console-files" / "impact-LOT-2026-0001.pdf")
                      .read_bytes(), tmp_path)
    assert "LOT-2026-0001" in report
