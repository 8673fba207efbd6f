"""The web pages' server over HTTP (``bot/web.py``), without a browser: its settings, the rate
limit of certificate lookups, which language and which client address a request gets, the
files it serves (the same as the coordinators receive in chat), and ``/metrics`` scraped from
a bot that runs on Telegram (the stand-in Bot API)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import SettingsError, load
from bot.web import LOOKUPS_BURST, TokenBuckets, client_address, negotiate
from flows import actions as act
from flows import mednum
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.test_telegram import ANA, TOKEN, free_port
from tests.bot.web_support import Site, Ticks, attachment_of, open_site
from tests.handlers.test_donations import certify_lot, declare_organisation_lot, pdf_text
from tests.support import Clock, start_serving


@pytest.fixture
async def site(db_path: Path, clock: Clock) -> AsyncIterator[Site]:
    opened = await open_site(db_path, clock)
    yield opened
    await opened.close()


async def get(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, \
            session.get(url, headers=headers, allow_redirects=False) as response:
        return response.status, await response.text(), dict(response.headers)


# --- Settings ------------------------------------------------------------------------------


def settings(**env: str):
    return load({"FILIERE_DEMO": "no", **env}, dotenv=None)


def test_the_pages_are_off_unless_a_port_is_set():
    assert settings().web is None and settings().public_url is None


def test_the_pages_listen_on_the_loopback_by_default_behind_a_proxy():
    s = settings(FILIERE_WEB_PORT="8080", FILIERE_WEB_BASE_URL="https://reemploi.example.org/")
    assert s.web is not None
    assert (s.web.listen, s.web.port) == ("127.0.0.1", 8080)
    assert s.web.proxies == {"127.0.0.1", "::1"}
    assert s.public_url == "https://reemploi.example.org"


@pytest.mark.parametrize(("name", "value"), [
    ("FILIERE_WEB_PORT", "http"),
    ("FILIERE_WEB_PORT", "70000"),
    ("FILIERE_WEB_BASE_URL", "reemploi.example.org"),
    ("FILIERE_WEB_PROXIES", "localhost"),
])
def test_a_malformed_web_setting_names_its_variable(name: str, value: str):
    with pytest.raises(SettingsError, match=name):
        settings(**{"FILIERE_WEB_PORT": "8080", name: value})


def test_the_pages_cannot_take_the_telegram_webhooks_port():
    with pytest.raises(SettingsError, match=r"FILIERE_WEB_PORT.*webhook"):
        settings(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg",
                 TELEGRAM_WEBHOOK_SECRET="s3cret", TELEGRAM_WEBHOOK_PORT="8443",
                 FILIERE_WEB_PORT="8443")


# --- Who asks, in which language ---------------------------------------------------------------


def test_a_client_gets_ten_lookups_at_once_then_one_every_ten_seconds():
    ticks = Ticks()
    buckets = TokenBuckets(clock=ticks)
    assert [buckets.take("203.0.113.7") for _ in range(LOOKUPS_BURST)] == [0.0] * 10
    assert buckets.take("203.0.113.7") == pytest.approx(10.0)
    assert buckets.take("198.51.100.2") == 0.0  # someone else is not held up
    ticks.now += 10
    assert buckets.take("203.0.113.7") == 0.0
    assert buckets.take("203.0.113.7") > 0


def test_the_rate_limit_forgets_the_least_recently_seen_clients():
    buckets = TokenBuckets(burst=1, clock=Ticks(), kept=2)
    for client in ("a", "b", "c"):
        assert buckets.take(client) == 0.0
    assert buckets.take("c") > 0
    assert buckets.take("a") == 0.0  # forgotten: a full bucket again


PROXIES = frozenset({"127.0.0.1", "::1"})


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.7", None, "203.0.113.7"),
    ("203.0.113.7", "198.51.100.2", "203.0.113.7"),  # not our proxy: its header is not read
    ("127.0.0.1", "198.51.100.2", "198.51.100.2"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.2", "198.51.100.2"),  # the client's own entry is ignored
    ("127.0.0.1", "198.51.100.2, ::1", "198.51.100.2"),  # two proxies in a row
    ("127.0.0.1", "nonsense", "127.0.0.1"),
])
def test_the_client_address_is_what_the_reverse_proxy_saw(peer: str, forwarded: str | None,
                                                        client: str):
    assert client_address(peer, forwarded, PROXIES) == client


@pytest.mark.parametrize(("header", "lang"), [
    (None, "fr"), ("", "fr"), ("en-GB,en;q=0.9", "en"), ("de-DE,en;q=0.5,fr;q=0.8", "fr"),
    ("de, *", "fr"), ("en;q=0, fr", "fr"), ("EN-us", "en"), ("en;q=bad, fr;q=0.1", "fr"),
])
def test_the_page_speaks_the_readers_preferred_language(header: str | None, lang: str):
    assert negotiate(header, "fr") == lang


# --- Over HTTP ---------------------------------------------------------------------------------


async def test_certificate_lookups_are_limited_per_client_address(site: Site):
    """Trying codes one after the other gets a polite 429; another client is still served."""
    for n in range(LOOKUPS_BURST):
        status, body, _headers = await get(f"{site.url}/verifier/EFF-AAAA-BB{n:02d}")
        assert status == 404 and "Aucun certificat ne porte ce code" in body
    status, body, headers = await get(f"{site.url}/verifier/EFF-AAAA-BBBB")
    assert status == 429 and headers["Retry-After"] == "10"
    assert "Réessayez dans 10 secondes" in body
    status, body, _headers = await get(f"{site.url}/verifier/EFF-AAAA-BBBB",
                                       **{"X-Forwarded-For": "198.51.100.2"})
    assert status == 404  # through the proxy, another person: not limited
    site.ticks.now += 10
    status, _body, _headers = await get(f"{site.url}/verifier/EFF-AAAA-BBBB")
    assert status == 404


async def test_a_code_typed_in_the_form_goes_to_its_own_address(site: Site):
    status, _body, headers = await get(f"{site.url}/verifier?code=eff-aaaa-bbbb")
    assert status == 303 and headers["Location"] == "/verifier/EFF-AAAA-BBBB"
    status, body, _headers = await get(f"{site.url}/verifier/pas-un-code",
                                       **{"Accept-Language": "en"})
    assert status == 404 and "That is not a certificate code" in body


async def test_an_unknown_page_says_so_in_the_readers_language(site: Site):
    status, body, headers = await get(f"{site.url}/nulle-part", **{"Accept-Language": "en-GB"})
    assert status == 404 and '<html lang="en">' in body and "Page not found" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]


async def test_the_certificate_carries_the_address_of_its_check(site: Site):
    await declare_organisation_lot(site.chat)
    sent = await certify_lot(site.chat)
    document = pdf_text(attachment_of(sent, "acme", ".pdf"))
    code = re.search(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}", document)
    assert code is not None
    assert f"{site.url}/verifier/{code.group(0)}" in document
    status, body, _headers = await get(f"{site.url}/verifier/{code.group(0)}")
    assert status == 200 and "Certificat authentique" in body


async def test_the_places_file_is_the_one_coordinators_export(site: Site):
    sent = await site.chat.say("coord", choice=act.ExportMednum().pack())
    exported = attachment_of(sent, "coord", ".csv")
    async with aiohttp.ClientSession() as session, \
            session.get(f"{site.url}/lieux.csv") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        served = await response.read()
    assert served == exported
    assert served.decode().splitlines()[0] == ",".join(mednum.COLUMNS)


async def test_the_funders_table_is_the_one_coordinators_receive(site: Site):
    await declare_organisation_lot(site.chat, receive=True)
    sent = await site.chat.say("coord", choice=act.FiguresCsv().pack())
    exported = attachment_of(sent, "coord", ".csv")
    async with aiohttp.ClientSession() as session, \
            session.get(f"{site.url}/chiffres.csv?lang=fr") as response:
        served = await response.read()
    assert served == exported
    assert "< 5" in served.decode("utf-8-sig")  # the one lot collected is masked


# --- /metrics ------------------------------------------------------------------------------


async def test_metrics_count_messages_per_platform_429s_and_the_outbox(tmp_path: Path):
    """A person writes twice on Telegram; Telegram answers one delivery with a 429."""
    api = FakeBotApi(TOKEN)
    await api.start()
    port = free_port()
    settings = load({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.url,
                     "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0", "FILIERE_DEMO": "yes",
                     "FILIERE_WEB_PORT": str(port)}, dotenv=None)
    task, stop = await start_serving(settings, tmp_path / "bot.sqlite3", within=20)
    try:
        api.say(ANA, "bonjour")
        await api.wait_sent(ANA, 1)
        api.fail("sendMessage", 429, retry_after=1)
        api.say(ANA, "aide")
        await api.wait_sent(ANA, 2)
        _status, text, headers = await get(f"http://127.0.0.1:{port}/metrics")
    finally:
        stop.set()
        assert await task == 0
        await api.stop()
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    tg = (("platform", "tg"),)
    assert samples[("filiere_messages_received_total", tg)] == 2
    assert samples[("filiere_messages_sent_total", tg)] >= 2
    assert samples[("filiere_platform_429_total", tg)] == 1
    assert samples[("filiere_delivery_latency_seconds_count", tg)] >= 2
    assert samples[("filiere_adapter_connected", tg)] == 1
    assert samples[("filiere_outbox_pending", ())] == 0
    assert samples[("filiere_database_up", ())] == 1
    assert ("filiere_reminders_sent_total", ()) in samples
    assert samples[("filiere_job_runs_total", (("job", "beneficiaries.reminders"),
                                              ("outcome", "failed")))] == 0
    assert ("filiere_errors_total", (("component", "handlers.core"),)) not in samples

