"""Payments at the handover: who paid, how and how much, the receipt, the counter-entry that
corrects a mistake, and the solidarity fund's budget and balance. Amounts to the cent."""

from __future__ import annotations

from pathlib import Path

from tests.bot.browser import ensure_pdf_tools, pdf_text
from tests.handlers.chain import STAFF, rows, value
from tests.handlers.test_handover import one_ready_laptop, requested
from tests.support import Chat, Clock, make_chat, texts

COORD = "coord"


async def handed_over(chat: Chat) -> str:
    """Léa's laptop handed over at Veynes; the label of the device."""
    _device, label = await one_ready_laptop(chat)
    await requested(chat)
    await chat.say(STAFF, choice="rq:hy:1")
    sent = await chat.say(STAFF, label)
    assert "Remise enregistrée" in texts(sent, STAFF)
    assert any(cid == "pay:rq:1" for m in sent for cid, _label in m.choices)
    return label


async def test_staff_record_a_cash_payment_and_print_a_receipt_with_the_legal_mentions(
        tmp_path: Path, clock: Clock):
    ensure_pdf_tools()
    chat = await make_chat(tmp_path / "bot.sqlite3", clock,
                           FILIERE_LEGAL_NAME="Association Réemploi 05",
                           FILIERE_LEGAL_ADDRESS="1 rue de la Paix, 05000 Gap",
                           FILIERE_LEGAL_ID="RNA W051234567")
    try:
        label = await handed_over(chat)
        sent = await chat.say(STAFF, choice="pay:rq:1")
        assert "Qui a payé l'appareil ?" in texts(sent, STAFF)
        sent = await chat.script(STAFF, "La personne", "Espèces", "12,50")
        assert "12,50" in texts(sent, STAFF)
        sent = await chat.say(STAFF, "Confirmer")
        told = texts(sent, STAFF)
        assert "Paiement enregistré : REC-2026-0001 : 12,50 €" in told.replace("\u202f", " ") \
            .replace("\xa0", " ")
        [pdf] = [m.attachment.data for m in sent if m.attachment]
        assert await rows(chat, "SELECT request_id, cents, payer, method, channel, corrects"
                                " FROM payments") == [(1, 1250, "person", "cash",
                                                        "prescription", None)]
        assert await value(chat, "SELECT detail FROM audit_log WHERE action ="
                                 " 'payment.recorded'") == "DEM-2026-0001 1250 person cash"
        # A mistake is never edited: a counter-entry cancels it, with a reason.
        sent = await chat.say(STAFF, choice="pay:ls:1")
        assert any(cid == "pay:cx:1:1" for m in sent for cid, _label in m.choices)
        await chat.say(STAFF, choice="pay:cx:1:1")
        sent = await chat.say(STAFF, "erreur de montant")
        assert "Contre-écriture enregistrée" in texts(sent, STAFF)
        assert await rows(chat, "SELECT id, cents, corrects, reason FROM payments ORDER BY id"
                          ) == [(1, 1250, None, None), (2, -1250, 1, "erreur de montant")]
        sent = await chat.say(STAFF, choice="pay:cx:1:1")
        assert "déjà annulé" in texts(sent, STAFF)
        assert await value(chat, "SELECT count(*) FROM payments") == 2
    finally:
        await chat.app.close()
    receipt = pdf_text(pdf, tmp_path)
    assert "Reçu REC-2026-0001" in receipt
    assert "Association Réemploi 05" in receipt and "1 rue de la Paix, 05000 Gap" in receipt
    assert "RNA W051234567" in receipt and label in receipt
    assert "12,50" in receipt and "Espèces" in receipt
    assert "TVA non applicable, art. 293 B du CGI" in receipt


async def test_a_third_party_pays_before_the_handover(chat: Chat):
    await one_ready_laptop(chat)
    await requested(chat)
    sent = await chat.say(STAFF, choice="rq:ho:1")
    assert any(cid == "pay:rq:1" for m in sent for cid, _label in m.choices)
    await chat.say(STAFF, choice="pay:rq:1")
    sent = await chat.script(STAFF, "3", "CCAS de Veynes", "Chèque", "40", "Confirmer")
    assert "payé par CCAS de Veynes (Chèque)" in texts(sent, STAFF)
    assert await rows(chat, "SELECT cents, payer, third_party, method FROM payments") == [
        (4000, "third_party", "CCAS de Veynes", "cheque")]


async def test_the_fund_draws_down_and_warns_the_coordinators_once(chat: Chat):
    await chat.say(COORD, choice="fund:b")
    sent = await chat.say(COORD, "100")
    assert "budget 100,00" in texts(sent, COORD).replace("\u202f", " ").replace("\xa0", " ")
    await handed_over(chat)
    await chat.say(STAFF, choice="pay:rq:1")
    sent = await chat.script(STAFF, "2", "99,99", "Confirmer")
    warned = texts(sent, "cli:coord")
    assert "arrive au bout" in warned
    sent = await chat.say(COORD, choice="fund:v")
    shown = texts(sent, COORD).replace("\u202f", " ").replace("\xa0", " ")
    assert "dépensé 99,99 €, reste 0,01 €" in shown
    assert "1 appareil(s), 99,99 €" in shown
    assert await rows(chat, "SELECT cents, payer, method FROM payments") == [
        (9999, "fund", "fund")]
    # Warned once a year: a second fund payment does not warn again.
    await chat.say(STAFF, choice="pay:rq:1")
    sent = await chat.script(STAFF, "2", "0,01", "Confirmer")
    assert "arrive au bout" not in texts(sent, "cli:coord")
