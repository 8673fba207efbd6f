"""Writes tests/fixtures/release-0.sqlite3: a database made by the release before the storage
rebuild, kept so that later releases prove they open and upgrade it with nothing lost.

Run once with that release's code (``python -m scripts.make_upgrade_fixture``); the file and
its manifest (what it holds, for the upgrade test to check) are committed, never remade.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path

from tests.handlers.test_donations import WIPE
from tests.security.world import ROLES, build_world
from tests.support import Clock, make_chat, texts

OUT = Path("tests/fixtures/release-0.sqlite3")
CERT = re.compile(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}")


async def main() -> None:
    clock = Clock()
    world = await build_world(OUT, clock)
    chat = await make_chat(OUT, clock)
    try:
        recond = "demo-recond"
        await chat.say(recond, choice=f"lot:rcv:{world.lot}")
        await chat.say(recond, choice=f"lot:wipe:{world.lot}")
        await chat.script(recond, *WIPE)
        sent = await chat.say(recond, choice=f"lot:cert:{world.lot}")
        found = CERT.search(texts(sent, "donor"))
        assert found, texts(sent)
        offered = await chat.say("benef", choice="bn:book")
        booking = next(cid for m in offered for cid, _l in m.choices if cid.startswith("bn:bk:"))
        await chat.say("benef", choice=booking)
        await chat.say("benef", "1")
    finally:
        await chat.app.close()
    db = sqlite3.connect(OUT)
    tables = [t for (t,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    count = "SELECT count(*) FROM {}"  # table names from sqlite_master, not from a person
    counts = {t: db.execute(count.format(t)).fetchone()[0] for t in tables}
    manifest = {
        "made_at": clock().isoformat(),
        "user_version": db.execute("PRAGMA user_version").fetchone()[0],
        "certificate": found.group(0),
        "lot_reference": world.lot_ref,
        "request_reference": world.request_ref,
        "beneficiary": ROLES["beneficiary"],
        "bookings": db.execute("SELECT workshop_id, user_key FROM bookings").fetchall(),
        "reminders": db.execute("SELECT * FROM reminders ORDER BY 1").fetchall(),
        "row_counts": counts,
    }
    db.execute("VACUUM")
    db.close()
    OUT.with_suffix(".json").write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    print(json.dumps(manifest["row_counts"]))


if __name__ == "__main__":
    OUT.unlink(missing_ok=True)
    asyncio.run(main())
