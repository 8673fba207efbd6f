"""The network's list of payments for coordinators: a summary in the fund's view and the
year's payments as a spreadsheet, amounts to the cent, with nobody's name or contact."""

from __future__ import annotations

import csv
import io

from flows.payments import Channel, Method, Payer
from tests.handlers.chain import STAFF, rows
from tests.handlers.test_payments import COORD, handed_over
from tests.support import START, Chat, texts


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def seeded(chat: Chat) -> None:
    """Léa's request paid by a third party, by her (a mistake, corrected, then right) and by
    the fund; and a device sold at Veynes' door."""
    await handed_over(chat)
    for script in (["3", "Secours populaire de Gap", "1", "40,50"],  # a third party, cash
                   ["1", "3", "12,50"],  # the person, by card
                   ["2", "33,33"]):  # the fund
        await chat.say(STAFF, choice="pay:rq:1")
        await chat.script(STAFF, *script, "Confirmer")
    await chat.say(STAFF, choice="pay:cx:1:2")  # the person's payment was a mistake
    await chat.say(STAFF, "payé deux fois")
    veynes, epci = (await rows(chat, "SELECT place_id, epci FROM equipment_requests"))[0]
    async with chat.app.storage.transaction() as uow:
        await uow.payments.record(
            request_id=None, device_id=None, place_id=veynes, epci=epci,
            profile="general", channel=Channel.SALE, cents=9_000, payer=Payer.PERSON,
            third_party=None, method=Method.CARD, by=None, now=START)


async def test_coordinators_see_the_latest_payments_and_their_totals_by_payer(chat: Chat):
    await seeded(chat)
    sent = await chat.say(COORD, choice="fund:v")
    shown = plain(texts(sent, COORD))
    assert "Paiements 2026 du réseau : 5 écritures." in shown
    assert "• La personne : 1 paiement(s), 90,00 €" in shown  # 12,50 cancelled, 90 sold
    assert "• Le fonds de solidarité numérique : 1 paiement(s), 33,33 €" in shown
    assert "• Un tiers (association, CCAS…) : 1 paiement(s), 40,50 €" in shown
    assert "REC-2026-0004 : -12,50 €, annule l'écriture n° 2 (payé deux fois)" in shown
    assert any(cid == "fund:csv" and label == "Exporter les paiements (CSV)"
               for m in sent for cid, label in m.choices)
    sent = await chat.say(STAFF, choice="fund:csv")  # staff of a place: not theirs to see
    assert not any(m.attachment for m in sent)


async def test_the_years_payments_export_to_the_cent_without_anyone_s_name(chat: Chat):
    await seeded(chat)
    sent = await chat.say(COORD, choice="fund:csv")
    (table,) = [m.attachment for m in sent if m.attachment]
    assert table.filename == "paiements-2026.csv"
    assert table.data.startswith("\ufeff".encode())
    assert "Paiements 2026 : 5 écritures." in texts(sent, COORD)
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Date", "Reçu", "Demande", "Lieu", "Intercommunalité", "Canal", "Payé par",
         "Tiers payeur", "Moyen de paiement", "Montant (€)", "Corrige le reçu",
         "Raison de la correction"],
        ["2026-11-23 10:00", "REC-2026-0001", "DEM-2026-0001", "Centre de ressources de Veynes",
         "CC Buëch-Dévoluy", "prescription", "tiers", "Secours populaire de Gap", "Espèces",
         "40,50", "", ""],
        ["2026-11-23 10:00", "REC-2026-0002", "DEM-2026-0001", "Centre de ressources de Veynes",
         "CC Buëch-Dévoluy", "prescription", "personne", "", "Carte bancaire", "12,50", "",
         ""],
        ["2026-11-23 10:00", "REC-2026-0003", "DEM-2026-0001", "Centre de ressources de Veynes",
         "CC Buëch-Dévoluy", "prescription", "fonds de solidarité", "", "Fonds de solidarité",
         "33,33", "", ""],
        ["2026-11-23 10:00", "REC-2026-0004", "DEM-2026-0001", "Centre de ressources de Veynes",
         "CC Buëch-Dévoluy", "prescription", "personne", "", "Carte bancaire", "-12,50",
         "REC-2026-0002", "payé deux fois"],
        ["2026-11-23 10:00", "REC-2026-0005", "vente publique",
         "Centre de ressources de Veynes", "CC Buëch-Dévoluy", "vente publique", "personne",
         "", "Carte bancaire", "90,00", "", ""],
    ]
    text = table.data.decode("utf-8-sig")
    assert "Léa" not in text and "cli:" not in text  # no name, no chat
