"""Coordinators run the network from the chat: accesses and referents, places and their
hours, CSV files in and out, catalogue and prices, workshop series, messages to prescribers,
figures with masked small counts, and the audit log. Transcripts through ``Chat``."""

from __future__ import annotations

import csv
import io
import json
import struct
from datetime import UTC, datetime

import pytest

from bot.i18n import Rendered
from flows.audit import AuditAction
from flows.mednum import COLUMNS as MEDNUM_COLUMNS
from flows.messages import Attachment, UserKey
from flows.records import Role
from tests.handlers.chain import set_stock
from tests.handlers.test_equipment_requests import GAP, VEYNES, approve, ask, place_id
from tests.support import Chat, texts

ACCESS = ["bonjour", "1", "1", "{structure}", "3 rue de la Gare", "veynes", "{name}",
          "Conseillère sociale", "06 12 34 56 78", "1"]
EMBRUN = "Point relais d'Embrun (MJC)"


def access(structure: str = "CCAS de Veynes", name: str = "Ana Martin") -> list[str]:
    return [line.format(structure=structure, name=name) for line in ACCESS]


def csv_file(text: str, name: str = "liste.csv") -> Attachment:
    return Attachment(name, "text/csv", text.encode("utf-8"))


def attachments(sent: list[Rendered], to: str = "coord") -> list[Attachment]:
    return [m.attachment for m in sent if m.to == f"cli:{to}" and m.attachment is not None]


async def audit(chat: Chat) -> list[tuple[str | None, AuditAction, str]]:
    async with chat.app.storage.transaction() as uow:
        return [(e.actor, e.action, e.subject) for e in reversed(await uow.audit.recent(100))]


async def member_number(chat: Chat, who: str) -> int:
    async with chat.app.storage.transaction() as uow:
        return next(m.number for m in await uow.coordination.members()
                    if m.user == f"cli:{who}")


async def user(chat: Chat, who: str):
    async with chat.app.storage.transaction() as uow:
        return await uow.users.get(UserKey(f"cli:{who}"))


# --- Only coordinators -------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["co:menu", "co:acc", "co:fig", "co:aud", "co:pl:csv",
                                    "co:pl:add", "co:m:1", "co:mvy:1", "co:cat:x:prices"])
async def test_coordination_buttons_are_refused_to_others(chat: Chat, choice: str):
    await approve(chat, "ana", Role.PRESCRIBER)
    sent = await chat.say("ana", choice=choice)
    assert "pas (ou plus) valable pour vous" in texts(sent, "ana")
    assert attachments(sent, "ana") == []


async def test_the_coordination_command_and_files_are_ignored_for_others(chat: Chat):
    await approve(chat, "ana", Role.PRESCRIBER)
    sent = await chat.say("ana", "/coordination")
    assert "pas (ou plus) valable pour vous" in texts(sent, "ana")
    sent = await chat.say("ana", attachment=csv_file("palier;materiel;prix\nfull;*;1\n"))
    assert "Je n'ai pas compris" in texts(sent, "ana")
    async with chat.app.storage.transaction() as uow:
        assert len((await uow.catalogue.price_grid()).prices) > 1  # untouched


async def test_the_professional_space_shows_the_coordination_entry(chat: Chat):
    sent = await chat.script("coord", "bonjour", "1")
    assert "Coordination du réseau" in texts(sent, "coord")
    sent = await chat.say("coord", "Coordination du réseau")
    assert "Chiffres d'activité" in texts(sent, "coord")


# --- Accesses: list by role, revoke, change role and place, referents ----------------------


async def test_the_access_list_filters_by_role(chat: Chat):
    await chat.script("ana", *access())
    sent = await chat.say("coord", choice="co:al:place_staff")
    shown = texts(sent, "coord")
    assert "0 demande en attente" in shown
    assert "cli:demo-veynes" in shown and "cli:demo-accomp" not in shown
    sent = await chat.say("coord", choice="co:al:prescriber")
    shown = texts(sent, "coord")
    assert "1 demande en attente" in shown and "CCAS de Veynes" in shown
    assert "Approuver la demande n° 1" in shown and "cli:demo-accomp" in shown


async def test_revoking_an_access_tells_the_person_and_is_audited(chat: Chat):
    await chat.script("ana", *access())
    await chat.say("coord", choice="acc:ok:1")
    number = await member_number(chat, "ana")
    sent = await chat.say("coord", choice=f"co:mv:{number}")
    assert "Retirer l'accès professionnel" in texts(sent, "coord")
    sent = await chat.say("coord", "1")  # "Oui, retirer l'accès"
    assert "Accès retiré" in texts(sent, "coord")
    assert "accès professionnel au réseau a été retiré" in texts(sent, "ana")
    assert (await user(chat, "ana")).role is None
    sent = await chat.script("ana", "menu", "1")
    assert "Espace professionnel" not in texts(sent, "ana")
    assert await audit(chat) == [("cli:coord", AuditAction.ACCESS_GRANTED, "access:1"),
                                 ("cli:coord", AuditAction.ACCESS_REVOKED, "access:1")]
    sent = await chat.say("coord", choice=f"co:mvy:{number}")
    assert "pas (ou plus) valable pour vous" in texts(sent, "coord")


async def test_changing_a_role_and_a_place(chat: Chat):
    number = await member_number(chat, "demo-accomp")
    await chat.say("coord", choice=f"co:mr:{number}")
    sent = await chat.say("coord", "personnel d'un lieu")
    assert "a maintenant le rôle : personnel d'un lieu" in texts(sent, "coord")
    assert "changé votre rôle" in texts(sent, "demo-accomp")
    await chat.say("coord", choice=f"co:mp:{number}")
    sent = await chat.say("coord", EMBRUN)
    assert f"rattaché au lieu : {EMBRUN}" in texts(sent, "demo-accomp")
    found = await user(chat, "demo-accomp")
    assert found.role is Role.PLACE_STAFF and found.place_id == await place_id(chat, EMBRUN)
    assert [a for _w, a, _s in await audit(chat)] == [AuditAction.ROLE_CHANGED] * 2


async def test_the_first_member_of_a_structure_approves_a_colleague(chat: Chat):
    await chat.script("ana", *access())
    await chat.say("coord", choice="acc:ok:1")
    await chat.say("coord", choice=f"acc:pl:1:{await place_id(chat, VEYNES)}")
    sent = await chat.script("ben", *access("ccas de VEYNES", "Ben Roux"))
    assert "Vous êtes référent·e de cette structure" in texts(sent, "ana")
    assert "Approuver la demande n° 2" in texts(sent, "coord")
    sent = await chat.script("ana", "menu", "1")
    assert "Demandes d'accès de ma structure" in texts(sent, "ana")
    sent = await chat.say("ana", choice="acc:ok:2")
    assert "rattaché à votre lieu" in texts(sent, "ana")
    assert "accès professionnel est validé" in texts(sent, "ben")
    assert f"rattaché au lieu : {VEYNES}" in texts(sent, "ben")
    assert "personne référente de la structure" in texts(sent, "coord")
    ben = await user(chat, "ben")
    assert ben.role is Role.PRESCRIBER and ben.place_id == await place_id(chat, VEYNES)
    assert ("cli:ana", AuditAction.ACCESS_GRANTED, "access:2") in await audit(chat)


async def test_a_referent_decides_only_for_their_own_structure(chat: Chat):
    await chat.script("ana", *access())
    await chat.say("coord", choice="acc:ok:1")
    sent = await chat.script("zoe", *access("Secours populaire de Gap", "Zoé Blanc"))
    assert texts(sent, "ana") == ""
    sent = await chat.say("ana", choice="acc:ok:2")
    assert "pas (ou plus) valable pour vous" in texts(sent, "ana")
    assert (await user(chat, "zoe")).role is None
    await chat.script("ana2", *access("CCAS de Veynes", "Ana Martin"))
    sent = await chat.say("ana2", choice="acc:ok:3")  # nobody approves their own request
    assert "pas (ou plus) valable pour vous" in texts(sent, "ana2")


async def test_the_coordinator_names_another_referent(chat: Chat):
    await chat.script("ana", *access())
    await chat.say("coord", choice="acc:ok:1")
    await chat.script("ben", *access("CCAS de Veynes", "Ben Roux"))
    await chat.say("coord", choice="acc:ok:2")
    sent = await chat.say("coord", choice=f"co:mf:{await member_number(chat, 'ben')}")
    assert "nommé·e référent·e" in texts(sent, "ben")
    sent = await chat.script("cleo", *access("CCAS de Veynes", "Cléo Petit"))
    assert "Vous êtes référent·e" in texts(sent, "ben") and texts(sent, "ana") == ""
    assert AuditAction.REFERENT_NAMED in [a for _w, a, _s in await audit(chat)]


# --- Places --------------------------------------------------------------------------------

NEW_PLACE = ["Médiathèque de Laragne", "2", "laragne", "Place des Aires",
             "Mo-Fr 09:00-12:00,14:00-17:00; PH off", "CC Buëch-Dévoluy", "Valider"]


async def test_a_place_is_added_in_chat_and_says_whether_it_is_open(chat: Chat):
    sent = await chat.say("coord", choice="co:pl:add")
    assert "Nom du lieu ?" in texts(sent, "coord")
    sent = await chat.script("coord", *NEW_PLACE[:4], "lundi 9h-12h")
    assert "n'est pas compris" in texts(sent, "coord")  # not OSM: asked again with the reason
    sent = await chat.script("coord", *NEW_PLACE[4:])
    assert "lun.–ven. 09:00–12:00, 14:00–17:00 ; jours fériés : fermé" in texts(sent, "coord")
    sent = await chat.say("coord", "Confirmer")
    assert "Lieu ajouté : Médiathèque de Laragne" in texts(sent, "coord")
    # Monday 23 November 2026, 10:00 in Veynes time.
    sent = await chat.say("coord", choice="co:pl")
    assert ("Médiathèque de Laragne (point relais, Laragne-Montéglin) : lun.–ven. 09:00–12:00, "
            "14:00–17:00 ; jours fériés : fermé (ouvert maintenant, jusqu'à lundi 23 novembre "
            "à 12 h 00)") in texts(sent, "coord")
    async with chat.app.storage.transaction() as uow:
        place = next(p for p in await uow.places.all() if p.name == NEW_PLACE[0])
    assert place.osm_hours == "Mo-Fr 09:00-12:00,14:00-17:00; PH off"
    assert place.opening_hours == "lun.-ven. 09:00-12:00, 14:00-17:00 ; jours fériés : fermé"
    assert place.covers_epci == ("200067445",)


async def test_a_place_is_edited_and_closed(chat: Chat):
    veynes = await place_id(chat, VEYNES)
    sent = await chat.say("coord", choice=f"co:pd:{veynes}")
    assert "Personnel rattaché (1) : cli:demo-veynes" in texts(sent, "coord")
    await chat.say("coord", choice=f"co:pl:e:{veynes}")
    sent = await chat.script("coord", "Horaires", "Sa 10:00-12:00")
    assert "C'est enregistré" in texts(sent, "coord")
    sent = await chat.script("demo-accomp", "menu", "1", "Lieux du réseau")
    assert "fermé, ouvre samedi 28 novembre à 10 h 00" in texts(sent, "demo-accomp")
    await chat.say("coord", choice=f"co:pl:e:{veynes}")
    sent = await chat.script("coord", "Fermer ou rouvrir le lieu", "Fermer le lieu")
    assert "ne reçoit plus de nouvelles demandes" in texts(sent, "coord")
    async with chat.app.storage.transaction() as uow:
        assert veynes not in [p.id for p in await uow.places.all()]
        assert (await uow.coordination.place(veynes)).active is False


async def test_places_are_exported_edited_and_sent_back(chat: Chat):
    sent = await chat.say("coord", choice="co:pl:csv")
    (exported,) = attachments(sent)
    assert exported.filename == "lieux.csv" and exported.mime == "text/csv"
    text = exported.data.decode("utf-8-sig")
    assert text.startswith("id;nom;type;commune;adresse;horaires;epci;siret;actif")
    edited = text.replace("Point relais d'Embrun (MJC)", "MJC d'Embrun") + (
        ";Tiers-lieu de Guillestre;relais;Guillestre;Rue du Queyras;Tu-Sa 10:00-18:00;;;oui;;\r\n")
    sent = await chat.say("coord", attachment=csv_file(edited))
    assert "Fichier de lieux du réseau enregistré : 8 lignes" in texts(sent, "coord")
    assert "1 lieux créés, 7 mis à jour" in texts(sent, "coord")
    async with chat.app.storage.transaction() as uow:
        names = {p.name: p for p in await uow.places.all()}
    assert "MJC d'Embrun" in names and EMBRUN not in names
    assert names["Tiers-lieu de Guillestre"].osm_hours == "Tu-Sa 10:00-18:00"
    school = next(p for name, p in names.items() if name.startswith("Atelier"))
    assert school.opening_hours == "lun.-ven. en période scolaire"  # free text kept
    assert names[VEYNES].opening_hours == ("mar.-ven. 09:00-12:00, 14:00-17:00 ; "
                                           "jours fériés : fermé")  # plain copy of OSM


async def test_a_place_named_like_a_formula_is_exported_as_text_and_comes_back_exact(
        chat: Chat):
    """A spreadsheet opening an export never runs a place's name; sent back, it is unchanged."""
    formula = '=HYPERLINK("http://x","y")'
    veynes = await place_id(chat, VEYNES)
    async with chat.app.storage.transaction() as uow:
        await uow.conn.execute("UPDATE places SET name = ? WHERE id = ?", (formula, veynes))
    (places,) = attachments(await chat.say("coord", choice="co:pl:csv"))
    (stock,) = attachments(await chat.say("coord", choice="co:cat:x:stock"))
    (national,) = attachments(await chat.say("coord", choice="co:pl:mn"))
    for exported, delimiter in ((places, ";"), (stock, ";"), (national, ",")):
        cells = [c for row in csv.reader(io.StringIO(exported.data.decode("utf-8-sig")),
                                         delimiter=delimiter) for c in row]
        assert "'" + formula in cells and formula not in cells, exported.filename
    sent = await chat.say("coord", attachment=places)
    assert "0 lieux créés, 7 mis à jour" in texts(sent, "coord")
    async with chat.app.storage.transaction() as uow:
        assert (await uow.places.get(veynes)).name == formula


async def test_a_bad_places_file_saves_nothing_and_names_the_lines(chat: Chat):
    bad = ("nom;type;commune;horaires\n"
           "Lieu un;relais;Gap;Mo-Fr 09:00-12:00\n"
           "Lieu deux;boutique;Gap;\n"
           "Lieu trois;hub;Marseille;\n")
    sent = await chat.say("coord", attachment=csv_file(bad))
    told = texts(sent, "coord")
    assert "Rien n'a été enregistré" in told
    assert "Ligne 3 : type inconnu" in told and "Ligne 4 : commune « Marseille »" in told
    async with chat.app.storage.transaction() as uow:
        assert "Lieu un" not in [p.name for p in await uow.places.all()]


async def test_an_unknown_file_gets_the_list_of_known_headers(chat: Chat):
    sent = await chat.say("coord", attachment=csv_file("a;b\n1;2\n"))
    assert "Je ne reconnais pas ce fichier" in texts(sent, "coord")
    assert "materiel ; palier ; prix" in texts(sent, "coord")


def mednum_row(**values: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values.get(c, "") for c in MEDNUM_COLUMNS])
    return out.getvalue()


async def test_the_national_directory_is_imported_and_the_network_exported(chat: Chat):
    national = ",".join(MEDNUM_COLUMNS) + "\n" + "".join([
        mednum_row(id="a1", pivot="43493312300029", nom="Espace public numérique de Gap",
                   commune="Gap", code_postal="05000", code_insee="05061", adresse="Rue Carnot",
                   horaires="Mo-Fr 09:00-12:00", date_maj="2026-06-01",
                   services="Acquisition de matériel informatique à prix solidaire"),
        mednum_row(id="b2", nom="Ailleurs", commune="Lyon", code_postal="69001",
                   code_insee="69381", adresse="x", date_maj="2026-06-01"),
        mednum_row(id="c3", nom="Sans date", commune="Gap", code_postal="05000",
                   code_insee="05061", adresse="x"),
    ])
    sent = await chat.say("coord", attachment=csv_file(national, "lieux-mediation.csv"))
    told = texts(sent, "coord")
    assert "1 lieux du territoire enregistrés (1 nouveaux), 1 lignes hors du territoire" in told
    assert "Ligne 4 : date_maj invalide" in told
    sent = await chat.say("coord", choice="co:mn")
    assert "Espace public numérique de Gap, Gap : lun.–ven. 09:00–12:00 (ouvert maintenant" \
        in texts(sent, "coord")
    sent = await chat.say("coord", choice="co:pl:mn")
    (exported,) = attachments(sent)
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8"))))
    assert len(rows) == 7 and list(rows[0]) == list(MEDNUM_COLUMNS)
    assert {r["code_insee"] for r in rows} >= {"05061", "05179"}


async def test_the_national_export_dates_a_change_by_the_networks_calendar(chat: Chat):
    """At 23:30 UTC it is already the next day in Paris: so is a change made then."""
    chat.clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    veynes = await place_id(chat, VEYNES)
    await chat.say("coord", choice=f"co:pl:e:{veynes}")
    sent = await chat.script("coord", "Horaires", "Sa 10:00-12:00")
    assert "C'est enregistré" in texts(sent, "coord")
    sent = await chat.say("coord", choice="co:pl:mn")
    (exported,) = attachments(sent)
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8"))))
    assert {r["date_maj"] for r in rows} == {"2026-11-24"}


# --- Catalogue, stock, prices ------------------------------------------------------------


async def test_prices_are_replaced_by_a_file_and_a_bad_one_changes_nothing(chat: Chat):
    good = "palier;materiel;prix\nsymbolic;*;2\nreduced;*;35\nfull;*;75\nfull;laptop;95,50\n"
    sent = await chat.say("coord", attachment=csv_file(good))
    assert "Fichier de prix par palier enregistré : 4 lignes" in texts(sent, "coord")
    sent = await chat.say("coord", choice="co:cat")
    assert "prix solidaire, Ordinateur portable : 95,50\u00a0€" in texts(sent, "coord")
    sent = await chat.say("coord", attachment=csv_file("palier;materiel;prix\nfull;*;x\n"))
    assert "Ligne 2 : prix illisible" in texts(sent, "coord")
    async with chat.app.storage.transaction() as uow:
        assert len((await uow.catalogue.price_grid()).prices) == 4


async def test_the_price_grid_is_exported_and_reads_back(chat: Chat):
    sent = await chat.say("coord", choice="co:cat:x:prices")
    (exported,) = attachments(sent)
    assert "full;laptop;90,00" in exported.data.decode("utf-8-sig")
    sent = await chat.say("coord", attachment=exported)
    assert "enregistré : 10 lignes" in texts(sent, "coord")


async def test_public_prices_by_grade_go_out_as_a_file_and_come_back(chat: Chat):
    (exported,) = attachments(await chat.say("coord", choice="co:cat:x:grades"))
    grid = exported.data.decode("utf-8-sig")
    assert grid.splitlines()[0] == "materiel;etat;prix"
    assert "laptop;B;" in grid.splitlines()  # no price yet: an empty cell to fill
    filled = grid.replace("laptop;A;", "laptop;A;150").replace("laptop;B;", "laptop;B;120,50")
    sent = await chat.say("coord", attachment=csv_file(filled))
    assert "Fichier de prix publics par état enregistré" in texts(sent, "coord")
    door = texts(await chat.say("passerby", choice="m:buy"), "passerby")
    assert "état A : 150,00\u00a0€; état B : 120,50\u00a0€" in door
    (again,) = attachments(await chat.say("coord", choice="co:cat:x:grades"))
    assert "laptop;B;120,50" in again.data.decode("utf-8-sig").splitlines()

    sent = await chat.say("coord", attachment=csv_file(
        "materiel;etat;prix\nlaptop;A;\nlaptop;D;10\nscooter;B;5\nlaptop;C;dix\n"))
    told = texts(sent, "coord")
    assert "Ligne 3 : état inconnu : A, B, C." in told
    assert "Ligne 4 : type de matériel « scooter » inconnu." in told
    assert "Ligne 5 : prix illisible" in told
    async with chat.app.storage.transaction() as uow:
        assert await uow.reservations.grade_prices() == {("laptop", "A"): 15000,
                                                         ("laptop", "B"): 12050}

    await chat.say("coord", attachment=csv_file("materiel;etat;prix\nlaptop;A;\nlaptop;B;99\n"))
    async with chat.app.storage.transaction() as uow:
        assert await uow.reservations.grade_prices() == {("laptop", "B"): 9900}


async def test_a_price_and_a_rule_are_changed_in_chat(chat: Chat):
    await chat.say("coord", choice="co:cat:price")
    sent = await chat.script("coord", "prix symbolique", "Tablette", "2,50", "Confirmer")
    assert "Prix enregistré : prix symbolique, 2,50\u00a0€" in texts(sent, "coord")
    await chat.say("coord", choice="co:cat:rule")
    sent = await chat.script("coord", "Retraité·e", "Tous revenus", "prix symbolique",
                             "Confirmer")
    assert "Règle enregistrée : Retraité·e, tous revenus → prix symbolique" in texts(sent,
                                                                                    "coord")


async def test_a_new_kind_joins_the_catalogue(chat: Chat):
    await chat.say("coord", choice="co:cat:kind")
    sent = await chat.script("coord", "Écran seul", "Pour brancher un portable.", "2, 6",
                             "Confirmer")
    assert "Type de matériel ajouté : Écran seul (code ecran_seul)" in texts(sent, "coord")
    async with chat.app.storage.transaction() as uow:
        assert "ecran_seul" in {k.code for k in await uow.catalogue.kinds()}


async def test_stock_is_counted_so_a_stock_file_sent_back_changes_nothing(chat: Chat):
    await approve(chat, "ana", Role.PRESCRIBER)
    await set_stock(chat, "tablet", {})
    await ask(chat, "ana", kind="Tablette")
    (exported,) = attachments(await chat.say("coord", choice="co:cat:x:stock"))
    assert ";laptop;6" in exported.data.decode("utf-8-sig")  # Veynes' ready laptops
    veynes = await place_id(chat, VEYNES)
    sent = await chat.say("coord", attachment=csv_file(
        f"lieu;nom_lieu;materiel;disponible\n{veynes};Veynes;tablet;2\n"))
    assert "Le stock ne se saisit plus" in texts(sent, "coord")
    assert "Du matériel est arrivé" not in texts(sent, "ana")
    async with chat.app.storage.transaction() as uow:
        assert await uow.catalogue.available(veynes, "tablet") == 0


# --- Workshops and messages ----------------------------------------------------------------


async def test_a_series_keeps_its_local_time_across_summer_time(chat: Chat):
    await chat.say("coord", choice="co:ser")
    sent = await chat.script("coord", VEYNES, "1, 2, 3", "15/03/2027", "14 h",
                             "Chaque semaine", "2 heures", "8", "Confirmer")
    told = texts(sent, "coord")
    assert "3 séances programmées à Centre de ressources de Veynes" in told
    assert "lundi 29 mars à 14 h 00 : Internet et courriel" not in told
    assert "lundi 29 mars à 14 h 00 : Démarches en ligne" in told
    veynes = await place_id(chat, VEYNES)
    async with chat.app.storage.transaction() as uow:
        workshops = await uow.workshops.upcoming_at([veynes], datetime(2027, 3, 1, tzinfo=UTC),
                                                    10)
    starts = [(w.starts_at, w.topic, w.seats, w.minutes) for w in workshops]
    assert starts == [
        (datetime(2027, 3, 15, 13, 0, tzinfo=UTC), "getting_started", 8, 120),
        (datetime(2027, 3, 22, 13, 0, tzinfo=UTC), "internet_email", 8, 120),
        (datetime(2027, 3, 29, 12, 0, tzinfo=UTC), "public_services", 8, 120),  # CEST
    ]


async def test_a_message_goes_to_every_prescriber_or_one_epci(chat: Chat):
    await chat.script("ana", *access())
    await chat.say("coord", choice="acc:ok:1")  # Ana's structure is in Veynes (Buëch-Dévoluy)
    await chat.say("coord", choice="co:bc")
    sent = await chat.script("coord", "Tous les accompagnant·es",
                             "Fermeture des lieux le 24 décembre.", "Confirmer")
    assert "Message envoyé à 3 accompagnant·es" in texts(sent, "coord")
    for who in ("ana", "demo-accomp", "demo-fs"):
        assert "Fermeture des lieux le 24 décembre." in texts(sent, who)
    assert texts(sent, "demo-veynes") == ""
    await chat.say("coord", choice="co:bc")
    sent = await chat.script("coord", "Ceux d'une intercommunalité", "CC Buëch-Dévoluy",
                             "Atelier au Centre de Veynes.", "Confirmer")
    assert "Message envoyé à 1 accompagnant·e." in texts(sent, "coord")
    assert "Atelier au Centre de Veynes." in texts(sent, "ana")
    assert texts(sent, "demo-fs") == ""


# --- Figures -----------------------------------------------------------------------------


async def seed_activity(chat: Chat) -> None:
    """Known activity: 6 lots in Gap this month (2 laptops and a screen each), 2 in Veynes in
    October; 8 requests in Gap this month, 5 of them handed over, 2 in Veynes in October;
    5 beneficiaries; 9 laptops made ready at Gap; 3 requests waiting in Gap."""
    nov, octo = "2026-11-10T10:00:00.000000+00:00", "2026-10-10T10:00:00.000000+00:00"
    gap_place = await place_id(chat, GAP)
    async with chat.app.storage.transaction() as uow:
        conn = uow.conn
        await uow.users.create(UserKey("cli:ana"), "fr", chat.clock())
        for n, (commune, when) in enumerate([("05061", nov)] * 6 + [("05179", octo)] * 2, 1):
            await conn.execute(
                "INSERT INTO lots (id, reference, year, seq, donor_kind, contact_name, commune,"
                " age, condition, chargers, level, measures, logistics, status, created_at,"
                " received_at) VALUES (?, ?, 2026, ?, 'company', 'X', ?, 'under_5', 'working',"
                " 'yes', 'standard', '[]', 'drop_off', 'received', ?, ?)",
                (n, f"LOT-2026-{n:04d}", n, commune, when, when))
            await conn.executemany(
                "INSERT INTO lot_items (lot_id, category, quantity) VALUES (?, ?, ?)",
                [(n, "laptop", 2), (n, "screen", 1)])
        requests = [("200067825", "05061", nov)] * 8 + [("200067445", "05179", octo)] * 2
        for n, (epci, commune, when) in enumerate(requests, 1):
            status = "handed_over" if n <= 5 else "waiting"
            await conn.execute(
                "INSERT INTO equipment_requests (id, reference, prescriber, needs, kind,"
                " situation, tier, price_cents, commune, epci, internet, age, status,"
                " created_at, updated_at) VALUES (?, ?, 'cli:ana', '[\"admin\"]', 'laptop',"
                " 'student', 'symbolic', 100, ?, ?, 'yes', '18_25', ?, ?, ?)",
                (n, f"DEM-2026-{n:04d}", commune, epci, status, when, when))
            if n <= 5:
                await conn.execute("INSERT INTO request_events (request_id, event, at)"
                                   " VALUES (?, 'handed_over', ?)", (n, when))
            elif n <= 8:
                await conn.execute("INSERT INTO request_waiting (request_id, kind, epci, since)"
                                   " VALUES (?, 'laptop', ?, ?)", (n, epci, when))
        for n in range(5):
            key = UserKey(f"cli:benef{n}")
            await uow.users.create(key, "fr", chat.clock())
            await uow.beneficiaries.join(key, gap_place, f"REJ{n}", None, False,
                                         datetime(2026, 11, 12, tzinfo=UTC))
        arrived = "2026-11-05T00:00:00.000000+00:00"
        for n in range(1, 15):  # 9 made ready at Gap, 5 handed over for requests 1 to 5
            handed = n > 9
            await conn.execute(
                "INSERT INTO devices (id, label, category, kind, state, place_id, request_id,"
                " created_at, updated_at) VALUES (?, ?, 'laptop', 'laptop', ?, ?, ?, ?, ?)",
                (1000 + n, f"HA-A{n:03d}", "handed_over" if handed else "ready", gap_place,
                 n - 9 if handed else None, arrived, arrived))
            await conn.execute(
                "INSERT INTO device_events (device_id, event, state, place_id, request_id, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (1000 + n, "handed_over" if handed else "passed",
                 "handed_over" if handed else "ready", gap_place, n - 9 if handed else None,
                 nov if handed else arrived))


async def test_the_figures_match_a_seeded_database(chat: Chat):
    await seed_activity(chat)
    sent = await chat.say("coord", choice="co:fig")
    told = texts(sent, "coord")
    twelve, this_month = told.split("Ce mois-ci :")[:2]
    assert "• Lots collectés : 8 (24 objets, environ 68 kg)" in twelve
    assert "• Demandes : 10 ; appareils remis : 5" in twelve
    assert "reconditionnés : 9" in twelve
    assert "• Bénéficiaires inscrits : 5" in twelve
    assert "• CO2e évité : environ 780 kg" in twelve
    assert "• Lots collectés : 6 (18 objets, environ 51 kg)" in this_month
    assert "• Demandes : 8 ; appareils remis : 5" in this_month
    assert "Demandes en liste d'attente aujourd'hui : < 5." in told
    assert "CA Gap-Tallard-Durance : 8 demandes, 5 remis, < 5 en attente" in told
    assert "CC Buëch-Dévoluy : < 5 demandes, 0 remis, 0 en attente" in told
    assert "156 kg CO2e évités par appareil remis" in told  # the factors are stated
    assert "cli:benef" not in told and "REJ" not in told


async def test_the_chart_is_a_real_png_of_the_expected_size(chat: Chat):
    await seed_activity(chat)
    sent = await chat.say("coord", choice="co:fig")
    (chart,) = attachments(sent)
    assert chart.mime == "image/png" and chart.filename.endswith(".png")
    assert chart.data[:8] == b"\x89PNG\r\n\x1a\n" and chart.data[12:16] == b"IHDR"
    assert struct.unpack(">II", chart.data[16:24]) == (960, 540)
    assert 2_000 < len(chart.data) < 200_000


async def test_the_funders_csv_masks_small_counts(chat: Chat):
    await seed_activity(chat)
    sent = await chat.say("coord", choice="co:fig:csv")
    (table,) = attachments(sent)
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:3] == ["Mois", "Intercommunalité", "Lots collectés"]
    by = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[1:] if len(r) > 2}
    october = by[("2026-10", "CC Buëch-Dévoluy")]
    assert october["Lots collectés"] == "< 5" and october["Demandes de matériel"] == "< 5"
    assert october["Objets collectés"] == "6" and october["Poids estimé collecté (kg)"] == "17"
    november = by[("2026-11", "CA Gap-Tallard-Durance")]
    assert november["Appareils remis"] == "5" and november["CO2e évité (kg)"] == "780"
    assert november["Liste d'attente aujourd'hui"] == "< 5"
    assert by[("2026-11", "Total du réseau")]["Objets collectés"] == "18"
    assert "cli:benef" not in table.data.decode("utf-8-sig")


# --- The audit log -----------------------------------------------------------------------


async def test_sensitive_actions_are_audited_and_shown_to_coordinators(chat: Chat):
    await approve(chat, "ana", Role.PRESCRIBER)
    await approve(chat, "vic", Role.PLACE_STAFF, VEYNES)
    await ask(chat, "ana")
    await chat.say("vic", "Accepter DEM-2026-0001")
    await chat.say("ana", choice="rq:cx:1")
    await chat.say("ana", choice="rq:cy:1")
    entries = await audit(chat)
    assert ("cli:vic", AuditAction.REQUEST_STATUS, "DEM-2026-0001") in entries
    assert ("cli:ana", AuditAction.REQUEST_STATUS, "DEM-2026-0001") in entries
    sent = await chat.say("coord", choice="co:aud")
    told = texts(sent, "coord")
    assert "statut de demande changé, DEM-2026-0001 (accepted), par cli:vic" in told
    sent = await chat.say("coord", choice="co:aud:csv")
    (journal,) = attachments(sent)
    assert "request.status;DEM-2026-0001;cancelled" in journal.data.decode("utf-8-sig")
    sent = await chat.say("vic", choice="co:aud")
    assert "pas (ou plus) valable pour vous" in texts(sent, "vic")


async def test_a_forgotten_beneficiary_leaves_an_entry_without_identity(chat: Chat):
    from tests.handlers.test_beneficiaries import join, make_staff

    await make_staff(chat)
    await join(chat, "lea")
    await chat.say("lea", choice="bn:fg")
    await chat.say("lea", choice="bn:fg:ok")
    entries = await audit(chat)
    assert entries == [(None, AuditAction.DATA_DELETED, "beneficiary")]
    async with chat.app.storage.transaction() as uow:
        (entry,) = await uow.audit.recent(1)
    assert "lea" not in json.dumps([entry.subject, entry.detail, entry.actor])


async def test_old_audit_entries_are_purged_after_five_years(chat: Chat):
    async with chat.app.storage.transaction() as uow:
        await uow.audit.record(UserKey("cli:coord"), AuditAction.ACCESS_GRANTED, "access:9",
                               datetime(2020, 1, 1, tzinfo=UTC))
        await uow.audit.record(UserKey("cli:coord"), AuditAction.ACCESS_GRANTED, "access:10",
                               datetime(2026, 1, 1, tzinfo=UTC))
    job = next(j for j in chat.app.core.jobs if j.name == "coordination.audit_purge")
    assert await chat.app.core.run_job(job) == 1
    assert [s for _w, _a, s in await audit(chat)] == ["access:10"]
