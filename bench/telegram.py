"""Telegram path benchmark: updates per second through python-telegram-bot, against a bare bot.

The same local Bot API server (``bench/fake_telegram.py``, 127.0.0.1, no flood limit) queues
the same updates (people saying "bonjour"); a bot in a child process fetches them by long
polling and answers each. Contenders, alternated over rounds on the same machine:

* bare: a python-telegram-bot ``Application`` whose only handler echoes the text back, the
  least any PTB bot can do per update;
* filiere-bot: the real process (``bot.serve.serve``): each update is routed and committed to
  SQLite with its reply in the outbox, then the dispatcher renders and sends it. The pacing
  under Telegram's limits is switched off for this comparison (settings 0), since the bare
  bot has none; the reminders benchmark measures pacing.

The rate is the server's: updates handed over to replies received, first to last.
Target (issue 8): filiere-bot at >= 80% of the bare bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, heading, machine, median
from bench.fake_telegram import LimitedBotApi

TOKEN = "123456789:AAbenchmarkBENCHMARKbenchmark00"
TARGET_SHARE = 0.8


async def bare(url: str) -> None:
    """The bare echo bot, until killed."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    os.environ.setdefault("PTB_TIMEDELTA", "true")
    app = (Application.builder().token(TOKEN).base_url(f"{url}/bot{{token}}")
           .concurrent_updates(False).build())

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0)
        await asyncio.Event().wait()


async def filiere(url: str, database: Path) -> None:
    """The real bot process, pacing off, until killed."""
    from bot.serve import serve
    from bot.settings import load

    settings = load({"FILIERE_COORDINATORS": "cli:coord", "FILIERE_DEMO": "no",
                     "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": url,
                     "TELEGRAM_MESSAGES_PER_SECOND": "0",
                     "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
                     "FILIERE_DATABASE": str(database)}, dotenv=None)
    await serve(settings, asyncio.Event())


async def one_round(contender: str, updates: int, users: int, tmp: Path) -> float:
    """Queue the updates, start the contender, wait for every answer; updates per second."""
    server = LimitedBotApi(TOKEN, overall=None, per_chat=None)
    url = await server.start()
    for n in range(updates):
        server.say(20_000_000 + n % users, "bonjour")
    database = tmp / f"{contender}.sqlite3"
    database.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.telegram", "--child", contender, "--url", url,
        "--db", str(database), env=env, stdout=asyncio.subprocess.DEVNULL)
    try:
        async with asyncio.timeout(120):
            await server.wait_accepted(updates)
    finally:
        proc.kill()
        await proc.wait()
        await server.stop()
    assert server.first_fetch is not None
    return updates / (server.accepted[updates - 1].at - server.first_fetch)


async def run(rounds: int, updates: int, users: int) -> dict[str, float]:
    heading("telegram: updates per second through python-telegram-bot, against a bare bot")
    print(machine())
    rates: dict[str, list[float]] = {"bare": [], "filiere": []}
    with tempfile.TemporaryDirectory(prefix="filiere-bench-") as tmp:
        await one_round("filiere", 50, 10, Path(tmp))  # warm-up: caches, compiled files
        for number in range(rounds):
            for contender in ("bare", "filiere"):
                rates[contender].append(await one_round(contender, updates, users, Path(tmp)))
            print(f"  round {number + 1}: bare {rates['bare'][-1]:6.0f}/s   filiere-bot "
                  f"{rates['filiere'][-1]:6.0f}/s   ratio "
                  f"{rates['filiere'][-1] / rates['bare'][-1]:5.1%}", flush=True)
    share = median([f / b for f, b in zip(rates["filiere"], rates["bare"], strict=True)])
    print(f"  {updates} updates from {users} people per round")
    print(f"  bare python-telegram-bot echo: median {median(rates['bare']):.0f} updates/s")
    print(f"  filiere-bot (routed, committed, sent): median {median(rates['filiere']):.0f}"
          f" updates/s")
    print(f"  ratio filiere-bot/bare: median {share:.1%}   (target >= {TARGET_SHARE:.0%}: "
          f"{'met' if share >= TARGET_SHARE else 'MISSED'})")
    return {"bare": median(rates["bare"]), "filiere": median(rates["filiere"]), "ratio": share}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--child", choices=("bare", "filiere"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "bare":
        asyncio.run(bare(args.url))
    elif args.child == "filiere":
        asyncio.run(filiere(args.url, args.db))
    else:
        asyncio.run(run(args.rounds, args.updates, args.users))


if __name__ == "__main__":
    main()
