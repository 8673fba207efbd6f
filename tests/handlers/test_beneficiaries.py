"""The after-donation service end to end, as transcripts.

Place staff create a one-time code; a beneficiary joins with it, books a workshop, gets its
reminders when the clock moves and the reminder job runs, answers them, asks for help, and can
delete everything. The clock starts on Monday 23 November 2026 at 10:00 in Paris; the demo's
Veynes sessions are on Thursdays at 14:00 (26 November, 3 and 10 December).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import Rendered
from flows.messages import UserKey
from flows.records import PlaceId, Role
from tests.support import Chat, Clock, make_chat, texts

CODE = re.compile(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}")
FIRST_VEYNES = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # Thursday 14:00 in Paris


@pytest.fixture
async def tg_chat(db_path: Path, clock: Clock) -> AsyncIterator[Chat]:
    bot = await make_chat(db_path, clock, TELEGRAM_BOT_USERNAME="filiere05_bot")
    yield bot
    await bot.app.close()


async def make_staff(chat: Chat, who: str = "lieu", town: str = "Veynes") -> PlaceId:
    """A place staff member of the place named after ``town``."""
    async with chat.app.storage.transaction() as uow:
        place = next(p for p in await uow.places.all() if town in p.name)
        await uow.users.create(UserKey(f"cli:{who}"), "fr", chat.clock())
        await uow.users.set_role(UserKey(f"cli:{who}"), Role.PLACE_STAFF, place.id)
    return place.id


async def new_code(chat: Chat, staff: str = "lieu") -> str:
    sent = await chat.say(staff, choice="bs:code")
    found = CODE.search(texts(sent, staff))
    assert found, texts(sent, staff)
    return found.group(0)


async def join(chat: Chat, who: str, *, name: str = "Léa", consent: bool = True) -> None:
    """A beneficiary types the code they were given and answers the three questions."""
    code = await new_code(chat)
    await chat.script(who, code, "1", name, "1" if consent else "2")


async def sessions_at(chat: Chat, place: PlaceId) -> list[int]:
    async with chat.app.storage.transaction() as uow:
        return [w.id for w in await uow.workshops.upcoming_at([place], chat.clock(), 20)]


async def run_job(chat: Chat, name: str = "beneficiaries.reminders") -> list[Rendered]:
    """Run a periodic job as the scheduler would, then deliver what it queued."""
    job = next(j for j in chat.app.core.jobs if j.name == name)
    before = len(chat.recorder.sent)
    await chat.app.core.run_job(job)
    await chat.app.dispatcher.drain()
    return chat.recorder.sent[before:]


async def rows(chat: Chat, sql: str, *params: object) -> list[tuple]:
    async with chat.app.db.conn.execute(sql, params) as cur:
        return [tuple(r) for r in await cur.fetchall()]


def reminders(messages: list[Rendered], who: str = "lea") -> list[Rendered]:
    return [m for m in messages if m.to == f"cli:{who}" and m.text.startswith("Rappel")]


# --- join codes ----------------------------------------------------------------------------


async def test_staff_get_a_code_as_text_qr_code_and_telegram_link(tg_chat: Chat):
    await make_staff(tg_chat)
    sent = await tg_chat.say("lieu", choice="bs:code")
    [message] = [m for m in sent if m.to == "cli:lieu"]
    code = CODE.search(message.text).group(0)
    assert "une seule fois" in message.text and "décembre 2026" in message.text
    assert f"https://t.me/filiere05_bot?start={code.replace(' ', '')}" in message.text
    assert message.attachment is not None and message.attachment.mime == "image/png"
    assert message.attachment.data.startswith(b"\x89PNG")


async def test_without_the_bot_username_staff_get_the_code_only(chat: Chat):
    await make_staff(chat)
    sent = await chat.say("lieu", choice="bs:code")
    assert "écrit ce code au bot" in texts(sent, "lieu")
    assert "t.me" not in texts(sent, "lieu")
    assert all(m.attachment is None for m in sent)


async def test_the_code_reveals_nothing_and_staff_see_the_join_buttons(chat: Chat):
    await make_staff(chat)
    sent = await chat.script("lieu", "menu", "1")
    assert "Créer un code pour un·e bénéficiaire" in texts(sent, "lieu")
    await new_code(chat)
    [(code, created_by)] = await rows(chat, "SELECT code, created_by FROM join_codes")
    assert created_by == "cli:lieu" and re.fullmatch(r"REJ[0-9A-Z]{6}", code)


async def test_only_place_staff_create_codes(chat: Chat):
    sent = await chat.say("mallory", choice="bs:code")
    assert "pas (ou plus) valable pour vous" in texts(sent, "mallory")
    assert await rows(chat, "SELECT code FROM join_codes") == []


# --- joining -------------------------------------------------------------------------------


async def test_a_beneficiary_joins_by_typing_the_code(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    sent = await chat.say("lea", code)
    assert "Bienvenue" in texts(sent, "lea") and "Choisissez votre langue" in texts(sent, "lea")
    sent = await chat.say("lea", "1")
    assert "Quel est votre prénom ?" in texts(sent, "lea")
    sent = await chat.say("lea", "Léa")
    assert "Voulez-vous recevoir un rappel" in texts(sent, "lea")
    assert "Nous gardons seulement votre prénom" in texts(sent, "lea")
    sent = await chat.say("lea", "1")
    said = texts(sent, "lea")
    assert "C'est fait, bienvenue !" in said
    assert "Premier atelier" in said and "jeudi 26 novembre à 14 heures" in said
    assert "Oui, je réserve" in said and "Plus tard" in said
    [(first_name, consent)] = await rows(chat, "SELECT first_name, reminders FROM beneficiaries")
    assert (first_name, consent) == ("Léa", 1)


async def test_the_telegram_deep_link_works(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    sent = await chat.say("lea", "/start " + code.replace(" ", ""))
    assert "Choisissez votre langue" in texts(sent, "lea")


async def test_at_the_door_any_spelling_of_the_code_works(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    sent = await chat.script("paul", "menu", "3", "rej-" + code[4:].lower().replace(" ", "-"))
    assert "Choisissez votre langue" in texts(sent, "paul")


async def test_start_without_a_code_shows_the_home_menu(chat: Chat):
    sent = await chat.say("ana", "/start")
    assert "Que souhaitez-vous faire ?" in texts(sent, "ana")
    assert "Bonjour" in texts(sent, "ana")


async def test_joining_in_english_asks_the_next_questions_in_english(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    await chat.say("sam", code)
    sent = await chat.say("sam", "2")  # English
    [question] = [m for m in sent if m.to == "cli:sam"]
    assert [label for _id, label in question.choices] == ["Skip"]  # not "Passer"


async def test_a_code_works_only_once(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    await chat.script("lea", code, "1", "Léa", "1")
    sent = await chat.say("paul", code)
    assert "déjà servi" in texts(sent, "paul")
    assert await rows(chat, "SELECT user_key FROM beneficiaries") == [("cli:lea",)]


async def test_a_code_used_between_the_question_and_the_answer_is_refused(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    await chat.say("lea", code)
    await chat.say("paul", code)
    await chat.say("lea", "1")
    sent = await chat.say("paul", "1")
    assert "déjà servi" in texts(sent, "paul")


async def test_an_expired_code_is_refused(chat: Chat, clock: Clock):
    await make_staff(chat)
    code = await new_code(chat)
    clock.advance(days=30, seconds=1)
    sent = await chat.say("lea", code)
    assert "trop ancien" in texts(sent, "lea")
    assert await rows(chat, "SELECT user_key FROM beneficiaries") == []


async def test_an_unknown_code_is_refused(chat: Chat):
    sent = await chat.say("lea", "REJ 7K3 M9P")
    assert "Je ne connais pas ce code" in texts(sent, "lea")


async def test_someone_without_a_code_is_told_where_to_get_one(chat: Chat):
    sent = await chat.script("lea", "menu", "3")
    assert "Écrivez ce code ici" in texts(sent, "lea")
    sent = await chat.say("lea", "1")  # "Je n'ai pas de code"
    assert "Demandez un code au lieu" in texts(sent, "lea")


# --- booking and reminders ------------------------------------------------------------------


async def book_first(chat: Chat, who: str = "lea") -> list[Rendered]:
    """Book the first session offered (the soonest at the beneficiary's place)."""
    offered = await chat.say(who, choice="bn:book")
    choice = next(cid for m in offered for cid, _label in m.choices if cid.startswith("bn:bk:"))
    return await chat.say(who, choice=choice)


async def test_booking_confirms_with_the_place_and_plans_two_reminders(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    sent = await book_first(chat)
    said = texts(sent, "lea")
    assert ("C'est réservé : Prise en main de l'ordinateur, le jeudi 26 novembre à 14 heures"
            in said)
    assert "Avenue des Martinets, Veynes" in said
    assert "du mardi au vendredi, de 9 heures à midi et de 14 heures à 17 heures" in said
    assert "Vous recevrez un rappel avant." in said
    due = await rows(chat, "SELECT due_at FROM reminders ORDER BY due_at")
    assert [d for (d,) in due] == ["2026-11-24T13:00:00.000000+00:00",
                                   "2026-11-26T07:00:00.000000+00:00"]
    sent = await chat.say("lea", choice="bn:my")
    assert "jeudi 26 novembre à 14 heures" in texts(sent, "lea")
    assert "Avenue des Martinets" in texts(sent, "lea")


async def test_reminders_arrive_when_due_and_only_once(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 12, 59, tzinfo=UTC)
    assert reminders(await run_job(chat)) == []
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # Tuesday 14:00 in Paris
    [reminder] = reminders(await run_job(chat))
    assert "jeudi 26 novembre à 14 heures" in reminder.text
    assert "Prise en main de l'ordinateur" in reminder.text and "Veynes" in reminder.text
    assert [label for _id, label in reminder.choices] == ["Je viens", "Je ne peux pas venir"]
    assert reminders(await run_job(chat)) == []
    clock.now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # Thursday 08:00 in Paris
    assert len(reminders(await run_job(chat))) == 1
    assert reminders(await run_job(chat)) == []


async def test_a_restart_neither_loses_nor_repeats_a_reminder(
    chat: Chat, clock: Clock, db_path: Path
):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    job = next(j for j in chat.app.core.jobs if j.name == "beneficiaries.reminders")
    assert await chat.app.core.run_job(job) == 1  # queued, then the process stops
    await chat.app.close()

    clock.now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)  # the next one fell due while down
    again = await make_chat(db_path, clock)
    try:
        delivered = reminders(await run_job(again))
        assert len(delivered) == 2
        assert reminders(await run_job(again)) == []
    finally:
        await again.app.close()
    third = await make_chat(db_path, clock)
    try:
        assert reminders(await run_job(third)) == []
    finally:
        await third.app.close()


async def test_no_reminder_is_sent_at_night(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 21:30 in Paris, overdue
    assert reminders(await run_job(chat)) == []
    clock.now = datetime(2026, 11, 25, 6, 59, tzinfo=UTC)  # 07:59
    assert reminders(await run_job(chat)) == []
    clock.now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # 08:00: postponed to the morning
    assert len(reminders(await run_job(chat))) == 1


async def test_i_am_coming_is_recorded_and_shown_to_staff(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    await run_job(chat)
    sent = await chat.say("lea", "1")  # "Je viens", answered by number as on Matrix
    assert "Merci ! À bientôt." in texts(sent, "lea")
    sent = await chat.say("lieu", choice="bs:who")
    assert "• Léa (vient)" in texts(sent, "lieu")


async def test_i_cannot_come_frees_the_seat_and_offers_another_date(chat: Chat, clock: Clock):
    place = await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    await run_job(chat)
    sent = await chat.say("lea", "2")  # "Je ne peux pas venir"
    said = texts(sent, "lea")
    assert "Votre place est libérée" in said and "Voulez-vous une autre date ?" in said
    assert await rows(chat, "SELECT * FROM bookings") == []
    assert await rows(chat, "SELECT * FROM reminders WHERE status = 'pending'") == []
    first = (await sessions_at(chat, place))[0]
    assert await rows(chat, "SELECT booked FROM workshops WHERE id = ?", first) == [(0,)]


async def test_cancelling_a_booking_cancels_its_reminders(chat: Chat, clock: Clock):
    place = await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    first = (await sessions_at(chat, place))[0]
    sent = await chat.say("lea", choice=f"bn:cx:{first}")
    assert "C'est annulé. Votre place est libérée." in texts(sent, "lea")
    assert await rows(chat, "SELECT * FROM reminders") == []
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert reminders(await run_job(chat)) == []


async def test_moving_a_booking_moves_its_reminders(chat: Chat):
    place = await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    first = (await sessions_at(chat, place))[0]
    offered = await chat.say("lea", choice=f"bn:mv:{first}")
    move = next(cid for m in offered for cid, _label in m.choices if cid.startswith("bn:mt:"))
    sent = await chat.say("lea", choice=move)
    assert "C'est changé ! Nouvelle date : jeudi 3 décembre à 14 heures." in texts(sent, "lea")
    [(workshop,)] = await rows(chat, "SELECT workshop_id FROM bookings")
    assert workshop != first
    due = await rows(chat, "SELECT workshop_id, due_at FROM reminders ORDER BY due_at")
    assert due == [(workshop, "2026-12-01T13:00:00.000000+00:00"),
                   (workshop, "2026-12-03T07:00:00.000000+00:00")]


async def test_withdrawn_consent_means_no_reminder(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    sent = await chat.say("lea", choice="bn:rem:off")
    assert "ne vous écrira plus" in texts(sent, "lea")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert reminders(await run_job(chat)) == []
    await chat.say("lea", choice="bn:rem:on")  # changeable any time: future ones come back
    assert len(await rows(chat, "SELECT * FROM reminders WHERE status = 'pending'")) == 0
    await book_first(chat)
    assert len(await rows(chat, "SELECT * FROM reminders WHERE status = 'pending'")) == 2


async def test_stop_stops_every_message(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    sent = await chat.say("lea", "stop")
    assert "ne vous écrira plus" in texts(sent, "lea")
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert reminders(await run_job(chat)) == []


async def test_no_reminder_without_consent(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea", consent=False)
    sent = await book_first(chat)
    assert "rappel" not in texts(sent, "lea")
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert reminders(await run_job(chat)) == []


async def test_the_last_seat_goes_to_one_of_two_people_booking_at_once(
    chat: Chat, clock: Clock, db_path: Path
):
    place = await make_staff(chat)
    await join(chat, "ana", name="Ana")
    await join(chat, "bob", name="Bob")
    async with chat.app.storage.transaction() as uow:
        last = await uow.workshops.add(place, "safety", FIRST_VEYNES + timedelta(days=1), 60, 1)
    other = await make_chat(db_path, clock)  # a second process on the same database
    try:
        sent_a, sent_b = await asyncio.gather(
            chat.say("ana", choice=f"bn:bk:{last}"), other.say("bob", choice=f"bn:bk:{last}")
        )
    finally:
        await other.app.close()
    said = texts(sent_a + sent_b + other.recorder.sent)
    assert "C'est réservé" in said and "cet atelier est complet" in said
    assert len(await rows(chat, "SELECT * FROM bookings WHERE workshop_id = ?", last)) == 1
    assert await rows(chat, "SELECT booked, seats FROM workshops WHERE id = ?", last) == [(1, 1)]


async def test_a_booking_button_for_a_place_of_another_area_is_refused(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    briancon = await make_staff(chat, "brianconnais", "Briançon")
    far = (await sessions_at(chat, briancon))[0]
    sent = await chat.say("lea", choice=f"bn:bk:{far}")
    assert "plus valable" in texts(sent, "lea")
    assert await rows(chat, "SELECT * FROM bookings") == []


async def test_staff_see_who_is_coming_by_first_name_or_code_only(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    code = await new_code(chat)
    await chat.script("anon", code, "1", "Passer", "2")
    await book_first(chat, "lea")
    await book_first(chat, "anon")
    sent = await chat.say("lieu", choice="bs:who")
    said = texts(sent, "lieu")
    assert "• Léa" in said and f"• {code}" in said
    assert "2 inscrit·es sur 8" in said
    assert "cli:lea" not in said and "cli:anon" not in said


async def test_staff_cancel_a_session_and_those_booked_are_told(chat: Chat):
    place = await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    first = (await sessions_at(chat, place))[0]
    await chat.say("lieu", choice=f"bs:del:{first}")
    sent = await chat.say("lieu", choice=f"bs:delok:{first}")
    assert "Personnes prévenues : 1" in texts(sent, "lieu")
    assert "est annulé" in texts(sent, "lea")
    assert await rows(chat, "SELECT * FROM reminders") == []


async def test_staff_publish_a_session(chat: Chat):
    place = await make_staff(chat)
    before = len(await sessions_at(chat, place))
    sent = await chat.say("lieu", choice="bs:new")
    assert "Quel thème ?" in texts(sent, "lieu")
    await chat.script("lieu", "5", "15/12/2026", "14 h 30", "2")
    sent = await chat.script("lieu", "6", "1")
    assert "Séance publiée : Appels vidéo, mardi 15 décembre à 14 h 30, 6 places." in texts(
        sent, "lieu")
    assert len(await sessions_at(chat, place)) == before + 1


# --- remote help ----------------------------------------------------------------------------


async def test_the_help_ticket_round_trip(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    sent = await chat.say("lea", choice="bn:help")
    said = texts(sent, "lea")
    assert "RustDesk" in said and "https://rustdesk.com" in said
    assert "quand le lieu est ouvert" in said and "du mardi au vendredi" in said
    assert "Écrivez votre question ici." in said
    assert "Nouvelle demande d'aide n° 1 de Léa" in texts(sent, "lieu")

    sent = await chat.say("lea", "Je ne trouve pas internet")
    assert "Je ne trouve pas internet" in texts(sent, "lieu")
    assert "Envoyé" in texts(sent, "lea")

    sent = await chat.say("lieu", "1")  # "Je m'en occupe"
    assert "s'occupe de votre demande" in texts(sent, "lea")
    assert "Écrivez votre réponse à la demande n° 1" in texts(sent, "lieu")
    sent = await chat.say("lieu", "Cliquez sur l'icône du réseau en bas à droite.")
    assert "Message du lieu :\nCliquez sur l'icône du réseau" in texts(sent, "lea")

    sent = await chat.say("lea", "Merci, ça marche !")
    assert "Demande d'aide n° 1 (Léa) :\nMerci, ça marche !" in texts(sent, "lieu")
    sent = await chat.say("lieu", choice="tk:end:1")
    assert "La demande d'aide est terminée" in texts(sent, "lea")
    assert await rows(chat, "SELECT status FROM help_tickets") == [("closed",)]
    sent = await chat.say("lea", "encore une question")
    assert "encore une question" not in texts(sent, "lieu")


async def test_only_the_place_staff_take_a_help_ticket(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    await chat.say("lea", choice="bn:help")
    sent = await chat.say("mallory", choice="tk:take:1")
    assert "pas (ou plus) valable pour vous" in texts(sent, "mallory")
    assert await rows(chat, "SELECT status FROM help_tickets") == [("open",)]


# --- privacy --------------------------------------------------------------------------------


async def test_forget_me_deletes_everything_after_one_confirmation(chat: Chat):
    place = await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    await chat.say("lea", choice="bn:help")
    sent = await chat.say("lea", choice="bn:data")
    said = texts(sent, "lea")
    assert "• prénom : Léa" in said and "• ateliers réservés : 1" in said
    assert "6 mois après votre dernier atelier" in said
    sent = await chat.say("lea", choice="bn:fg")
    assert "Voulez-vous vraiment tout effacer ?" in texts(sent, "lea")
    sent = await chat.say("lea", choice="bn:fg:ok")
    assert "toutes vos données sont effacées" in texts(sent, "lea")

    for table, column in (("beneficiaries", "user_key"), ("bookings", "user_key"),
                          ("reminders", "user_key"), ("help_tickets", "user_key"),
                          ("conversations", "user_key"), ("menus", "user_key"),
                          ("users", "key")):
        assert await rows(chat, f"SELECT * FROM {table} WHERE {column} = 'cli:lea'") == []
    assert await rows(chat, "SELECT * FROM join_codes WHERE used_at IS NOT NULL") == []
    # The farewell was delivered; its delivery record does not keep the key either.
    assert await rows(chat, "SELECT count(*) FROM outbox WHERE recipient = 'cli:lea'") == [(0,)]
    first = (await sessions_at(chat, place))[0]
    assert await rows(chat, "SELECT booked FROM workshops WHERE id = ?", first) == [(0,)]


async def test_data_are_purged_six_months_after_the_last_workshop(chat: Chat, clock: Clock):
    await make_staff(chat)
    await join(chat, "lea")
    await book_first(chat)
    clock.now = FIRST_VEYNES + timedelta(days=182)
    await run_job(chat, "beneficiaries.purge")
    assert await rows(chat, "SELECT user_key FROM beneficiaries") == [("cli:lea",)]
    clock.now = FIRST_VEYNES + timedelta(days=184)
    await run_job(chat, "beneficiaries.purge")
    assert await rows(chat, "SELECT user_key FROM beneficiaries") == []
    assert await rows(chat, "SELECT * FROM users WHERE key = 'cli:lea'") == []


async def test_a_reminder_across_the_switch_to_summer_time_keeps_the_local_hour(
    chat: Chat, clock: Clock
):
    """Monday 29 March 2027 at 14:00 (summer time since Sunday): reminded on Saturday at
    14:00 winter time, which is 13:00 UTC, not 12:00."""
    await make_staff(chat)
    await chat.say("lieu", choice="bs:new")
    await chat.script("lieu", "1", "29/03/2027", "14 h", "2", "8", "1")
    await join(chat, "lea")
    async with chat.app.storage.transaction() as uow:
        spring = next(w for w in await uow.workshops.upcoming(clock(), 50)
                      if w.starts_at == datetime(2027, 3, 29, 12, 0, tzinfo=UTC))
    await chat.say("lea", choice=f"bn:bk:{spring.id}")
    clock.now = datetime(2027, 3, 27, 12, 59, tzinfo=UTC)
    assert reminders(await run_job(chat)) == []
    clock.now = datetime(2027, 3, 27, 13, 0, tzinfo=UTC)
    [reminder] = reminders(await run_job(chat))
    assert "le lundi 29 mars à 14 heures" in reminder.text


async def test_start_or_the_door_brings_a_beneficiary_back_to_their_menu(chat: Chat):
    await make_staff(chat)
    await join(chat, "lea")
    sent = await chat.say("lea", "/start")
    assert "Mes ateliers" in texts(sent, "lea")
    sent = await chat.script("lea", "menu", "3")
    assert "Mes ateliers" in texts(sent, "lea")
