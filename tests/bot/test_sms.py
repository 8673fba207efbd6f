"""The SMS adapter end to end: the real ``android-sms-gateway`` client against a local
stand-in of the gateway's API (``tests/bot/sms_gateway.py``), and the gateway's signed
webhooks into the bot's own webhook server, on 127.0.0.1.

The staff of the Veynes place (``cli:demo-veynes``, on the console transport) register a
person's number; the person then lives by SMS only: the test plays their phone through the
stand-in (:meth:`FakeSmsGateway.receive`), and the phone's sending (states asked by the
adapter's watcher, run here one round at a time, as the clock is moved by hand).
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build
from bot.i18n import Rendered
from bot.settings import SettingsError, load
from bot.sms import MAX_ATTEMPTS, SmsAdapter
from bot.sms_webhook import signature
from flows import actions as act
from flows.messages import Incoming, UserKey
from flows.sms_text import REMINDER_SEGMENTS, segments
from flows.workshops import local_start
from tests.bot.ledger import Ledger
from tests.bot.sms_gateway import FakeSmsGateway
from tests.support import START, Clock, Recorder, start_serving, texts

PHONE = "+33612345678"
TYPED_PHONE = "06 12 34 56 78"
SENDER = "07 68 12 34 56"
STAFF = UserKey("cli:demo-veynes")
COORD = UserKey("cli:coord")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sms_env(gateway: FakeSmsGateway, port: int) -> dict[str, str]:
    return {
        "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_LOGIN": gateway.login,
        "SMS_GATEWAY_PASSWORD": gateway.password, "SMS_WEBHOOK_SECRET": gateway.signing_key,
        "SMS_WEBHOOK_URL": f"http://127.0.0.1:{port}/sms", "SMS_WEBHOOK_PORT": str(port),
        "SMS_SENDER_PHONE": SENDER, "FILIERE_DEMO": "yes", "FILIERE_COORDINATORS": COORD,
    }


@dataclass
class SmsWorld:
    """The stand-in gateway, the bot with its SMS adapter, and the place's staff."""

    gateway: FakeSmsGateway
    app: App
    adapter: SmsAdapter
    clock: Clock
    recorder: Recorder
    db: Path
    seen: dict[str, int] = field(default_factory=dict)

    async def staff(self, text: str = "", *, choice: str | None = None,
                    who: UserKey = STAFF) -> list[Rendered]:
        """The staff (or ``who``) say something on the console; what they are told."""
        before = len(self.recorder.sent)
        await self.app.core.handle(Incoming(who, text, choice))
        await self.app.dispatcher.drain()
        return [m for m in self.recorder.sent[before:] if m.to == who]

    async def register(self, phone: str = TYPED_PHONE, name: str = "Mme Martin") -> str:
        """The staff register a number with the person's consent: their answer."""
        await self.staff(choice=act.SmsRegister().pack())
        await self.staff(phone)
        await self.staff(name)
        return texts(await self.staff("1"))

    def new(self, phone: str = PHONE) -> list[str]:
        """The SMS the phone was asked to send to ``phone`` since the last look."""
        sent = self.gateway.texts(phone)
        fresh = sent[self.seen.get(phone, 0):]
        self.seen[phone] = len(sent)
        return fresh

    async def says(self, text: str, phone: str = PHONE) -> list[str]:
        """The person texts the network: the bot answers 200 once it is handled; then what
        it sent them."""
        assert await self.gateway.receive(phone, text) == 200
        await self.app.dispatcher.drain()
        return self.new(phone)

    async def reminders_at(self, moment: datetime) -> list[str]:
        """The clock at ``moment`` and the reminders job run: the SMS sent then."""
        self.clock.now = moment
        job = next(j for j in self.app.core.jobs if j.name == "beneficiaries.reminders")
        await self.app.core.run_job(job)
        await self.app.dispatcher.drain()
        return self.new()

    async def phone_round(self) -> int:
        """One round of the adapter's watcher: due SMS posted, states asked."""
        done = await self.adapter.watch_once()
        await self.app.dispatcher.drain()
        return done

    async def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        return await Ledger(self.db).query(sql, *params)


@pytest.fixture
async def sms(tmp_path: Path) -> AsyncIterator[SmsWorld]:
    gateway = FakeSmsGateway()
    await gateway.start()
    try:
        settings = load(sms_env(gateway, free_port()), dotenv=None)
        assert settings.sms is not None
        clock = Clock()
        adapter = SmsAdapter(settings.sms, quiet=settings.quiet_hours, tz=settings.timezone,
                             coordinators=settings.coordinators, watch=False)
        recorder = Recorder()
        db = tmp_path / "bot.sqlite3"
        app = await build(settings, {"sms": adapter.transport, "cli": recorder}, database=db,
                          clock=clock)
        try:
            adapter.bind(app.storage, clock, app.dispatcher.wake)
            await adapter.start(app.core.handle_batch, app.renderer)
            try:
                yield SmsWorld(gateway, app, adapter, clock, recorder, db)
            finally:
                await adapter.close()
        finally:
            await app.close()
    finally:
        await gateway.stop()


async def add_session(world: SmsWorld, day: str, topic: str = "getting_started") -> None:
    """The Veynes place publishes one more session, at 14:00 local time on ``day``."""
    async with world.app.storage.transaction() as uow:
        veynes = next(p for p in await uow.places.all() if "Veynes" in p.name)
        await uow.workshops.add(veynes.id, topic, local_start(day, "14:00",
                                                              world.app.settings.timezone),
                                120, 8)


def number_of(sms: str, part: str) -> str:
    """The number of the numbered line of ``sms`` that contains ``part``."""
    found = re.search(rf"^(\d+)\. [^\n]*{re.escape(part)}", sms, re.M)
    assert found, f"no line with {part!r} in {sms!r}"
    return found[1]


# --- The done-when script ----------------------------------------------------------------


async def test_a_beneficiary_on_sms_only_books_is_reminded_twice_answers_2_rebooks_and_stops(
        sms: SmsWorld, caplog: pytest.LogCaptureFixture):
    """Issue 20, done when: all through the gateway stand-in and the webhook."""
    caplog.set_level(logging.DEBUG)
    await add_session(sms, "2026-12-03")
    told = await sms.register()
    assert "Mme Martin va recevoir un premier SMS" in told
    assert "07 68 12 34 56" in told  # the network's number, to save in the phone

    welcome = sms.new()
    assert len(welcome) == 1
    assert "Pour ne plus recevoir de SMS, répondez STOP." in welcome[0]
    assert "1. Prise en main de l'ordinateur, jeudi 26 novembre à 14 heures" in welcome[0]

    booked = await sms.says("1")
    assert "C'est réservé : Prise en main de l'ordinateur, le jeudi 26 novembre" in booked[0]

    # Two days before at the session's time, then the morning of the day.
    first = await sms.reminders_at(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    second = await sms.reminders_at(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    for reminder in (first, second):
        assert len(reminder) == 1
        assert reminder[0].startswith("Rappel : atelier Prise en main de l'ordinateur, "
                                      "jeudi 26 novembre à 14 heures.")
        assert reminder[0].endswith("Vous venez ? Répondez 1 ou 2.\n1. Je viens\n"
                                    "2. Je ne peux pas venir")
        assert segments(reminder[0]) <= REMINDER_SEGMENTS

    other = "\n".join(await sms.says("2"))
    assert "Votre place est libérée." in other and "Voulez-vous une autre date ?" in other
    rebooked = await sms.says(number_of(other, "3 décembre"))
    assert "C'est réservé : Prise en main de l'ordinateur, le jeudi 3 décembre" in rebooked[0]

    stopped = await sms.says("STOP")
    assert stopped == ["C'est noté : vous ne recevrez plus de SMS. Pour les recevoir de "
                       "nouveau, répondez START."]
    # Nothing more: not the reminders of the new date, not an answer to a message.
    assert await sms.reminders_at(datetime(2026, 12, 1, 13, 0, tzinfo=UTC)) == []
    assert await sms.reminders_at(datetime(2026, 12, 3, 7, 0, tzinfo=UTC)) == []
    assert await sms.says("bonjour") == []

    # Every SMS went out: the phone says so when asked, and the month's figure counts them.
    await sms.phone_round()
    states = {m.state for m in sms.gateway.to(PHONE)}
    assert states == {"Delivered"}
    counted = await sms.rows("SELECT sum(segments), sum(messages) FROM sms_usage")
    sent = sms.gateway.texts(PHONE)
    assert counted == [(sum(segments(text) for text in sent), len(sent))]
    # The number is personal data: never in the logs.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for spelling in (PHONE, "0612345678", TYPED_PHONE, "612345678"):
        assert spelling not in logged


async def test_stop_is_understood_in_any_spelling_and_start_brings_the_sms_back(
        sms: SmsWorld):
    await sms.register()
    sms.new()
    assert "vous ne recevrez plus de SMS" in (await sms.says("  Arrêt !"))[0]
    assert await sms.says("1") == []
    back = await sms.says("start")
    assert back == ["C'est noté : vous recevrez de nouveau nos SMS. Pour ne plus en "
                    "recevoir, répondez STOP."]
    assert "C'est réservé" in (await sms.says("1"))[0]
    assert "vous ne recevrez plus de SMS" in (await sms.says("stop merci"))[0]


async def test_oui_non_and_the_words_of_the_choices_answer_a_reminder(sms: SmsWorld):
    await sms.register()
    sms.new()
    await sms.says("1")
    await sms.reminders_at(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    assert (await sms.says("OUI"))[0] == "Merci ! À bientôt."
    rows = await sms.rows("SELECT coming FROM bookings")
    assert rows == [(1,)]
    await sms.reminders_at(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    declined = "\n".join(await sms.says("je ne peux pas venir."))
    assert "Votre place est libérée." in declined
    assert await sms.rows("SELECT coming FROM bookings") == []


# --- Registering a number ----------------------------------------------------------------


async def test_staff_register_a_mobile_number_only_with_the_persons_consent(sms: SmsWorld):
    await sms.staff(choice=act.SmsRegister().pack())
    refused = texts(await sms.staff("04 92 00 00 00"))
    assert "pas un portable" in refused
    assert "n'est pas valide" in texts(await sms.staff("06 12"))
    await sms.staff("+33 6 12 34 56 78")
    consent = texts(await sms.staff("Passer"))
    assert "Lisez ceci à la personne" in consent and "06 12 34 56 78" in consent
    assert "Êtes-vous d'accord ?" in consent
    assert "rien n'est gardé" in texts(await sms.staff("Non, ne rien garder"))
    assert await sms.rows("SELECT count(*) FROM sms_numbers") == [(0,)]
    assert sms.new() == []

    code_told = await sms.register(name="Passer")
    code = re.search(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}", code_told)
    assert code, code_told
    assert await sms.rows("SELECT phone FROM sms_numbers") == [(PHONE,)]
    keys = await sms.rows("SELECT user_key FROM sms_numbers")
    assert str(keys[0][0]).startswith("sms:") and "612345678" not in str(keys[0][0])
    assert "déjà" in await sms.register()  # the same number again: nothing changes


async def test_the_sms_tool_is_in_the_place_tools(sms: SmsWorld):
    """(And after a handover: tests/handlers/test_equipment_requests.py.)"""
    space = await sms.staff(choice=act.ProDoor().pack())
    assert any(label == "Recevoir les rappels par SMS" for m in space
               for _id, label in m.choices)


# --- The gateway's webhook ---------------------------------------------------------------


async def test_a_forged_or_old_webhook_is_refused_and_nothing_is_handled(sms: SmsWorld):
    await sms.register()
    url = next(iter(sms.gateway.webhooks.values()))["url"]
    body = sms.gateway.event(PHONE, "STOP")
    forged = sms.gateway.signed(body, key="not-the-key")
    assert await sms.gateway.post(url, body, forged) == 401
    old = sms.gateway.signed(body, skew=-600)
    assert await sms.gateway.post(url, body, old) == 401
    unsigned = {"Content-Type": "application/json"}
    assert await sms.gateway.post(url, body, unsigned) == 401
    assert await sms.rows("SELECT count(*) FROM processed_events") == [(0,)]
    assert await sms.rows("SELECT stopped_at FROM sms_numbers") == [(None,)]
    assert signature("k", b"{}", "1") == signature("k", b"{}", "1")


async def test_the_same_event_delivered_twice_is_handled_once(sms: SmsWorld):
    await sms.register()
    sms.new()
    assert await sms.gateway.receive(PHONE, "1", event_id="same-event") == 200
    assert await sms.gateway.receive(PHONE, "1", event_id="same-event") == 200
    await sms.app.dispatcher.drain()
    assert len([t for t in sms.new() if "C'est réservé" in t]) == 1


async def test_a_number_nobody_registered_gets_no_answer_and_nothing_is_kept(
        sms: SmsWorld):
    assert await sms.gateway.receive("+33698765432", "bonjour") == 200
    await sms.app.dispatcher.drain()
    assert sms.gateway.texts("+33698765432") == []
    assert await sms.rows("SELECT count(*) FROM users WHERE key LIKE 'sms:%'") == [(0,)]


async def test_the_webhook_is_registered_at_the_gateway_at_start_and_again_if_lost(
        sms: SmsWorld):
    hooks = list(sms.gateway.webhooks.values())
    assert [(h["event"], h["url"].endswith("/sms")) for h in hooks] == [("sms:received", True)]
    assert sms.adapter.connected  # for /healthz
    sms.gateway.webhooks.clear()  # the app reinstalled on the phone
    await sms.phone_round()
    assert [h["event"] for h in sms.gateway.webhooks.values()] == ["sms:received"]


# --- Failed sends ------------------------------------------------------------------------


async def test_a_reminder_refused_again_and_again_is_shown_to_the_place(sms: SmsWorld):
    await sms.register()
    sms.new()
    await sms.says("1")
    sms.gateway.refuse_next(*[400] * MAX_ATTEMPTS)
    assert await sms.reminders_at(datetime(2026, 11, 24, 13, 0, tzinfo=UTC)) == []
    told: list[Rendered] = []
    for minutes in (2, 10):
        sms.clock.advance(minutes=minutes)
        await sms.phone_round()
        told += [m for m in sms.recorder.sent if m.to == STAFF]
    notice = texts(told)
    assert ("Mme Martin n'a pas reçu son rappel par SMS pour l'atelier du jeudi 26 "
            "novembre à 14 h 00.") in notice
    assert sms.gateway.posts >= MAX_ATTEMPTS
    failed = await sms.rows("SELECT status, body FROM sms_messages WHERE workshop_id"
                            " IS NOT NULL")
    assert failed == [("failed", "")]  # given up, its text blanked


async def test_a_send_the_phone_reports_failed_is_tried_again(sms: SmsWorld):
    sms.gateway.fail_next("RESULT_ERROR_GENERIC_FAILURE")
    await sms.register()
    sms.clock.advance(minutes=1)
    await sms.phone_round()  # the phone says the welcome failed
    sms.clock.advance(minutes=2)
    await sms.phone_round()  # posted again
    sms.clock.advance(minutes=1)
    await sms.phone_round()  # and delivered
    sent = sms.gateway.to(PHONE)
    assert [m.state for m in sent] == ["Failed", "Delivered"]
    assert sent[0].text == sent[1].text
    assert [m.to for m in sms.recorder.sent if "n'a pas reçu" in m.text] == []


async def test_an_answer_lost_on_the_way_is_not_sent_twice(sms: SmsWorld):
    """The gateway took the SMS but its answer was lost: the same try is posted again,
    the gateway answers 409, the phone sends it once."""
    await sms.register()
    async with sms.app.storage.reading() as uow:
        sms.clock.advance(minutes=1)
        (out,) = await uow.sms.due(sms.clock.now + timedelta(days=1), 10)
    assert await sms.adapter.post(out)  # the same try again
    assert len(sms.gateway.to(PHONE)) == 1


async def test_the_gateway_out_of_reach_is_waited_for(sms: SmsWorld):
    await sms.register()
    sms.new()
    sms.gateway.refuse_next(503, 503)
    await sms.says("1")
    assert sms.new() == [] and not sms.adapter.connected
    for _round in range(2):  # the gateway refuses once more, then takes both
        sms.clock.advance(minutes=1)
        await sms.phone_round()
    replies = sms.new()
    assert any("C'est réservé" in r for r in replies)
    assert sms.adapter.connected


# --- Quiet hours -------------------------------------------------------------------------


async def test_nothing_goes_at_night_but_the_answer_to_someone_who_just_wrote(
        sms: SmsWorld):
    await sms.register()
    sms.new()
    sms.clock.now = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 23:00 in Paris
    assert any("C'est réservé" in r for r in await sms.says("1"))
    sms.clock.advance(minutes=15)
    veynes = await sms.staff(choice=act.WhoIsComing().pack())
    cancel = next(cid for m in veynes for cid, label in m.choices if "26 novembre" in label)
    await sms.staff(choice=cancel)
    await sms.staff(choice=cancel.replace("bs:del:", "bs:delok:"))
    assert sms.new() == []  # the session cancelled: told in the morning
    sms.clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    await sms.phone_round()
    assert any("est annulé" in t for t in sms.new())


# --- Personal data -----------------------------------------------------------------------


async def test_the_number_goes_with_the_person(sms: SmsWorld):
    await sms.register()
    keys = await sms.rows("SELECT user_key FROM sms_numbers")
    key = UserKey(str(keys[0][0]))
    await sms.app.core.handle(Incoming(key, choice=act.ForgetMeYes().pack()))
    await sms.app.dispatcher.drain()
    assert await sms.rows("SELECT count(*) FROM sms_numbers") == [(0,)]
    assert await sms.rows("SELECT count(*) FROM sms_messages WHERE body != ''") == [(0,)]
    assert await sms.rows("SELECT count(*) FROM users WHERE key = ?", key) == [(0,)]


async def test_the_coordination_sees_the_segments_sent_per_month(sms: SmsWorld):
    await sms.register()
    sms.clock.advance(minutes=1)
    await sms.phone_round()
    figures = texts(await sms.staff(choice=act.Figures().pack(), who=COORD))
    assert "SMS envoyés (en segments de 160 caractères)" in figures
    assert re.search(r"• nov\. 26 : \d+", figures), figures


# --- As deployed -------------------------------------------------------------------------


async def test_serve_runs_the_sms_adapter_beside_the_others(tmp_path: Path):
    """``filiere-bot run`` with SMS settings: the webhook is registered, an SMS is answered
    through the gateway, on the real loop (dispatcher and watcher running)."""
    gateway = FakeSmsGateway()
    await gateway.start()
    db = tmp_path / "served.sqlite3"
    env = sms_env(gateway, free_port())
    try:
        # serve runs on the real clock: no quiet hours, or after 21:00 nothing goes out.
        settings = load({**env, "SMS_CHECK_SECONDS": "1", "FILIERE_QUIET_HOURS": "00:00-00:00"},
                        dotenv=None)
        recorder = Recorder()
        app = await build(settings, {"cli": recorder}, database=db, clock=Clock(START))
        await app.core.handle(Incoming(STAFF, choice=act.SmsRegister().pack()))
        for line in (TYPED_PHONE, "Passer", "1"):
            await app.core.handle(Incoming(STAFF, line))
        await app.close()
        task, stop = await start_serving(settings, db, within=20)
        try:
            await gateway.wait_posted(1)  # the welcome, waiting in the outbox since
            assert await gateway.receive(PHONE, "stop") == 200
            await gateway.wait_posted(2)
            assert "plus de SMS" in gateway.texts(PHONE)[-1]
        finally:
            stop.set()
            assert await task == 0
    finally:
        await gateway.stop()


# --- Settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "named"), [
    ({"SMS_GATEWAY_URL": "192.168.1.20:8080"}, "SMS_GATEWAY_URL"),
    ({"SMS_GATEWAY_PASSWORD": ""}, "SMS_GATEWAY_PASSWORD"),
    ({"SMS_WEBHOOK_SECRET": ""}, "SMS_WEBHOOK_SECRET"),
    ({"SMS_SENDER_PHONE": "12"}, "SMS_SENDER_PHONE"),
    ({"SMS_WEBHOOK_PORT": "99999"}, "SMS_WEBHOOK_PORT"),
    ({"FILIERE_WEB_PORT": "8444", "SMS_WEBHOOK_PORT": "8444"}, "FILIERE_WEB_PORT"),
])
def test_a_wrong_sms_setting_is_named(change: dict[str, str], named: str):
    env = {"SMS_GATEWAY_URL": "http://192.168.1.20:8080", "SMS_GATEWAY_PASSWORD": "p",
           "SMS_WEBHOOK_SECRET": "k", **change}
    with pytest.raises(SettingsError, match=named):
        load(env, dotenv=None)


def test_sms_alone_is_a_platform_no_demo_data_and_no_console():
    settings = load({"SMS_GATEWAY_URL": "https://api.sms-gate.app/3rdparty/v1/",
                     "SMS_GATEWAY_PASSWORD": "p", "SMS_WEBHOOK_SECRET": "k"}, dotenv=None)
    assert settings.sms is not None and not settings.demo
    assert settings.sms.gateway_url == "https://api.sms-gate.app/3rdparty/v1"


async def test_what_is_kept_names_the_number(sms: SmsWorld):
    await sms.register()
    sms.new()
    keys = await sms.rows("SELECT user_key FROM sms_numbers")
    await sms.app.core.handle(Incoming(UserKey(str(keys[0][0])),
                                       choice=act.MyData().pack()))
    await sms.app.dispatcher.drain()
    kept = "\n".join(sms.new())
    assert "Nous gardons aussi votre numéro de portable, le 06 12 34 56 78, pour les SMS." \
        in kept
