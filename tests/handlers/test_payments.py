"""Payments at the handover: who paid, how and how much, the receipt, the counter-entry that
corrects a mistake, and the solidarity fund's budget and balance. Amounts to the cent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flows import report as rp
from flows.messages import UserKey
from flows.payments import Channel, Method, Payer
from flows.records import Role
from tests.bot.browser import ensure_pdf_tools, pdf_text
from tests.handlers.chain import STAFF, rows, value
from tests.handlers.test_beneficiaries import run_job
from tests.handlers.test_equipment_requests import approve, ask
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
    sent = await chat.script(STAFF, "2")
    assert "Le prix solidaire complet de cet appareil est 90,00 € ; la personne paie 1,00 €" \
        in texts(sent, STAFF).replace("\u202f", " ").replace("\xa0", " ")
    sent = await chat.script(STAFF, "99,99", "Confirmer")
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
    # The fund is spent to the cent: a prescriber asking for a symbolic-price device is told
    # plainly what happens (the default setting: a waiting list).
    sent = await chat.say(COORD, choice="fund:v")
    assert "reste 0,00" in texts(sent, COORD).replace("\u202f", " ").replace("\xa0", " ")
    sent = await ask(chat, "ana", first_name="Max")
    assert "fonds de solidarité numérique est épuisé" in texts(sent, "ana")
    assert "liste d'attente" in texts(sent, "ana")


async def seed_mediation(chat: Chat) -> None:
    """Five people came to a 90-minute session at Veynes last week, one did not."""
    async with chat.app.storage.transaction() as uow:
        for n in range(6):
            await uow.users.create(UserKey(f"cli:b{n}"), "fr", chat.clock())
    conn = chat.app.db.conn
    veynes = await value(chat, "SELECT id FROM places WHERE name = 'Centre de ressources de"
                               " Veynes'")
    cur = await conn.execute(
        "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats, booked)"
        " VALUES (?, 'first_steps', '2026-11-16T09:00:00.000000+00:00', 90, 8, 6)"
        " RETURNING id", (veynes,))
    (workshop,) = await cur.fetchone()
    for n in range(6):
        await conn.execute("INSERT INTO beneficiaries (user_key, ref, joined_at)"
                           " VALUES (?, ?, '2026-11-01T09:00:00.000000+00:00')",
                           (f"cli:b{n}", f"REJ{n}"))
        await conn.execute("INSERT INTO bookings (workshop_id, user_key, booked_at, attended)"
                           " VALUES (?, ?, '2026-11-01T09:00:00.000000+00:00', ?)",
                           (workshop, f"cli:b{n}", 1 if n < 5 else 0))
    await conn.commit()


async def test_the_figures_and_the_funders_csv_show_money_to_the_cent(chat: Chat):
    await handed_over(chat)
    for script in (["3", "Secours populaire de Gap", "1", "40"],  # a third party, in cash
                   ["1", "3", "12,50"],  # the person, by card
                   ["2", "33,33"]):  # the fund
        await chat.say(STAFF, choice="pay:rq:1")
        await chat.script(STAFF, *script, "Confirmer")
    await chat.say(STAFF, choice="pay:cx:1:2")  # the person's payment was a mistake
    await chat.say(STAFF, "payé deux fois")
    await chat.say(STAFF, choice="pay:rq:1")
    await chat.script(STAFF, "1", "2", "1", "Confirmer")  # the right one: 1 EUR by cheque
    await seed_mediation(chat)
    sent = await chat.say(COORD, choice="co:fig")
    told = texts(sent, "cli:coord").replace("\u202f", " ").replace("\xa0", " ")
    assert "Ventes payées par les personnes : 1,00 €" in told
    assert "Dépenses du fonds de solidarité : 33,33 €" in told
    assert "Payé par des tiers (associations, CCAS) : 40,00 €" in told
    # 5 people × 1.5 h = 7.5 h at 60 EUR: 450 EUR; the cost of one device is masked.
    assert "Médiation : 7,5 heures, soit 450,00 € à 60,00 € de l'heure" in told
    assert "par bénéficiaire : masqué" in told
    sent = await chat.say(COORD, choice="co:fig:csv")
    (table,) = [m.attachment for m in sent if m.attachment]
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    total = next(dict(zip(header, r, strict=True)) for r in rows[1:]
                 if r[:2] == ["2026-11", "Total du réseau"])
    assert total["Payé par des tiers (EUR)"] == "40,00"
    assert total["Ventes payées par les personnes (EUR)"] == "1,00"
    assert total["Dépenses du fonds de solidarité (EUR)"] == "33,33"
    assert total["Heures de médiation (présences × durée)"] == "7,5"
    assert total["Coût de la médiation (EUR)"] == "450,00"
    assert total["Coût appareil + accompagnement par bénéficiaire (EUR)"] == "masqué"
    assert "Secours populaire" not in table.data.decode("utf-8-sig")


def test_the_cost_per_beneficiary_adds_what_was_paid_and_the_mediation_per_device():
    """(1 + 33.33 + 40 EUR paid + 7.5 h at 60 EUR) over 5 devices, to the cent."""
    tz = ZoneInfo("Europe/Paris")
    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    money = rp.build_money(
        [rp.PaymentSum(at, "e", "person", "prescription", 1250, 1),
         rp.PaymentSum(at, "e", "person", "prescription", -1150, 0),
         rp.PaymentSum(at, "e", "fund", "prescription", 3333, 1),
         rp.PaymentSum(at, "e", "third_party", "prescription", 4000, 1)],
        [rp.Mediation(at, "e", 5, 450)], at, tz, 6000)
    assert money.amount(rp.Amount.SALES) == 100
    assert money.mediation_cost() == 45_000
    assert money.cost_per_beneficiary(5) == 10_487  # 52,433 cents / 5, rounded
    assert rp.euros(10_487) == "104,87" and rp.euros(-1_250) == "-12,50"
    assert rp.hours_text(450) == "7,5"


async def test_anyone_sees_the_catalogue_its_public_prices_and_where_to_buy(chat: Chat):
    await one_ready_laptop(chat)
    sent = await chat.say("passerby", "menu")
    assert any(cid == "m:buy" for m in sent for cid, _label in m.choices)
    sent = await chat.say("passerby", choice="m:buy")
    told = texts(sent, "cli:passerby").replace("\u202f", " ").replace("\xa0", " ")
    assert "Ordinateur portable : 90,00 €. Disponible maintenant : CC Buëch-Dévoluy (1)." \
        in told
    assert "Centre de ressources de Veynes" in told and "Horaires" in told


async def test_someone_reserves_then_buys_a_device_at_the_place(tmp_path: Path, clock: Clock):
    ensure_pdf_tools()
    chat = await make_chat(tmp_path / "bot.sqlite3", clock)
    try:
        _device, label = await one_ready_laptop(chat)
        sent = await chat.say("passerby", choice="m:buy")
        assert any(cid == "buy:rs:laptop" for m in sent for cid, _label in m.choices)
        sent = await chat.say("passerby", choice="buy:rs:laptop")
        # The one place that has one is said, not asked.
        assert "Vous réservez : Ordinateur portable, à Centre de ressources de Veynes." \
            in texts(sent, "cli:passerby")
        sent = await chat.script("passerby", "J. D.", "Passer", "Confirmer")
        told = texts(sent, "cli:passerby")
        assert "C'est réservé : RES-0001" in told and "Centre de ressources de Veynes" in told
        assert "Nouvelle réservation RES-0001 (J. D.)" in texts(sent, STAFF)
        # The device is held: nobody else sees it available.
        sent = await chat.say("other", choice="m:buy")
        assert "Ordinateur portable : 90,00 €. Pas disponible" in texts(sent, "cli:other") \
            .replace("\u202f", " ").replace("\xa0", " ")
        sent = await chat.say(STAFF, choice="buy:in")
        assert "RES-0001 : J. D." in texts(sent, STAFF)
        await chat.say(STAFF, choice="buy:sold:1")
        sent = await chat.script(STAFF, label, "3", "90", "Confirmer")
        assert "Vente enregistrée : REC-2026-0001" in texts(sent, STAFF)
        [pdf] = [m.attachment.data for m in sent if m.attachment]
        assert await rows(chat, "SELECT cents, payer, method, channel, request_id"
                                " FROM payments") == [(9000, "person", "card", "sale", None)]
        assert await rows(chat, "SELECT state FROM devices WHERE label = ?", label) == [
            ("handed_over",)]
        assert await rows(chat, "SELECT status, first_name, contact, user_key"
                                " FROM reservations") == [("sold", None, None, None)]
        sent = await chat.say(COORD, choice="co:fig")
        assert "0 sur prescription, < 5 en vente solidaire" in texts(sent, "cli:coord")
        # A sale is corrected like any payment: a counter-entry with a reason.
        sent = await chat.say(STAFF, choice="pay:sx:1")
        sent = await chat.say(STAFF, "mauvais moyen de paiement")
        assert "Contre-écriture enregistrée" in texts(sent, STAFF)
        assert await rows(chat, "SELECT cents, corrects, channel FROM payments ORDER BY id"
                          ) == [(9000, None, "sale"), (-9000, 1, "sale")]
        sent = await chat.say("demo-gap", choice="pay:sx:1")  # staff of another place
        assert "n'existe pas" in texts(sent, "cli:demo-gap")
    finally:
        await chat.app.close()
    receipt = pdf_text(pdf, tmp_path)
    assert "RES-0001" in receipt and label in receipt and "Carte bancaire" in receipt


async def test_a_reservation_lapses_by_itself_and_the_device_returns_to_stock(
        chat: Chat, clock: Clock):
    await one_ready_laptop(chat)
    await chat.say("passerby", choice="buy:rs:laptop")
    await chat.script("passerby", "Max", "06 12 34 56 78", "Confirmer")
    assert await value(chat, "SELECT contact FROM reservations") == "+33612345678"
    clock.advance(days=3, minutes=1)
    sent = await run_job(chat, "sale.lapse")
    assert "Votre réservation RES-0001 est terminée" in texts(sent, "cli:passerby")
    assert await rows(chat, "SELECT status, first_name, contact FROM reservations") == [
        ("lapsed", None, None)]
    sent = await chat.say("other", choice="m:buy")
    assert "Disponible maintenant : CC Buëch-Dévoluy (1)" in texts(sent, "cli:other")


async def spend_the_fund(chat: Chat) -> None:
    """A budget of 10 EUR, all of it paid out already."""
    await chat.say(COORD, choice="fund:b")
    await chat.say(COORD, "10")
    async with chat.app.storage.transaction() as uow:
        await uow.payments.record(
            request_id=None, device_id=None, place_id=None, epci="", profile="ase",
            channel=Channel.PRESCRIPTION, cents=1000, payer=Payer.FUND, third_party=None,
            method=Method.FUND, by=None, now=chat.clock())


async def test_with_the_fund_spent_a_free_request_moves_to_the_symbolic_price_if_so_set(
        tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_FUND_WHEN_EMPTY="next_tier")
    try:
        await spend_the_fund(chat)
        await approve(chat, "ana", Role.PRESCRIBER)
        await chat.say("ana", choice="rq:new")
        # On RSA, income "none or minimum": the fund would pay (free tier).
        sent = await chat.script("ana", "1, 4", "4", "1", "veynes", "Ordinateur portable",
                                 "2", "Léa", "2", "1")
        told = texts(sent, "ana")
        assert "passe au tarif suivant" in told
        assert await rows(chat, "SELECT tier, price_cents FROM equipment_requests") == [
            ("symbolic", 100)]
    finally:
        await chat.app.close()


async def test_with_the_fund_spent_a_request_it_would_pay_waits_for_the_next_budget(
        chat: Chat):
    await spend_the_fund(chat)
    await one_ready_laptop(chat)  # in stock at Veynes, close to the person
    await approve(chat, "ana", Role.PRESCRIBER)
    sent = await ask(chat, "ana", first_name="Max")
    told = texts(sent, "ana")
    assert "Elle est sur liste d'attente, en position 1." in told
    assert "Matériel réservé" not in told
    assert "fonds de solidarité numérique est épuisé" in told
    assert await rows(chat, "SELECT status, place_id FROM equipment_requests") == [
        ("waiting", None)]
    # The device stays in stock for the others, and the safety-net job holds the request.
    door = texts(await chat.say("passerby", choice="m:buy"), "cli:passerby")
    assert "Disponible maintenant : CC Buëch-Dévoluy (1)" in door
    await run_job(chat, "requests.waiting")
    assert await value(chat, "SELECT status FROM equipment_requests") == "waiting"
    # A new budget: the request goes out at once, and the prescriber is told why.
    await chat.say(COORD, choice="fund:b")
    sent = await chat.say(COORD, "500")
    assert "1 demande en attente part vers un lieu." in texts(sent, COORD)
    assert "Le fonds de solidarité a de nouveau un budget : la demande" in texts(sent, "ana")
    assert await value(chat, "SELECT status FROM equipment_requests") == "sent"


async def test_coordinators_set_public_prices_by_grade_shown_and_suggested_at_the_sale(
        chat: Chat):
    _device, label = await one_ready_laptop(chat)  # graded B
    await chat.say(COORD, choice="buy:gp")
    sent = await chat.script(COORD, "Ordinateur portable", "2", "75", "Confirmer")
    assert "Prix public enregistré : laptop, état B" in texts(sent, "cli:coord")
    sent = await chat.say("passerby", choice="m:buy")
    told = texts(sent, "cli:passerby").replace("\u202f", " ").replace("\xa0", " ")
    assert "Ordinateur portable : 90,00 € (état B : 75,00 €)." in told
    await chat.say("passerby", choice="buy:rs:laptop")
    await chat.script("passerby", "Zoé", "Passer", "Confirmer")
    await chat.say(STAFF, choice="buy:sold:1")
    sent = await chat.script(STAFF, label, "1")
    assert "Le prix public est 75,00" in texts(sent, STAFF).replace("\u202f", " ") \
        .replace("\xa0", " ")
    await chat.script(STAFF, "75", "Confirmer")
    assert await rows(chat, "SELECT cents, channel FROM payments") == [(7500, "sale")]
