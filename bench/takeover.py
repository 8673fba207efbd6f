"""Two filiere-bot processes on one database: a burst with one and with two, and take-over.

The design of issue 17 ("Several processes"): every process started on the same database
(the same SQLite file, or the same PostgreSQL database) competes for one lead
(``bot/serve.py``; a lock on a file beside the SQLite file, an advisory lock on PostgreSQL).
The one that holds it serves: it receives, sends and runs the jobs; the others stand by,
trying again every second, and one of them takes over when the serving process ends,
however it ends. A second process is thus there for continuity, not for speed.

On each engine, against the local Bot API stand-in (``tests/bot/fake_bot_api.py``,
127.0.0.1), the processes run as deployed (``python -m bot run``, Telegram by long polling;
``tests/faults/test_two_processes_burst.py`` runs them the same way), in one run:

* **a burst with one process, then with two**: 300 messages to 300 people written to the
  outbox at once (a broadcast), pacing off (settings 0) so that it goes out as fast as the
  process can; the rate at the server, first message accepted to last, and the CPU each
  process spent meanwhile; one, two, two, one processes in turn, medians. With two, one
  serves and the other stands by: about the same rate is expected, and the standby's CPU
  shows what standing by costs;
* **take-over**: two processes, a burst paced as deployed (30 messages a second, Telegram's
  limit; the setting's default); the serving one is killed with SIGKILL as the server
  accepts a message at a random point (seeded), five times; after each kill a new process
  is started to stand by (as a service manager restarts a dead unit), and the next kill
  waits until it does. Take-over time: from the kill to the first message the server
  accepts from the new serving process; p50 and max.

Figures, not a test: the fault test checks that nothing is lost and that a repeat is only
the one message in flight; here the repeats are counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, heading, machine, median
from tests.bot.fake_bot_api import FakeBotApi

TOKEN = "123456789:AAtakeoverBENCHtakeoverbench00000"
SEED = 20261206
BURST = 300
KILLS = 5
PACED_BURST = 1_500
"""Messages of the paced burst the kills cut into (50 s at 30 a second: more than the
kills need)."""
AHEAD = (15, 45)
"""A kill comes this many messages after the previous take-over (0.5-1.5 s at 30/s)."""
FIRST_CHAT = 800_000
STANDING_BY = "standing by"
"""What a process logs when another one serves (``bot/serve.py``)."""


class Stand(FakeBotApi):
    """The stand-in server, able to kill the serving process the moment it accepts a given
    message (as ``tests/faults/test_process_kill_telegram.py``'s), and noting when."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.victim: tuple[asyncio.subprocess.Process, int] | None = None
        self.killed_at = 0.0

    def kill_at_message(self, process: asyncio.subprocess.Process, count: int) -> None:
        self.victim = (process, count)

    def _record(self, method: str, chat_id: int, message: dict[str, Any],
                data: bytes | None = None) -> dict[str, Any]:
        recorded = super()._record(method, chat_id, message, data)
        if self.victim is not None and len(self.sent) >= self.victim[1]:
            process, _ = self.victim
            self.victim = None
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                self.killed_at = time.monotonic()
        return recorded

    def polls_since(self, calls: int) -> bool:
        return any(method == "getUpdates" for method, _ in self.calls[calls:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``); 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Bot:
    """One ``python -m bot run`` process; its log (stderr, at INFO) in a file."""

    process: asyncio.subprocess.Process
    log: Path

    def logged(self, words: str) -> bool:
        return words in self.log.read_text(errors="replace")

    async def standing_by(self, within: float = 60.0) -> None:
        """Until the process says it stands by (it is up, and tries the lead every second)."""
        for _ in range(int(within / 0.05)):
            if self.logged(STANDING_BY):
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(f"no standby: {self.log.read_text(errors='replace')[-2000:]}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Deployment:
    """Processes started on one database against one server."""

    def __init__(self, server: Stand, workdir: Path, target: str, paced: bool) -> None:
        self.server, self.workdir, self.target, self.paced = server, workdir, target, paced
        self.started: list[Bot] = []

    async def spawn(self) -> Bot:
        log = self.workdir / f"run-{len(self.started):02d}.log"
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
               "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": self.server.url,
               "FILIERE_DATABASE": self.target, "FILIERE_DEMO": "no",
               "FILIERE_LOG_LEVEL": "INFO", "FILIERE_QUIET_HOURS": "00:00-00:00"}
        if not self.paced:
            env |= {"TELEGRAM_MESSAGES_PER_SECOND": "0", "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0"}
        with log.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.takeover", "--child", cwd=self.workdir, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=err)
        bot = Bot(process, log)
        self.started.append(bot)
        return bot

    async def serving(self) -> Bot:
        """The first process, once it long-polls."""
        calls = len(self.server.calls)
        bot = await self.spawn()
        try:
            await self.server.wait_until(lambda: self.server.polls_since(calls), within=60)
        except TimeoutError:
            raise RuntimeError(bot.log.read_text(errors="replace")[-2000:]) from None
        return bot

    async def stop(self) -> None:
        for bot in self.started:
            await bot.stop()


async def queue_burst(target: str, count: int, first_chat: int) -> None:
    """``count`` messages to as many people in the outbox at once, as a broadcast leaves
    them; each text unique, so that a repeat shows."""
    from bot.app import build
    from bot.settings import load
    from flows.messages import Outgoing, Priority, UserKey
    from flows.text import verbatim

    app = await build(load({"FILIERE_DEMO": "no"}, dotenv=None), {}, database=target)
    try:
        now = app.dispatcher.clock()
        async with app.storage.transaction() as uow:
            for n in range(count):
                to = UserKey(f"tg:{first_chat + n}")
                await uow.users.create(to, None, now)
                await uow.outbox.add(Outgoing(to, (verbatim(f"Message n° {first_chat + n}"),),
                                              priority=Priority.BULK), now)
    finally:
        await app.close()


@dataclass
class Burst:
    rate: float
    serving_cpu_ms: float
    standby_cpu_s: float | None


def burst_rate(server: Stand) -> float:
    """Messages of the burst a second at the server, first accepted to last."""
    times = [s.at for s in server.sent if s.text.startswith("Message n°")]
    return (len(times) - 1) / (times[-1] - times[0])


async def burst(target: str, workdir: Path, pair: bool, first_chat: int) -> Burst:
    """A burst of :data:`BURST` messages, pacing off, with one process or two."""
    server = Stand(TOKEN)
    await server.start()
    deployment = Deployment(server, workdir, target, paced=False)
    try:
        serving = await deployment.serving()
        standby = None
        if pair:
            standby = await deployment.spawn()
            await standby.standing_by()
        await queue_burst(target, BURST, first_chat)
        cpu = cpu_seconds(serving.process.pid)
        idle = cpu_seconds(standby.process.pid) if standby is not None else 0.0
        # Someone writes: the reply wakes the dispatcher, which then finds the burst too
        # (else it would at its next idle round, within 5 s).
        server.say(first_chat - 1, "bonjour")
        await server.wait_accepted(BURST + 1, within=300)
        cpu = cpu_seconds(serving.process.pid) - cpu
        if standby is not None:
            idle = cpu_seconds(standby.process.pid) - idle
    finally:
        await deployment.stop()
        await server.stop()
    return Burst(burst_rate(server), cpu / BURST * 1000, idle if pair else None)


@dataclass
class Takeover:
    times: list[float]
    repeated: int
    accepted: int


async def takeover(target: str, workdir: Path, rng: random.Random) -> Takeover:
    """Two processes, a paced burst, the serving one killed :data:`KILLS` times."""
    server = Stand(TOKEN)
    await server.start()
    deployment = Deployment(server, workdir, target, paced=True)
    times: list[float] = []
    try:
        serving = await deployment.serving()
        standby = await deployment.spawn()
        await standby.standing_by()
        await queue_burst(target, PACED_BURST, FIRST_CHAT + 100_000)
        server.say(FIRST_CHAT - 1, "bonjour")  # wakes the dispatcher (see ``burst``)
        await server.wait_accepted(2, within=60)
        for _ in range(KILLS):
            server.kill_at_message(serving.process, len(server.sent) + rng.randint(*AHEAD))
            async with asyncio.timeout(120):
                await serving.process.wait()
            killed = server.killed_at
            await server.wait_until(lambda at=killed: server.sent[-1].at > at, within=60)
            times.append(next(s.at for s in server.sent if s.at > killed) - killed)
            serving, standby = standby, await deployment.spawn()
            await standby.standing_by()
    finally:
        await deployment.stop()
        await server.stop()
    received = Counter(sent.text for sent in server.sent)
    return Takeover(times, sum(n - 1 for n in received.values()), len(server.sent))


async def engine(label: str, tmp: Path, rng: random.Random, fresh: Any) -> None:
    """Both measures on one engine; ``fresh()`` gives a new empty database each time."""
    print(f"  {label}:", flush=True)
    runs: dict[str, list[Burst]] = {"one": [], "two": []}
    # One, two, two, one: the machine's speed drifts, and whoever always ran last would
    # always pay for it.
    for number, pair in enumerate((False, True, True, False)):
        name = "two" if pair else "one"
        async with fresh() as target:
            workdir = tmp / f"{label}-{number}-{name}"
            workdir.mkdir()
            done = await burst(target, workdir, pair, FIRST_CHAT + 10_000 * number)
        runs[name].append(done)
        print(f"    burst of {BURST:,}, {name} process{'es' if pair else ''}: "
              f"{done.rate:.0f} msg/s, {done.serving_cpu_ms:.2f} ms of CPU a message "
              "(the serving process)"
              + (f"; the standby spent {done.standby_cpu_s:.2f} s of CPU meanwhile"
                 if pair else ""), flush=True)
    one = median([b.rate for b in runs["one"]])
    two = median([b.rate for b in runs["two"]])
    print(f"    median rate: one process {one:.0f} msg/s, two {two:.0f} msg/s: two / one "
          f"{two / one:.2f}x (one serves, the other stands by); CPU a message "
          f"{median([b.serving_cpu_ms for b in runs['one']]):.2f} ms and "
          f"{median([b.serving_cpu_ms for b in runs['two']]):.2f} ms")
    async with fresh() as target:
        workdir = tmp / f"{label}-takeover"
        workdir.mkdir()
        done = await takeover(target, workdir, rng)
    shown = ", ".join(f"{t:.2f}" for t in done.times)
    print(f"    take-over after SIGKILL, {len(done.times)} kills (paced at 30/s): p50 "
          f"{median(done.times):.2f} s, max {max(done.times):.2f} s ({shown} s); "
          f"{done.repeated} message(s) sent twice among {done.accepted:,} (in flight at a "
          "kill)", flush=True)


async def run() -> None:
    heading("takeover: two filiere-bot processes on one database (one serves, one stands by)")
    print(machine())
    print("  (a shared machine: other engineers' tests run beside it; read the ratios)")
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # a killed bot's calls
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="filiere-takeover-") as tmp:
        base = Path(tmp)
        files = iter(range(1000))

        @contextlib.asynccontextmanager
        async def sqlite_file() -> Any:
            yield str(base / f"bot-{next(files)}.sqlite3")

        await engine("SQLite", base, rng, sqlite_file)
        from tests.pg import Cluster, PostgresUnavailable, find_bindir

        try:
            cluster = Cluster(find_bindir(), durable=True)
            cluster.start()
        except PostgresUnavailable as exc:
            print(f"  PostgreSQL: not measured ({exc})")
            return
        try:
            await engine("PostgreSQL", base, rng, cluster.database)
        finally:
            cluster.stop()


def child() -> int:
    """``python -m bot run``, its HTTP client's line per request left out of the INFO log
    (read only for "standing by")."""
    from bot.cli import main as bot_main

    for name in ("httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return bot_main(["run"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.takeover",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.exit(child())
    asyncio.run(run())


if __name__ == "__main__":
    main()
