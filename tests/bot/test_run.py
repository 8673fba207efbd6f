"""``filiere-bot run`` as a process: every configured adapter side by side, a clean stop on
SIGTERM or SIGINT (exit 0), the console when no platform is configured."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.ledger import Ledger
from tests.bot.test_telegram import TOKEN

ANA = 4242


async def start_bot(api: FakeBotApi, workdir: Path) -> asyncio.subprocess.Process:
    """``python -m bot run`` in an empty directory, configured for the local Bot API."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
        "FILIERE_DATABASE": str(workdir / "bot.sqlite3"),
        "FILIERE_DEMO": "yes",
        "FILIERE_LOG_LEVEL": "INFO",
    }
    calls = len(api.calls)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=workdir, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await api.wait_until(lambda: any(m == "getUpdates" for m, _ in api.calls[calls:]),
                         within=30)
    return process


async def stopped(process: asyncio.subprocess.Process, sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    async with asyncio.timeout(30):
        _, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_bot_cleanly_with_status_0(
    api: FakeBotApi, tmp_path: Path, sig: int,
):
    process = await start_bot(api, tmp_path)
    update = api.say(ANA, "bonjour")
    await Ledger(tmp_path / "bot.sqlite3").wait_handled("tg", str(update), within=30)
    await api.wait_sent(ANA, 1)
    status, log = await stopped(process, sig)
    assert status == 0, log
    assert "stopping" in log and "Traceback" not in log
    assert "bonjour" not in log  # what people type is never logged
    assert TOKEN.split(":")[1] not in log  # nor the bot's token (it is in every API URL)


async def test_a_stop_in_the_middle_neither_loses_nor_repeats_anything(
    api: FakeBotApi, tmp_path: Path,
):
    process = await start_bot(api, tmp_path)
    updates = [api.say(ANA, text) for text in ("bonjour", "4", "4")]
    await Ledger(tmp_path / "bot.sqlite3").wait_handled("tg", str(updates[0]), within=30)
    status, log = await stopped(process, signal.SIGTERM)
    assert status == 0, log
    process = await start_bot(api, tmp_path)
    ledger = Ledger(tmp_path / "bot.sqlite3")
    for update in updates:
        await ledger.wait_handled("tg", str(update), within=30)
    await ledger.wait_delivered(f"tg:{ANA}", within=30)
    status, log = await stopped(process, signal.SIGTERM)
    assert status == 0, log
    menus = [s for s in api.to(ANA) if "Que souhaitez-vous faire" in s.text]
    helps = [s for s in api.to(ANA) if "Mots utiles" in s.text]
    assert (len(menus), len(helps)) == (3, 2)


async def test_without_any_platform_configured_run_is_the_console(tmp_path: Path):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""),
             "FILIERE_DATABASE": str(tmp_path / "bot.sqlite3")},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate(b"bonjour\n")
    assert process.returncode == 0, err.decode()
    assert "Que souhaitez-vous faire ?" in out.decode()
