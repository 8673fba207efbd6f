"""Donations end to end: a donor declares a lot, staff record its erasure, the donor gets proof.

The demo data provides ``cli:demo-veynes`` (staff of the Veynes hub) and ``cli:demo-recond``
(a reconditioner).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import Rendered
from flows.engine import Conversation
from flows.messages import UserKey
from tests.support import START, Chat, Clock, make_chat, texts

RECOND = "demo-recond"

KINDS = {"company": "1", "public": "2", "association": "3"}


def organisation_lot(kind: str = "1", siret: str = "73282932000074") -> list[str]:
    """An organisation gives 12 laptops and 5 screens holding client data, dropped in Veynes
    (up to the summary: one answer a question)."""
    return ["bonjour", "2", kind, f"ACME Informatique {siret}".strip(), "Jeanne Dupont",
            "06 12 34 56 78", "12 portables, 5 écrans", "2, 5, 7", "2", "5", "veynes", "1"]


PRIVATE_LOT = ["bonjour", "2", "4", "Marie Curie", "marie@exemple.fr", "1 portable", "3, 4, 9",
               "1", "5", "gap", "Je demande un enlèvement", "gap", "en semaine le matin"]
"""A private person gives one old laptop with personal files and asks for a pickup in Gap."""

WIPE = ["1", "Lenovo ThinkPad T480", "pf-1abc 23", "1", "passer", "WD-123", "1", "0.34",
        "1", "1", "maintenant", "maintenant", "1"]
"""One laptop's hard disk overwritten with nwipe and verified (answers after "lot:wipe")."""


def pdf_text(data: bytes) -> str:
    """The text of an uncompressed fpdf2 document, read back from its content stream."""
    assert data.startswith(b"%PDF-")
    parts = re.findall(rb"\((.*?)(?<!\\)\) Tj", data, re.S)
    return " ".join(
        p.replace(b"\\(", b"(").replace(b"\\)", b")").replace(b"\\\\", b"\\").decode("cp1252")
        for p in parts
    )


def attachments(sent: list[Rendered], to: str) -> list[bytes]:
    return [m.attachment.data for m in sent if m.to == f"cli:{to}" and m.attachment]


async def declare_organisation_lot(chat: Chat, who: str = "acme", *,
                                   receive: bool = False) -> list[Rendered]:
    """``who`` declares a lot; with ``receive``, the workshop then marks it received."""
    sent = await chat.script(who, *organisation_lot())
    sent += await chat.say(who, "1")  # Confirmer
    if receive:
        lot = max(int(cid.split(":")[-1]) for m in sent for cid, _l in m.choices
                  if cid.startswith("lot:see:"))
        sent += await chat.say(RECOND, choice=f"lot:rcv:{lot}")
    return sent


async def certify_lot(chat: Chat, lot: int = 1, serial: str = "PF-1ABC23") -> list[Rendered]:
    """The reconditioner receives the lot, records one verified overwrite, then issues the
    certificate."""
    await chat.say(RECOND, choice=f"lot:rcv:{lot}")
    await chat.say(RECOND, choice=f"lot:wipe:{lot}")
    wipe = list(WIPE)
    wipe[2] = serial
    await chat.script(RECOND, *wipe)
    return await chat.say(RECOND, choice=f"lot:cert:{lot}")


# --- Declaring -------------------------------------------------------------------------------


async def test_a_company_declares_a_lot_and_gets_a_reference_a_protocol_and_a_receipt(
    chat: Chat,
):
    sent = await chat.script("acme", *organisation_lot()[:-2])
    protocol = texts(sent[-1:], "acme")  # shown before the commune and the drop-off
    assert "Dans quelle commune se trouve le matériel" in protocol
    assert "niveau 2 (renforcé)" in protocol
    assert "données de clients ou d'usagers" in protocol
    assert "réécrit au moins une fois, puis vérifié" in protocol
    assert "BIOS/UEFI" in protocol and "TPM" in protocol
    assert "étiquettes d'inventaire" in protocol
    assert "détruit physiquement" in protocol
    sent = await chat.say("acme", "veynes")
    assert "mis en benne devient un déchet" in texts(sent, "acme")
    assert "Centre de ressources de Veynes" in texts(sent, "acme")
    sent = await chat.say("acme", "1")
    summary = texts(sent, "acme")
    assert "732 829 320 00074" in summary and "12 ordinateurs portables, 5 écrans" in summary
    assert "niveau 2 (renforcé)" in summary
    sent = await chat.say("acme", "1")
    receipt = texts(sent, "acme")
    assert "Ordinateurs portables : 12" in receipt and "Écrans : 5" in receipt
    assert "LOT-2026-0001" in receipt
    assert "Convention de cession" in receipt
    assert "Avenue des Martinets" in receipt
    [pdf] = attachments(sent, "acme")
    document = pdf_text(pdf)
    assert "Reçu de don LOT-2026-0001" in document
    assert "ACME Informatique" in document and "Convention de cession" in document


async def test_the_collection_point_and_the_reconditioners_are_told(chat: Chat):
    sent = await declare_organisation_lot(chat)
    for staff in ("demo-veynes", RECOND):
        notice = texts(sent, staff)
        assert "Nouveau don LOT-2026-0001" in notice
        assert "Ordinateurs portables : 12" in notice
        assert "niveau 2" in notice
    assert texts(sent, "demo-gap") == ""


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_kind_of_organisation_can_declare(chat: Chat, kind: str):
    await chat.script("giver", *organisation_lot(KINDS[kind]))
    sent = await chat.say("giver", "1")
    assert "LOT-2026-0001" in texts(sent, "giver")


async def test_a_private_person_declares_a_pickup_without_organisation_questions(chat: Chat):
    sent = await chat.script("marie", *PRIVATE_LOT)
    transcript = texts(sent, "marie")
    assert "Nom de votre structure" not in transcript and "SIRET" not in transcript
    assert "niveau 1 (standard)" in transcript
    assert "vos fichiers personnels" in transcript
    assert "réécrit au moins une fois, puis vérifié" in transcript
    sent = await chat.say("marie", "1")
    receipt = texts(sent, "marie")
    assert "LOT-2026-0001" in receipt
    assert "enlèvement à Gap" in receipt and "en semaine le matin" in receipt
    assert len(attachments(sent, "marie")) == 1
    assert "enlèvement à Gap" in texts(sent, "coord")  # a pickup needs the coordination


async def test_a_script_for_an_address_is_refused_and_asked_again(chat: Chat):
    """Only an address a mail library accepts is kept, in its normalised form."""
    await chat.script("marie", *PRIVATE_LOT[:4])
    sent = await chat.say("marie", "<script>alert(1)</script>@evil.fr")
    told = texts(sent, "marie")
    assert "Cette adresse e-mail n'est pas valide, par exemple marie@exemple.fr." in told
    assert "Un téléphone ou un e-mail" in told  # the same question again
    sent = await chat.script("marie", "Marie.Curie@Exemple.FR", *PRIVATE_LOT[5:])
    assert "Marie.Curie@exemple.fr" in texts(sent, "marie")  # the summary
    await chat.say("marie", "1")
    async with chat.app.storage.transaction() as uow:
        (reach,) = [r for (r,) in await (await uow.conn.execute(
            "SELECT reach FROM lots")).fetchall()]
    assert reach == "Marie.Curie@exemple.fr" and "<script>" not in texts(sent, "marie")


async def test_references_follow_each_other(chat: Chat):
    await declare_organisation_lot(chat, "acme")
    sent = await chat.script("marie", *PRIVATE_LOT, "1")
    assert "LOT-2026-0002" in texts(sent, "marie")


async def test_a_lot_of_zero_items_is_refused(chat: Chat):
    sent = await chat.script("acme", *organisation_lot()[:6], "0 portable")
    assert "au moins un appareil" in texts(sent[-1:], "acme")
    assert "Quel matériel donnez-vous" in texts(sent[-1:], "acme")
    sent = await chat.say("acme", "1001 écrans")
    assert "Pas plus de 1000 par type : Écrans" in texts(sent, "acme")
    sent = await chat.say("acme", "Valider")
    assert "au moins un appareil" in texts(sent, "acme")
    sent = await chat.say("acme", "12 portables")
    assert "son âge, son état, ses chargeurs" in texts(sent, "acme")


async def test_the_lot_is_written_in_one_line_and_what_is_not_understood_is_named(chat: Chat):
    """Spelling, accents, plurals and number words do not matter; a part not understood is
    quoted back, and what was understood is kept while the donor writes the rest."""
    await chat.script("acme", *organisation_lot()[:6])
    sent = await chat.say("acme", "douze PORTABEL, 3 bidules et des ecrans")
    told = texts(sent, "acme")
    assert "Je n'ai pas compris : « 3 bidules »." in told
    assert "Noté : 12 ordinateurs portables." in told
    sent = await chat.say("acme", "2 imprimentes et 4 écrans")
    assert "son âge, son état, ses chargeurs" in texts(sent, "acme")
    await chat.script("acme", *organisation_lot()[7:])
    sent = await chat.say("acme", "1")
    notice = texts(sent, RECOND)
    assert "Ordinateurs portables : 12" in notice and "Imprimantes : 2" in notice
    assert "Écrans : 4" in notice


async def test_a_type_without_its_number_is_asked_its_number(chat: Chat):
    await chat.script("acme", *organisation_lot()[:6])
    sent = await chat.say("acme", "12 portables, des écrans")
    assert "Combien d'écrans ?" in texts(sent, "acme")
    sent = await chat.say("acme", "trois")
    assert "son âge, son état, ses chargeurs" in texts(sent, "acme")


async def test_buttons_pick_a_type_then_its_number(chat: Chat):
    """As on Telegram: a type's button, its number typed, another type, then "Valider"."""
    await chat.script("acme", *organisation_lot()[:6])
    sent = await chat.press("acme", "laptop")
    assert "Combien d'ordinateurs portables ?" in texts(sent, "acme")
    sent = await chat.say("acme", "12")
    assert "Noté : 12 ordinateurs portables. Choisissez un autre type" in texts(sent, "acme")
    await chat.press("acme", "screen")
    await chat.say("acme", "5")
    sent = await chat.press("acme", "done")
    assert "son âge, son état, ses chargeurs" in texts(sent, "acme")
    sent = await chat.script("acme", *organisation_lot()[7:])
    assert "12 ordinateurs portables, 5 écrans" in texts(sent, "acme")


async def test_age_state_and_chargers_are_one_question_answered_in_parts(chat: Chat):
    await chat.script("acme", *organisation_lot()[:7])
    sent = await chat.say("acme", "De 5 à 8 ans")
    told = texts(sent, "acme")
    assert "Choisi : De 5 à 8 ans. Reste : l'état, les chargeurs." in told
    sent = await chat.say("acme", "à tester, sans chargeurs")
    assert "Que contiennent encore les appareils" in texts(sent, "acme")


async def test_a_data_answer_that_stands_alone_is_not_combined(chat: Chat):
    await chat.script("acme", *organisation_lot()[:8])
    sent = await chat.say("acme", "2, 9")
    assert "« Je ne sais pas » ne se combine pas avec un autre choix." in texts(sent, "acme")
    sent = await chat.say("acme", "9")
    assert "Autre chose à savoir" in texts(sent, "acme")
    sent = await chat.say("acme", "non")
    assert "vous ne savez pas ce que contiennent les appareils" in texts(sent, "acme")


async def test_a_bad_siret_is_refused_and_the_name_alone_is_enough(chat: Chat):
    sent = await chat.script("acme", *organisation_lot()[:3], "ACME 73282932000075")
    assert "clé de contrôle" in texts(sent[-1:], "acme")
    sent = await chat.say("acme", "ACME 732 829 320 0007")
    assert "14 chiffres" in texts(sent, "acme")
    sent = await chat.say("acme", "73282932000074")
    assert "Écrivez aussi le nom de la structure" in texts(sent, "acme")
    sent = await chat.say("acme", "ACME Informatique")
    assert "personne à contacter" in texts(sent, "acme")
    sent = await chat.script("acme", *organisation_lot()[4:])
    assert "ACME Informatique (sans SIRET)" in texts(sent, "acme")


async def test_the_summary_offers_five_parts_to_change(chat: Chat):
    sent = await chat.script("acme", *organisation_lot())
    [summary] = [m for m in sent[-1:] if m.to == "cli:acme"]
    assert [label for _, label in summary.choices] == [
        "Confirmer", "Modifier : Donateur", "Modifier : Contact", "Modifier : Matériel",
        "Modifier : Données", "Modifier : Remise"]


async def test_a_correction_to_private_person_drops_the_organisation(chat: Chat):
    await chat.script("acme", *organisation_lot())
    await chat.say("acme", "Modifier : Donateur")
    sent = await chat.say("acme", "4")  # Un particulier
    assert "Vérifiez avant d'envoyer" in texts(sent, "acme")
    sent = await chat.say("acme", "1")
    notice = texts(sent, RECOND)
    assert "Jeanne Dupont (Un particulier)" in notice and "ACME" not in notice


async def test_changing_the_equipment_asks_its_questions_again_then_the_summary(chat: Chat):
    await chat.script("acme", *organisation_lot())
    sent = await chat.say("acme", "Modifier : Matériel")
    told = texts(sent, "acme")
    assert "Quel matériel donnez-vous" in told
    assert "Réponse actuelle : 12 ordinateurs portables, 5 écrans" in told
    sent = await chat.say("acme", "12 portables, 4 tours")
    assert "Réponse actuelle : De 5 à 8 ans, À tester, Chargeurs fournis" in texts(sent, "acme")
    sent = await chat.say("acme", "garder")
    summary = texts(sent, "acme")
    assert "Vérifiez avant d'envoyer" in summary
    assert "12 ordinateurs portables, 4 unités centrales" in summary
    sent = await chat.say("acme", "1")
    notice = texts(sent, RECOND)
    assert "Unités centrales (ordinateurs fixes) : 4" in notice and "Écrans" not in notice


async def test_changing_the_data_changes_the_protocol(chat: Chat):
    await chat.script("acme", *organisation_lot())
    await chat.say("acme", "Modifier : Données")
    sent = await chat.say("acme", "Aucune donnée à protéger")
    assert "Réponse actuelle : Rien de plus" in texts(sent, "acme")
    sent = await chat.say("acme", "garder")
    assert "niveau 1 (standard)" in texts(sent, "acme")  # the summary's recap
    sent = await chat.say("acme", "1")
    assert "niveau 1" in texts(sent, RECOND)


async def test_changing_the_drop_off_to_a_pickup_asks_where_and_when(chat: Chat):
    await chat.script("acme", *organisation_lot())
    sent = await chat.say("acme", "Modifier : Remise")
    assert "Réponse actuelle : Veynes" in texts(sent, "acme")
    await chat.say("acme", "garder")
    sent = await chat.say("acme", "Je demande un enlèvement")
    assert "À Veynes" in texts(sent, "acme")  # the commune given, one tap away
    await chat.say("acme", "À Veynes")
    sent = await chat.say("acme", "le lundi")
    assert "Vérifiez avant d'envoyer" in texts(sent, "acme")
    sent = await chat.say("acme", "1")
    assert "enlèvement à Veynes (le lundi)" in texts(sent, RECOND)


async def test_a_donor_can_cancel_and_nothing_is_stored(chat: Chat):
    await chat.script("acme", *organisation_lot()[:5])
    sent = await chat.say("acme", "annuler")
    assert "Rien n'a été enregistré" in texts(sent, "acme")
    sent = await chat.script("acme", "menu", "2")
    assert "Vous donnez en tant que" in texts(sent, "acme")  # still no lot: straight in


# --- Erasure records and certificates --------------------------------------------------------


async def test_the_reconditioner_records_erasure_and_the_donor_gets_the_certificate(chat: Chat):
    await declare_organisation_lot(chat)
    sent = await chat.say(RECOND, choice="lot:rcv:1")
    assert "marqué comme reçu" in texts(sent, RECOND)
    assert "LOT-2026-0001 est bien arrivé" in texts(sent, "acme")
    sent = await chat.say(RECOND, choice="lot:wipe:1")
    assert "Lot LOT-2026-0001 : quel appareil" in texts(sent, RECOND)
    sent = await chat.script(RECOND, *WIPE[:-1])
    check = texts(sent[-1:], RECOND)
    assert "PF-1ABC23" in check and "nwipe 0.34" in check
    assert "« ACME Informatique » comme client" in texts(sent, RECOND)
    sent = await chat.say(RECOND, "1")  # Enregistrer
    assert "Effacement enregistré (1 support pour ce lot)" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice="lot:cert:1")
    assert "Certificat EFF-" in texts(sent, RECOND)
    notice = texts(sent, "acme")
    assert "Voici le certificat d'effacement" in notice
    [pdf] = attachments(sent, "acme")
    document = pdf_text(pdf)
    assert "LOT-2026-0001" in document
    assert "PF-1ABC23" in document and "WD-123" in document  # high level: per-device detail
    assert "nwipe 0.34" in document and "Clear (NIST SP 800-88)" in document
    assert "Destination : réemploi" in document
    code = re.search(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}", texts(sent, "acme"))
    assert code is not None and code.group(0) in document


ATELIER = "Atelier de reconditionnement du lycée professionnel (Gap)"
"""The demo reconditioner's place."""


async def test_the_certificate_names_the_organisation_never_an_account(chat: Chat):
    """A demo reconditioner seeded without an access request is named by its place only."""
    await declare_organisation_lot(chat)
    sent = await certify_lot(chat)
    [pdf] = attachments(sent, "acme")
    document = pdf_text(pdf)
    assert f"Effacement réalisé par : {ATELIER}" in document
    assert f"Certificat délivré par : {ATELIER}" in document
    assert f"Opérateur : {ATELIER}" in document  # high level: per-medium detail
    assert "cli:" not in document and RECOND not in document


async def test_the_certificate_names_the_operator_and_stays_the_same_after_they_leave(
        chat: Chat):
    """The name given in the access request and the organisation, kept with the proof."""
    await chat.script("rene", "bonjour", "1", "3", "Lycée Paul Héraud", "Rue de Romette",
                      "gap", "René Dubois", "Technicien", "06 12 34 56 78", "1")
    await chat.say("coord", "1")  # Approuver
    await chat.say("coord", ATELIER)  # attached to the reconditioning workshop
    await declare_organisation_lot(chat)
    await chat.say("rene", choice="lot:rcv:1")
    await chat.say("rene", choice="lot:wipe:1")
    await chat.script("rene", *WIPE)
    sent = await chat.say("rene", choice="lot:cert:1")
    [pdf] = attachments(sent, "acme")
    document = pdf_text(pdf)
    assert f"Certificat délivré par : René Dubois, {ATELIER}" in document
    assert f"Opérateur : René Dubois, {ATELIER}" in document
    assert "cli:" not in document
    async with chat.app.storage.transaction() as uow:  # René's account is deleted
        await uow.users.delete(UserKey("cli:rene"))
    sent = await chat.say("acme", choice="don:cert:1")
    [again] = attachments(sent, "acme")
    assert pdf_text(again) == document


@pytest.mark.parametrize(
    ("zone", "moment", "day", "year"),
    [
        # 01:00 on Tuesday in Nouméa, while it is Monday afternoon in Paris and in UTC.
        ("Pacific/Noumea", datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
         "mardi 24 novembre 2026", 2026),
        # 22:00 on New Year's Eve in Cayenne, while 2027 has begun in Paris and in UTC.
        ("America/Cayenne", datetime(2027, 1, 1, 1, 0, tzinfo=UTC),
         "jeudi 31 décembre 2026", 2026),
    ],
)
async def test_lot_and_certificate_dates_are_days_of_the_configured_time_zone(
    db_path: Path, zone: str, moment: datetime, day: str, year: int,
):
    """FILIERE_TIMEZONE, not Paris, says which day a lot was declared and certified on,
    and which year numbers it."""
    chat = await make_chat(db_path, Clock(moment), FILIERE_TIMEZONE=zone)
    try:
        ref = f"LOT-{year}-0001"
        sent = await declare_organisation_lot(chat)
        assert f"Reçu de don {ref}" in pdf_text(attachments(sent, "acme")[0])
        sent = await certify_lot(chat)
        [pdf] = attachments(sent, "acme")
        document = pdf_text(pdf)
        assert f"Délivré le {day}" in document
        assert f"Lot {ref}, déclaré le {day}" in document
        sent = await chat.script("acme", "menu", "2", "2")
        assert f"{ref} du {day}" in texts(sent, "acme")
        code = re.search(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}", document)
        assert code is not None
        sent = await chat.say("bank", f"/verifier {code.group(0)}")
        assert f"lot {ref}, délivré le {day}" in texts(sent, "bank")
    finally:
        await chat.app.close()


async def test_the_donor_fetches_the_certificate_from_my_donations(chat: Chat):
    await declare_organisation_lot(chat)
    await certify_lot(chat)
    sent = await chat.script("acme", "menu", "2")
    assert "Mes dons / certificats" in texts(sent, "acme")
    sent = await chat.say("acme", "2")
    listing = texts(sent, "acme")
    assert "LOT-2026-0001" in listing and "certificat disponible" in listing
    sent = await chat.say("acme", "1")  # Certificat LOT-2026-0001
    [pdf] = attachments(sent, "acme")
    assert "Certificat d'effacement des données" in pdf_text(pdf)
    assert "LOT-2026-0001" in pdf_text(pdf)


async def test_a_donor_sees_only_their_own_lots(chat: Chat):
    await declare_organisation_lot(chat)
    await certify_lot(chat)
    sent = await chat.say("mallory", choice="don:cert:1")
    assert "pas (ou plus) valable pour vous" in texts(sent, "mallory")
    assert not attachments(sent, "mallory")
    sent = await chat.say("mallory", choice="don:list")
    assert "pas encore déclaré de don" in texts(sent, "mallory")


async def test_only_reconditioners_record_erasures(chat: Chat):
    await declare_organisation_lot(chat)
    sent = await chat.say("mallory", choice="lot:wipe:1")
    assert "pas (ou plus) valable pour vous" in texts(sent, "mallory")
    sent = await chat.say("demo-veynes", choice="lot:wipe:1")
    assert "pas (ou plus) valable pour vous" in texts(sent, "demo-veynes")
    sent = await chat.say("acme", choice="lot:cert:1")
    assert "pas (ou plus) valable pour vous" in texts(sent, "acme")


async def test_a_device_of_another_lot_is_refused(chat: Chat):
    await declare_organisation_lot(chat, "acme", receive=True)
    await chat.script("marie", *PRIVATE_LOT, "1")
    await chat.say(RECOND, choice="lot:rcv:2")
    await chat.say(RECOND, choice="lot:wipe:1")
    await chat.script(RECOND, *WIPE)
    await chat.say(RECOND, choice="lot:wipe:2")
    sent = await chat.script(RECOND, *WIPE)
    assert "déjà enregistré dans le lot LOT-2026-0001" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice="lot:cert:2")
    assert "Aucun effacement n'est encore enregistré" in texts(sent, RECOND)


async def test_impossible_times_are_refused_on_the_spot(chat: Chat):
    await declare_organisation_lot(chat, receive=True)
    await chat.say(RECOND, choice="lot:wipe:1")
    await chat.script(RECOND, *WIPE[:10])
    sent = await chat.say(RECOND, "23/11 18h")  # 18 h in Paris: later than now (10 h)
    assert "dans le futur" in texts(sent, RECOND)
    sent = await chat.say(RECOND, "31/02 9h")
    assert "Écrivez une date et une heure" in texts(sent, RECOND)
    sent = await chat.say(RECOND, "23/11/2024 9h")
    assert "plus d'un an" in texts(sent, RECOND)
    await chat.say(RECOND, "23/11 9h30")
    sent = await chat.say(RECOND, "23/11 9h")
    assert "La fin ne peut pas être avant le début" in texts(sent, RECOND)
    sent = await chat.say(RECOND, "23/11 9h50")
    assert "Vérifiez avant d'enregistrer" in texts(sent, RECOND)


async def test_a_failed_disk_must_be_destroyed_before_the_certificate(chat: Chat):
    """Lot 1 holds client data: the protocol promised to destroy any disk that fails."""
    await declare_organisation_lot(chat, receive=True)
    await chat.say(RECOND, choice="lot:wipe:1")
    failed = list(WIPE)
    failed[9] = "2"  # Échec
    await chat.script(RECOND, *failed)
    sent = await chat.say(RECOND, choice="lot:cert:1")
    assert "WD-123 a échoué" in texts(sent, RECOND)
    assert texts(sent, "acme") == ""
    await chat.say(RECOND, choice="lot:wipe:1")
    destroyed = [*WIPE[:8], "5", "maintenant", "maintenant", "1"]  # Destruction physique
    await chat.script(RECOND, *destroyed)
    sent = await chat.say(RECOND, choice="lot:cert:1")
    assert "Certificat EFF-" in texts(sent, RECOND)
    [pdf] = attachments(sent, "acme")
    assert "Destination : détruit" in pdf_text(pdf)


async def test_a_certified_lot_takes_no_more_records(chat: Chat):
    await declare_organisation_lot(chat)
    await certify_lot(chat)
    sent = await chat.say(RECOND, choice="lot:wipe:1")
    assert "déjà certifié" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice="lot:cert:1")
    assert "déjà certifié" in texts(sent, RECOND)


async def test_anyone_can_check_a_certificate_code(chat: Chat):
    await declare_organisation_lot(chat)
    sent = await certify_lot(chat)
    code = re.search(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}", texts(sent, RECOND))
    assert code is not None
    sent = await chat.say("bank", f"/verifier {code.group(0).lower()}")
    answer = texts(sent, "bank")
    assert "Certificat authentique : lot LOT-2026-0001" in answer
    assert "ACME" not in answer and "Jeanne" not in answer
    sent = await chat.say("bank", "/verifier EFF-AAAA-BBBB")
    assert "Aucun certificat ne porte ce code" in texts(sent, "bank")
    sent = await chat.say("bank", "/verifier")
    assert "suivi du code" in texts(sent, "bank")


async def test_the_staff_work_list(chat: Chat):
    await declare_organisation_lot(chat, receive=True)
    sent = await chat.script(RECOND, "menu", "1")
    assert "Dons à réceptionner et à effacer" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice="lot:list")
    assert "LOT-2026-0001" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice="lot:see:1")
    assert "Produire le certificat" in texts(sent, RECOND)


async def test_a_donor_can_erase_their_contact_data(chat: Chat):
    await declare_organisation_lot(chat)
    await chat.say("acme", choice="don:forget")
    sent = await chat.say("acme", "1")
    assert "coordonnées sont effacées" in texts(sent, "acme")
    sent = await chat.say(RECOND, choice="lot:see:1")
    assert "Jeanne" not in texts(sent, RECOND) and "+33612345678" not in texts(sent, RECOND)


# --- Retention -------------------------------------------------------------------------------


async def run_purge(chat: Chat) -> int:
    [job] = [j for j in chat.app.core.jobs if j.name == "donations.purge_erasure_proofs"]
    return await chat.app.core.run_job(job)


async def test_erasure_proofs_are_purged_after_five_years_and_younger_ones_kept(chat: Chat):
    await declare_organisation_lot(chat, "acme")
    sent = await certify_lot(chat, 1, "OLD-1")
    old_code = re.search(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}", texts(sent, RECOND))
    assert old_code is not None
    chat.clock.advance(days=2 * 365)
    await chat.script("marie", *PRIVATE_LOT, "1")
    await certify_lot(chat, 2, "YOUNG-2")

    chat.clock.now = START.replace(year=START.year + 5) - timedelta(days=1)
    assert await run_purge(chat) == 0

    chat.clock.now = START.replace(year=START.year + 5) + timedelta(days=1)
    assert await run_purge(chat) == 2  # lot 1's record and certificate
    sent = await chat.say("acme", choice="don:cert:1")
    assert "supprimées, 5 ans après le certificat" in texts(sent, "acme")
    assert not attachments(sent, "acme")
    sent = await chat.say("bank", f"/verifier {old_code.group(0)}")
    assert "Aucun certificat" in texts(sent, "bank")
    sent = await chat.say("marie", choice="don:cert:2")
    [pdf] = attachments(sent, "marie")
    assert "YOUNG-2" in pdf_text(pdf)
    assert await run_purge(chat) == 0


# --- Bulk records from a CSV -----------------------------------------------------------------

CSV_HEADER = ("lot;device_category;device_model;device_serial;medium_kind;medium_model;"
              "medium_serial;tool;tool_version;method;result;started_at;ended_at")


def csv_row(lot: str, serial: str, method: str = "overwrite", result: str = "verified") -> str:
    return (f"{lot};laptop;Dell Latitude 5490;{serial};hdd;WD Blue;WD-{serial};nwipe;0.34;"
            f"{method};{result};23/11/2026 08:00;23/11/2026 09:30")


async def test_a_reconditioner_records_a_whole_csv_at_once(chat: Chat):
    await declare_organisation_lot(chat, receive=True)
    sent = await chat.say(RECOND, "/effacements")
    assert "Collez le contenu du fichier CSV" in texts(sent, RECOND)
    csv = "\n".join([CSV_HEADER, csv_row("LOT-2026-0001", "A1"), csv_row("LOT-2026-0001", "A2")])
    sent = await chat.say(RECOND, csv)
    assert "2 effacements enregistrés : LOT-2026-0001" in texts(sent, RECOND)
    sent = await chat.say(RECOND, choice="lot:cert:1")
    [pdf] = attachments(sent, "acme")
    assert "WD-A1" in pdf_text(pdf) and "WD-A2" in pdf_text(pdf)


async def test_a_csv_with_a_bad_row_records_nothing_and_names_the_line(chat: Chat):
    await declare_organisation_lot(chat, receive=True)
    await chat.say(RECOND, "/effacements")
    csv = "\n".join([CSV_HEADER, csv_row("LOT-2026-0001", "A1"),
                     csv_row("LOT-2026-0001", "A2", method="teleport")])
    sent = await chat.say(RECOND, csv)
    answer = texts(sent, RECOND)
    assert "Rien n'a été enregistré" in answer and "Ligne 3" in answer
    assert "Ligne 2" not in answer
    csv = "\n".join([CSV_HEADER, csv_row("LOT-2026-0001", "A1"), csv_row("LOT-2026-0099", "A2")])
    sent = await chat.say(RECOND, csv)  # well formed, but lot 99 does not exist
    answer = texts(sent, RECOND)
    assert "Ligne 3 : le lot LOT-2026-0099 n'est pas à traiter par votre atelier" in answer
    sent = await chat.say(RECOND, choice="lot:cert:1")
    assert "Aucun effacement n'est encore enregistré" in texts(sent, RECOND)


async def test_only_reconditioners_send_a_csv(chat: Chat):
    sent = await chat.say("demo-veynes", "/effacements")
    assert "pas (ou plus) valable pour vous" in texts(sent, "demo-veynes")


async def test_an_english_speaker_declares_in_english_words(chat: Chat):
    await chat.say("jo", "hello", lang="en")
    sent = await chat.script("jo", "2", "A private individual", "Jo Smith", "Skip",
                             "two laptops and a dozen screens")
    assert "the age" not in texts(sent[-1:], "jo")
    assert "its age, its condition, its chargers" in texts(sent[-1:], "jo")
    sent = await chat.say("jo", "More than 8 years")
    assert "Still to choose: the condition, the chargers." in texts(sent, "jo")
    sent = await chat.script("jo", "It works, No chargers", "I don't know", "no")
    assert "Protection of your data" in texts(sent, "jo")
    sent = await chat.script("jo", "gap", "I request a collection", "In Gap", "mornings")
    summary = texts(sent, "jo")
    assert "2 laptops, 12 screens" in summary
    assert "Choisi" not in summary and "Change: Equipment" in summary
    sent = await chat.say("jo", "Confirm")
    assert "LOT-2026-0001" in texts(sent, "jo") and "Laptops: 2" in texts(sent, "jo")


async def test_types_typed_by_their_numbers_are_asked_their_numbers_in_turn(chat: Chat):
    """The way the declaration used to ask ("1, 3", then one number a type) still works."""
    await chat.script("acme", *organisation_lot()[:6])
    sent = await chat.say("acme", "1, 3")
    assert "Combien d'ordinateurs portables ?" in texts(sent, "acme")
    sent = await chat.say("acme", "12")
    assert "Combien d'écrans ?" in texts(sent, "acme")
    sent = await chat.say("acme", "5")
    assert "son âge, son état, ses chargeurs" in texts(sent, "acme")


async def test_the_drop_off_points_follow_the_commune_just_changed(chat: Chat):
    await chat.script("acme", *organisation_lot())
    await chat.say("acme", "Modifier : Remise")
    sent = await chat.say("acme", "gap")
    points = texts(sent, "acme")
    assert "Comment le matériel nous parvient-il" in points
    assert ", Gap (" in points and "Centre de ressources de Veynes" not in points


async def test_a_declaration_saved_at_a_retired_question_resumes_at_the_first_unanswered(
    chat: Chat,
):
    """A donor halfway through the old, longer declaration when the bot was updated."""
    await chat.say("acme", "bonjour")
    old = Conversation("donation", "donation.qty.laptop", {
        "donation.kind": "company", "donation.organisation": "ACME",
        "donation.contact": "Jeanne Dupont", "donation.commune": "05179",
        "donation.reach": None, "donation.categories": ["laptop"]},
        ("donation.kind", "donation.organisation", "donation.contact"), revision=8)
    async with chat.app.storage.transaction() as uow:
        await uow.conversations.save(UserKey("cli:acme"), old, chat.clock())
    sent = await chat.say("acme", "12")
    told = texts(sent, "acme")
    assert "Écrivez aussi le nom de la structure" in told  # "12": not a name
    assert "Nom de votre structure" in told
    sent = await chat.say("acme", "ACME Informatique")
    assert "Quel matériel donnez-vous, et combien" in texts(sent, "acme")  # contact kept
