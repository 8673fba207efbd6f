"""A populated network shared by the security tests, built once and copied per test.

Owners of the targets the other tests try to reach:

* access request n° 1: ``ana`` (pending); n° 2: ``rita`` (rejected); n° 3: ``rev`` (approved
  as prescriber, then revoked by the coordinator);
* equipment request n° 1 (``DEM-2026-0001``): ``demo-accomp``, routed to the Veynes hub;
* lot n° 1 (``LOT-2026-0001``): ``acme``, dropped at Veynes, one wipe recorded and certified;
  lot n° 2: ``dona`` (the donor actor);
* beneficiary ``lea`` (code from ``demo-veynes``), one booking, help ticket n° 1; beneficiary
  ``ben`` (the beneficiary actor) joined with another code, no booking.

Building it talks through ~150 messages, so it is done once per session into a template file
that each test copies (``scenario_chat``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import Chat, Clock, make_chat, texts

REQUEST_ACCESS = ["bonjour", "1", "1", "CCAS de Veynes", "3 rue de la Gare", "veynes",
                  "Ana Martin", "Conseillère sociale", "06 12 34 56 78", "1"]
"""A professional's access request, confirmed (from tests/handlers/test_access_requests)."""

EQUIPMENT = ["1, 4", "4", "Passer", "veynes", "Ordinateur portable", "2", "Léa", "2", "1"]
"""An equipment request's answers after ``rq:new``, confirmed."""

ORGANISATION_LOT = ["bonjour", "2", "1", "ACME Informatique 73282932000074", "Jeanne Dupont",
                    "06 12 34 56 78", "12 portables, 5 écrans", "2, 5, 7", "2", "5", "veynes",
                    "1", "1"]
"""An organisation's lot, confirmed (from tests/handlers/test_donations)."""

WIPE = ["1", "Lenovo ThinkPad T480", "pf-1abc 23", "1", "passer", "WD-123", "1", "0.34",
        "1", "1", "maintenant", "maintenant", "1"]

CODE = re.compile(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}")

ACTORS = {
    "unknown": "mallory",
    "beneficiary": "ben",
    "donor": "dona",
    "prescriber": "demo-fs",
    "place_staff": "demo-laragne",
    "reconditioner": "demo-recond",
    "coordinator": "coord",
    "revoked": "rev",
    "rejected": "rita",
}
"""Who plays each role; none of them owns the targets above (except coordinator powers)."""


async def code_from(chat: Chat, staff: str) -> str:
    sent = await chat.say(staff, choice="bs:code")
    found = CODE.search(texts(sent, staff))
    assert found, texts(sent, staff)
    return found.group(0)


async def member_number(chat: Chat, who: str) -> int:
    async with chat.app.storage.transaction() as uow:
        return next(m.number for m in await uow.coordination.members()
                    if m.user == f"cli:{who}")


async def rows(chat: Chat, sql: str, *params: object) -> list[tuple]:
    async with chat.app.db.conn.execute(sql, params) as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def build_scenario(chat: Chat) -> None:
    # access requests: pending, rejected, approved then revoked
    await chat.script("ana", *REQUEST_ACCESS)
    await chat.script("rita", *REQUEST_ACCESS)
    await chat.say("coord", choice="acc:no:2")
    await chat.script("rev", *REQUEST_ACCESS)
    await chat.say("coord", choice="acc:ok:3")
    await chat.say("coord", choice=f"co:mvy:{await member_number(chat, 'rev')}")
    # an equipment request
    await chat.say("demo-accomp", choice="rq:new")
    await chat.script("demo-accomp", *EQUIPMENT)
    # two lots, the first one wiped and certified
    await chat.script("acme", *ORGANISATION_LOT)
    await chat.script("dona", *ORGANISATION_LOT)
    await chat.say("demo-recond", choice="lot:rcv:1")
    await chat.say("demo-recond", choice="lot:wipe:1")
    await chat.script("demo-recond", *WIPE)
    await chat.say("demo-recond", choice="lot:cert:1")
    # beneficiaries
    await chat.script("lea", await code_from(chat, "demo-veynes"), "1", "Léa", "1")
    offered = await chat.say("lea", choice="bn:book")
    booking = next(cid for m in offered for cid, _l in m.choices if cid.startswith("bn:bk:"))
    await chat.say("lea", choice=booking)
    await chat.say("lea", choice="bn:help")
    await chat.say("lea", "Je ne trouve pas internet")
    await chat.script("ben", await code_from(chat, "demo-veynes"), "1", "Ben", "1")
    # everybody back home, no conversation left open
    for who in ("ana", "rita", "rev", "demo-accomp", "acme", "dona", "demo-recond", "lea",
                "ben", "coord", "demo-veynes"):
        await chat.say(who, "menu")


async def check_scenario(chat: Chat) -> None:
    assert await rows(chat, "SELECT id, status FROM access_requests ORDER BY id") == [
        (1, "pending"), (2, "rejected"), (3, "revoked")]
    assert await rows(chat, "SELECT role FROM users WHERE key = 'cli:rev'") == [(None,)]
    assert await rows(chat, "SELECT reference, prescriber FROM equipment_requests") == [
        ("DEM-2026-0001", "cli:demo-accomp")]
    assert [r[0] for r in await rows(chat, "SELECT reference FROM lots ORDER BY id")] == [
        "LOT-2026-0001", "LOT-2026-0002"]
    assert len(await rows(chat, "SELECT * FROM erasure_certificates")) == 1
    assert len(await rows(chat, "SELECT * FROM bookings")) == 1
    assert len(await rows(chat, "SELECT * FROM help_tickets")) == 1
    assert len(await rows(chat, "SELECT * FROM beneficiaries")) == 2


@pytest.fixture(scope="session")
def scenario_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario database file, built once (in its own event loop)."""
    import asyncio

    path = tmp_path_factory.mktemp("scenario") / "template.sqlite3"

    async def build() -> None:
        bot = await make_chat(path, Clock())
        try:
            await build_scenario(bot)
            await check_scenario(bot)
        finally:
            await bot.app.close()

    asyncio.run(build())
    return path


def copy_database(source: Path, target: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture
async def scenario_chat(scenario_template: Path, tmp_path: Path) -> AsyncIterator[Chat]:
    """A bot on a fresh copy of the scenario database."""
    db = copy_database(scenario_template, tmp_path / "scenario.sqlite3")
    bot = await make_chat(db, Clock())
    yield bot
    await bot.app.close()


async def test_the_scenario_is_what_the_security_tests_expect(scenario_chat: Chat):
    await check_scenario(scenario_chat)
