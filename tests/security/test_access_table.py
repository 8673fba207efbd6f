"""Every action and command against every role, each cell asserted allowed or refused.

The rows name a choice id (as a button would carry it, even forged: nothing stops a Telegram
client from sending any callback data) or a typed command, and the roles allowed. A cell is:

* allowed: the privileged effect happens (the state changes, or the protected data or next
  buttons are shown);
* refused: the effect does not happen, nothing in the database changes, the person gets an
  answer, and nobody else is sent anything.

The action prefixes and commands come from the composed router, so a feature that adds one
without a row here fails ``test_every_action_and_command_has_a_row``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Rendered
from flows.messages import UserKey
from tests.security.world import BENEFICIARY_NAME, DONOR_CONTACT, ROLES, World
from tests.support import Chat, Clock, make_chat

ALL = frozenset(ROLES)
STAFF = frozenset({"place_staff", "reconditioner", "coordinator"})
PROFESSIONALS = frozenset({"prescriber", "place_staff", "reconditioner", "coordinator"})
TODAY = "20261123"  # tests.support.START

TRANSIENT = frozenset({"outbox", "menus", "conversations", "processed_events", "audit_log",
                       "schema_migrations"})
"""Tables a refused attempt may touch: what is said, the last menu, the caller's own
conversation, the event ids, the audit of the attempt itself."""


@dataclass
class Cell:
    """One role trying one row in a copy of the world."""

    chat: Chat
    world: World
    role: str
    sent: list[Rendered]

    @property
    def actor(self) -> UserKey:
        return ROLES[self.role]

    def mine(self) -> list[Rendered]:
        return [m for m in self.sent if m.to == self.actor]

    def offers(self, prefix: str) -> bool:
        return any(cid.startswith(prefix) for m in self.mine() for cid, _label in m.choices)

    def shows(self, text: str) -> bool:
        return any(text in m.text or any(text in label for _c, label in m.choices)
                   for m in self.mine())

    async def value(self, sql: str, *params: object) -> Any:
        found = await self.chat.app.db.conn.execute_fetchall(sql, params)
        row = next(iter(found), None)
        return row[0] if row is not None else None


Check = Callable[[Cell], Awaitable[bool]]


def ids(world: World) -> dict[str, Any]:
    return {**dataclasses.asdict(world), "today": TODAY}


def offers(template: str) -> Check:
    async def check(cell: Cell) -> bool:
        return cell.offers(template.format(**ids(cell.world)))
    return check


def shows(template: str) -> Check:
    async def check(cell: Cell) -> bool:
        return cell.shows(template.format(**ids(cell.world)))
    return check


def replied() -> Check:
    async def check(cell: Cell) -> bool:
        return bool(cell.mine())
    return check


def in_flow(name: str) -> Check:
    async def check(cell: Cell) -> bool:
        state = await cell.value("SELECT state FROM conversations WHERE user_key = ?",
                                 cell.actor)
        return state is not None and f'"flow": "{name}"' in state
    return check


def holds(sql: str, expected: object, *names: str) -> Check:
    """The database answers ``sql`` (parameters named after the world's fields) with
    ``expected``."""
    async def check(cell: Cell) -> bool:
        params = [ids(cell.world)[n] for n in names]
        return await cell.value(sql, *params) == expected
    return check


def either(*checks: Check) -> Check:
    async def check(cell: Cell) -> bool:
        return any([await c(cell) for c in checks])
    return check


async def contact_blanked(cell: Cell) -> bool:
    name = await cell.value("SELECT contact_name FROM lots WHERE id = ?", cell.world.lot)
    return name != DONOR_CONTACT


async def professional_erased(cell: Cell) -> bool:
    role = await cell.value("SELECT coalesce(role, '-') FROM users WHERE key = ?", cell.actor)
    return role == "-" and cell.shows("votre accès professionnel a pris fin")


def status(table: str, field: str, expected: str) -> Check:
    return holds(f"SELECT status FROM {table} WHERE id = ?", expected, field)


@dataclass(frozen=True)
class Row:
    said: str
    """A choice id (``{field}`` filled from the world) or, when ``typed``, a typed text."""
    allowed: frozenset[str]
    happened: Check
    changes: bool = False
    """The allowed effect changes the database: each allowed role gets a fresh world."""
    typed: bool = False
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.said


def choice(said: str, allowed: Iterable[str], happened: Check, changes: bool = False,
           name: str = "") -> Row:
    return Row(said, frozenset(allowed), happened, changes, False, name)


def typed(said: str, allowed: Iterable[str], happened: Check, changes: bool = False) -> Row:
    return Row(said, frozenset(allowed), happened, changes, True)


ROWS = [
    # The home menu's doors and public information: everyone.
    *(choice(door, ALL, replied()) for door in ("m:pro", "m:give", "m:got", "m:help",
                                                "m:lang", "i:places", "i:workshops")),
    choice("m:pro", PROFESSIONALS, offers("i:places"), name="m:pro opens the pro space"),
    # Access requests: the coordination decides.
    choice("acc:ok:{access}", {"coordinator"}, status("access_requests", "access", "approved"),
           changes=True),
    choice("acc:no:{access}", {"coordinator"}, status("access_requests", "access", "rejected"),
           changes=True),
    choice("acc:pl:{approved}:{veynes}", {"coordinator"},
           holds("SELECT place_id FROM users WHERE key = 'cli:approved'", 1), changes=True),
    choice("q:access", {"coordinator"}, offers("acc:ok:{access}")),
    # Equipment requests: the owner prescriber; the staff of the place it is routed to.
    choice("rq:new", {"prescriber"}, in_flow("request")),
    choice("rq:mine", {"prescriber"}, offers("rq:cx:{request}")),
    choice("rq:cx:{request}", {"prescriber"}, offers("rq:cy:{request}")),
    choice("rq:cy:{request}", {"prescriber"},
           status("equipment_requests", "request", "cancelled"), changes=True),
    choice("rq:in", {"place_staff"}, offers("rq:ok:{request}")),
    choice("rq:stock", {"place_staff"}, offers("rq:st:")),
    choice("rq:st:laptop", {"place_staff"}, holds(
        "SELECT available - ? FROM stock WHERE place_id = ? AND kind = 'laptop'", 1,
        "laptops", "veynes"), changes=True),
    choice("rq:ok:{request}", {"place_staff"},
           status("equipment_requests", "request", "accepted"), changes=True),
    choice("rq:no:{request}", {"place_staff"}, offers("rq:nr:{request}:")),
    choice("rq:nr:{request}:other", {"place_staff"}, holds(
        "SELECT count(*) FROM request_events WHERE request_id = ? AND event = 'refused'", 1,
        "request"), changes=True),
    choice("rq:rd:{request}", {"place_staff"}, offers("rq:rdd:{request}:")),
    choice("rq:rdd:{request}:{today}", {"place_staff"},
           status("equipment_requests", "request", "ready"), changes=True),
    choice("rq:ho:{request}", {"place_staff"}, offers("rq:hy:{request}")),
    choice("rq:hn:{request}", {"place_staff"}, offers("rq:ho:{request}")),
    choice("rq:hy:{request}", {"place_staff"},
           status("equipment_requests", "request", "handed_over"), changes=True),
    # Donations: anyone gives; a donor sees and changes only their own lots.
    choice("don:new", ALL, in_flow("donation")),
    choice("don:forget", ALL, offers("don:forget:ok")),
    choice("don:list", {"donor"}, shows("{lot_ref}")),
    choice("don:cert:{lot}", {"donor"}, shows("{lot_ref}")),
    choice("don:forget:ok", {"donor"}, contact_blanked, changes=True),
    typed("/dons", {"donor"}, shows("{lot_ref}")),
    # Lots: the network's staff receive; only reconditioners record erasures and certify.
    choice("lot:list", STAFF, offers("lot:see:{lot}")),
    choice("lot:see:{lot}", STAFF, shows("{lot_ref}")),
    choice("lot:rcv:{lot}", STAFF, status("lots", "lot", "received"), changes=True),
    choice("lot:wipe:{lot}", {"reconditioner"}, in_flow("erasure")),
    choice("lot:cert:{lot}", {"reconditioner"}, offers("lot:wipe:{lot}")),
    typed("/effacements", {"reconditioner"}, in_flow("erasure_bulk")),
    # The after-donation service: place staff (the coordination too); beneficiaries.
    choice("bs:code", {"place_staff", "coordinator"}, either(
        offers("bs:code:"), holds("SELECT count(*) FROM join_codes WHERE used_at IS NULL", 1)),
        changes=True),
    choice("bs:code:{veynes}", {"place_staff", "coordinator"},
           holds("SELECT count(*) FROM join_codes WHERE used_at IS NULL", 1), changes=True),
    choice("bs:who", {"place_staff"}, offers("bs:del:{workshop}")),
    choice("bs:new", {"place_staff"}, in_flow("workshop.publish")),
    choice("bs:del:{workshop}", {"place_staff", "coordinator"}, offers("bs:delok:{workshop}")),
    choice("bs:delok:{workshop}", {"place_staff", "coordinator"},
           holds("SELECT count(*) FROM workshops WHERE id = ?", 0, "workshop"), changes=True),
    choice("tk:take:{ticket}", {"place_staff", "coordinator"},
           status("help_tickets", "ticket", "taken"), changes=True),
    choice("bn:menu", {"beneficiary"}, offers("bn:my")),
    choice("bn:book", {"beneficiary"}, offers("bn:bk:")),
    choice("bn:data", {"beneficiary"}, shows(BENEFICIARY_NAME)),
    choice("bn:rem:off", {"beneficiary"}, holds(
        "SELECT reminders FROM beneficiaries WHERE user_key = 'cli:benef'", 0), changes=True),
    choice("bn:fg:ok", {"beneficiary"}, holds(
        "SELECT count(*) FROM beneficiaries WHERE user_key = 'cli:benef'", 0), changes=True),
    # A professional deletes their own data (coordinators are configured; the world's
    # prescriber has a request open, and finishes it first: tests/security/test_sec_privacy).
    choice("pv:erase", {"place_staff", "reconditioner"}, offers("pv:erase:ok")),
    choice("pv:erase:ok", {"place_staff", "reconditioner"}, professional_erased, changes=True),
    # Coordination.
    choice("co:menu", {"coordinator"}, offers("co:acc")),
    choice("co:acc", {"coordinator"}, offers("co:m:")),
    choice("co:ref", set(), offers("acc:ok:{access}")),
    typed("/coordination", {"coordinator"}, offers("co:acc")),
    typed("coordination", {"coordinator"}, offers("co:acc")),
    # Words that work for everyone.
    *(typed(word, ALL, replied()) for word in (
        "/aide", "aide", "/help", "help", "/langue", "langue", "/language", "language",
        "/start", "/verifier EFF-2345-6789", "verifier", "/verify EFF-2345-6789", "rej",
        "/rej REJ 234 567", "stop")),
]
ROLE_KEYS = {key: role for role, key in ROLES.items()}


async def fingerprint(chat: Chat, actor: UserKey) -> dict[str, list[tuple[Any, ...]]]:
    """Every durable table's rows (users by key, role and place: the rest is the caller's own
    and created on first contact), to tell a refused attempt changed nothing."""
    conn = chat.app.db.conn
    tables = [r[0] for r in await conn.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table in sorted(set(tables) - TRANSIENT):
        if table == "users":
            rows = await conn.execute_fetchall(
                "SELECT key, role, place_id FROM users WHERE NOT (key = ? AND role IS NULL"
                " AND place_id IS NULL)", (actor,))
        else:
            rows = await conn.execute_fetchall(f"SELECT * FROM {table}")
        found[table] = sorted((tuple(r) for r in rows), key=repr)
    return found


async def attempt(chat: Chat, world: World, row: Row, role: str) -> Cell:
    said = row.said.format(**ids(world))
    who = ROLES[role]
    sent = await (chat.say(who, said) if row.typed else chat.say(who, choice=said))
    return Cell(chat, world, role, sent)


async def open_copy(world: World, path: Path) -> Chat:
    return await make_chat(world.copy(path), Clock())


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_each_role_is_allowed_or_refused(row: Row, world: World, tmp_path: Path):
    allowed = [role for role in ROLES if role in row.allowed]
    refused = [role for role in ROLES if role not in row.allowed]
    chat = await open_copy(world, tmp_path / "shared.sqlite3")
    try:
        for role in refused:
            before = await fingerprint(chat, ROLES[role])
            cell = await attempt(chat, world, row, role)
            assert cell.mine(), f"{role}: no answer"
            assert {m.to for m in cell.sent} == {cell.actor}, f"{role}: told someone else"
            assert not await row.happened(cell), f"{role} was allowed"
            assert await fingerprint(chat, ROLES[role]) == before, f"{role} changed data"
        if not row.changes:
            for role in allowed:
                cell = await attempt(chat, world, row, role)
                assert await row.happened(cell), f"{role} was refused"
    finally:
        await chat.app.close()
    if row.changes:
        for role in allowed:
            chat = await open_copy(world, tmp_path / f"{role}.sqlite3")
            try:
                cell = await attempt(chat, world, row, role)
                assert await row.happened(cell), f"{role} was refused"
            finally:
                await chat.app.close()


async def test_every_action_and_command_has_a_row(world: World, tmp_path: Path):
    chat = await open_copy(world, tmp_path / "w.sqlite3")
    try:
        actions, commands = set(chat.app.core.actions), set(chat.app.core.commands)
    finally:
        await chat.app.close()
    covered = {r.said.split(":", 1)[0] + ":" for r in ROWS if not r.typed}
    words = {r.said.split(" ", 1)[0] for r in ROWS if r.typed}
    assert actions - covered == set(), "actions without a row in the access table"
    assert commands - words == set(), "commands without a row in the access table"
