"""The public pages in a real browser (Debian's chromium, through Playwright), at a phone's
width: a donor scans the QR code of the certificate the chat sent and reads whether it is
genuine, in French or in English; anyone finds the places and the figures; an operator sees
``/healthz`` turn 503 when Telegram is out of reach. Every page is screenshotted into the
test's temporary folder, and measured for what makes it readable on a phone.

One browser for the module (its tests share one event loop); the bot behind the pages is the
console's chat on a real SQLite file (``tests/bot/web_support.py``), except for ``/healthz``,
which runs the whole process (``serve``) on the stand-in Bot API.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.settings import load
from tests.bot.browser import (
    CHROMIUM,
    LAUNCH_FLAGS,
    PHONE,
    READABILITY,
    ensure_tools,
    qr_codes_on_pdf,
)
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.test_telegram import ANA, TOKEN, free_port
from tests.bot.web_support import Site, attachment_of, open_site
from tests.handlers.test_donations import (
    ATELIER,
    certify_lot,
    declare_organisation_lot,
    pdf_text,
)
from tests.support import Clock, start_serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

CODE = re.compile(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    ensure_tools()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                    args=list(LAUNCH_FLAGS))
        yield launched
        await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """The demo network, where ACME's lot was declared, received, erased and certified."""
    opened = await open_site(tmp_path_factory.mktemp("site") / "bot.sqlite3", Clock())
    await declare_organisation_lot(opened.chat)
    opened.certified = await certify_lot(opened.chat)
    yield opened
    await opened.close()


async def phone(browser: Any, lang: str) -> Any:
    """A new phone-sized tab whose browser asks for ``lang`` (Accept-Language)."""
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                        has_touch=True, locale=lang)
    return await context.new_page()


async def readable(page: Any, shot: Path) -> dict[str, Any]:
    """Screenshot the whole page, then check it reads well on a phone."""
    assert await page.screenshot(path=str(shot), full_page=True)  # the PNG's bytes
    measured: dict[str, Any] = await page.evaluate(READABILITY)
    assert measured["overflow"] <= 0, "the page scrolls sideways on a phone"
    assert measured["fontSize"] >= 16
    assert measured["worstContrast"] >= 4.5, measured["worstText"]
    assert measured["unlabelled"] == [] and measured["noAlt"] == 0 and measured["h1"] == 1
    return measured


def text_of(path: Path | str, encoding: str) -> str:
    """A downloaded file's text."""
    return Path(path).read_text(encoding=encoding)


async def main_text(page: Any) -> str:
    return str(await page.inner_text("main"))


# --- A certificate's check -------------------------------------------------------------------


async def test_the_qr_code_of_a_certificate_opens_its_check(site: Site, browser: Any,
                                                             tmp_path: Path):
    """The donor scans the printed certificate: the page says it is genuine, and what was
    done, in their browser's language, and nothing personal."""
    pdf = attachment_of(site.certified, "acme", ".pdf")
    code = CODE.search(pdf_text(pdf))
    assert code is not None
    url = f"{site.url}/verifier/{code.group(0)}"
    assert qr_codes_on_pdf(pdf, tmp_path) == [url]
    assert url in pdf_text(pdf)  # written out too, for whoever cannot scan

    page = await phone(browser, "fr-FR")
    response = await page.goto(url)
    assert response.status == 200
    text = await main_text(page)
    assert "Certificat authentique" in text
    assert "Ce certificat a bien été délivré par le réseau." in text
    assert code.group(0) in text and "LOT-2026-0001" in text
    assert "1 support de stockage traité : 1 effacé(s) et vérifié(s)" in text
    assert "Réécriture complète avec vérification" in text and "Clear (NIST SP 800-88)" in text
    assert "Niveau 2 (renforcé)" in text
    assert "lundi 23 novembre 2026" in text
    assert ATELIER in text
    for personal in ("ACME", "Jeanne", "Dupont", "PF-1ABC23", "WD-123", "demo-recond", "cli:"):
        assert personal not in await page.content()
    assert (await readable(page, tmp_path / "verifier-fr.png"))["lang"] == "fr"

    page = await phone(browser, "en-GB")
    await page.goto(url)
    text = await main_text(page)
    assert "Genuine certificate" in text and "This certificate was indeed issued" in text
    assert "1 storage medium processed" in text
    assert "Level 2 (enhanced)" in text and "Monday 23 November 2026" in text
    assert (await readable(page, tmp_path / "verifier-en.png"))["lang"] == "en"


async def test_an_unknown_or_malformed_code_gets_a_plain_page_and_the_form(
    site: Site, browser: Any, tmp_path: Path,
):
    page = await phone(browser, "fr-FR")
    response = await page.goto(f"{site.url}/verifier/n-importe-quoi")
    assert response.status == 404
    assert "Ce n'est pas un code de certificat" in await main_text(page)
    await page.get_by_label("Code du certificat").fill("eff-aaaa-bbbb")
    await page.get_by_role("button", name="Vérifier").click()
    await page.wait_for_url(f"{site.url}/verifier/EFF-AAAA-BBBB")
    text = await main_text(page)
    assert "Aucun certificat ne porte ce code" in text and "EFF-AAAA-BBBB" in text
    await readable(page, tmp_path / "verifier-inconnu.png")


# --- The places and the figures ------------------------------------------------------------


async def test_the_places_page_says_where_and_when_by_intercommunality(
    site: Site, browser: Any, tmp_path: Path,
):
    """Monday 23 November 2026, 10:00 in Gap: Veynes opens from Tuesday, Gap is open."""
    page = await phone(browser, "fr-FR")
    await page.goto(f"{site.url}/lieux")
    headings = await page.locator("main h2").all_inner_texts()
    assert "CC Buëch-Dévoluy" in headings and "CA Gap-Tallard-Durance" in headings
    veynes = page.locator("article", has_text="Centre de ressources de Veynes")
    veynes_text = await veynes.inner_text()
    assert "Fermé, ouvre mardi 24 novembre à 9 h 00" in veynes_text
    assert "Avenue des Martinets" in veynes_text and "05400 Veynes" in veynes_text
    assert "mar.–ven. 09:00–12:00, 14:00–17:00 ; jours fériés : fermé" in veynes_text
    assert "Dessert aussi\nCC du Sisteronais-Buëch" in veynes_text
    assert "Reçoit les dons de matériel" in veynes_text
    text = await main_text(page)
    assert "Ouvert maintenant, jusqu'à" in text
    await readable(page, tmp_path / "lieux.png")

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=re.compile("format national")).click()
    download = await download_info.value
    assert download.suggested_filename == "lieux-mednum.csv"
    header = text_of(await download.path(), "utf-8").splitlines()[0]
    assert header.startswith("id,pivot,nom,commune,code_postal")


async def test_the_figures_page_shows_the_year_masked_with_its_chart(
    site: Site, browser: Any, tmp_path: Path,
):
    page = await phone(browser, "en-GB")
    await page.goto(f"{site.url}/chiffres")
    network = page.locator("table").first
    row = network.locator("tr", has_text="Lots collected")
    assert await row.locator("td").inner_text() == "< 5"  # ACME's one lot: masked
    assert await network.locator("tr", has_text="Equipment requests").locator(
        "td").inner_text() == "0"
    assert "CC Buëch-Dévoluy" in await page.locator("main h3").all_inner_texts()
    width = await page.locator("figure img").evaluate("img => img.complete && img.naturalWidth")
    assert width == 960  # the chart loaded
    await readable(page, tmp_path / "chiffres.png")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=re.compile("for funders")).click()
    download = await download_info.value
    table = text_of(await download.path(), "utf-8-sig")
    assert table.splitlines()[0].startswith("Month;Intercommunality;Lots collected")


async def test_the_home_page_leads_to_every_page(site: Site, browser: Any, tmp_path: Path):
    page = await phone(browser, "fr-FR")
    await page.goto(site.url)
    await readable(page, tmp_path / "accueil.png")
    await page.get_by_role("link", name="Les lieux").first.click()
    await page.wait_for_url(f"{site.url}/lieux")
    await page.get_by_role("link", name="English").click()
    assert await page.locator("h1").inner_text() == "The network's places"


# --- /healthz ------------------------------------------------------------------------------


async def test_healthz_turns_503_when_telegram_is_out_of_reach(browser: Any, tmp_path: Path):
    """The whole process on the stand-in Bot API: healthy while it answers; stopped, the
    adapter's next poll fails and ``/healthz`` answers 503, naming the adapter."""
    api = FakeBotApi(TOKEN)
    await api.start()
    port = free_port()
    settings = load({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.url,
                     "FILIERE_DEMO": "yes", "FILIERE_WEB_PORT": str(port)}, dotenv=None)
    task, stop = await start_serving(settings, tmp_path / "bot.sqlite3", within=20)
    page = await phone(browser, "fr-FR")
    api_running = True
    try:
        api.say(ANA, "bonjour")
        await api.wait_sent(ANA, 1)
        response = await page.goto(f"http://127.0.0.1:{port}/healthz")
        health = json.loads(await response.text())
        assert response.status == 200, health
        assert health["status"] == "ok" and health["adapters"] == {"tg": {"connected": True}}
        assert health["outbox"]["pending"] == 0 and health["database"] == {"ok": True}
        assert "beneficiaries.reminders" in health["jobs"]

        await api.stop()
        api_running = False
        async with asyncio.timeout(30):  # the poll fails at once; a bound, not a margin
            for _attempt in itertools.count():
                response = await page.goto(f"http://127.0.0.1:{port}/healthz")
                if response.status != 200:
                    break
                await asyncio.sleep(0.1)
        health = json.loads(await response.text())
        assert response.status == 503
        assert health["status"] == "failing"
        assert health["adapters"] == {"tg": {"connected": False}}
        assert health["problems"] == ["adapter tg: not connected"]
        await page.screenshot(path=str(tmp_path / "healthz-503.png"))
    finally:
        stop.set()
        assert await task == 0
        if api_running:
            await api.stop()
