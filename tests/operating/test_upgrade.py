"""A database made by an earlier release opens with today's code, upgraded in place, nothing lost.

``tests/fixtures/release-0.sqlite3`` was written by ``scripts/make_upgrade_fixture.py`` with
the release before the storage rebuild (the demo network, two requests, two lots, one
certificate, a beneficiary with a booking and its reminders); ``release-0.json`` says what it
holds. The fixture is never remade: it is what a network's file of that time looks like.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support import Clock, make_chat, texts

FIXTURE = Path(__file__).parent.parent / "fixtures" / "release-0.sqlite3"
MANIFEST = json.loads(FIXTURE.with_suffix(".json").read_text())


async def test_the_old_release_database_opens_and_keeps_its_proofs_and_bookings(
        tmp_path: Path, catalogs: None):
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, path)
    clock = Clock()
    chat = await make_chat(path, clock)
    try:
        sent = await chat.say("auditor", f"/verifier {MANIFEST['certificate']}")
        assert f"Certificat authentique : lot {MANIFEST['lot_reference']}" in texts(sent)
        rows = await chat.app.db.conn.execute_fetchall(
            "SELECT workshop_id, user_key FROM bookings")
        assert [list(r) for r in rows] == MANIFEST["bookings"]
        sent = await chat.say("benef", "menu")
        assert sent, "the beneficiary got no answer"
        await chat.say("presc", choice="rq:mine")
        sent = await chat.say("presc", choice="rq:mine")
        assert MANIFEST["request_reference"] in texts(sent, "presc")
        clock.advance(days=1, hours=5)
        reminded = await chat.app.core.run_job(next(
            j for j in chat.app.core.jobs if "remind" in j.name))
        await chat.app.dispatcher.drain()
        assert reminded >= 1, "the reminder due was not sent"
    finally:
        await chat.app.close()
