"""Reply latency of a person tapping buttons quickly, under Telegram's per-chat pacing.

Telegram lets a bot send about one message a second in a chat; a reply is often two calls
(the pick shown under the question pressed, then the next question) or three (a help text,
then the menu again, after the pick). The bot's per-chat pacing is a token bucket: with a
small burst (``bot.telegram.CHAT_BURST``) an answer's calls leave together when the chat was
quiet; without one, each waits a second behind the one before.

The real bot (``bot.serve.serve``, in this process) answers a person on the local Bot API
stand-in (``tests/bot/fake_bot_api.py``) who taps a button of each new question as soon as it
appears, but not faster than every ``--every`` seconds (0.5 s by default): four questions of
a donation in a row, from its summary: change the hand-over, keep the commune, pick the
drop-off point, change the hand-over again (an edit and a question a tap), then ten presses
of "Aide" on the home menu (an edit, the help and the menu a tap). Measured, per tap: from
the press to the reply's first message, and to its last. The chat is quiet (its bucket full)
before each series. Pacings compared: a burst of three then one a second (the bot's), one a
second with no burst, and none.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import heading, machine, median, percentile

TOKEN = "123456789:AAbenchmarkBENCHMARKbenchmark00"
PERSON = 4242
QUIET = 3.5
"""Seconds without a message for the chat's bucket to fill again (three tokens at 1/s)."""


@dataclass
class Tap:
    """One press: when, and when its reply's first and last messages reached the server."""

    at: float
    first: float
    last: float


async def run_pacing(burst: int, rate: float, every: float, workdir: Path) -> dict[str, list[Tap]]:
    """The two series of taps against a fresh bot with this pacing."""
    from bot import telegram
    from bot.settings import load
    from tests.bot.fake_bot_api import FakeBotApi, Sent
    from tests.handlers.test_donations import organisation_lot
    from tests.support import start_serving

    telegram.CHAT_BURST = burst
    api = FakeBotApi(TOKEN)
    await api.start()
    settings = load({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.url,
                     "TELEGRAM_CHAT_MESSAGES_PER_SECOND": str(rate),
                     "FILIERE_DEMO": "yes", "FILIERE_COORDINATORS": "tg:900",
                     "FILIERE_LOG_LEVEL": "WARNING"}, dotenv=None)
    task, stop = await start_serving(settings, workdir / f"tap-{burst}-{rate}.sqlite3", 30)

    async def next_with_buttons(count: int) -> Sent:
        """The newest of the first ``count`` messages, once it has buttons."""
        sent = await api.wait_sent(PERSON, count, within=60)
        return sent[count - 1]

    async def typed(text: str) -> None:
        count = len(api.to(PERSON))
        api.say(PERSON, text)
        await api.wait_sent(PERSON, count + 1, within=60)
        await asyncio.sleep(0.3)  # the rest of the answer (a bench may wait: not a test)

    async def series(taps: int, replies: int, labels: list[str]) -> list[Tap]:
        """``taps`` presses on the newest message, the button whose label holds the next of
        ``labels`` (in turn), each answered by ``replies`` messages."""
        done: list[Tap] = []
        last_tap = 0.0
        count = len(api.to(PERSON))
        for _ in range(taps):
            message = await next_with_buttons(count)
            pause = last_tap + every - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            last_tap = time.monotonic()
            wanted = labels[len(done) % len(labels)]
            api.press(PERSON, message,
                      next(data for label, data in message.buttons if wanted in label))
            sent = await api.wait_sent(PERSON, count + replies, within=60)
            reply = sent[count:count + replies]
            done.append(Tap(last_tap, reply[0].at, reply[-1].at))
            count += replies
        return done

    try:
        for line in organisation_lot():  # up to the summary
            await typed(line)
        await asyncio.sleep(QUIET)
        questions = await series(4, 1, ["Modifier : Remise", "Garder", "Centre"])
        await asyncio.sleep(QUIET)
        await typed("annuler")
        await asyncio.sleep(QUIET)
        menus = await series(10, 2, ["Aide"])
    finally:
        stop.set()
        await task
        await api.stop()
    return {"questions": questions, "menu": menus}


def describe(taps: list[Tap]) -> str:
    first = [(t.first - t.at) * 1000 for t in taps]
    last = [(t.last - t.at) * 1000 for t in taps]
    each = " ".join(f"{ms / 1000:.2f}" for ms in last)
    return (f"to the last message p50 {median(last):5.0f} ms, p90 "
            f"{percentile(last, 0.9):5.0f} ms (to the first p50 {median(first):5.0f} ms); "
            f"each tap, s: {each}")


async def run(every: float) -> None:
    heading(f"tapping: reply latency of a person tapping every {every} s, per-chat pacing")
    print(machine())
    pacings = [("burst 3, then 1/s (the bot's)", 3, 1.0), ("1/s, no burst", 1, 1.0),
               ("no pacing", 3, 0.0)]
    with tempfile.TemporaryDirectory(prefix="filiere-tap-") as tmp:
        for label, burst, rate in pacings:
            found = await run_pacing(burst, rate, every, Path(tmp))
            print(f"  {label}:")
            print(f"    4 questions in a row (a question a tap): {describe(found['questions'])}")
            print(f"    10 x Aide on the menu (help + menu a tap): {describe(found['menu'])}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=float, default=0.5)
    args = parser.parse_args(argv)
    asyncio.run(run(args.every))


if __name__ == "__main__":
    main()
