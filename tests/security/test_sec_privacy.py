"""Personal data planted through real conversations is gone after "forget me" and after every
retention purge, in every column of every table; and the logs never carry it.

The planted strings are distinctive so that a plain substring search of the whole database
(text, and JSON-escaped text, and the bytes of attachments) finds any copy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from pathlib import Path

import pytest

from flows.messages import Incoming, UserKey
from tests.security.test_sec_scenario import WIPE, code_from, member_number, rows
from tests.support import Chat, Clock, make_chat, texts

FIRST_NAME = "Zéphyrine"
SURNAME = "Quasimodine"
PHONE = "06 98 76 54 32"
PHONE_E164 = "+33698765432"
EMAIL = "zephyrine.quasimodine@secret.fr"
STREET = "rue des Secrets"
HELP_TEXT = "Mon voisin Barnabé du 7 rue des Secrets a changé le mot de passe"
PLANTED = (FIRST_NAME, SURNAME, PHONE, PHONE_E164, EMAIL, STREET, "Barnabé")


def forms(planted: str) -> list[bytes]:
    """The ways a string can sit in a column: as is, JSON-escaped, in UTF-8 or cp1252 bytes."""
    found = {planted, json.dumps(planted)[1:-1]}
    out = [f.encode("utf-8") for f in found]
    with contextlib.suppress(UnicodeEncodeError):
        out.append(planted.encode("cp1252"))
    return out


async def copies(chat: Chat, *planted: str) -> list[tuple[str, str, str]]:
    """Every (table, column, planted string) where a planted string is still stored."""
    tables = [t for (t,) in await rows(
        chat, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    found = []
    for table in tables:
        columns = [c[1] for c in await rows(chat, f"PRAGMA table_info({table})")]
        for row in await rows(chat, f"SELECT * FROM {table}"):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str):
                    data = value.encode("utf-8")
                elif isinstance(value, bytes):
                    data = value
                else:
                    continue
                for text in planted:
                    if any(f in data for f in forms(text)):
                        found.append((table, column, text))
    return sorted(set(found))


async def run_job(chat: Chat, name: str) -> int:
    job = next(j for j in chat.app.core.jobs if j.name == name)
    done = await chat.app.core.run_job(job)
    await chat.app.dispatcher.drain()
    return done


async def run_every_job(chat: Chat) -> None:
    for job in chat.app.core.jobs:
        await chat.app.core.run_job(job)
    await chat.app.dispatcher.drain()


# --- conversations that plant the strings ---------------------------------------------------


async def beneficiary_with_help_ticket(chat: Chat, who: str = "zeph") -> None:
    """A beneficiary of Veynes joins as Zéphyrine, books, asks for help with free text."""
    code = await code_from(chat, "demo-veynes")
    await chat.script(who, code, "1", FIRST_NAME, "1")
    offered = await chat.say(who, choice="bn:book")
    booking = next(cid for m in offered for cid, _l in m.choices if cid.startswith("bn:bk:"))
    await chat.say(who, choice=booking)
    await chat.say(who, choice="bn:help")
    sent = await chat.say(who, HELP_TEXT)
    assert HELP_TEXT in texts(sent, "demo-veynes")  # really planted
    sent = await chat.say("demo-veynes", choice="tk:take:1")
    await chat.say("demo-veynes", f"Bonjour {FIRST_NAME}, je vous rappelle au {PHONE}")


PRIVATE_LOT = ["bonjour", "2", "4", f"{FIRST_NAME} {SURNAME}", EMAIL, "1 portable", "3, 4, 9",
               "1", "5", "gap", "Je demande un enlèvement", "gap",
               f"le matin, sonner au 3 {STREET}", "1"]
"""A private person gives a laptop with a pickup at home (tests/handlers/test_donations)."""


async def private_donor(chat: Chat, who: str = "zdon") -> None:
    sent = await chat.script(who, *PRIVATE_LOT)
    assert "LOT-2026-0001" in texts(sent, who), texts(sent, who)[-500:]


async def prescriber_request(chat: Chat, who: str = "demo-accomp") -> None:
    """An equipment request for Zéphyrine, then cancelled by the prescriber."""
    await chat.say(who, choice="rq:new")
    sent = await chat.script(who, "1, 4", "4", "Passer", "veynes", "Ordinateur portable", "2",
                             FIRST_NAME, "2", "1")
    assert "DEM-2026-0001" in texts(sent, who)
    await chat.say(who, choice="rq:cx:1")
    await chat.say(who, choice="rq:cy:1")


ACCESS = ["bonjour", "1", "1", "CCAS de Veynes", f"12 {STREET}", "veynes",
          f"{FIRST_NAME} {SURNAME}", "Conseillère sociale", PHONE, "1"]


# --- forget me ------------------------------------------------------------------------------


async def test_a_beneficiary_who_asks_to_be_forgotten_leaves_no_trace(chat: Chat):
    await beneficiary_with_help_ticket(chat)
    assert await copies(chat, FIRST_NAME, "Barnabé", STREET)  # the search does find them
    await chat.say("zeph", choice="bn:fg")
    sent = await chat.say("zeph", choice="bn:fg:ok")
    assert "toutes vos données sont effacées" in texts(sent, "zeph")
    await run_every_job(chat)
    assert await copies(chat, FIRST_NAME, "Barnabé", STREET, PHONE) == []


async def test_a_beneficiary_forgotten_leaves_nothing_in_tables_other_than_the_outbox(chat: Chat):
    """Narrower than the test above: what the beneficiary's own rows hold is deleted."""
    await beneficiary_with_help_ticket(chat)
    await chat.say("zeph", choice="bn:fg:ok")
    left = [c for c in await copies(chat, FIRST_NAME, "Barnabé", STREET) if c[0] != "outbox"]
    assert left == []


async def test_the_farewell_to_a_forgotten_beneficiary_keeps_no_account_key_once_delivered(
    chat: Chat,
):
    """The farewell is the last message to the person; once delivered, its outbox row (a
    delivery record kept a week) no longer names them: their key is nowhere at all."""
    await beneficiary_with_help_ticket(chat)
    sent = await chat.say("zeph", choice="bn:fg:ok")
    assert "toutes vos données sont effacées" in texts(sent, "zeph")  # it was delivered
    assert await rows(chat, "SELECT status FROM outbox WHERE recipient = 'cli:zeph'") == []
    assert await copies(chat, "cli:zeph") == []


async def test_a_message_given_up_to_someone_forgotten_keeps_no_account_key(chat: Chat):
    await beneficiary_with_help_ticket(chat)
    await chat.app.core.handle(Incoming(UserKey("cli:zeph"), "", "bn:fg:ok", None, None))
    [(item,)] = await rows(chat, "SELECT id FROM outbox WHERE recipient = 'cli:zeph'"
                                 " AND status = 'pending'")
    async with chat.app.storage.autocommit() as uow:
        await uow.outbox.give_up(item, chat.clock(), "blocked by the user")
    assert await rows(chat, "SELECT recipient, status FROM outbox WHERE id = ?", item) == [
        ("", "failed")]
    assert await copies(chat, "cli:zeph") == []


async def test_a_donor_who_erases_their_contact_loses_name_and_email(chat: Chat):
    await private_donor(chat)
    assert await copies(chat, SURNAME, EMAIL)
    await chat.say("zdon", choice="don:forget")
    sent = await chat.say("zdon", choice="don:forget:ok")
    assert "coordonnées sont effacées" in texts(sent, "zdon")
    left = [c for c in await copies(chat, FIRST_NAME, SURNAME, EMAIL) if c[0] != "outbox"]
    assert left == []


async def test_a_donor_who_erases_their_contact_leaves_no_free_text(chat: Chat):
    await private_donor(chat)
    await chat.say("zdon", choice="don:forget:ok")
    left = [c for c in await copies(chat, STREET) if c[0] != "outbox"]
    assert left == []


# --- a professional deletes their data ------------------------------------------------------

APPLICANT = (FIRST_NAME, SURNAME, PHONE, PHONE_E164, STREET, "CCAS de Veynes",
             "Conseillère sociale")
"""What an access request (``ACCESS``) holds about who asked."""

ERASED = "votre accès professionnel a pris fin"


async def approved_professional(chat: Chat, who: str = "zpro") -> None:
    """``who`` asks for access as a prescriber; the coordinator approves and attaches them
    to the Veynes hub."""
    await chat.script(who, *ACCESS)
    await chat.say("coord", choice="acc:ok:1")
    await chat.say("coord", choice="acc:pl:1:1")


async def test_a_professional_who_deletes_their_data_leaves_no_name_or_phone_anywhere(
    chat: Chat,
):
    await approved_professional(chat)
    assert await copies(chat, *APPLICANT)  # the search does find them
    space = await chat.say("zpro", choice="m:pro")
    assert "pv:erase" in [cid for m in space for cid, _label in m.choices]
    sent = await chat.say("zpro", choice="pv:erase")
    assert "Restent, sans votre nom" in texts(sent, "zpro")
    sent = await chat.say("zpro", choice="pv:erase:ok")
    assert ERASED in texts(sent, "zpro")
    assert await copies(chat, *APPLICANT) == []  # at once, no purge job needed
    assert await rows(chat, "SELECT role, place_id FROM users WHERE key = 'cli:zpro'") == [
        (None, None)]
    assert await rows(chat, "SELECT status, decided_by FROM access_requests") == [
        ("revoked", "cli:zpro")]
    for table, column in (("conversations", "user_key"), ("menus", "user_key")):
        assert await rows(chat, f"SELECT * FROM {table} WHERE {column} = 'cli:zpro'") == []
    assert await rows(chat, "SELECT status FROM outbox WHERE recipient = 'cli:zpro'") == [
        ("sent",)]  # the confirmation's delivery record, gone in a week like any other
    sent = await chat.say("zpro", choice="rq:new")
    assert "pas (ou plus) valable pour vous" in texts(sent, "zpro")  # the access has ended


async def test_a_professional_who_deleted_their_data_may_ask_for_access_again(chat: Chat):
    await approved_professional(chat)
    await chat.say("zpro", choice="pv:erase:ok")
    sent = await chat.say("zpro", choice="m:pro")
    assert "Quel est votre rôle ?" in texts(sent, "zpro")


async def test_a_prescriber_with_a_request_open_finishes_it_before_deleting_their_data(
    chat: Chat,
):
    await chat.say("demo-accomp", choice="rq:new")
    await chat.script("demo-accomp", "1, 4", "4", "Passer", "veynes", "Ordinateur portable",
                      "2", FIRST_NAME, "2", "1")
    sent = await chat.say("demo-accomp", choice="pv:erase:ok")
    assert "DEM-2026-0001" in texts(sent, "demo-accomp")
    assert ERASED not in texts(sent, "demo-accomp")
    assert await rows(chat, "SELECT role FROM users WHERE key = 'cli:demo-accomp'") == [
        ("prescriber",)]
    await chat.say("demo-accomp", choice="rq:cy:1")  # cancelled
    sent = await chat.say("demo-accomp", choice="pv:erase:ok")
    assert ERASED in texts(sent, "demo-accomp")
    # The request stays, its history without who acted; the first name has its own retention.
    assert await rows(chat, "SELECT prescriber, first_name, status FROM equipment_requests"
                      ) == [("cli:demo-accomp", FIRST_NAME, "cancelled")]
    assert await rows(chat, "SELECT DISTINCT by_user FROM request_events") == [(None,)]
    chat.clock.advance(days=6 * 31 + 1)
    await run_every_job(chat)
    assert await copies(chat, FIRST_NAME) == []


async def test_place_staff_who_delete_their_data_hand_a_help_chat_back_to_their_place(
    chat: Chat,
):
    await beneficiary_with_help_ticket(chat)  # demo-veynes took ticket 1
    assert await rows(chat, "SELECT status, mediator FROM help_tickets") == [
        ("taken", "cli:demo-veynes")]
    sent = await chat.say("demo-veynes", choice="pv:erase:ok")
    assert ERASED in texts(sent, "demo-veynes")
    assert await rows(chat, "SELECT status, mediator FROM help_tickets") == [("open", None)]
    assert await rows(chat, "SELECT count(*) FROM join_codes WHERE created_by IS NOT NULL"
                      ) == [(0,)]
    assert await copies(chat, "cli:demo-veynes") == [  # the account, the confirmation's record
        ("outbox", "recipient", "cli:demo-veynes"), ("users", "key", "cli:demo-veynes")]


async def test_a_reconditioner_who_deletes_their_data_leaves_the_erasure_proofs(chat: Chat):
    """Erasure records and certificates are the proof owed to donors for five years."""
    await private_donor(chat)
    await chat.say("demo-recond", choice="lot:rcv:1")
    await chat.say("demo-recond", choice="lot:wipe:1")
    await chat.script("demo-recond", *WIPE)
    await chat.say("demo-recond", choice="lot:cert:1")
    proofs = "SELECT operator FROM erasure_records UNION ALL" \
             " SELECT issued_by FROM erasure_certificates"
    assert await rows(chat, proofs) == [("cli:demo-recond",)] * 2
    sent = await chat.say("demo-recond", choice="pv:erase:ok")
    assert ERASED in texts(sent, "demo-recond")
    assert await rows(chat, proofs) == [("cli:demo-recond",)] * 2


async def test_a_coordinator_is_told_their_role_is_in_the_settings(chat: Chat):
    sent = await chat.say("coord", choice="pv:erase")
    assert "FILIERE_COORDINATORS" in texts(sent, "coord")
    sent = await chat.say("coord", choice="pv:erase:ok")
    assert "FILIERE_COORDINATORS" in texts(sent, "coord")
    assert ERASED not in texts(sent, "coord")
    sent = await chat.say("coord", choice="co:menu")
    assert "Coordination du réseau" in texts(sent, "coord")


# --- retention purges -----------------------------------------------------------------------


async def test_a_rejected_access_request_keeps_who_asked_90_days_then_blanks_it(chat: Chat):
    await chat.script("zpro", *ACCESS)
    await chat.say("coord", choice="acc:no:1")
    chat.clock.advance(days=89)
    await run_every_job(chat)
    assert {c[1] for c in await copies(chat, *APPLICANT)} == {
        "contact_name", "phone", "address", "structure", "function"}  # kept until then
    chat.clock.advance(days=2)
    await run_every_job(chat)
    assert await copies(chat, *APPLICANT) == []
    assert await rows(chat, "SELECT role, commune, status FROM access_requests") == [
        ("prescriber", "05179", "rejected")]  # what the figures count stays


async def test_a_withdrawn_access_keeps_who_asked_90_days_then_blanks_it(chat: Chat):
    await chat.script("zpro", *ACCESS)
    await chat.say("coord", choice="acc:ok:1")
    number = await member_number(chat, "zpro")
    await chat.say("coord", choice=f"co:mvy:{number}")
    chat.clock.advance(days=89)
    await run_every_job(chat)
    assert ("access_requests", "phone", PHONE_E164) in await copies(chat, *APPLICANT)
    chat.clock.advance(days=2)
    await run_every_job(chat)
    assert await copies(chat, *APPLICANT) == []
    assert await rows(chat, "SELECT status FROM access_requests") == [("revoked",)]


async def test_a_pending_or_approved_access_request_is_not_blanked(chat: Chat):
    await chat.script("zpro", *ACCESS)
    await chat.script("zpro2", *ACCESS)
    await chat.say("coord", choice="acc:ok:2")
    chat.clock.advance(days=400)
    await run_every_job(chat)
    assert await rows(chat, "SELECT count(*) FROM access_requests WHERE phone = ?",
                      PHONE_E164) == [(2,)]


async def test_an_access_request_dropped_half_way_leaves_no_answers_a_day_after_it_expired(
    chat: Chat,
):
    """Name, address and phone typed into a conversation never finished: the conversation
    expires after 24 hours, its answers are gone a day later even if the person never
    comes back."""
    await chat.script("zhalf", *ACCESS[:9])  # everything but the confirmation
    chat.clock.advance(hours=47)
    await run_every_job(chat)
    assert {c[0] for c in await copies(chat, *APPLICANT)} == {"conversations"}
    chat.clock.advance(hours=2)
    await run_every_job(chat)
    assert await copies(chat, *APPLICANT) == []


async def test_someone_who_only_looked_leaves_no_account_a_year_later(chat: Chat):
    await chat.say("zlook", "bonjour", lang="en")
    await chat.say("zlook", choice="i:places")
    account = "SELECT lang FROM users WHERE key = 'cli:zlook'"
    chat.clock.advance(days=364)
    await run_every_job(chat)
    assert await rows(chat, account) == [("en",)]
    chat.clock.advance(days=2)
    await run_every_job(chat)
    assert await rows(chat, account) == []
    assert await copies(chat, "cli:zlook") == []  # its last menu too
    sent = await chat.say("zlook", "bonjour")
    assert "Je suis le bot" in texts(sent, "zlook")  # greeted as someone new


async def test_accounts_that_records_hang_on_are_kept_past_a_year(tmp_path: Path,
                                                                  clock: Clock):
    """A coordinator (named in the settings), a donor, someone refused, a beneficiary (kept
    two years here) and a professional keep their account whatever its age."""
    chat = await make_chat(tmp_path / "db.sqlite3", clock,
                           FILIERE_BENEFICIARY_RETENTION_DAYS="730")
    try:
        await chat.say("coord", "bonjour")
        await private_donor(chat)
        await chat.script("zpro", *ACCESS)
        await chat.say("coord", choice="acc:no:1")
        await chat.script("zben", await code_from(chat, "demo-veynes"), "1", FIRST_NAME, "1")
        chat.clock.advance(days=370)
        await run_every_job(chat)
        kept = await rows(chat, "SELECT key FROM users WHERE key IN ('cli:coord', 'cli:zdon',"
                          " 'cli:zpro', 'cli:zben', 'cli:demo-veynes') ORDER BY key")
        assert [k for (k,) in kept] == ["cli:coord", "cli:demo-veynes", "cli:zben",
                                        "cli:zdon", "cli:zpro"]
    finally:
        await chat.app.close()


async def test_the_access_request_retention_is_a_setting(tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "db.sqlite3", clock,
                           FILIERE_ACCESS_REQUEST_RETENTION_DAYS="10")
    try:
        await chat.script("zpro", *ACCESS)
        await chat.say("coord", choice="acc:no:1")
        chat.clock.advance(days=9)
        await run_every_job(chat)
        assert await copies(chat, PHONE_E164)
        chat.clock.advance(days=2)
        await run_every_job(chat)
        assert await copies(chat, *APPLICANT) == []
    finally:
        await chat.app.close()



async def test_the_request_first_name_is_purged_after_retention(chat: Chat):
    await prescriber_request(chat)
    assert ("equipment_requests", "first_name", FIRST_NAME) in await copies(chat, FIRST_NAME)
    chat.clock.advance(days=400)
    await run_every_job(chat)
    left = [c for c in await copies(chat, FIRST_NAME) if c[0] != "outbox"]
    assert left == []


async def test_a_silent_beneficiary_is_purged_after_retention(chat: Chat):
    await beneficiary_with_help_ticket(chat)
    chat.clock.advance(days=400)
    await run_every_job(chat)
    assert await rows(chat, "SELECT * FROM beneficiaries WHERE user_key = 'cli:zeph'") == []
    left = [c for c in await copies(chat, FIRST_NAME, "Barnabé", STREET) if c[0] != "outbox"]
    assert left == []


async def test_lots_are_purged_of_contact_data_after_retention(chat: Chat):
    await private_donor(chat)
    chat.clock.advance(days=6 * 366)
    await run_every_job(chat)
    left = [c for c in await copies(chat, SURNAME, EMAIL, STREET) if c[0] != "outbox"]
    assert left == []


async def test_every_purge_leaves_no_personal_data_even_in_the_outbox(chat: Chat):
    await beneficiary_with_help_ticket(chat)
    await private_donor(chat)
    await prescriber_request(chat)
    await chat.say("zeph", choice="bn:fg:ok")
    await chat.say("zdon", choice="don:forget:ok")
    chat.clock.advance(days=6 * 366)
    await run_every_job(chat)
    assert await copies(chat, FIRST_NAME, SURNAME, EMAIL, STREET, "Barnabé", PHONE) == []


# --- logs -----------------------------------------------------------------------------------


async def scripted_run(chat: Chat) -> None:
    await chat.script("zpro", *ACCESS)
    await chat.say("coord", choice="acc:ok:1")
    await beneficiary_with_help_ticket(chat)
    await private_donor(chat)
    await prescriber_request(chat)
    await chat.say("zeph", choice="bn:data")
    await chat.say("zeph", choice="bn:fg:ok")
    await chat.say("zdon", choice="don:forget:ok")
    await chat.say("zeph", f"{FIRST_NAME} {PHONE} {STREET}")  # typed out of any flow
    chat.clock.advance(days=6 * 366)
    await run_every_job(chat)


def leaks(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    planted = [p.lower() for p in (*PLANTED, re.sub(r"\s", "", PHONE))]
    return [(r.name, r.getMessage()[:200]) for r in records
            if any(p in r.getMessage().lower() for p in planted)]


async def test_the_bot_logs_never_carry_names_phone_numbers_or_free_text(
    chat: Chat, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await scripted_run(chat)
    ours = [r for r in caplog.records if r.name.split(".")[0] in
            {"bot", "handlers", "flows", "storage"}]
    assert ours, "nothing was logged by the bot: the capture is broken"
    assert leaks(ours) == []


async def test_no_logger_at_all_carries_personal_data_at_debug_level(
    chat: Chat, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await scripted_run(chat)
    assert leaks(caplog.records) == []
