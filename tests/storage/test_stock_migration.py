"""Migration 0014 turns the stock counters into devices: each place's available stock reads
the same afterwards, no reservation is lost, and the devices handed over before are counted
by the figures from their events. On the release-0 file, and on both engines."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.records import PlaceId, RequestId
from storage import db as db_module
from storage import postgres as postgres_module
from storage import territory as territory_store
from storage.db import migrations
from storage.engines import open_database
from storage.sqlite import SqliteStorage
from tests.operating.test_upgrade import FIXTURE
from tests.support import Clock, make_chat, texts

LABEL = re.compile(r"HA-[34679ACDEFGHJKMNPQRTUVWXY]{4}")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BEFORE = 10
"""The migrations a database had before the chain's."""

OLD_STOCK = {  # release-0's counters: (place, kind) -> available, two laptops held at 1
    (1, "laptop"): 4, (1, "desktop"): 3, (1, "tablet"): 2, (2, "laptop"): 4,
    (2, "desktop"): 2, (3, "laptop"): 2, (3, "tablet"): 1, (4, "laptop"): 1}


async def test_the_release_0_counters_become_devices_and_every_reservation_stays(
        tmp_path: Path, catalogs: None):
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, path)
    chat = await make_chat(path, Clock())
    try:
        conn = chat.app.db.conn
        assert not await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE name = 'stock'")
        async with chat.app.storage.transaction() as uow:
            assert {(int(p), k): n for (p, k), n in (await uow.catalogue.stock()).items()} \
                == OLD_STOCK
        ready = await conn.execute_fetchall(
            "SELECT place_id, kind, count(*) FROM devices WHERE state = 'ready'"
            " AND placeholder = 1 GROUP BY place_id, kind")
        assert {(p, k): n for p, k, n in ready} == {**OLD_STOCK, (1, "laptop"): 6}
        labels = [r[0] for r in await conn.execute_fetchall("SELECT label FROM devices")]
        assert len(labels) == 21 == len(set(labels))
        assert all(LABEL.fullmatch(label) for label in labels)
        assert [tuple(r) for r in await conn.execute_fetchall(
            "SELECT DISTINCT event, state FROM device_events")] == [("counted", "ready")]
        # The reservation held: a cancelled request gives its laptop back to the stock.
        await chat.say("presc", choice="rq:cx:1")
        sent = await chat.say("presc", choice="rq:cy:1")
        assert "est annulée" in texts(sent, "presc")
        async with chat.app.storage.transaction() as uow:
            assert await uow.catalogue.available(PlaceId(1), "laptop") == 5
        # A placeholder's card, for the staff of its place.
        sent = await chat.say("demo-veynes", labels[0])
        assert "ancien compteur de stock" in texts(sent, "demo-veynes")
    finally:
        await chat.app.close()


OLD_DATA = [
    ("INSERT INTO places (id, name, kind, commune) VALUES (1, 'Veynes', 'hub', '05179'),"
     " (2, 'Gap', 'hub', '05061')", ()),
    ("INSERT INTO users (key, role, created_at) VALUES ('cli:ana', 'prescriber', ?)", ("T",)),
    ("INSERT INTO stock (place_id, kind, available) VALUES (1, 'laptop', 2), (2, 'tablet', 0)",
     ()),
    ("INSERT INTO equipment_requests (id, reference, prescriber, needs, kind, situation, tier,"
     " price_cents, commune, epci, internet, age, status, place_id, created_at, updated_at)"
     " VALUES (1, 'DEM-2026-0001', 'cli:ana', '[]', 'laptop', 'student', 'free', 0, '05179',"
     " '200067445', 'yes', '18_25', 'accepted', 1, ?, ?),"
     " (2, 'DEM-2026-0002', 'cli:ana', '[]', 'tablet', 'student', 'free', 0, '05061',"
     " '200067825', 'yes', '18_25', 'handed_over', 2, ?, ?),"
     " (3, 'DEM-2026-0003', 'cli:ana', '[]', 'tablet', 'student', 'free', 0, '05061',"
     " '200067825', 'yes', '18_25', 'ready', 2, ?, ?)", ("T",) * 6),
    ("INSERT INTO request_events (request_id, event, place_id, at) VALUES"
     " (2, 'sent', 2, '2026-10-01T10:00:00+00:00'),"
     " (2, 'handed_over', 2, '2026-10-05T10:00:00+00:00')", ()),
]


async def test_on_both_engines_counters_held_requests_and_handovers_become_devices(
        database_target: Path | str, monkeypatch: pytest.MonkeyPatch):
    every = migrations()
    assert [n for n, _name, _sql in every].index(11) == BEFORE
    monkeypatch.setattr(db_module, "migrations", lambda: every[:BEFORE])
    monkeypatch.setattr(postgres_module, "migrations", lambda: every[:BEFORE])
    db = await open_database(database_target)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
        for sql, params in OLD_DATA:
            await conn.execute(sql, tuple(NOW.isoformat() if p == "T" else p for p in params))
    await db.close()
    monkeypatch.undo()
    db = await open_database(database_target)
    try:
        storage = SqliteStorage(db)
        async with storage.transaction() as uow:
            stock = await uow.catalogue.stock()
            assert {(int(p), k): n for (p, k), n in stock.items()} == {(1, "laptop"): 2}
            assert await uow.catalogue.held(PlaceId(2), "tablet") == 1  # ready: still held
            assert len(await uow.devices.ready_at(PlaceId(1), "laptop")) == 3
            assert len(await uow.devices.ready_at(PlaceId(2), "tablet")) == 1
            [handed] = await uow.devices.of_request(RequestId(2))
            assert handed.placeholder and handed.place_id == 2
            events = await uow.reports.events(datetime(2026, 1, 1, tzinfo=UTC), NOW)
        assert [(e.indicator.value, e.epci, e.count, e.kind, e.at.month) for e in events
                if e.indicator.value in ("handed_over", "reconditioned")] == [
            ("handed_over", "200067825", 1, "tablet", 10)]
    finally:
        await db.close()
