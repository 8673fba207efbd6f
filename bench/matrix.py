"""Matrix round trip benchmark: from a person's message to the bot's reply, on a real Synapse.

One local homeserver (``tests/bot/synapse.py``: installed once into ``var/synapse-venv``,
127.0.0.1, no federation); a person (``tests/bot/matrix_person.py``, a matrix-nio client)
opens a plain direct room with each contender and says "bonjour" again and again, one message
at a time, timing each answer:

* bare: a matrix-nio client that joins when invited and echoes every text back;
* filiere-bot: the real process (``bot.serve.serve``), each message routed and committed to
  SQLite with its reply in the outbox, then sent by the dispatcher (pacing off, as for the
  bare bot).

Both bots run in child processes; rounds alternate. Figures: p50 and p99 round trip, and the
ratio of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, heading, machine, median, percentile


async def bare(homeserver: str, user_id: str, token: str, device: str) -> None:
    """The bare echo bot, until killed: join on invitation, echo texts, skip the backlog."""
    from nio import AsyncClient, InviteMemberEvent, MatrixRoom, RoomMessageText

    client = AsyncClient(homeserver, user_id)
    client.restore_login(user_id, device, token)

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user_id:
            await client.room_send(room.room_id, "m.room.message",
                                   {"msgtype": "m.text", "body": event.body})

    client.add_event_callback(on_invite, InviteMemberEvent)  # type: ignore[arg-type]
    await client.sync(timeout=0, full_state=True)  # invitations kept, old messages skipped
    client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
    await client.sync_forever(timeout=30_000)


async def filiere(homeserver: str, user_id: str, password: str, workdir: Path) -> None:
    """The real bot process until killed."""
    from bot.serve import serve
    from bot.settings import load

    settings = load({"MATRIX_HOMESERVER": homeserver, "MATRIX_USER_ID": user_id,
                     "MATRIX_PASSWORD": password, "MATRIX_STORE_PATH": str(workdir / "store"),
                     "MATRIX_MESSAGES_PER_SECOND": "0", "FILIERE_DEMO": "no",
                     "FILIERE_COORDINATORS": "cli:coord",
                     "FILIERE_DATABASE": str(workdir / "bot.sqlite3")}, dotenv=None)
    await serve(settings, asyncio.Event())


async def one_round(synapse: object, contender: str, messages: int, tmp: Path) -> list[float]:
    """A fresh bot account and person; the round trips of ``messages`` messages, seconds."""
    from tests.bot.matrix_person import Person
    from tests.bot.synapse import Synapse

    assert isinstance(synapse, Synapse)
    tag = secrets.token_hex(3)
    bot = await asyncio.to_thread(synapse.register, f"{contender}{tag}")
    someone = await asyncio.to_thread(synapse.register, f"person{tag}")
    workdir = tmp / tag
    workdir.mkdir()
    if contender == "bare":
        args = ["--child", "bare", "--user", bot.user_id, "--token", bot.access_token,
                "--device", bot.device_id]
    else:
        args = ["--child", "filiere", "--user", bot.user_id, "--password", bot.password,
                "--workdir", str(workdir)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.matrix", "--homeserver", synapse.url, *args,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.DEVNULL)
    person = Person(synapse.url, someone, workdir / "person")
    trips: list[float] = []
    try:
        await person.start()
        await person.open_direct_room(bot.user_id)
        await person.wait_joined(bot.user_id, within=60)
        await person.quiet(1.0)  # a greeting on joining, if any
        await person.ask("bonjour", within=30)  # warm-up
        for _n in range(messages):
            started = time.perf_counter()
            await person.ask("bonjour", within=30)
            trips.append(time.perf_counter() - started)
    finally:
        await person.stop()
        proc.kill()
        await proc.wait()
    return trips


async def run(rounds: int, messages: int) -> dict[str, float]:
    from tests.bot.synapse import SynapseUnavailable, ensure_installed, running_synapse

    heading("matrix: round trip from a person's message to the reply, on a local Synapse")
    print(machine())
    try:
        await asyncio.to_thread(ensure_installed)
    except SynapseUnavailable as exc:
        print(f"  skipped: Synapse cannot be installed here ({exc})")
        return {}
    trips: dict[str, list[float]] = {"bare": [], "filiere": []}
    with tempfile.TemporaryDirectory(prefix="filiere-bench-") as tmp:
        servers = running_synapse(Path(tmp) / "synapse")
        synapse = await asyncio.to_thread(next, servers)
        try:
            for number in range(rounds):
                for contender in ("bare", "filiere"):
                    trips[contender] += await one_round(synapse, contender, messages,
                                                        Path(tmp))
                print(f"  round {number + 1}: bare p50 "
                      f"{percentile(trips['bare'], 0.5) * 1000:.0f} ms   filiere-bot p50 "
                      f"{percentile(trips['filiere'], 0.5) * 1000:.0f} ms", flush=True)
        finally:
            await asyncio.to_thread(next, servers, None)
    figures = {f"{c}_{p}": percentile(trips[c], q) * 1000
               for c in trips for p, q in (("p50", 0.5), ("p99", 0.99))}
    print(f"  {rounds * messages} messages per bot, one at a time")
    for contender, label in (("bare", "bare matrix-nio echo"),
                             ("filiere", "filiere-bot (routed, committed, sent)")):
        print(f"  {label}: p50 {figures[contender + '_p50']:.0f} ms, "
              f"p99 {figures[contender + '_p99']:.0f} ms")
    ratio = median(trips["filiere"]) / median(trips["bare"])
    print(f"  ratio of median round trips filiere-bot/bare: {ratio:.2f}")
    return {**figures, "ratio": ratio}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--child", choices=("bare", "filiere"), help=argparse.SUPPRESS)
    for name in ("--homeserver", "--user", "--token", "--device", "--password"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "bare":
        asyncio.run(bare(args.homeserver, args.user, args.token, args.device))
    elif args.child == "filiere":
        asyncio.run(filiere(args.homeserver, args.user, args.password, args.workdir))
    else:
        asyncio.run(run(args.rounds, args.messages))


if __name__ == "__main__":
    main()
