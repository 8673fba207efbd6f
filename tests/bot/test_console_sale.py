"""The door for everyone in one scripted console run: a member of the public reserves a
refurbished laptop, the ressourcerie sells it to them, the receipt is saved like paper."""

from __future__ import annotations

from pathlib import Path

from tests.bot.browser import ensure_pdf_tools, pdf_text
from tests.bot.test_cli import run_bot
from tests.handlers.test_handover import one_ready_laptop
from tests.support import Clock, make_chat


async def test_someone_reserves_and_buys_a_laptop_through_the_console(tmp_path: Path):
    ensure_pdf_tools()
    db = tmp_path / "sale.sqlite3"
    env = {"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "yes",
           "FILIERE_LEGAL_NAME": "Association Réemploi 05", "FILIERE_LEGAL_ID": "W051234567"}
    chat = await make_chat(db, Clock(), **env)
    try:
        _device, label = await one_ready_laptop(chat)
    finally:
        await chat.app.close()
    script = [
        "@zoe: menu", "@zoe: Acheter un ordinateur reconditionné",
        # One place has one: it is not asked, only said.
        "@zoe: Réserver : Ordinateur portable",
        "@zoe: Zoé", "@zoe: Passer", "@zoe: Confirmer",
        "@demo-veynes: menu", "@demo-veynes: Espace professionnel",
        "@demo-veynes: Réservations du lieu", "@demo-veynes: Vendu : RES-0001",
        f"@demo-veynes: {label}", "@demo-veynes: Espèces", "@demo-veynes: 90",
        "@demo-veynes: Confirmer",
    ]
    files = tmp_path / "files"
    result = run_bot(["console", "--db", str(db), "--files", str(files)],
                     "\n".join(script) + "\n", env, tmp_path)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "C'est réservé : RES-0001" in out
    assert "Vous réservez : Ordinateur portable, à Centre de ressources de Veynes." in out
    # Hours in words, as anyone reads them (not "mar.-ven. 09:00-12:00").
    assert "du mardi au vendredi, de 9 heures à midi et de 14 heures à 17 heures" in out
    assert "Nouvelle réservation RES-0001 (Zoé)" in out
    assert "Vente enregistrée : REC-2026-0001" in out, out[-3000:]
    receipt = pdf_text((files / "recu-REC-2026-0001.pdf").read_bytes(), tmp_path)
    assert "Association Réemploi 05" in receipt and "W051234567" in receipt
    assert label in receipt and "90,00" in receipt and "Espèces" in receipt
    assert "TVA non applicable, art. 293 B du CGI" in receipt
