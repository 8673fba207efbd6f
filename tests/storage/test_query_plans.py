"""The statements a person's message or a frequent job runs find their rows through an index.

At a country's scale (a million delivered messages, two million reminders, ten thousand
professionals) a statement that reads a whole table holds the event loop for a tenth of a
second to several seconds: the outbox read behind every delivery round sorted every pending
message, "forget me" and the retention purge read every message ever sent to find one
person's, withdrawing consent read every pending reminder, and the professional space walked
every approved access request once per professional. Each repository method is run against a
connection that only records its statements; SQLite's plan of each, on the migrated schema,
says how it would find its rows. Nothing is timed.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.messages import Outgoing, Priority, UserKey
from flows.records import PlaceId
from flows.routing import Reach
from flows.text import verbatim
from storage.beneficiaries import SqliteBeneficiaryRepo
from storage.catalogue import SqliteCatalogueRepo
from storage.coordination import SqliteCoordinationRepo
from storage.db import Database
from storage.devices import SqliteDeviceRepo
from storage.mail import SqliteMailRepo
from storage.outbox import SqliteOutboxRepo
from storage.places import SqlitePlaceRepo
from storage.privacy import SqlitePrivacyRepo
from storage.reminders import SqliteReminderRepo
from storage.requests import SqliteRequestRepo
from storage.reservations import SqliteReservationRepo

NOW = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
ANA = UserKey("tg:1")


class _Nothing:
    """What a recorded statement gives back: no rows to read, one row changed (so that a
    method goes on to its next statements), and row 1 for an ``INSERT ... RETURNING id``."""

    rowcount = 1

    def __init__(self, sql: str = "") -> None:
        self._returning = "RETURNING" in sql

    async def fetchone(self) -> tuple[int] | None:
        return (1,) if self._returning else None

    async def fetchall(self) -> list[Any]:
        return []

    async def close(self) -> None:
        return None


class _Statement:
    def __init__(self, sql: str) -> None:
        self._sql = sql

    def __await__(self) -> Any:
        return _Nothing(self._sql)
        yield

    async def __aenter__(self) -> _Nothing:
        return _Nothing(self._sql)

    async def __aexit__(self, *exc: object) -> None:
        return None


class Recording:
    """A connection that runs nothing and keeps the statements a repository sends it."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Statement:
        self.statements.append((sql, tuple(params)))
        return _Statement(sql)

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        self.statements.append((sql, tuple(params)))
        return []

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> _Nothing:
        for params in rows:
            self.statements.append((sql, tuple(params)))
        return _Nothing()


Call = Callable[[Any], Awaitable[object]]

HOT: dict[str, tuple[Call, list[str]]] = {
    # name: (the repository call, what its plans must say)
    "the dispatcher's round": (
        lambda c: SqliteOutboxRepo(c).due(NOW, ["tg", "mx"], 100),
        ["SCAN outbox USING INDEX outbox_queue", "USING INDEX outbox_recipient"]),
    "a reply raising its recipient's earlier messages": (
        lambda c: SqliteOutboxRepo(c).add(
            Outgoing(ANA, (verbatim("Bonjour"),), priority=Priority.REPLY), NOW),
        ["SEARCH outbox USING INDEX outbox_recipient (recipient=? AND status=?)"]),
    "the weekly purge of delivery records": (
        lambda c: SqliteOutboxRepo(c).purge_done_before(NOW, 5000),
        ["USING INDEX outbox_done (sent_at<?)"]),
    "forgetting a beneficiary, their messages with them": (
        lambda c: SqliteBeneficiaryRepo(c).forget(ANA),
        ["SEARCH outbox USING INDEX outbox_recipient (recipient=?)",
         "public_waitlist USING INDEX public_waitlist_user (user_key=?)"]),
    "the door's catalogue: the kinds someone waits for": (
        lambda c: SqliteReservationRepo(c).waiting_kinds(ANA),
        ["public_waitlist_user (user_key=?)"]),
    "a device ready: who waits first for its kind": (
        lambda c: SqliteReservationRepo(c).first_waiting("laptop"),
        ["public_waitlist_kind (kind=?)"]),
    "erasing a professional, their messages with them": (  # (the rest of it is rare)
        lambda c: _only("outbox", SqlitePrivacyRepo(c).erase_professional(ANA, NOW), c),
        ["SEARCH outbox USING INDEX outbox_recipient (recipient=?)"]),
    "the retention purge's page of beneficiaries": (
        lambda c: SqliteBeneficiaryRepo(c).inactive_since(NOW, "", 1000),
        ["(user_key>?)", "SEARCH b USING INDEX bookings_user (user_key=?)"]),
    "dropping someone's pending reminders": (
        lambda c: SqliteReminderRepo(c).drop_pending(ANA),
        ["reminders_user (user_key=? AND status=?)"]),
    "someone's pending reminders": (
        lambda c: SqliteReminderRepo(c).pending_for(ANA),
        ["reminders_user (user_key=? AND status=?)"]),
    "a professional opening their space": (
        lambda c: SqliteCoordinationRepo(c).member_of(ANA),
        ["access_requests_user_status (user_key=? AND status=?)"]),
    "the members of a structure": (
        lambda c: SqliteCoordinationRepo(c).members_at("05179"),
        ["access_requests_commune (commune=? AND status=?)",
         "access_requests_user_status (user_key=? AND status=?)"]),
    "a member by number": (
        lambda c: SqliteCoordinationRepo(c).member(12),
        ["access_requests_user_status (user_key=? AND status=?)"]),
    "the places in reach of a commune": (
        lambda c: SqlitePlaceRepo(c).in_reach(Reach("05179", "200067445", PlaceId(3))),
        ["places_commune (commune=?)", "place_coverage_epci (epci=?)"]),
    "their stock": (
        lambda c: SqliteCatalogueRepo(c).stock_in_reach(Reach("05179", "200067445", None)),
        ["places_commune (commune=?)", "place_coverage_epci (epci=?)"]),
    "one place's stock of one kind, before a request holds it": (
        lambda c: SqliteCatalogueRepo(c).available(PlaceId(3), "laptop"),
        ["devices_stock (place_id=? AND state=? AND kind=?)",
         "equipment_requests_place (place_id=?"]),
    "a place's ready devices, offered at a handover": (
        lambda c: SqliteDeviceRepo(c).ready_at(PlaceId(3), "laptop", 8),
        ["devices_stock (place_id=? AND state=?)"]),
    "a sticker scanned": (
        lambda c: SqliteDeviceRepo(c).by_label("HA-7K3P"),
        ["sqlite_autoindex_devices_1 (label=?)"]),
    "the help places near a person, on the handover kit": (
        lambda c: SqliteCoordinationRepo(c).mediation_near("05179", "200067445", 5),
        ["mediation_places_commune (commune=?)"]),
    "the staff of a place": (
        lambda c: SqliteRequestRepo(c).place_staff(PlaceId(3)),
        ["USING INDEX users_place (place_id=? AND role=?)"]),
    "the e-mail sender's round": (
        lambda c: SqliteMailRepo(c).due(NOW, 20),
        ["SCAN m USING INDEX mail_outbox_queue", "lots USING INTEGER PRIMARY KEY"]),
    "who among a message's recipients wants their notices by e-mail": (
        lambda c: SqliteMailRepo(c).subscribed([ANA]),
        ["mail_addresses USING COVERING INDEX"]),
}

async def _only(table: str, call: Awaitable[object], recording: Recording) -> None:
    """Keep only the statements of ``call`` about ``table``."""
    await call
    recording.statements[:] = [(sql, params) for sql, params in recording.statements
                               if f" {table} " in f"{sql} "]


WHOLE_TABLE = re.compile(r"^SCAN (?!json_each VIRTUAL TABLE)(?!outbox USING INDEX outbox_queue)"
                         r"(?!m USING INDEX mail_outbox_queue)")
"""A plan line that reads a whole table or index: only the outbox's sending order, and the
e-mails queue's (pending ones only), are walked (and the walk stops at a round's worth)."""


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Iterable[sqlite3.Connection]:
    """A database with every migration applied, to ask SQLite for its plans."""
    import asyncio

    path: Path = tmp_path_factory.mktemp("plans") / "schema.sqlite3"

    async def migrate() -> None:
        db = await Database.open(path)
        await db.close()

    asyncio.run(migrate())
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


def plans(conn: sqlite3.Connection, statements: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    """Every line of the plans of ``statements``."""
    lines = []
    for sql, params in statements:
        lines += [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    return lines


@pytest.mark.parametrize("name", list(HOT))
async def test_hot_statements_search_an_index_and_read_no_whole_table(
    name: str, schema: sqlite3.Connection,
):
    call, expected = HOT[name]
    recording = Recording()
    await call(recording)
    lines = plans(schema, recording.statements)
    for wanted in expected:
        assert any(wanted in line for line in lines), (wanted, lines)
    assert not [line for line in lines if WHOLE_TABLE.match(line)], lines
    assert not [line for line in lines if "TEMP B-TREE FOR ORDER BY" in line
                and name == "the dispatcher's round"], lines
