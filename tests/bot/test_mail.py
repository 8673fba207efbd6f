"""E-mail end to end: a real bot sends through a real SMTP server (aiosmtpd) on 127.0.0.1.

A donor who gave an e-mail address gets the receipt and the certificate by e-mail too, the
PDF attached; a professional may get their notices by e-mail; what the relay refuses or
cannot take for a day is told to the coordinators, never retried forever; and the queue
keeps no address, nor anything once sent.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail import MAX_ATTEMPTS, RETRY_DELAYS
from bot.settings import SettingsError, load
from flows.messages import Attachment
from flows.ports import StorageUnavailable
from handlers.mail import mail_impact_report
from tests.bot.smtp_server import SmtpStandIn, self_signed
from tests.handlers.test_donations import PRIVATE_LOT, certify_lot, pdf_text
from tests.security.test_sec_privacy import copies
from tests.support import Chat, Clock, make_chat, start_serving, texts, unavailable

DONOR = "marie"
ADDRESS = "marie@exemple.fr"  # PRIVATE_LOT's contact
SENDER = "reemploi@exemple.org"
STAFF = "demo-veynes"
STAFF_ADDRESS = "accueil.veynes@exemple.org"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpStandIn]:
    server = SmtpStandIn()
    await server.start()
    yield server
    await server.stop()


def relay(server: SmtpStandIn, **more: str) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none",
            "SMTP_FROM": SENDER, **more}


@pytest.fixture
async def mailing(db_path: Path, clock: Clock, smtp: SmtpStandIn) -> AsyncIterator[Chat]:
    """The demo bot with the local SMTP server as its relay."""
    bot = await make_chat(db_path, clock, **relay(smtp))
    yield bot
    await bot.app.close()


async def send_mail(chat: Chat) -> int:
    """One round of the e-mail sender, then the chat messages it caused."""
    assert chat.app.mail is not None
    sent = await chat.app.mail.run_once()
    await chat.app.dispatcher.drain()
    return sent


async def rows(chat: Chat, sql: str, *params: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await chat.app.db.conn.execute_fetchall(sql, params)]


def pdf_attachment(message: EmailMessage) -> tuple[str, bytes]:
    [part] = [p for p in message.iter_attachments()]
    assert part.get_content_type() == "application/pdf"
    data = part.get_content()
    assert isinstance(data, bytes)
    return part.get_filename() or "", data


def read_pdf(data: bytes, folder: Path) -> str:
    """The PDF's text, by pdftotext (poppler-utils) when installed, else from its stream."""
    if shutil.which("pdftotext") is None:
        return pdf_text(data)
    path = folder / "attached.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60)
    return done.stdout


async def declare(chat: Chat, who: str = DONOR, lang: str | None = None) -> None:
    for line in PRIVATE_LOT:
        if lang == "en" and line == "Je demande un enlèvement":
            line = "I request a collection"  # a choice is named in the person's language
        await chat.say(who, line, lang=lang)
    sent = await chat.say(who, "1", lang=lang)  # confirm
    assert "LOT-2026-0001" in texts(sent, who)


# --- Donors ----------------------------------------------------------------------------------


async def test_a_donor_receives_the_certificate_by_email(mailing: Chat, smtp: SmtpStandIn,
                                                         tmp_path: Path):
    """Done when: the certificate reaches the donor's mailbox through the SMTP server, as a
    PDF attachment whose text carries the certificate's code."""
    await declare(mailing)
    assert await send_mail(mailing) == 1
    [receipt] = smtp.to(ADDRESS)
    assert receipt["Subject"] == "Reçu de votre don LOT-2026-0001"
    assert pdf_attachment(receipt)[0] == "recu-LOT-2026-0001.pdf"

    sent = await certify_lot(mailing)
    told = texts(sent, DONOR)
    assert "Voici le certificat d'effacement" in told and "aussi par e-mail" in told
    code = re.search(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}", told)
    assert code is not None
    assert await send_mail(mailing) == 1
    [_receipt, certificate] = smtp.to(ADDRESS)
    assert smtp.received[-1].sender == SENDER
    assert certificate["From"] == SENDER and certificate["To"] == ADDRESS
    assert certificate["Subject"] == "Certificat d'effacement des données de votre don " \
                                     "LOT-2026-0001"
    assert certificate["Content-Language"] == "fr"
    assert certificate["Auto-Submitted"] == "auto-generated"
    assert certificate.get_content_type() == "multipart/mixed"
    body = certificate.get_body(("plain",))
    assert body is not None
    assert code.group(0) in body.get_content()
    name, pdf = pdf_attachment(certificate)
    assert name == "certificat-LOT-2026-0001.pdf"
    document = read_pdf(pdf, tmp_path)
    assert code.group(0) in document and "LOT-2026-0001" in document


async def test_a_donor_who_reads_english_gets_english_emails(mailing: Chat, smtp: SmtpStandIn):
    await declare(mailing, lang="en")
    await certify_lot(mailing)
    assert await send_mail(mailing) == 2
    receipt, certificate = smtp.to(ADDRESS)
    assert receipt["Subject"] == "Receipt of your donation LOT-2026-0001"
    assert certificate["Subject"] == "Data erasure certificate of your donation LOT-2026-0001"
    assert certificate["Content-Language"] == "en"
    body = certificate.get_body(("plain",))
    assert body is not None and "Hello," in body.get_content()


async def test_a_donor_who_gave_a_phone_gets_no_email(mailing: Chat, smtp: SmtpStandIn):
    lot = list(PRIVATE_LOT)
    lot[5] = "06 12 34 56 78"
    sent = await mailing.script(DONOR, *lot, "1")
    assert "e-mail" not in texts(sent[-1:], DONOR)
    assert await rows(mailing, "SELECT id FROM mail_outbox") == []


async def test_without_a_relay_nothing_is_queued_and_nobody_is_told(chat: Chat):
    await declare(chat)
    sent = await certify_lot(chat)
    assert "par e-mail" not in texts(sent, DONOR)
    assert chat.app.mail is None
    assert await rows(chat, "SELECT id FROM mail_outbox") == []


async def test_queued_emails_wait_for_a_relay_that_is_down_and_survive_a_restart(
        db_path: Path, clock: Clock, smtp: SmtpStandIn):
    """The e-mail is written with the lot: a relay down and the bot restarted lose nothing."""
    bot = await make_chat(db_path, clock, **relay(smtp))
    await smtp.stop()
    await declare(bot)
    assert await send_mail(bot) == 0
    await bot.app.close()
    await smtp.start()  # the relay is back, on the same port
    bot = await make_chat(db_path, clock, **relay(smtp))
    try:
        clock.advance(seconds=RETRY_DELAYS[0])
        assert await send_mail(bot) == 1
        [receipt] = smtp.to(ADDRESS)
        assert receipt["Subject"] == "Reçu de votre don LOT-2026-0001"
    finally:
        await bot.app.close()


async def test_a_relay_that_says_later_is_tried_again_with_growing_waits(
        mailing: Chat, smtp: SmtpStandIn):
    smtp.fail_next("451 4.3.0 Try again later", "421 4.7.0 Too busy")
    await declare(mailing)
    assert await send_mail(mailing) == 0
    assert await send_mail(mailing) == 0  # not due yet: no second try at once
    assert len(smtp.data_replies) == 1
    mailing.clock.advance(seconds=RETRY_DELAYS[0])
    assert await send_mail(mailing) == 0
    mailing.clock.advance(seconds=RETRY_DELAYS[0])
    assert await send_mail(mailing) == 0  # the second wait is longer
    mailing.clock.advance(seconds=RETRY_DELAYS[1])
    assert await send_mail(mailing) == 1
    assert len(smtp.to(ADDRESS)) == 1
    assert await rows(mailing, "SELECT status, attempts FROM mail_outbox") == [("sent", 3)]


async def test_a_refused_address_is_told_to_the_coordinators_once_and_never_retried(
        mailing: Chat, smtp: SmtpStandIn, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    smtp.refuse(ADDRESS)
    await declare(mailing)
    before = len(mailing.recorder.sent)
    assert await send_mail(mailing) == 0
    told = mailing.recorder.sent[before:]
    report = texts(told, "coord")
    assert "L'e-mail du don LOT-2026-0001 (le reçu) n'a pas pu être remis" in report
    assert "(code 550)" in report and ADDRESS not in report
    assert [m.to for m in told] == ["cli:coord"]  # one message, to the coordination
    for _ in range(MAX_ATTEMPTS + 1):
        mailing.clock.advance(hours=13)
        assert await send_mail(mailing) == 0
    assert len(mailing.recorder.sent) == before + 1  # never again
    assert await rows(mailing, "SELECT status, owner, att_data FROM mail_outbox") == [
        ("failed", None, None)]
    ours = "\n".join(r.getMessage() for r in caplog.records
                     if not r.name.startswith("mail.log"))  # (the SMTP server's own log)
    assert "marie@" not in ours
    assert ADDRESS not in str(await rows(mailing, "SELECT last_error FROM mail_outbox"))


async def test_a_relay_down_for_a_day_is_given_up_and_told(db_path: Path, clock: Clock,
                                                          smtp: SmtpStandIn):
    await smtp.stop()
    bot = await make_chat(db_path, clock, **relay(smtp))
    try:
        await declare(bot)
        before = len(bot.recorder.sent)
        assert await send_mail(bot) == 0
        for delay in RETRY_DELAYS:
            assert texts(bot.recorder.sent[before:], "coord") == ""
            clock.advance(seconds=delay)
            assert await send_mail(bot) == 0
        report = texts(bot.recorder.sent[before:], "coord")
        assert "LOT-2026-0001 (le reçu) n'a pas pu être remis" in report
        assert "pendant une journée d'essais" in report
        assert await rows(bot, "SELECT status, attempts FROM mail_outbox") == [
            ("failed", MAX_ATTEMPTS)]
    finally:
        await bot.app.close()


async def test_a_rejected_message_is_not_retried(mailing: Chat, smtp: SmtpStandIn):
    smtp.fail_next("554 5.7.1 Message rejected")
    await declare(mailing)
    assert await send_mail(mailing) == 0
    assert await rows(mailing, "SELECT status FROM mail_outbox") == [("failed",)]


async def test_a_donor_who_erases_their_contact_gets_no_more_email(mailing: Chat,
                                                                    smtp: SmtpStandIn):
    await smtp.stop()
    await declare(mailing)
    await mailing.say(DONOR, choice="don:forget:ok")
    await smtp.start()
    mailing.clock.advance(hours=1)
    assert await send_mail(mailing) == 0
    assert smtp.received == []
    assert await rows(mailing, "SELECT id FROM mail_outbox WHERE status = 'pending'") == []


async def test_the_queue_keeps_no_address_and_forgets_what_was_sent(mailing: Chat,
                                                                     smtp: SmtpStandIn):
    await declare(mailing)
    await certify_lot(mailing)
    tables = ("mail_outbox",)
    found = [c for c in await copies(mailing, ADDRESS, "Marie Curie") if c[0] in tables]
    assert found and {column for _t, column, _s in found} <= {"att_data"}  # the PDFs only
    assert await send_mail(mailing) == 2
    assert [c for c in await copies(mailing, ADDRESS, "Marie Curie", "LOT-2026")
            if c[0] in tables] == []
    assert await rows(mailing, "SELECT count(*) FROM mail_outbox") == [(2,)]
    mailing.clock.advance(days=8)
    job = next(j for j in mailing.app.core.jobs if j.name == "mail.purge_done")
    assert await mailing.app.core.run_job(job) == 2
    assert await rows(mailing, "SELECT count(*) FROM mail_outbox") == [(0,)]


# --- Professionals ---------------------------------------------------------------------------


async def opt_in(chat: Chat, who: str = STAFF, address: str = STAFF_ADDRESS) -> str:
    space = await chat.say(who, choice="m:pro")
    assert "ml:set" in [cid for m in space for cid, _label in m.choices]
    sent = await chat.say(who, choice="ml:set")
    assert "recevoir par e-mail" in texts(sent, who)
    await chat.say(who, choice="ml:addr")
    return texts(await chat.say(who, address), who)


async def test_a_professional_chooses_to_get_their_notices_by_email_too(
        mailing: Chat, smtp: SmtpStandIn):
    sent = await mailing.say(STAFF, choice="ml:set")
    await mailing.say(STAFF, choice="ml:addr")
    sent = await mailing.say(STAFF, "accueil veynes")
    assert "Cette adresse e-mail n'est pas valide" in texts(sent, STAFF)
    sent = await mailing.say(STAFF, "accueil.veynes@EXEMPLE.org")  # kept normalised
    assert f"vos avis arriveront aussi à {STAFF_ADDRESS}" in texts(sent, STAFF)
    assert await send_mail(mailing) == 1
    [welcome] = smtp.to(STAFF_ADDRESS)
    assert welcome["Subject"] == "Vos avis du réseau de réemploi, par e-mail"

    await declare(mailing)  # a pickup in Gap: the coordination and the places are told
    notices = await rows(mailing, "SELECT owner FROM mail_outbox WHERE kind = 'notice'")
    sent = await mailing.say("demo-accomp", choice="rq:new")
    sent = await mailing.script("demo-accomp", "1, 4", "4", "Passer", "veynes",
                                "Ordinateur portable", "2", "Jeanne", "2", "1")
    assert "DEM-2026-0001" in texts(sent, STAFF)  # the request routed to Veynes
    queued = await rows(mailing, "SELECT owner FROM mail_outbox WHERE kind = 'notice'")
    assert len(queued) == len(notices) + 1 and set(queued) == {(f"cli:{STAFF}",)}
    await send_mail(mailing)
    notice = smtp.to(STAFF_ADDRESS)[-1]
    assert notice["Subject"].startswith("Réseau de réemploi : ")
    body = notice.get_body(("plain",))
    assert body is not None and "DEM-2026-0001" in body.get_content()
    assert "ouvrez votre conversation avec le bot" in body.get_content()

    sent = await mailing.say(STAFF, choice="ml:set")
    assert f"par e-mail à {STAFF_ADDRESS}" in texts(sent, STAFF)
    sent = await mailing.say(STAFF, choice="ml:stop")
    assert "vous ne recevez plus d'e-mails" in texts(sent, STAFF)
    assert await rows(mailing, "SELECT * FROM mail_addresses") == []
    sent = await mailing.say(STAFF, choice="ml:set")
    assert "Donner une adresse e-mail" in texts(sent, STAFF)


async def test_a_refused_professional_address_stops_their_emails_and_they_are_told(
        mailing: Chat, smtp: SmtpStandIn):
    smtp.refuse(STAFF_ADDRESS)
    await opt_in(mailing)
    before = len(mailing.recorder.sent)
    assert await send_mail(mailing) == 0
    told = mailing.recorder.sent[before:]
    assert "Vos avis par e-mail sont arrêtés" in texts(told, STAFF)
    assert f"Les avis par e-mail de cli:{STAFF} sont arrêtés" in texts(told, "coord")
    assert STAFF_ADDRESS not in texts(told)
    assert await rows(mailing, "SELECT * FROM mail_addresses") == []


async def test_a_professional_who_deletes_their_data_leaves_no_address(mailing: Chat,
                                                                       smtp: SmtpStandIn):
    await smtp.stop()
    await opt_in(mailing, "demo-accomp", "conseillere@exemple.org")
    await mailing.say("demo-accomp", choice="pv:erase:ok")
    assert await copies(mailing, "conseillere@exemple.org") == []
    assert await rows(mailing, "SELECT id FROM mail_outbox") == []


async def test_emails_are_not_offered_without_a_relay(chat: Chat):
    space = await chat.say(STAFF, choice="m:pro")
    assert "ml:set" not in [cid for m in space for cid, _label in m.choices]
    sent = await chat.say(STAFF, choice="ml:set")
    assert "L'envoi d'e-mails n'est pas activé" in texts(sent, STAFF)


# --- The relay ---------------------------------------------------------------------------------


async def test_starttls_and_login_to_the_relay(db_path: Path, clock: Clock, tmp_path: Path):
    if shutil.which("openssl") is None:
        unavailable("openssl is needed to make the relay's test certificate")
    context, cert = self_signed(tmp_path)
    server = SmtpStandIn(tls=context, credentials=("filiere", "s3cret"))
    await server.start()
    bot = await make_chat(db_path, clock, **relay(
        server, SMTP_SECURITY="starttls", SMTP_USER="filiere", SMTP_PASSWORD="s3cret",
        SMTP_CA_FILE=str(cert)))
    try:
        await declare(bot)
        assert await send_mail(bot) == 1
        assert server.logins == ["filiere"] and len(server.to(ADDRESS)) == 1
    finally:
        await bot.app.close()
        await server.stop()


async def test_a_wrong_password_is_tried_again_not_given_up(db_path: Path, clock: Clock,
                                                             tmp_path: Path):
    if shutil.which("openssl") is None:
        unavailable("openssl is needed to make the relay's test certificate")
    context, cert = self_signed(tmp_path)
    server = SmtpStandIn(tls=context, credentials=("filiere", "s3cret"))
    await server.start()
    bot = await make_chat(db_path, clock, **relay(
        server, SMTP_SECURITY="starttls", SMTP_USER="filiere", SMTP_PASSWORD="wrong",
        SMTP_CA_FILE=str(cert)))
    try:
        await declare(bot)
        assert await send_mail(bot) == 0
        assert await rows(bot, "SELECT status, attempts FROM mail_outbox") == [("pending", 1)]
    finally:
        await bot.app.close()
        await server.stop()


async def test_the_running_bot_sends_what_was_queued_before_it_started(
        db_path: Path, clock: Clock, smtp: SmtpStandIn):
    """``serve`` runs the e-mail sender beside the dispatcher: a receipt queued while the
    bot was stopped goes out at start."""
    bot = await make_chat(db_path, clock, **relay(smtp))
    await declare(bot)
    await bot.app.close()
    settings = load({"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "no",
                     **relay(smtp)}, dotenv=None)
    task, stop = await start_serving(settings, db_path, within=30)
    try:
        await smtp.arrived(1)
        assert smtp.to(ADDRESS)[0]["Subject"] == "Reçu de votre don LOT-2026-0001"
    finally:
        stop.set()
        assert await task == 0


# --- Settings ----------------------------------------------------------------------------------


def test_without_smtp_host_email_is_off():
    assert load({}, dotenv=None).smtp is None


def test_the_relay_defaults_to_starttls_on_the_submission_port():
    smtp = load({"SMTP_HOST": "smtp.example.org", "SMTP_FROM": SENDER, "SMTP_USER": "u",
                 "SMTP_PASSWORD": "p"}, dotenv=None).smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.security, smtp.sender) == (
        "smtp.example.org", 587, "starttls", SENDER)
    tls = load({"SMTP_HOST": "smtp.example.org", "SMTP_FROM": SENDER, "SMTP_SECURITY": "tls"},
               dotenv=None).smtp
    assert tls is not None and tls.port == 465


@pytest.mark.parametrize(("env", "says"), [
    ({"SMTP_HOST": "smtp.example.org"}, "SMTP_FROM: required"),
    ({"SMTP_HOST": "smtp example", "SMTP_FROM": SENDER}, "SMTP_HOST: expected a host name"),
    ({"SMTP_HOST": "h.org", "SMTP_FROM": SENDER, "SMTP_SECURITY": "ssl"},
     "SMTP_SECURITY: expected starttls, tls or none"),
    ({"SMTP_HOST": "h.org", "SMTP_FROM": SENDER, "SMTP_PORT": "99999"}, "SMTP_PORT"),
    ({"SMTP_HOST": "h.org", "SMTP_FROM": SENDER, "SMTP_USER": "u"}, "give both, or neither"),
    ({"SMTP_HOST": "h.org", "SMTP_FROM": SENDER, "SMTP_SECURITY": "none", "SMTP_USER": "u",
      "SMTP_PASSWORD": "p"}, "in clear"),
    ({"SMTP_HOST": "h.org", "SMTP_FROM": SENDER, "SMTP_CA_FILE": "/nowhere/ca.pem"},
     "SMTP_CA_FILE: no such file"),
])
def test_a_wrong_relay_setting_is_named_in_one_line(env: dict[str, str], says: str):
    with pytest.raises(SettingsError) as error:
        load(env, dotenv=None)
    assert says in str(error.value) and "\n" not in str(error.value)


async def test_a_sent_email_whose_record_the_database_refuses_is_not_sent_again(
        mailing: Chat, smtp: SmtpStandIn, monkeypatch: pytest.MonkeyPatch):
    """A full or locked database after the relay took the e-mail: the record waits in memory
    and is written first at the next round; the e-mail does not go twice."""
    await declare(mailing)
    storage = mailing.app.storage
    real = storage.autocommit

    def refused() -> object:
        raise StorageUnavailable("disk full")

    monkeypatch.setattr(storage, "autocommit", refused)
    assert await send_mail(mailing) == 1
    assert await send_mail(mailing) == 0  # paused: the record is not written yet
    monkeypatch.setattr(storage, "autocommit", real)
    assert await send_mail(mailing) == 0
    assert len(smtp.to(ADDRESS)) == 1
    assert await rows(mailing, "SELECT status FROM mail_outbox") == [("sent",)]


async def test_the_impact_report_hook_sends_the_report_to_the_donor(mailing: Chat,
                                                                     smtp: SmtpStandIn):
    """The device chain's later impact report goes through ``mail_impact_report``."""
    await declare(mailing)
    report = Attachment("impact-LOT-2026-0001.pdf", "application/pdf", b"%PDF-1.4 report")
    async with mailing.app.storage.transaction() as uow:
        lot = await uow.lots.by_reference("LOT-2026-0001")
        assert lot is not None
        told = await mail_impact_report(uow, lot, report, mailing.clock(), enabled=True)
    assert told is not None
    assert await send_mail(mailing) == 2
    impact = smtp.to(ADDRESS)[-1]
    assert impact["Subject"] == "Ce qu'est devenu votre don LOT-2026-0001"
    assert pdf_attachment(impact) == ("impact-LOT-2026-0001.pdf", b"%PDF-1.4 report")
