"""The beneficiary journey as a newcomer meets it, each step a defect found from outside.

The clock starts on Monday 23 November 2026 at 10:00 in Paris; the demo's Veynes sessions
are on Thursdays at 14:00 (26 November, 3 and 10 December).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.mednum import COLUMNS as MEDNUM_COLUMNS
from flows.records import PlaceId
from flows.text import Msg
from tests.flows.test_beneficiary_texts import problems
from tests.handlers.test_beneficiaries import (
    book_first,
    join,
    make_staff,
    new_code,
    reminders,
    rows,
    run_job,
    sessions_at,
)
from tests.handlers.test_coordination import csv_file, mednum_row
from tests.support import Chat, Clock, texts


async def test_a_code_typed_without_spaces_as_the_first_message_joins(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    sent = await chat.say("lea", code.replace(" ", ""))
    assert "Choisissez votre langue" in texts(sent, "lea")
    sent = await chat.say("paul", code.replace(" ", "").lower())
    assert "déjà servi" not in texts(sent, "paul")  # not used yet: Léa has not picked
    assert "Choisissez votre langue" in texts(sent, "paul")


async def test_a_joined_beneficiary_who_types_menu_gets_her_own_home(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    for typed in ("menu", "euh je sais pas", "bonjour"):
        sent = await chat.say("lea", typed)
        said = texts(sent, "lea")
        assert "Mes ateliers" in said and "J'ai besoin d'aide" in said, typed
        assert "Vous avez fait 0 atelier sur 7." in said, typed
        assert "professionnel" not in said and "·" not in said, typed


async def test_the_home_follows_the_role_and_has_no_middle_dots_for_newcomers(chat: Chat):
    sent = await chat.say("inconnu", "bonjour")
    assert "·" not in texts(sent, "inconnu")
    await make_staff(chat)
    sent = await chat.say("lieu", "menu")
    assert "Espace professionnel" in texts(sent, "lieu")


async def test_the_session_just_declined_is_not_offered_again(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert len(reminders(await run_job(chat))) == 1
    sent = await chat.say("lea", "je ne peux pas venir")
    said = texts(sent, "lea")
    assert "Votre place est libérée" in said
    assert "26 novembre" not in said and "3 décembre" in said


async def test_typing_je_viens_answers_the_reminder(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    await run_job(chat)
    sent = await chat.say("lea", "Je viens !")
    assert "Merci ! À bientôt." in texts(sent, "lea")
    assert await rows(chat, "SELECT coming FROM bookings") == [(1,)]


async def test_right_after_joining_three_short_sentences_at_most_before_the_question(
        chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    await chat.script("lea", code, "1", "Léa")
    sent = [m for m in await chat.say("lea", "1") if m.to == "cli:lea"]
    assert len(sent) == 1, [m.text for m in sent]
    text = sent[0].text
    assert problems(text) == [], text
    before_question = text[:text.rindex("?")]
    assert before_question.count(".") + before_question.count("!") <= 3, text
    assert sent[0].choices, "the question comes with its buttons"
    _ = Msg


# --- Attendance and the workshop path -------------------------------------------------------


async def attend(chat: Chat, clock: Clock, workshop: int, *present: str) -> list:
    """Once the session began, the place ticks who came (by their first names) and validates."""
    async with chat.app.storage.transaction() as uow:
        start = (await uow.workshops.get(workshop)).starts_at
    clock.now = max(clock.now, start + timedelta(hours=2))
    sent = await chat.say("lieu", choice=f"bs:att:{workshop}")
    question = next(m for m in sent if m.to == "cli:lieu" and m.choices)
    for name in present:
        pick = next(cid for cid, label in question.choices if label == name)
        sent = await chat.say("lieu", choice=pick)
        question = next(m for m in sent if m.to == "cli:lieu" and m.choices)
    done = next(cid for cid, label in question.choices if label == "Valider")
    return await chat.say("lieu", choice=done)


async def book(chat: Chat, who: str, workshop: int) -> None:
    sent = await chat.say(who, choice=f"bn:bk:{workshop}")
    assert "C'est réservé" in texts(sent, who), texts(sent, who)


async def test_staff_tick_who_came_and_the_path_and_figures_count_it(chat: Chat, clock: Clock):
    place = await make_staff(chat)
    await join(chat, "lea", name="Léa")
    await join(chat, "bob", name="Bob")
    first, _second, *_ = await sessions_at(chat, place)
    for who in ("lea", "bob"):
        await book(chat, who, first)
    await chat.say("bob", choice=f"bn:yes:{first}")  # "I'm coming"... but he will not
    sent = await chat.say("lieu", choice="bs:att:" + str(first))
    assert "pas encore eu lieu" in texts(sent, "lieu")  # not before it is held

    sent = await attend(chat, clock, first, "Léa")
    assert "Présences enregistrées : 1 venus sur 2." in texts(sent, "lieu")
    assert await rows(chat, "SELECT user_key, attended FROM bookings ORDER BY user_key") == [
        ("cli:bob", 0), ("cli:lea", 1)]
    sent = await chat.say("lea", "menu")
    assert "Vous avez fait 1 atelier sur 7." in texts(sent, "lea")
    sent = await chat.say("bob", "menu")
    assert "Vous avez fait 0 atelier sur 7." in texts(sent, "bob")

    sent = await chat.say("lieu", choice="bs:pres")
    assert "1 venus sur 2" in texts(sent, "lieu")
    async with chat.app.storage.reading() as uow:
        events = await uow.reports.events(clock.now - timedelta(days=30), clock.now)
    assert sum(e.count for e in events if e.indicator == "attended") == 1


async def test_the_path_says_the_next_session_booked(chat: Chat, clock: Clock):
    place = await make_staff(chat)
    await join(chat, "lea")
    first, second, *_ = await sessions_at(chat, place)
    await book(chat, "lea", first)
    await attend(chat, clock, first, "Léa")
    await book(chat, "lea", second)
    sent = await chat.say("lea", "menu")
    said = texts(sent, "lea")
    assert "Vous avez fait 1 atelier sur 7. Le prochain : Internet et courriel, jeudi 3 " \
        "décembre à 14 heures." in said.replace("\n\n", " ")


async def test_the_path_length_is_a_setting(db_path, clock: Clock):
    from tests.support import make_chat

    chat = await make_chat(db_path, clock, FILIERE_WORKSHOP_PATH="5")
    try:
        await make_staff(chat)
        await join(chat, "lea")
        assert "Vous avez fait 0 atelier sur 5." in texts(await chat.say("lea", "menu"), "lea")
    finally:
        await chat.app.close()


async def test_after_two_sessions_missed_one_kind_word_then_no_more_reminders(
        chat: Chat, clock: Clock):
    place = await make_staff(chat)
    await join(chat, "lea")
    first, second, third = (await sessions_at(chat, place))[:3]
    for workshop in (first, second, third):
        await book(chat, "lea", workshop)
    sent = await attend(chat, clock, first)
    assert "Nous sommes là" not in texts(sent, "lea")  # one missed: nothing said
    sent = await attend(chat, clock, second)
    said = texts(sent, "lea")
    assert "Nous sommes là quand vous voulez." in said
    assert len([m for m in sent if m.to == "cli:lea"]) == 1
    clock.now = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)  # the third one's morning
    assert reminders(await run_job(chat)) == []
    sent = await attend(chat, clock, third)
    assert texts(sent, "lea") == ""  # said once, never again
    # She books again by herself: invited again.
    async with chat.app.storage.transaction() as uow:
        later = await uow.workshops.add(PlaceId(place), "safety",
                                        clock.now + timedelta(days=5), 60, 8)
    await book(chat, "lea", later)
    assert await rows(chat, "SELECT count(*) FROM reminders WHERE workshop_id = ?"
                      " AND status = 'pending'", later) != [(0,)]


async def test_an_answered_session_is_not_reminded_again(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert len(reminders(await run_job(chat))) == 1
    await chat.say("lea", "Je viens")
    clock.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # the morning one is not sent
    assert reminders(await run_job(chat)) == []


# --- Help near me ---------------------------------------------------------------------------


async def test_help_places_near_me_open_now_or_next_opening_in_plain_words(
        chat: Chat, clock: Clock):
    national = ",".join(MEDNUM_COLUMNS) + "\n" + "".join([
        mednum_row(id="v1", nom="Médiathèque de Veynes", commune="Veynes",
                   code_postal="05400", code_insee="05179", adresse="Rue du Jeu de Paume",
                   horaires="Mo-Fr 09:00-12:00", date_maj="2026-06-01"),
        mednum_row(id="s1", nom="Espace numérique de Serres", commune="Serres",
                   code_postal="05700", code_insee="05166", adresse="Place du Lac",
                   horaires="Sa 14:00-17:00", date_maj="2026-06-01"),
        mednum_row(id="b1", nom="Espace de Briançon", commune="Briançon",
                   code_postal="05100", code_insee="05023", adresse="Rue X",
                   horaires="Mo-Fr 09:00-12:00", date_maj="2026-06-01"),
    ])
    await chat.say("coord", attachment=csv_file(national, "lieux-mediation.csv"))
    await make_staff(chat)
    await join(chat, "lea")
    sent = await chat.say("lea", choice="bn:near")
    said = texts(sent, "lea")
    assert "Médiathèque de Veynes" in said and "Espace numérique de Serres" in said
    assert "Briançon" not in said  # another intercommunality
    assert "Ouvert maintenant, jusqu'à midi." in said  # Monday 10:00
    assert "Fermé maintenant. Ouvre samedi à 14 heures." in said
    assert said.index("Veynes") < said.index("Serres")  # the same commune first


async def test_without_a_directory_the_own_place_is_named(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    sent = await chat.say("lea", choice="bn:near")
    assert "Centre de ressources de Veynes" in texts(sent, "lea")


# --- The demo -------------------------------------------------------------------------------


async def test_demo_workshops_never_fall_on_a_day_their_place_is_closed(db_path):
    """Seeded on any day of the week (a Thursday put Veynes' sessions on a Sunday)."""
    from flows.coordination import hours_of
    from tests.support import make_chat

    for day in range(7):
        clock = Clock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC) + timedelta(days=day))
        chat = await make_chat(db_path.with_name(f"demo-{day}.sqlite3"), clock)
        try:
            async with chat.app.storage.transaction() as uow:
                places = {p.id: p for p in await uow.places.all()}
                for workshop in await uow.workshops.upcoming(clock(), 50):
                    hours = hours_of(places[workshop.place_id].osm_hours)
                    assert hours is not None
                    for minute in range(0, workshop.minutes, 15):
                        assert hours.is_open(workshop.starts_at + timedelta(minutes=minute),
                                             chat.app.settings.timezone), (day, workshop)
        finally:
            await chat.app.close()


# --- Communes -------------------------------------------------------------------------------


async def to_commune_step(chat: Chat, who: str) -> None:
    """A professional's access request up to the question of the commune."""
    sent = await chat.script(who, "bonjour", "1", "1", "CCAS de Serres", "Place du Lac")
    assert "commune" in texts(sent, who).lower()


async def test_a_postal_code_of_many_communes_says_typing_the_name_works(chat: Chat):
    await to_commune_step(chat, "ana")
    sent = await chat.say("ana", "05700")
    [question] = [m for m in sent if m.to == "cli:ana" and m.choices]
    assert "17 communes correspondent" in question.text
    assert "écrivez son nom" in question.text
    assert len(question.choices) == 12
    assert all("Chanousse" not in label for _id, label in question.choices)
    await chat.say("ana", "Chanousse")  # not in the list: its name works
    async with chat.app.storage.reading() as uow:
        saved = await uow.conversations.get("cli:ana")
    assert saved is not None and "05033" in str(saved.conversation.answers)


async def test_a_commune_outside_the_territory_by_name_or_code_is_said_outside(chat: Chat):
    await to_commune_step(chat, "ana")
    by_code = texts(await chat.say("ana", "38000"), "ana")
    by_name = texts(await chat.say("ana", "Grenoble"), "ana")
    assert "n'est pas sur le territoire du réseau" in by_code
    assert "n'est pas sur le territoire du réseau" in by_name


# --- The remote-help procedure, as the coordination writes it -------------------------------


async def test_the_editor_shows_what_to_shorten_in_a_remote_help_procedure(chat: Chat):
    async with chat.app.storage.reading() as uow:
        veynes = next(p.id for p in await uow.places.all() if "Veynes" in p.name)
    await chat.say("coord", choice=f"co:pl:e:{veynes}")
    sent = await chat.say("coord", "Procédure d'aide à distance")
    assert "une étape par ligne" in texts(sent, "coord")
    sent = await chat.say("coord", "Installez RustDesk depuis le menu de Linux Mint, ouvrez-le "
                                   "et donnez le numéro affiché à la personne du lieu, mar.-ven.")
    said = texts(sent, "coord")
    assert "À changer" in said and "phrase de 20 mots (15 au plus)" in said
    assert "abréviation : « mar. »" in said
    sent = await chat.say("coord", "• Ouvrez le menu de Linux Mint. • Ouvrez RustDesk. "
                                   "• Donnez le numéro affiché à la personne du lieu.")
    assert "Lien à ouvrir" in texts(sent, "coord")
    await chat.say("coord", "https://rustdesk.com/fr/")
    async with chat.app.storage.reading() as uow:
        remote = await uow.help.remote_help(veynes)
    assert remote.instructions == ("• Ouvrez le menu de Linux Mint.\n• Ouvrez RustDesk.\n"
                                   "• Donnez le numéro affiché à la personne du lieu.")


async def test_a_procedure_imported_long_is_flagged_on_the_place(chat: Chat):
    async with chat.app.storage.transaction() as uow:
        veynes = next(p.id for p in await uow.places.all() if "Veynes" in p.name)
        await uow.help.set_remote_help(veynes, "Installez RustDesk depuis le menu de Linux "
                                       "Mint, ouvrez-le et donnez le numéro affiché à la "
                                       "personne du lieu.", "")
    sent = await chat.say("coord", choice=f"co:pd:{veynes}")
    assert "à simplifier pour les bénéficiaires" in texts(sent, "coord")
    assert "phrase de 19 mots" in texts(sent, "coord")
