"""Prescribers request equipment: the conversation, the routing, the place's actions, and the
prescriber told at every step. Transcripts through the console-style ``Chat``.

Demo places (ids in insertion order): Centre de ressources de Veynes (hub, covers Buëch-Dévoluy
and Sisteronais; 6 laptops), Pôle de coordination de Gap (hub, covers Gap and Champsaur...; 4
laptops), médiathèque de Briançon (relay; 2 laptops), France Services de Laragne-Montéglin
(relay; 1 laptop), MJC d'Embrun (relay, covers Guillestrois; no stock).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Rendered
from flows.messages import Incoming, UserKey
from flows.records import PlaceId, RequestStatus, Role
from tests.handlers.chain import RECOND, add_ready, ready_device, received_lot, set_stock
from tests.support import Chat, Clock, make_chat, texts

VEYNES = "Centre de ressources de Veynes"
GAP = "Pôle de coordination départemental (Gap)"
LARAGNE = "France Services de Laragne-Montéglin"
EMBRUN = "Point relais d'Embrun (MJC)"

ACCESS = ["menu", "1", "{role}", "CCAS de Veynes", "3 rue de la Gare", "veynes",
          "Ana Martin", "Conseillère sociale", "06 12 34 56 78", "1"]


def answers(commune: str = "veynes", kind: str = "Ordinateur portable",
            first_name: str = "Léa") -> list[str]:
    """The answers of a whole request, summary confirmed: needs "démarches" and "appels
    vidéo", on RSA, income skipped, no internet at home, 18 to 25 years old."""
    return ["1, 4", "4", "Passer", commune, kind, "2", first_name, "2", "1"]


async def place_id(chat: Chat, name: str) -> PlaceId:
    async with chat.app.storage.transaction() as uow:
        return next(p.id for p in await uow.places.all() if p.name == name)


async def approve(chat: Chat, who: str, role: Role | None, place: str | None = None) -> None:
    """An approved professional, attached to a place (the access path is tested apart)."""
    pid = await place_id(chat, place) if place else None
    async with chat.app.storage.transaction() as uow:
        key = UserKey(f"cli:{who}")
        await uow.users.create(key, "fr", chat.clock())
        await uow.users.set_role(key, role, pid)


async def stock_at(chat: Chat, name: str, kind: str = "laptop") -> int:
    pid = await place_id(chat, name)
    async with chat.app.storage.transaction() as uow:
        return await uow.catalogue.available(pid, kind)


async def requests(chat: Chat) -> list[tuple[str, RequestStatus, PlaceId | None]]:
    async with chat.app.storage.transaction() as uow:
        found = []
        for who in ("ana", "bea"):
            found += await uow.requests.of_prescriber(UserKey(f"cli:{who}"), 50)
    return sorted((r.reference, r.status, r.place_id) for r in found)


async def ask(chat: Chat, who: str, commune: str = "veynes", kind: str = "Ordinateur portable",
              first_name: str = "Léa") -> list[Rendered]:
    """``who`` asks for equipment from the menu button to the confirmed summary."""
    sent = await chat.say(who, choice="rq:new")
    return sent + await chat.script(who, *answers(commune, kind, first_name))


@pytest.fixture
async def network(chat: Chat) -> Chat:
    """Ana and Bea are prescribers without a place; Vic works at Veynes, Gus at Gap."""
    await approve(chat, "ana", Role.PRESCRIBER)
    await approve(chat, "bea", Role.PRESCRIBER)
    await approve(chat, "vic", Role.PLACE_STAFF, VEYNES)
    await approve(chat, "gus", Role.PLACE_STAFF, GAP)
    return chat


# --- The whole path ----------------------------------------------------------------------------


async def test_whole_path_from_access_to_handover_with_every_notification(chat: Chat):
    """Approval attaches accounts to places; request, routing, accept, ready, handed over."""
    await chat.script("ana", *[line.format(role="1") for line in ACCESS])
    sent = await chat.say("coord", choice="acc:ok:1")
    assert "rattacher ce compte" in texts(sent, "coord")
    labels = [label for _, label in sent[0].choices]
    assert labels[-1] == "Aucun lieu" and VEYNES in labels  # relay and hub places, nearest
    assert "Atelier de reconditionnement" not in " ".join(labels)  # not for a prescriber
    sent = await chat.say("coord", "Aucun lieu")  # answered by label, from the last menu
    assert "sans lieu de rattachement" in texts(sent, "coord")

    await chat.script("vic", *[line.format(role="2") for line in ACCESS])
    await chat.say("coord", choice="acc:ok:2")
    sent = await chat.say("coord", VEYNES)
    assert f"rattaché à : {VEYNES}" in texts(sent, "coord")
    assert f"rattaché au lieu : {VEYNES}" in texts(sent, "vic")

    # Ana asks from the professional space.
    sent = await chat.script("ana", "menu", "1")
    assert "Demander du matériel" in texts(sent, "ana") and "Mes demandes" in texts(sent, "ana")
    sent = await chat.say("ana", "Demander du matériel")
    assert "Pour quoi la personne a-t-elle besoin" in texts(sent, "ana")
    sent = await chat.script("ana", *answers()[:4])
    catalogue = texts(sent, "ana")
    assert "Ordinateur portable : Pour tout faire" in catalogue
    assert "1,00\u00a0€ (prix symbolique)" in catalogue
    assert f"disponible : {VEYNES} (dans sa commune)" in catalogue
    sent = await chat.script("ana", *answers()[4:8])
    assert "Pas de nom de famille, aucun document" in texts(sent, "ana")
    assert "Vérifiez avant d'envoyer" in texts(sent, "ana")
    before = await stock_at(chat, VEYNES)
    sent = await chat.say("ana", "1")  # Confirmer
    told = texts(sent, "ana")
    assert "Demande DEM-2026-0001 enregistrée" in told
    assert f"à : {VEYNES}, Avenue des Martinets, Veynes" in told
    assert "Pourquoi ce lieu : c'est un lieu de sa commune" in told
    assert "Besoin de connexion internet signalé" in told
    assert await stock_at(chat, VEYNES) == before - 1  # reserved
    notice = texts(sent, "vic")
    assert "Demande DEM-2026-0001 pour votre lieu" in notice
    assert "Léa, 18 à 25 ans, habite Veynes" in notice
    assert "besoin de connexion à prévoir" in notice
    assert "Demandée par : CCAS de Veynes" in notice
    assert "Martin" not in notice  # the prescriber's surname is not the beneficiary's data

    sent = await chat.say("vic", "Accepter DEM-2026-0001")
    assert "acceptée" in texts(sent, "vic")
    assert f"{VEYNES} a accepté la demande DEM-2026-0001" in texts(sent, "ana")

    sent = await chat.say("vic", "DEM-2026-0001 : prêt à retirer")
    assert "À partir de quel jour" in texts(sent, "vic")
    sent = await chat.say("vic", "Demain")
    assert "prêt à retirer à partir du mardi 24 novembre 2026" in texts(sent, "vic")
    ready = texts(sent, "ana")
    assert "est prêt" in ready and "mardi 24 novembre 2026" in ready
    assert "mar.-ven. 9 h-12 h, 14 h-17 h" in ready

    sent = await chat.say("vic", "DEM-2026-0001 : remis")
    assert "séance de prise en main est-elle réservée ou faite" in texts(sent, "vic")
    sent = await chat.say("vic", "Pas encore")
    assert "Pas de remise sans une première séance" in texts(sent, "vic")
    assert texts(sent, "ana") == ""
    await chat.say("vic", "DEM-2026-0001 : remis")
    sent = await chat.say("vic", "Oui, remettre le matériel")
    assert "Quel appareil remettez-vous pour DEM-2026-0001" in texts(sent, "vic")
    sent = await chat.say("vic", "1")  # the first ready laptop of Veynes
    assert "Remise enregistrée pour DEM-2026-0001 : appareil HA-" in texts(sent, "vic")
    assert [m.attachment.filename for m in sent if m.attachment] == ["kit-DEM-2026-0001.pdf"]
    assert "Recevoir les rappels par SMS" in texts(sent, "vic")  # handlers/sms_people.py
    assert "a été remis à la personne" in texts(sent, "ana")
    assert await stock_at(chat, VEYNES) == before - 1  # handed over: the device is gone

    sent = await chat.say("ana", choice="rq:mine")
    mine = texts(sent, "ana")
    assert "DEM-2026-0001 : Ordinateur portable pour Léa, 18 à 25 ans — remise" in mine
    assert "Annuler DEM-2026-0001" not in mine


async def test_the_prescriber_follows_each_status_in_my_requests(network: Chat):
    chat = network
    await set_stock(chat, "laptop", {VEYNES: 1})
    await ask(chat, "ana")
    await ask(chat, "ana", first_name="Passer")  # no stock left: waiting list
    sent = await chat.say("ana", choice="rq:mine")
    mine = texts(sent, "ana")
    assert "DEM-2026-0002 : Ordinateur portable pour 18 à 25 ans — sur liste d'attente " \
           "(position 1)" in mine
    assert f"DEM-2026-0001 : Ordinateur portable pour Léa, 18 à 25 ans — envoyée à {VEYNES}" \
           in mine
    await chat.say("vic", choice="rq:ok:1")
    sent = await chat.say("ana", choice="rq:mine")
    assert f"acceptée par {VEYNES}" in texts(sent, "ana")


# --- Routing, rule by rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own_place", "commune", "kind", "place", "why"),
    [
        (LARAGNE, "gap", "Ordinateur portable", LARAGNE, "c'est votre structure"),
        (None, "veynes", "Ordinateur portable", VEYNES, "c'est un lieu de sa commune"),
        (None, "serres", "Ordinateur portable", LARAGNE,
         "c'est le lieu le plus proche, dans son intercommunalité"),
        (None, "sisteron", "Ordinateur fixe complet", VEYNES,
         "c'est le lieu qui dessert son intercommunalité"),
        (None, "saint-bonnet", "Ordinateur portable", GAP,
         "c'est le lieu qui dessert son intercommunalité"),
    ],
    ids=["own-structure", "same-commune", "same-epci", "covering-hub", "covering-hub-2"],
)
async def test_routing_rules_one_by_one(chat: Chat, own_place, commune, kind, place, why):
    await approve(chat, "ana", Role.PRESCRIBER, own_place)
    sent = await ask(chat, "ana", commune=commune, kind=kind)
    told = texts(sent, "ana")
    assert f"à : {place}," in told
    assert f"Pourquoi ce lieu : {why}" in told


async def test_without_stock_in_reach_the_request_waits_with_its_position(network: Chat):
    chat = network
    sent = await chat.say("ana", choice="rq:new")
    sent = await chat.script("ana", *answers("guillestre")[:4])
    assert "pas en stock près de chez elle : liste d'attente" in texts(sent, "ana")
    sent = await chat.script("ana", *answers("guillestre")[4:])
    assert "sur liste d'attente, en position 1" in texts(sent, "ana")
    sent = await ask(chat, "bea", "guillestre")
    assert "en position 2" in texts(sent, "bea")
    assert [m.to for m in sent if "pour votre lieu" in m.text] == []  # no place bothered
    assert [s for _, s, _ in await requests(chat)] == [RequestStatus.WAITING] * 2


async def test_a_device_made_ready_routes_the_waiting_list_first_come_first_served(
        network: Chat):
    chat = network
    await approve(chat, "eve", Role.PLACE_STAFF, EMBRUN)
    await ask(chat, "ana", "guillestre")
    await ask(chat, "bea", "guillestre")
    sent = await chat.say("eve", choice="rq:stock")
    assert "Ordinateur portable : 0 disponible(s), 0 réservé(s)" in texts(sent, "eve")
    _lot, _ref, devices = await received_lot(chat)
    sent = await ready_device(chat, devices[0][0], stock=EMBRUN)
    arrived = texts(sent, "ana")
    assert "Du matériel est arrivé pour la demande DEM-2026-0001" in arrived
    assert f"à : {EMBRUN}" in arrived
    assert "Demande DEM-2026-0001 pour votre lieu" in texts(sent, "eve")
    assert texts(sent, "bea") == ""
    sent = await chat.say("eve", choice="rq:stock")
    assert "Ordinateur portable : 0 disponible(s), 1 réservé(s)" in texts(sent, "eve")
    sent = await chat.say("bea", choice="rq:mine")
    assert "sur liste d'attente (position 1)" in texts(sent, "bea")
    assert RECOND


async def test_the_periodic_job_routes_waiting_requests_when_stock_came_another_way(
    network: Chat,
):
    chat = network
    await ask(chat, "ana", "guillestre")
    await add_ready(chat, EMBRUN)  # made ready without serving the waiting list
    job = next(j for j in chat.app.core.jobs if j.name == "requests.waiting")
    assert await chat.app.core.run_job(job) == 1
    await chat.app.dispatcher.drain()
    assert "Du matériel est arrivé pour la demande DEM-2026-0001" in texts(
        chat.recorder.sent, "ana")
    assert [s for _, s, _ in await requests(chat)] == [RequestStatus.SENT]
    assert await chat.app.core.run_job(job) == 0  # nothing left to route


# --- The race for the last item ----------------------------------------------------------------


async def test_two_prescribers_racing_for_the_last_laptop_get_one_reservation_and_one_wait(
    db_path: Path, clock: Clock,
):
    """Two bot processes on one database file confirm at the same moment."""
    first = await make_chat(db_path, clock)
    second = await make_chat(db_path, clock)
    try:
        await approve(first, "ana", Role.PRESCRIBER)
        await approve(first, "bea", Role.PRESCRIBER)
        await set_stock(first, "laptop", {LARAGNE: 1})
        for who in ("ana", "bea"):
            await first.say(who, choice="rq:new")
            sent = await first.script(who, *answers("laragne")[:-1])
            assert "Vérifiez avant d'envoyer" in texts(sent, who)
        await asyncio.gather(
            first.app.core.handle(Incoming(UserKey("cli:ana"), "1")),
            second.app.core.handle(Incoming(UserKey("cli:bea"), "1")),
        )
        found = await requests(first)
        assert sorted(s for _, s, _ in found) == [RequestStatus.SENT, RequestStatus.WAITING]
        assert await stock_at(first, LARAGNE) == 0
        await first.app.dispatcher.drain()
        await second.app.dispatcher.drain()
        told = texts(first.recorder.sent + second.recorder.sent)
        assert told.count("Matériel réservé") == 1
        assert told.count("sur liste d'attente, en position 1") == 1
    finally:
        await second.app.close()
        await first.app.close()


async def test_concurrent_tasks_on_one_bot_never_reserve_more_than_the_stock(network: Chat):
    chat = network
    await set_stock(chat, "laptop", {LARAGNE: 2})
    people = ["ana", "bea", "cid", "dan", "eli"]
    for who in people[2:]:
        await approve(chat, who, Role.PRESCRIBER)
    for who in people:
        await chat.say(who, choice="rq:new")
        await chat.script(who, *answers("laragne")[:-1])
    await asyncio.gather(*(chat.app.core.handle(Incoming(UserKey(f"cli:{who}"), "1"))
                           for who in people))
    async with chat.app.storage.transaction() as uow:
        statuses = [r.status for who in people
                    for r in await uow.requests.of_prescriber(UserKey(f"cli:{who}"), 5)]
    assert sorted(statuses) == [RequestStatus.SENT] * 2 + [RequestStatus.WAITING] * 3
    assert await stock_at(chat, LARAGNE) == 0


# --- Refusals and bad input --------------------------------------------------------------------


async def test_a_user_who_is_not_an_approved_prescriber_cannot_request(network: Chat):
    chat = network
    for who in ("mallory", "vic"):  # a stranger, and place staff
        sent = await chat.say(who, choice="rq:new")
        assert "pas (ou plus) valable pour vous" in texts(sent, who)
        sent = await chat.say(who, choice="rq:mine")
        assert "pas (ou plus) valable pour vous" in texts(sent, who)
    sent = await chat.script("mallory", "menu", "1")
    assert "Demander du matériel" not in texts(sent, "mallory")


async def test_a_prescriber_whose_access_is_revoked_mid_conversation_sends_nothing(
    network: Chat,
):
    chat = network
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:-1])
    await approve(chat, "ana", None)  # the role is withdrawn
    before = await stock_at(chat, VEYNES)
    sent = await chat.say("ana", "1")
    assert "réservée aux accompagnant·es" in texts(sent, "ana")
    assert await requests(chat) == [] and await stock_at(chat, VEYNES) == before


async def test_a_prescriber_sees_and_cancels_only_their_own_requests(network: Chat):
    chat = network
    await ask(chat, "ana")
    sent = await chat.say("bea", choice="rq:mine")
    assert "DEM-2026-0001" not in texts(sent, "bea")
    for choice in ("rq:cx:1", "rq:cy:1"):
        sent = await chat.say("bea", choice=choice)
        assert "pas (ou plus) valable pour vous" in texts(sent, "bea")
    assert [s for _, s, _ in await requests(chat)] == [RequestStatus.SENT]


async def test_place_staff_see_and_act_only_on_requests_routed_to_their_place(network: Chat):
    chat = network
    await ask(chat, "ana")  # Veynes
    sent = await chat.say("gus", choice="rq:in")
    assert "DEM-2026-0001" not in texts(sent, "gus")
    assert "Aucune demande en cours" in texts(sent, "gus")
    for who in ("gus", "bea", "ana"):  # staff of Gap, a prescriber, the requester herself
        sent = await chat.say(who, choice="rq:ok:1")
        assert "pas (ou plus) valable pour vous" in texts(sent, who)
    sent = await chat.say("vic", choice="rq:in")
    assert "DEM-2026-0001" in texts(sent, "vic") and "Accepter DEM-2026-0001" in texts(sent)
    assert [s for _, s, _ in await requests(chat)] == [RequestStatus.SENT]


async def test_a_request_acted_on_twice_by_two_staff_members_changes_once(network: Chat):
    chat = network
    await approve(chat, "val", Role.PLACE_STAFF, VEYNES)
    sent = await ask(chat, "ana")
    assert "pour votre lieu" in texts(sent, "vic") and "pour votre lieu" in texts(sent, "val")
    before = len(chat.recorder.sent)
    await asyncio.gather(  # both tap "Accepter" at the same moment
        chat.app.core.handle(Incoming(UserKey("cli:vic"), choice="rq:ok:1")),
        chat.app.core.handle(Incoming(UserKey("cli:val"), choice="rq:ok:1")),
    )
    await chat.app.dispatcher.drain()
    sent = chat.recorder.sent[before:]
    staff = texts(sent, "vic") + texts(sent, "val")
    assert staff.count("Demande DEM-2026-0001 acceptée.") == 1
    assert staff.count("a déjà été traitée : elle est maintenant acceptée") == 1
    assert staff.count("acceptée par un·e collègue") == 1
    assert texts(sent, "ana").count("a accepté la demande DEM-2026-0001") == 1  # told once
    await chat.say("vic", choice="rq:hy:1")
    await chat.say("val", choice="rq:hy:1")  # both are asked which device
    await chat.say("vic", "1")
    sent = await chat.say("val", "2")
    assert "déjà été traitée" in texts(sent, "val") and texts(sent, "ana") == ""
    assert await stock_at(chat, VEYNES) == 5  # one device handed over, not two


async def test_a_refused_request_goes_to_the_next_place_and_the_prescriber_is_told(
    network: Chat,
):
    chat = network
    await approve(chat, "leo", Role.PLACE_STAFF, LARAGNE)
    sent = await ask(chat, "ana", "serres")
    assert f"à : {LARAGNE}" in texts(sent, "ana")
    sent = await chat.say("leo", choice="rq:no:1")
    assert "Pourquoi refuser" in texts(sent, "leo")
    sent = await chat.say("leo", "Plus ce matériel en stock")
    assert "refusée" in texts(sent, "leo")
    told = texts(sent, "ana")
    assert f"{LARAGNE} ne peut pas servir la demande DEM-2026-0001" in told
    assert f"à : {VEYNES}" in told and "dessert son intercommunalité" in told
    assert "Demande DEM-2026-0001 pour votre lieu" in texts(sent, "vic")
    sent = await chat.say("leo", choice="rq:ok:1")  # too late: it is not theirs any more
    assert "pas (ou plus) valable pour vous" in texts(sent, "leo")
    # Refused by Veynes too: nothing else in reach, the request waits (never back to Laragne).
    await chat.say("vic", choice="rq:ok:1")
    sent = await chat.say("vic", choice="rq:nr:1:far")
    assert "sur liste d'attente" in texts(sent, "ana")
    assert await stock_at(chat, VEYNES) == 6  # the laptop it held is free again
    await add_ready(chat, LARAGNE)  # Laragne refused it: never routed there again
    job = next(j for j in chat.app.core.jobs if j.name == "requests.waiting")
    assert await chat.app.core.run_job(job) == 0
    assert [s for _, s, _ in await requests(chat)] == [RequestStatus.WAITING]


async def test_the_prescriber_cancels_and_the_unit_serves_the_waiting_list(network: Chat):
    chat = network
    await set_stock(chat, "laptop", {VEYNES: 1})
    await ask(chat, "ana")
    await ask(chat, "bea")  # waits for the same last laptop
    sent = await chat.say("ana", choice="rq:mine")
    assert "Annuler DEM-2026-0001" in texts(sent, "ana")
    sent = await chat.say("ana", "Annuler DEM-2026-0001")
    assert "Le matériel réservé sera remis en stock" in texts(sent, "ana")
    sent = await chat.say("ana", "Oui, annuler DEM-2026-0001")
    assert "La demande DEM-2026-0001 est annulée" in texts(sent, "ana")
    assert "annulée par l'accompagnant·e" in texts(sent, "vic")
    assert "Du matériel est arrivé pour la demande DEM-2026-0002" in texts(sent, "bea")
    assert "Demande DEM-2026-0002 pour votre lieu" in texts(sent, "vic")
    sent = await chat.say("ana", choice="rq:cy:1")
    assert "déjà été traitée : elle est maintenant annulée" in texts(sent, "ana")
    assert await requests(chat) == [
        ("DEM-2026-0001", RequestStatus.CANCELLED, await place_id(chat, VEYNES)),
        ("DEM-2026-0002", RequestStatus.SENT, await place_id(chat, VEYNES)),
    ]


async def test_an_unknown_commune_is_asked_again(network: Chat):
    chat = network
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:3])
    sent = await chat.say("ana", "Xyzzyville")
    assert "n'est pas sur le territoire du réseau, ou son nom est mal écrit" in texts(sent, "ana")
    sent = await chat.say("ana", "veynes")
    assert "Quel matériel choisissez-vous" in texts(sent, "ana")


async def test_postal_code_05000_asks_which_commune(network: Chat):
    chat = network
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:3])
    sent = await chat.say("ana", "05000")
    assert "Plusieurs communes correspondent" in texts(sent, "ana")
    labels = [label for _, label in sent[0].choices]
    assert "Gap (05000)" in labels and "La Freissinouse (05000)" in labels
    sent = await chat.say("ana", "Gap (05000)")
    assert f"disponible : {GAP} (dans sa commune)" in texts(sent, "ana")


async def test_every_way_to_the_kinds_question_shows_where_each_kind_is(network: Chat):
    """The places and their stock are read only for the question of the kinds, and for the
    commune it is about: asked after the commune, again after a wrong answer or "aide",
    after "retour", and when the kind or the commune is corrected from the summary."""
    chat = network
    veynes = f"disponible : {VEYNES} (dans sa commune)"
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:3])
    assert veynes in texts(await chat.say("ana", "veynes"), "ana")
    sent = await chat.say("ana", "une trottinette")
    assert "Choisissez une des propositions" in texts(sent, "ana")
    assert veynes in texts(sent, "ana")
    assert veynes in texts(await chat.say("ana", "aide"), "ana")
    await chat.say("ana", "Ordinateur portable")
    assert veynes in texts(await chat.say("ana", "retour"), "ana")
    await chat.script("ana", "Ordinateur portable", "2", "Léa", "2")
    assert veynes in texts(await chat.say("ana", "Corriger : Matériel"), "ana")
    await chat.say("ana", "Ordinateur portable")
    await chat.script("ana", "Corriger : Commune", "gap")
    sent = await chat.say("ana", "Corriger : Matériel")
    assert f"disponible : {GAP} (dans sa commune)" in texts(sent, "ana")
    assert veynes not in texts(sent, "ana")
    await chat.say("ana", "Ordinateur portable")
    sent = await chat.say("ana", "Confirmer")
    assert GAP in texts(sent, "ana") and await stock_at(chat, GAP) == 3


async def test_a_commune_outside_the_territory_is_refused(network: Chat):
    chat = network
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:3])
    sent = await chat.say("ana", "38000")
    assert "n'est pas sur le territoire du réseau" in texts(sent, "ana")
    assert "Dans quelle commune vit la personne" in texts(sent, "ana")


async def test_an_empty_need_list_is_refused(network: Chat):
    chat = network
    await chat.say("ana", choice="rq:new")
    sent = await chat.press("ana", "done")
    assert "Choisissez au moins une proposition" in texts(sent, "ana")
    sent = await chat.say("ana", "Valider")
    assert "Choisissez au moins une proposition" in texts(sent, "ana")


async def test_a_surname_is_refused_but_initials_are_welcome(network: Chat):
    chat = network
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:6])
    sent = await chat.say("ana", "Léa Martin")
    assert "sans nom de famille" in texts(sent, "ana")
    sent = await chat.say("ana", "L. M.")
    assert "Sa tranche d'âge" in texts(sent, "ana")


async def test_a_cancelled_conversation_stores_and_reserves_nothing(network: Chat):
    chat = network
    before = await stock_at(chat, VEYNES)
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:6])
    sent = await chat.say("ana", "annuler")
    assert "C'est annulé. Rien n'a été enregistré." in texts(sent, "ana")
    assert await requests(chat) == [] and await stock_at(chat, VEYNES) == before


async def test_an_expired_conversation_stores_and_reserves_nothing(network: Chat):
    chat = network
    before = await stock_at(chat, VEYNES)
    await chat.say("ana", choice="rq:new")
    await chat.script("ana", *answers()[:-1])  # at the summary
    chat.clock.advance(hours=25)
    sent = await chat.say("ana", "1")
    assert "a expiré" in texts(sent, "ana")
    assert await requests(chat) == [] and await stock_at(chat, VEYNES) == before


async def test_a_forged_or_stale_button_is_refused(network: Chat):
    chat = network
    for forged in ("rq:ok:x", "rq:zz:1", "rq:nr:1:bribe", "rq:ok:1:extra", "rq:rdd:1:2026"):
        sent = await chat.say("vic", choice=forged)
        assert "Ce bouton n'est plus valable" in texts(sent, "vic")
    sent = await chat.say("vic", choice="rq:ok:999")
    assert "pas (ou plus) valable pour vous" in texts(sent, "vic")


async def test_the_first_name_is_erased_months_after_the_end(network: Chat):
    chat = network
    await ask(chat, "ana")
    await chat.say("ana", choice="rq:cy:1")
    job = next(j for j in chat.app.core.jobs if j.name == "requests.retention")
    assert await chat.app.core.run_job(job) == 0  # too early
    chat.clock.advance(days=200)
    assert await chat.app.core.run_job(job) == 1
    async with chat.app.storage.transaction() as uow:
        request = await uow.requests.get(1)  # type: ignore[arg-type]
    assert request is not None and request.first_name is None and request.age == "18_25"


# --- The network's local day -------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("local", "today", "tomorrow"),
    [
        # 22:30 UTC: late in the evening, the same day in Paris and in UTC.
        ((2026, 11, 23, 23, 30), "lundi 23 novembre 2026", "mardi 24 novembre 2026"),
        # 23:30 UTC on Monday: Tuesday has begun in Paris (UTC+1 in winter).
        ((2026, 11, 24, 0, 30), "mardi 24 novembre 2026", "mercredi 25 novembre 2026"),
        # The night the clocks go forward, before they do (23:30 UTC on Saturday).
        ((2027, 3, 28, 0, 30), "dimanche 28 mars 2027", "lundi 29 mars 2027"),
        # The evening after, in summer time (21:30 UTC), then the next night (22:30 UTC).
        ((2027, 3, 28, 23, 30), "dimanche 28 mars 2027", "lundi 29 mars 2027"),
        ((2027, 3, 29, 0, 30), "lundi 29 mars 2027", "mardi 30 mars 2027"),
        # The night the clocks go back, before they do (22:30 UTC on Saturday), then the next
        # night, in winter time (23:30 UTC on Sunday).
        ((2027, 10, 31, 0, 30), "dimanche 31 octobre 2027", "lundi 1 novembre 2027"),
        ((2027, 11, 2, 0, 30), "mardi 2 novembre 2027", "mercredi 3 novembre 2027"),
    ],
)
async def test_staff_are_offered_the_networks_today_and_tomorrow_at_any_hour(
    db_path: Path, local: tuple[int, ...], today: str, tomorrow: str,
):
    """"Aujourd'hui" is the day on the network's clocks, not in UTC (at 00:30 in Paris
    UTC is still on the day before), across both changes of summer time."""
    clock = Clock(datetime(*local, tzinfo=PARIS).astimezone(UTC))
    chat = await make_chat(db_path, clock)
    try:
        await approve(chat, "ana", Role.PRESCRIBER)
        await approve(chat, "vic", Role.PLACE_STAFF, VEYNES)
        for number, picked, day in ((1, "Aujourd'hui", today), (2, "Demain", tomorrow)):
            await ask(chat, "ana")
            ref = f"DEM-{local[0]}-000{number}"
            await chat.say("vic", f"Accepter {ref}")
            sent = await chat.say("vic", f"{ref} : prêt à retirer")
            assert [label for _, label in sent[-1].choices][:2] == ["Aujourd'hui", "Demain"]
            sent = await chat.say("vic", picked)
            assert f"{ref} prêt à retirer à partir du {day}." in texts(sent, "vic")
            assert f"à partir du {day} à" in texts(sent, "ana")
    finally:
        await chat.app.close()


@pytest.mark.parametrize(
    ("zone", "moment", "ref"),
    [
        # 00:30 on New Year's Day in Paris, still the old year in UTC.
        ("Europe/Paris", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "DEM-2027-0001"),
        # 22:00 on New Year's Eve in Cayenne, already the new year in UTC.
        ("America/Cayenne", datetime(2027, 1, 1, 1, 0, tzinfo=UTC), "DEM-2026-0001"),
    ],
)
async def test_a_request_is_numbered_in_the_networks_local_year(
    db_path: Path, zone: str, moment: datetime, ref: str,
):
    chat = await make_chat(db_path, Clock(moment), FILIERE_TIMEZONE=zone)
    try:
        await approve(chat, "ana", Role.PRESCRIBER)
        sent = await ask(chat, "ana")
        assert f"Demande {ref} enregistrée" in texts(sent, "ana")
    finally:
        await chat.app.close()
