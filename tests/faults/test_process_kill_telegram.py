"""The deployed bot (``python -m bot run``, Telegram by long polling) killed with SIGKILL again
and again while a burst of workshop reminders goes out and people are writing to it.

``tests/faults/test_process_kill.py`` kills the console, fed a script on its stdin. This file
kills the process as it runs for real: python-telegram-bot fetching updates from a Bot
API server (the local stand-in of ``tests/bot/fake_bot_api.py``, on 127.0.0.1), the
scheduler's reminders job queueing a few hundred due reminders batch after batch, and the
outbox dispatcher delivering them beside people's answers.

People are simulated the way Telegram holds their messages: each writes the first steps of a
donation (a different question after each answer, so an answer lost, repeated or out of order
shows) at their own pace, whether the bot is up or not; what they write while it is down waits
on the server for the next start.

Each kill's moment is chosen one of four ways, in a seeded random order: during start-up
(imports, migrations, getMe), at a random time after the first long poll, as the server
accepts the n-th message of the run (n random; the bot dies before it reads the answer:
exactly the at-least-once window the dispatcher documents), or as soon as the reminders job
has committed a batch (it is then queueing the next one, or the dispatcher is starting on
them). The first run after the reminders are planted is always cut that last way, in the
middle of the morning's burst.

After a last start that runs to the end, the test checks what people would notice:

* each planted reminder reached its person, for their own session, exactly once, except for
  that window: a message the server had accepted but the bot had not recorded as sent when it
  was killed goes again after the restart. After each kill the test reads which message that
  was (the server has one more message for a chat than the database records as sent): at most
  one per kill (one message in flight at a time), and every repeat seen in the end is one of
  them, sent right after itself;
* every person's message was handled once and answered: each person received, in order, what
  the same messages get from a bot that is never killed (the reference, played before the
  kills by other people on the same database), those repeats aside;
* the outbox ends with every row sent, and no reminder is left pending.

One way of losing people's messages is known and has its own test at the end of the file:
python-telegram-bot confirms a batch of updates to the server (the next ``getUpdates`` offset)
as soon as it has queued them, before the bot has handled them. A kill then loses them for
good. Random kills seldom land in that window (handling usually wins the race against the next
long poll); if one does, the first test reports it as that known failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from flows.beneficiary import coming_id
from handlers.beneficiary_jobs import REMINDER_BATCH
from storage.db import ts
from tests.bot.fake_bot_api import SENDING, FakeBotApi
from tests.bot.ledger import Ledger

TOKEN = "123456789:AAEfiliereTestTokenForTheFakeBotApi0"
SEED = 20260524
DUE_AT_ONCE = 2 * REMINDER_BATCH + 50
"""Reminders already due when planted: the job queues them in three transactions."""
TRICKLE = 100
"""Reminders falling due one after the other over :data:`TRICKLE_SECONDS`, so that the job
has work at most of the kills, not only in the first run."""
TRICKLE_SECONDS = 20.0
REMINDERS = DUE_AT_ONCE + TRICKLE
REMINDED = 900_000
"""Telegram chat ids of the reminded beneficiaries: REMINDED, REMINDED + 1, ..."""
PEOPLE = (5101, 5102, 5103, 5104, 5105)
REFERENCE = (6101, 6102)
SCRIPT = ("bonjour", "2", "1", "ACME Informatique", "73282932000074", "Jeanne Dupont", "veynes")
"""The first steps of a company's donation: each answer gets a different question."""
PAUSE = (0.4, 3.0)
"""Seconds a person takes between two messages, drawn in this range."""
LIFE = 2.5
"""A run is killed at the latest this many seconds after its first long poll: the reminders
job first runs one second after the scheduler starts (``FILIERE_REMINDERS_EVERY_SECONDS=1``)."""
MODES = ["start-up"] * 2 + ["time"] * 4 + ["message"] * 4 + ["queueing"]
"""How the moments of the kills after the first are chosen (shuffled)."""
KILLS = 1 + len(MODES)
BUDGET_SECONDS = 30.0
"""The kills stop when this is spent, landed or not (a slow machine)."""


class KillingBotApi(FakeBotApi):
    """The stand-in server, able to kill the bot the moment it accepts a given message (the
    message is recorded as sent to the person; the bot never reads the answer), and counting
    the sending calls it is still carrying out, so that after a kill the test reads what the
    server accepted once it has finished with the dead bot's last call. It can also hold the
    downloads of the files people send (a slow transfer)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.sending = 0
        self.victim: tuple[asyncio.subprocess.Process, int] | None = None
        self.hold_downloads = False
        self.downloading = 0
        self.released = asyncio.Event()

    def kill_at_message(self, process: asyncio.subprocess.Process, count: int) -> None:
        """SIGKILL ``process`` as the server accepts its ``count``-th message in all."""
        self.victim = (process, count)

    def _record(self, method: str, chat_id: int, message: dict[str, Any],
                data: bytes | None = None) -> dict[str, Any]:
        recorded = super()._record(method, chat_id, message, data)
        if self.victim is not None and len(self.sent) >= self.victim[1]:
            process, _ = self.victim
            self.victim = None
            if process.returncode is None:  # not reaped: the pid is still this process's
                process.send_signal(signal.SIGKILL)
        return recorded

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        sending = request.match_info["method"] in SENDING
        self.sending += sending
        try:
            return await super()._dispatch(request)
        finally:
            self.sending -= sending
            self._notify()

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if self.hold_downloads:
            self.downloading += 1
            self._notify()
            await self.released.wait()
        return await super()._download(request)


@pytest.fixture
async def api() -> AsyncIterator[KillingBotApi]:
    server = KillingBotApi(TOKEN)
    await server.start()
    yield server
    server.released.set()
    await server.stop()


def environment(api: FakeBotApi, db: Path) -> dict[str, str]:
    """The bot's settings as a deployment gives them, for the local Bot API."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        # No pacing: the burst goes out as fast as the bot can, so that kills find it busy.
        "TELEGRAM_MESSAGES_PER_SECOND": "0",
        "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
        "FILIERE_DATABASE": str(db),
        "FILIERE_DEMO": "yes",
        "FILIERE_LOG_LEVEL": "WARNING",
        # Equal start and end: no quiet hours, so the reminders go out whatever the time of
        # day the test runs at (the default 21:00-08:00 would hold them all night).
        "FILIERE_QUIET_HOURS": "00:00-00:00",
        # The job looks for due reminders every second, not every five minutes: a run lives
        # a few seconds before its kill.
        "FILIERE_REMINDERS_EVERY_SECONDS": "1",
    }


@dataclass
class Bot:
    """One bot process; its log (stderr) goes to a file, shown when something fails."""

    process: asyncio.subprocess.Process
    log: Path
    calls_before: int

    def read_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


async def spawn(api: FakeBotApi, workdir: Path, run: int) -> Bot:
    log = workdir / f"run-{run:02d}.log"
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=workdir,
            env=environment(api, workdir / "bot.sqlite3"),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )
    return Bot(process, log, len(api.calls))


async def polling(api: FakeBotApi, bot: Bot, within: float = 30.0) -> None:
    """Until the process has begun its long polling: it is up, and its signal handlers are
    in place."""
    await api.wait_until(
        lambda: any(method == "getUpdates" for method, _ in api.calls[bot.calls_before:]),
        within=within)


async def stop(bot: Bot) -> None:
    """A clean stop (SIGTERM): it finishes what it has in hand and exits 0."""
    bot.process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        await bot.process.wait()
    assert bot.process.returncode == 0, bot.read_log()


async def killed(bot: Bot) -> None:
    if bot.process.returncode is None:
        bot.process.send_signal(signal.SIGKILL)
    async with asyncio.timeout(30):
        await bot.process.wait()
    assert bot.process.returncode == -signal.SIGKILL, (
        f"the bot exited by itself ({bot.process.returncode}):\n{bot.read_log()}")


async def exited(bot: Bot, within: float) -> bool:
    """Whether the process ends (killed by the server) within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            await bot.process.wait()
    except TimeoutError:
        return False
    return True


def plant_reminders(db: Path, now: datetime) -> dict[int, int]:
    """Beneficiaries booked on sessions two hours from now (later today, unless the test runs
    close to midnight), each with a reminder due: most at once, the rest over the next
    seconds. Written by SQL while no bot runs, as ``tests/handlers/test_reminder_burst.py``
    does. Returns each reminded chat's workshop id."""
    booked: dict[int, int] = {}
    with sqlite3.connect(db) as conn:
        place = conn.execute("SELECT id FROM places ORDER BY id LIMIT 1").fetchone()[0]
        created = ts(now)
        for first in range(0, REMINDERS, 100):
            workshop = conn.execute(
                "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats, booked)"
                " VALUES (?, 'getting_started', ?, 90, 100, 0)",
                (place, ts(now + timedelta(hours=2)))).lastrowid
            assert workshop is not None
            numbers = range(first, min(REMINDERS, first + 100))
            users = [f"tg:{REMINDED + n}" for n in numbers]
            conn.executemany("INSERT INTO users (key, lang, created_at) VALUES (?, 'fr', ?)",
                             [(u, created) for u in users])
            conn.executemany(
                "INSERT INTO beneficiaries (user_key, place_id, ref, reminders, joined_at)"
                " VALUES (?, ?, 'REJ000000', 1, ?)", [(u, place, created) for u in users])
            conn.executemany("INSERT INTO bookings (workshop_id, user_key, booked_at)"
                             " VALUES (?, ?, ?)", [(workshop, u, created) for u in users])
            conn.executemany(
                "INSERT INTO reminders (workshop_id, user_key, due_at) VALUES (?, ?, ?)",
                [(workshop, f"tg:{REMINDED + n}", ts(due(now, n))) for n in numbers])
            booked.update({REMINDED + n: workshop for n in numbers})
    return booked


def due(now: datetime, n: int) -> datetime:
    if n < DUE_AT_ONCE:
        return now - timedelta(minutes=1)
    return now + timedelta(seconds=TRICKLE_SECONDS * (n - DUE_AT_ONCE) / TRICKLE)


@dataclass
class Story:
    """What happened across the runs, as the test saw it from the server and the database."""

    kills: Counter[str] = field(default_factory=Counter)
    """How many kills landed, per way their moment was chosen."""
    runs: int = 0
    in_flight: list[tuple[int, int]] = field(default_factory=list)
    """(kill number, chat id) of each message accepted by the server but not recorded as
    sent when the bot was killed."""
    extras: Counter[int] = field(default_factory=Counter)
    """Per chat: messages the server accepted beyond the outbox rows recorded as sent."""
    updates: dict[int, list[int]] = field(default_factory=dict)
    """Per person: the update ids of what they wrote, in order."""
    lost: set[int] = field(default_factory=set)
    """Updates the server was told were received (offset confirmed: never delivered again)
    but that no bot had handled when it was killed."""
    burst_cut: int = 0
    """Due reminders still pending when the first run was killed in the burst."""

    @property
    def landed(self) -> int:
        return sum(self.kills.values())


async def sent_in_outbox(ledger: Ledger) -> Counter[int]:
    """Per Telegram chat: the platform messages the database records as sent."""
    rows = await ledger.query(
        "SELECT recipient, count(*) + count(att_name) FROM outbox"
        " WHERE status = 'sent' AND platform = 'tg' GROUP BY recipient")
    return Counter({int(recipient.removeprefix("tg:")): n for recipient, n in rows})


async def handled(ledger: Ledger) -> set[int]:
    rows = await ledger.query("SELECT event_id FROM processed_events WHERE event_id LIKE 'tg:%'")
    return {int(row[0].removeprefix("tg:")) for row in rows}


async def queued_reminders(ledger: Ledger) -> int:
    [(count,)] = await ledger.query("SELECT count(*) FROM reminders WHERE status != 'pending'")
    return int(count)


async def after_a_stop(api: KillingBotApi, ledger: Ledger, story: Story) -> int:
    """With no bot running: what was in flight at the kill (returned: 0 or 1), and what was
    lost for good."""
    # What the dead process had written to its sockets is read by the server within a few
    # turns of this loop; then the calls it has begun are carried out to the end.
    await asyncio.sleep(0.05)
    await api.wait_until(lambda: api.sending == 0, within=5)
    recorded = await sent_in_outbox(ledger)
    received = Counter(sent.chat_id for sent in api.sent)
    new = []
    for chat in received.keys() | recorded.keys():
        extra = received[chat] - recorded[chat]
        assert extra >= 0, f"chat {chat}: recorded as sent, never accepted by the server"
        if extra > story.extras[chat]:
            new.append((chat, extra - story.extras[chat]))
            story.extras[chat] = extra
    assert sum(n for _, n in new) <= 1, f"more than one message in flight at a kill: {new}"
    story.in_flight += [(story.landed, chat) for chat, _ in new]
    done = await handled(ledger)
    story.lost |= {u for updates in story.updates.values() for u in updates
                   if u < api.confirmed and u not in done}
    return len(new)


async def people_write(api: FakeBotApi, story: Story, rng: random.Random) -> None:
    """Each person writes the script at their own pace, bot up or not (Telegram keeps what
    they write until the bot fetches it)."""
    moments = []
    for person in PEOPLE:
        moment = 0.0
        for step in range(len(SCRIPT)):
            moment += rng.uniform(*PAUSE)
            moments.append((moment, person, step))
    moments.sort()
    begun = time.monotonic()
    for moment, person, step in moments:
        await asyncio.sleep(max(0.0, begun + moment - time.monotonic()))
        story.updates.setdefault(person, []).append(api.say(person, SCRIPT[step]))


async def reference(api: FakeBotApi, ledger: Ledger, tmp: Path) -> tuple[dict[int, list[str]],
                                                                         float]:
    """The first start (migrations, territory, demo data), never killed: what the script gets
    from such a bot, and how long the bot takes to start."""
    spawned = time.monotonic()
    bot = await spawn(api, tmp, 0)
    await polling(api, bot)
    startup = time.monotonic() - spawned
    updates = [api.say(person, text) for text in SCRIPT for person in REFERENCE]
    for update in updates:
        await ledger.wait_handled("tg", str(update), within=30)
    for person in REFERENCE:
        await ledger.wait_delivered(f"tg:{person}", within=30)
    await stop(bot)
    return {person: [sent.text for sent in api.to(person)] for person in REFERENCE}, startup


async def kill_at_random(api: KillingBotApi, ledger: Ledger, bot: Bot, mode: str,
                         rng: random.Random, startup: float) -> str:
    """Kill ``bot`` at a moment chosen the ``mode`` way; returns the way it landed ("time"
    when the chosen event did not come within :data:`LIFE`)."""
    if mode == "start-up":
        await asyncio.sleep(rng.uniform(0.0, startup))
        await killed(bot)
        return mode
    before = await queued_reminders(ledger)
    if mode != "queueing":  # (the jobs run at start: their first batch may come first)
        await polling(api, bot)
    landed = "time"
    if mode == "time":
        await asyncio.sleep(rng.uniform(0.0, LIFE))
    elif mode == "message":
        api.kill_at_message(bot.process, len(api.sent) + rng.randint(1, 8))
        if await exited(bot, LIFE):
            landed = mode
        api.victim = None
    else:  # "queueing": as soon as the job has committed a batch of this run
        deadline = time.monotonic() + LIFE
        while time.monotonic() < deadline:
            if await queued_reminders(ledger) > before:
                landed = mode
                break
            await asyncio.sleep(0.002)
    await killed(bot)
    return landed


def without_repeats(received: list[str], repeats: int) -> tuple[list[str], int]:
    """``received`` with at most ``repeats`` immediate repetitions taken out (a message sent
    again after a kill comes right after itself: it is its person's oldest pending one)."""
    kept: list[str] = []
    taken = 0
    for text in received:
        if kept and text == kept[-1] and taken < repeats:
            taken += 1
            continue
        kept.append(text)
    return kept, taken


async def test_killed_while_reminders_go_out_and_people_write_nothing_is_lost_or_doubled(
    api: KillingBotApi, tmp_path: Path,
):
    began = time.monotonic()
    db = tmp_path / "bot.sqlite3"
    ledger = Ledger(db)
    expected, startup = await reference(api, ledger, tmp_path)
    booked = plant_reminders(db, datetime.now(UTC))

    story = Story()
    rng = random.Random(SEED)
    writing = asyncio.create_task(people_write(api, story, random.Random(SEED + 1)))
    deadline = time.monotonic() + BUDGET_SECONDS
    for mode in ["queueing", *rng.sample(MODES, len(MODES))]:
        if time.monotonic() > deadline:
            break
        story.runs += 1
        bot = await spawn(api, tmp_path, story.runs)
        landed = await kill_at_random(api, ledger, bot, mode, rng, startup)
        story.kills[landed] += 1
        if story.runs == 1:
            story.burst_cut = DUE_AT_ONCE - await queued_reminders(ledger)
        flying = await after_a_stop(api, ledger, story)
        if landed == "message":
            assert flying == 1, "killed as the server accepted a message: it was in flight"
    await writing

    # The last run: everything due is queued and delivered, every update handled.
    story.runs += 1
    bot = await spawn(api, tmp_path, story.runs)
    await polling(api, bot)
    every_update = {u for updates in story.updates.values() for u in updates}
    deadline = time.monotonic() + 30
    while True:
        left = every_update - await handled(ledger) - story.lost
        [(pending,)] = await ledger.query("SELECT count(*) FROM outbox WHERE status = 'pending'")
        [(waiting,)] = await ledger.query(
            "SELECT count(*) FROM reminders WHERE status = 'pending'")
        if not left and pending == 0 and waiting == 0:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the last run did not finish: updates {sorted(left)} not handled, "
                        f"{pending} messages and {waiting} reminders pending\n{bot.read_log()}")
        await asyncio.sleep(0.05)
    await stop(bot)
    repeats_before = sum(story.extras.values())
    await after_a_stop(api, ledger, story)
    duration = time.monotonic() - began

    repeats = sum(story.extras.values())
    print(f"\n{story.landed} kills in {story.runs} runs ({dict(story.kills)}), the burst cut "
          f"with {story.burst_cut} of {DUE_AT_ONCE} due reminders not queued yet; "
          f"{REMINDERS} reminders, {len(every_update)} updates from {len(PEOPLE)} people; "
          f"{repeats} messages sent twice ({sum(story.extras[p] for p in PEOPLE)} to people; "
          f"in flight at a kill: {len(story.in_flight)}), "
          f"{len(story.lost)} updates lost; {duration:.1f} s")

    assert story.landed >= KILLS // 2, f"only {story.landed} kills landed"
    assert story.burst_cut > 0, "the first kill did not land in the burst"
    assert repeats == repeats_before, "a clean stop and start repeat nothing"

    # The outbox: every row sent (none failed, none left), no reminder left pending.
    statuses = dict(await ledger.query("SELECT status, count(*) FROM outbox GROUP BY status"))
    assert set(statuses) == {"sent"}, statuses
    reminders = dict(await ledger.query(
        "SELECT status, count(*) FROM reminders WHERE user_key LIKE 'tg:9%' GROUP BY status"))
    assert reminders == {"queued": REMINDERS}, reminders

    # Each reminder reached its person once, for their own session; a second time only when
    # it was in flight at a kill, and then the very same message.
    in_flight = Counter(chat for _, chat in story.in_flight)
    rows = await sent_in_outbox(ledger)
    for chat, workshop in booked.items():
        got = api.to(chat)
        assert rows[chat] == 1, f"chat {chat}: {rows[chat]} reminders queued"
        assert 1 <= len(got) <= 1 + in_flight[chat], (chat, [s.text for s in got])
        assert {s.text for s in got} == {got[0].text} and got[0].text.startswith("Rappel")
        assert coming_id(workshop, True) in {data for _, data in got[0].buttons}
    assert repeats <= story.landed
    assert all(story.extras[chat] <= in_flight[chat] for chat in story.extras)

    # People: each message answered once and in order (what was not lost: see below).
    script_answers = expected[REFERENCE[0]]
    assert len(script_answers) == len(SCRIPT)  # one answer per message
    assert all(expected[p] == script_answers for p in REFERENCE)
    done = await handled(ledger)
    for person in PEOPLE:
        assert len(story.updates[person]) == len(SCRIPT)
        received = [sent.text for sent in api.to(person)]
        answers, taken = without_repeats(received, story.extras[person])
        assert taken == story.extras[person], (person, received)
        if story.lost & set(story.updates[person]):
            first_lost = min(story.lost & set(story.updates[person]))
            step = story.updates[person].index(first_lost)
            assert answers[:step] == script_answers[:step], (person, received)
            continue
        assert set(story.updates[person]) <= done
        assert answers == script_answers, (person, received)
        assert rows[person] == len(script_answers)
    assert not story.lost, f"updates confirmed to the server but never handled: {story.lost}"


async def test_updates_fetched_but_not_yet_handled_at_a_kill_are_not_lost(
    api: KillingBotApi, tmp_path: Path,
):
    """A person sends a file; while the bot downloads it (a slow transfer, held here by the
    server), four others write. The bot is killed, then started again: everyone is answered.

    Nothing the bot had not handled may have been confirmed to the server, which would never
    deliver it again (python-telegram-bot's own updater did: bot/telegram.py polls by
    itself)."""
    ledger = Ledger(tmp_path / "bot.sqlite3")
    bot = await spawn(api, tmp_path, 0)
    await polling(api, bot)
    api.hold_downloads = True
    first = api.send_file(PEOPLE[0], b"nom;commune\nFab Lab;Gap\n", "lieux.csv")
    await api.wait_until(lambda: api.downloading > 0, within=10)
    written = [first, *(api.say(person, "bonjour") for person in PEOPLE[1:])]
    # python-telegram-bot fetches the others and confirms them with its next long poll, at
    # once; a bot that confirms only what it has handled does not while the download lasts.
    with contextlib.suppress(TimeoutError):
        await api.wait_until(lambda: api.confirmed > written[-1], within=2)
    await killed(bot)
    api.released.set()
    api.hold_downloads = False
    done = await handled(ledger)
    lost = [u for u in written if u < api.confirmed and u not in done]
    assert lost == [], f"{len(lost)} of {len(written)} people's messages lost for good"
    bot = await spawn(api, tmp_path, 1)
    for update in written:
        await ledger.wait_handled("tg", str(update), within=30)
    await stop(bot)
