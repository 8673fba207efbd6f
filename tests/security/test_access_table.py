"""Every declared action and command against every role, generated from the declarations.

Each button of ``flows/actions.py`` is pressed (as button data, even forged: nothing stops a
Telegram client from sending any callback data) by every role of the world, on the world's
target of its kind. Who is allowed follows from the declaration and the world's facts (who
owns what, who works where). A cell is:

* allowed: the answer is not the refusal, and where ``EFFECTS`` names it the privileged
  effect happens (the state changes, or the protected data or next buttons are shown);
* refused: the one refusal, nothing in the database changes, nobody else is told.

A new declaration is tried here with no row to write; a field the generator cannot fill
fails the test until ``SAMPLE_VALUES`` knows it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import Rendered
from flows import actions as act
from flows.action_codec import Action, Command, Scope, Target, Who, declared, parse
from flows.actions import COMMANDS
from flows.messages import UserKey
from flows.records import DeviceCategory
from tests.security.world import BENEFICIARY_NAME, DONOR_CONTACT, ROLES, World
from tests.support import Chat, Clock, make_chat

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


def sends_file(filename: str, text: str) -> Check:
    """The presser gets a file named ``filename`` holding ``text`` (world fields)."""
    async def check(cell: Cell) -> bool:
        wanted = text.format(**ids(cell.world))
        return any(m.attachment is not None and m.attachment.filename == filename
                   and wanted in m.attachment.data.decode("utf-8-sig") for m in cell.mine())
    return check


def status(table: str, field: str, expected: str) -> Check:
    return holds(f"SELECT status FROM {table} WHERE id = ?", expected, field)


@dataclass(frozen=True)
class Effect:
    """What an allowed press visibly does, beyond "not refused"."""

    happened: Check
    changes: bool = False
    """The effect changes the database: each allowed role gets a fresh world."""


EFFECTS: dict[type[Action], Effect] = {
    act.ProDoor: Effect(replied()),
    act.ApproveAccess: Effect(status("access_requests", "access", "approved"), True),
    act.RejectAccess: Effect(status("access_requests", "access", "rejected"), True),
    act.AttachPlace: Effect(holds("SELECT place_id FROM users WHERE key = 'cli:approved'", 1),
                            True),
    act.AccessQueue: Effect(offers("acc:ok:{access}")),
    act.NewRequest: Effect(in_flow("request")),
    act.MyRequests: Effect(offers("rq:cx:{request}")),
    act.CancelRequest: Effect(offers("rq:cy:{request}")),
    act.CancelRequestYes: Effect(status("equipment_requests", "request", "cancelled"), True),
    act.ReceivedRequests: Effect(offers("rq:ok:{request}")),
    act.PlaceStock: Effect(shows("{laptops} disponible(s)")),
    act.AcceptRequest: Effect(status("equipment_requests", "request", "accepted"), True),
    act.RefuseRequest: Effect(offers("rq:nr:{request}:")),
    act.RefuseBecause: Effect(holds("SELECT count(*) FROM request_events WHERE request_id = ?"
                                    " AND event = 'refused'", 1, "request"), True),
    act.ReadyRequest: Effect(offers("rq:rdd:{request}:")),
    act.ReadyOn: Effect(status("equipment_requests", "request", "ready"), True),
    act.Handover: Effect(offers("rq:hy:{request}")),
    act.HandoverNotYet: Effect(offers("rq:ho:{request}")),
    act.HandoverYes: Effect(in_flow("handover.device")),
    act.NewDonation: Effect(in_flow("donation")),
    act.ForgetContact: Effect(offers("don:forget:ok")),
    act.DonorCertificate: Effect(shows("{lot_ref}")),
    act.DonorImpact: Effect(shows("{lot_ref}")),
    act.DonorReceipt: Effect(shows("{lot_ref}")),
    act.ForgetContactYes: Effect(either(contact_blanked, shows("coordonnées sont effacées")),
                                 True),
    act.OpenLots: Effect(offers("lot:see:{lot}")),
    act.SeeLot: Effect(shows("{lot_ref}")),
    act.ReceiveLot: Effect(status("lots", "other_lot", "received"), True),
    act.RecordErasure: Effect(in_flow("erasure")),
    act.Certify: Effect(offers("lot:wipe:{lot}")),
    act.ChooseWorkshop: Effect(offers("lot:tw:{lot}:")),
    act.AssignWorkshop: Effect(shows("confié à"), True),
    act.JoinCode: Effect(either(offers("bs:cp:"), holds(
        "SELECT count(*) FROM join_codes WHERE used_at IS NULL", 1)), True),
    act.JoinCodeFor: Effect(holds("SELECT count(*) FROM join_codes WHERE used_at IS NULL", 1),
                            True),
    act.WhoIsComing: Effect(offers("bs:del:{workshop}")),
    act.Attendance: Effect(shows("Aucune séance avec des inscrits")),
    act.RecordAttendance: Effect(shows("pas encore eu lieu")),
    act.PublishWorkshop: Effect(in_flow("workshop.publish")),
    act.CancelWorkshop: Effect(offers("bs:delok:{workshop}")),
    act.CancelWorkshopYes: Effect(holds("SELECT count(*) FROM workshops WHERE id = ?", 0,
                                        "workshop"), True),
    act.TakeTicket: Effect(status("help_tickets", "ticket", "taken"), True),
    act.BeneficiaryMenu: Effect(offers("bn:my")),
    act.OfferWorkshops: Effect(offers("bn:bk:")),
    act.HelpNearby: Effect(offers("bn:my")),
    act.MyData: Effect(shows(BENEFICIARY_NAME)),
    act.RemindersOff: Effect(holds("SELECT reminders FROM beneficiaries WHERE user_key ="
                                   " 'cli:benef'", 0), True),
    act.ForgetMeYes: Effect(holds("SELECT count(*) FROM beneficiaries WHERE user_key ="
                                  " 'cli:benef'", 0), True),
    act.SmsRegister: Effect(either(in_flow("sms.register"),
                                   shows("Les SMS ne sont pas en place"))),
    act.SmsStop: Effect(holds("SELECT reminders FROM beneficiaries WHERE user_key ="
                              " 'cli:benef'", 0), True),
    act.SmsStart: Effect(shows("nos SMS")),  # the world's beneficiary has reminders on
    act.LotDevices: Effect(offers("dv:reg:{lot}:")),
    act.RegisterDevices: Effect(in_flow("devices.entry")),
    act.RegisterRest: Effect(shows("déjà enregistrés")),
    act.LabelSheet: Effect(shows("Planche d'étiquettes")),
    act.SeeDevice: Effect(shows("{device_label}")),
    act.DiagnoseDevice: Effect(in_flow("devices.diagnosis")),
    act.WipeDevice: Effect(in_flow("erasure_device_serial")),  # registered without it
    act.CoordinationMenu: Effect(offers("co:acc")),
    act.Accounts: Effect(offers("co:m:")),
    act.PayRequest: Effect(in_flow("payment.record")),
    act.RequestPayments: Effect(shows("Paiements de {request_ref}")),
    act.CorrectPayment: Effect(in_flow("payment.correct")),
    act.FundView: Effect(shows("Fonds de solidarité")),
    act.FundBudget: Effect(in_flow("payment.fund_budget")),
    act.PaymentsCsv: Effect(sends_file("paiements-2026.csv", "REC-2026-{payment:04d}")),
    act.BuyDoor: Effect(shows("Où les acheter")),
    act.BuyWait: Effect(in_flow("sale.wait")),
    act.BuyReserveAt: Effect(either(in_flow("sale.reserve_at"), shows("n'a plus d'appareil"))),
    act.BuyLeave: Effect(shows("pas sur la liste d'attente")),  # nobody waits in the world
    act.GradePrice: Effect(in_flow("sale.grade_price")),
    act.CorrectSale: Effect(shows("n'existe pas")),  # the world's payment is no sale
    act.PlaceReservations: Effect(shows("Réservations en cours")),
    act.SellReservation: Effect(shows("n'est plus en cours")),  # the world has none
    act.BuyCancel: Effect(shows("n'est plus en cours")),  # the world has none
    act.MyDeviceProblem: Effect(shows("déjà signalé")),
    act.RequestProblem: Effect(shows("déjà signalé")),
    act.ReportProblem: Effect(shows("déjà signalé")),
    act.OpenRepairs: Effect(offers("wr:see:{repair}")),
    act.SeeRepair: Effect(offers("wr:ok:{repair}")),
    act.RepairDone: Effect(status("repair_tickets", "repair", "repaired"), True),
    act.ReplaceDevice: Effect(offers("wr:with:{repair}:{spare}")),
    act.ReplaceWith: Effect(status("repair_tickets", "repair", "replaced"), True),
    act.BringHere: Effect(shows("ne peut plus être apportée")),  # presc works at Veynes
    act.SendDevice: Effect(shows("Seul un appareil prêt")),  # the world's device is not
    act.PlanTransfer: Effect(shows("ne peut pas recevoir")),  # to its own place
    act.OpenTransfers: Effect(offers("tr:take:{transfer}")),
    act.TakeTransfer: Effect(status("transfers", "transfer", "taken"), True),
    act.GiveUpTransfer: Effect(shows("n'en est pas là")),  # nobody took it
    act.DeliverTransfer: Effect(shows("n'en est pas là")),  # not picked up yet
    act.DriverSet: Effect(holds("SELECT count(*) FROM drivers", 2), True),  # and cli:driver
}
"""Actions whose effect is checked precisely; every other action is checked by its answer
(the refusal, or not the refusal) and, when refused, by nothing changed."""

CHANGES: frozenset[type[Action]] = frozenset({
    act.Book, act.CancelBooking, act.MoveBooking, act.Coming, act.NotComing, act.RemindersOn,
    act.MemberRoleSet, act.MemberPlaceSet, act.NameReferent, act.RevokeYes, act.JoinLanguage,
    act.CloseTicket, act.EraseMyDataYes})
"""Actions without a precise check that still change the database when allowed."""

WHO_OF_ROLE: dict[str, frozenset[Who]] = {
    "unknown": frozenset({Who.ANYONE}), "donor": frozenset({Who.ANYONE}),
    "revoked": frozenset({Who.ANYONE}),
    "beneficiary": frozenset({Who.ANYONE, Who.BENEFICIARY}),
    "prescriber": frozenset({Who.ANYONE, Who.PRESCRIBER}),
    "place_staff": frozenset({Who.ANYONE, Who.PLACE_STAFF}),
    "reconditioner": frozenset({Who.ANYONE, Who.RECONDITIONER}),
    "coordinator": frozenset({Who.ANYONE, Who.COORDINATOR}),
    "driver": frozenset({Who.ANYONE, Who.DRIVER}),
}
"""Who each role of the world is (no world role is a structure's referent: see
``test_a_referent_approves_only_the_prescribers_of_their_structure``)."""

OWNER: dict[Target, frozenset[str]] = {
    Target.REQUEST: frozenset({"prescriber"}), Target.LOT: frozenset({"donor"}),
    Target.WORKSHOP: frozenset({"beneficiary"}), Target.TICKET: frozenset(),
    Target.DEVICE: frozenset(), Target.REPAIR: frozenset({"beneficiary"}),
    Target.TRANSFER: frozenset(),
}
"""Whose own record the world's target of each kind is (the beneficiary booked the
workshop; nobody has taken the help ticket yet; the beneficiary reported the repair)."""

OWNER_OF: dict[type[Action], frozenset[str]] = {
    act.ReportProblem: frozenset({"beneficiary", "prescriber"}),
}
"""Actions whose target is another record than the world's usual one of its kind, and whose
own it is (the device handed over to the beneficiary for the prescriber's request)."""

AT_VEYNES = frozenset({"place_staff"})
LOT_HOLDERS = frozenset({"place_staff", "reconditioner"})
"""The world's lot is dropped at Veynes and sent to the reconditioner's workshop."""


def in_world_scope(role: str, scope: Scope, target: Target | None,
                   owners: frozenset[str] | None = None) -> bool:
    """Whether the world's target of ``target`` is within ``scope`` for ``role``."""
    match scope:
        case Scope.NONE | Scope.NETWORK:
            return True
        case Scope.OWN:
            assert target is not None
            return role in (owners if owners is not None else OWNER[target])
        case Scope.PLACE:
            return role in AT_VEYNES
        case Scope.LOT:
            return role in LOT_HOLDERS
    return False


def allowed_roles(kind: type[Action]) -> frozenset[str]:
    """The world's roles the declaration allows on the world's target."""
    return frozenset(role for role, whos in WHO_OF_ROLE.items()
                     if any(who in whos and in_world_scope(role, scope, kind.on,
                                                           OWNER_OF.get(kind))
                            for who, scope in kind.allow.items()))


TARGET_FIELD: dict[Target, str] = {
    Target.REQUEST: "request", Target.LOT: "lot", Target.ACCESS: "access",
    Target.WORKSHOP: "workshop", Target.TICKET: "ticket", Target.PLACE: "veynes",
    Target.MEMBER: "member", Target.DEVICE: "device", Target.REPAIR: "repair",
    Target.TRANSFER: "transfer",
}


TARGET_OF: dict[type[Action], str] = {act.AttachPlace: "approved",
                                      act.ReceiveLot: "other_lot", act.ReportProblem: "handed"}
"""Actions that act on a target in another state than the world's usual one."""


def sample(kind: type[Action], world: World, target: int | None = None) -> str:
    """The button data of ``kind`` on the world's target (or on ``target``)."""
    values: list[object] = []
    for index, (name, field_type) in enumerate(kind.field_types()):
        if index == 0 and kind.on is not None:
            field = TARGET_OF.get(kind) or TARGET_FIELD[kind.on]
            values.append(target if target is not None else getattr(world, field))
        elif field_type is date:
            values.append(TODAY_DATE)
        elif name in SAMPLE_ENUMS:
            values.append(SAMPLE_ENUMS[name])
        elif isinstance(field_type, type) and issubclass(field_type, enum.Enum):
            values.append(list(field_type)[-1])
        elif name in SAMPLE_VALUES:
            values.append(getattr(world, SAMPLE_VALUES[name]) if SAMPLE_VALUES[name] in
                          ids(world) else SAMPLE_VALUES[name])
        else:
            raise AssertionError(f"no sample value for field {name!r} of {kind.__name__}")
    return kind(*values).pack()


SAMPLE_VALUES: dict[str, Any] = {
    "place": "veynes", "workshop": "gap_workshop", "to": "other_workshop", "kind": "laptop",
    "role": "all", "what": "prices", "lang": "fr", "code": "REJ234567",
    "payment": "payment", "reservation": "1",
    "problem": "start", "device": "spare", "driver": 1,
}
"""Values of the fields that name no target: world fields, or the value itself."""

SAMPLE_ENUMS: dict[str, enum.Enum] = {"category": DeviceCategory.LAPTOP}
"""Enum fields whose value must fit the world (the lot holds laptops); the others take their
enum's last value."""

TODAY_DATE = date(2026, 11, 23)  # tests.support.START

DECLARED = sorted(declared().values(), key=lambda kind: kind.prefix)
REFUSAL = "pas (ou plus) valable pour vous"


def refused(cell: Cell) -> bool:
    return cell.shows(REFUSAL)


async def press(chat: Chat, world: World, role: str, data: str) -> Cell:
    sent = await chat.say(ROLES[role], choice=data)
    return Cell(chat, world, role, sent)


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


async def open_copy(world: World, path: Path) -> Chat:
    return await make_chat(world.copy(path), Clock())


async def assert_refused(chat: Chat, world: World, role: str, data: str) -> str:
    """``role`` presses ``data``: the one refusal, to them alone, nothing changed."""
    before = await fingerprint(chat, ROLES[role])
    cell = await press(chat, world, role, data)
    assert cell.mine(), f"{role}: no answer"
    assert {m.to for m in cell.sent} == {cell.actor}, f"{role}: told someone else"
    assert refused(cell), f"{role} was allowed {data}: {[m.text for m in cell.mine()]}"
    effect = EFFECTS.get(type(parse(data)))  # type: ignore[arg-type]
    if effect is not None:
        assert not await effect.happened(cell), f"{role} was allowed {data}"
    assert await fingerprint(chat, ROLES[role]) == before, f"{role} changed data with {data}"
    return " ".join(m.text for m in cell.mine())


async def assert_allowed(chat: Chat, world: World, role: str, data: str) -> None:
    cell = await press(chat, world, role, data)
    assert cell.mine(), f"{role}: no answer to {data}"
    assert not refused(cell), f"{role} was refused {data}"
    effect = EFFECTS.get(type(parse(data)))  # type: ignore[arg-type]
    if effect is not None:
        assert await effect.happened(cell), f"{role}: {data} did not happen"


@pytest.mark.parametrize("kind", DECLARED, ids=[kind.prefix for kind in DECLARED])
async def test_each_role_is_allowed_or_refused(kind: type[Action], world: World,
                                               tmp_path: Path):
    """Generated from the declaration: every role of the world presses the button on the
    world's target; those the declaration allows get its effect, the others the one refusal
    with nothing changed."""
    data = sample(kind, world)
    allowed = allowed_roles(kind)
    changes = kind in CHANGES or (kind in EFFECTS and EFFECTS[kind].changes)
    chat = await open_copy(world, tmp_path / "shared.sqlite3")
    try:
        for role in sorted(set(ROLES) - allowed):
            await assert_refused(chat, world, role, data)
        if not changes:
            for role in sorted(allowed):
                await assert_allowed(chat, world, role, data)
    finally:
        await chat.app.close()
    if changes:
        for role in sorted(allowed):
            chat = await open_copy(world, tmp_path / f"{role}.sqlite3")
            try:
                await assert_allowed(chat, world, role, data)
            finally:
                await chat.app.close()


SCOPED = [kind for kind in DECLARED
          if any(scope in (Scope.OWN, Scope.PLACE, Scope.LOT) for scope in kind.allow.values())]


@pytest.mark.parametrize("kind", SCOPED, ids=[kind.prefix for kind in SCOPED])
async def test_someone_elses_target_is_refused_like_a_missing_one(
        kind: type[Action], world: World, tmp_path: Path):
    """Each role allowed on its own records presses the button on another's record, and on
    a record that does not exist: the same refusal, nothing changed, nothing learnt."""
    chat = await open_copy(world, tmp_path / "other.sqlite3")
    try:
        other = await elsewhere(chat, world, kind.on)
        for role in sorted(allowed_roles(kind)):
            if all(scope is Scope.NETWORK for who, scope in kind.allow.items()
                   if who in WHO_OF_ROLE[role]):
                continue
            answer = await assert_refused(chat, world, role, sample(kind, world, other))
            missing = await assert_refused(chat, world, role, sample(kind, world, 999_999))
            assert answer == missing
    finally:
        await chat.app.close()


async def elsewhere(chat: Chat, world: World, kind: Target | None) -> int:
    """A record of ``kind`` that is no world role's own, at another place, in another
    workshop (moved there in this copy of the world)."""
    async with chat.app.storage.transaction() as uow:
        return await _elsewhere(chat, uow.conn, world, kind)


async def _elsewhere(chat: Chat, db: Any, world: World, kind: Target | None) -> int:
    gap = await value_of(chat, "SELECT id FROM places WHERE commune = '05061' AND kind = 'hub'")
    match kind:
        case Target.REQUEST:
            await db.execute("UPDATE equipment_requests SET place_id = ? WHERE id = ?",
                             (gap, world.other_request))
            return world.other_request
        case Target.LOT:
            await db.execute("UPDATE lots SET place_id = ?, workshop_id = NULL WHERE id = ?",
                             (gap, world.other_lot))
            return world.other_lot
        case Target.WORKSHOP:
            return int(await value_of(chat, "SELECT id FROM workshops WHERE place_id <> ?"
                                            " ORDER BY id LIMIT 1", world.veynes))
        case Target.TICKET:
            await db.execute("UPDATE help_tickets SET place_id = ? WHERE id = ?",
                             (gap, world.ticket))
            return world.ticket
        case Target.PLACE:
            return int(gap)
        case Target.DEVICE:  # a device of Gap's stock, of no lot of the world
            cur = await db.execute(
                "INSERT INTO devices (label, category, kind, state, place_id, placeholder,"
                " created_at, updated_at) VALUES ('HA-GGGG', 'laptop', 'laptop', 'ready', ?, 1,"
                " '2026-11-23T09:00:00+00:00', '2026-11-23T09:00:00+00:00') RETURNING id",
                (gap,))
            return int((await cur.fetchone())[0])
        case Target.TRANSFER:  # from Gap's hub to another place, driven by someone else
            device = await _elsewhere(chat, db, world, Target.DEVICE)
            other = await value_of(chat, "SELECT id FROM places WHERE id NOT IN (?, ?)"
                                         " AND kind IN ('hub', 'relay') ORDER BY id LIMIT 1",
                                   gap, world.veynes)
            cur = await db.execute(
                "INSERT INTO transfers (device_id, from_place, to_place, status, driver,"
                " created_at) VALUES (?, ?, ?, 'taken', 'cli:someone',"
                " '2026-11-23T09:00:00+00:00') RETURNING id", (device, gap, other))
            return int((await cur.fetchone())[0])
        case Target.REPAIR:  # a ticket of a device of Gap, reported by someone else
            device = await _elsewhere(chat, db, world, Target.DEVICE)
            cur = await db.execute(
                "INSERT INTO repair_tickets (device_id, place_id, reported_by, problem,"
                " warranty_until, opened_at) VALUES (?, ?, 'cli:someone', 'screen',"
                " '2027-05-23', '2026-11-23T09:00:00+00:00') RETURNING id", (device, gap))
            return int((await cur.fetchone())[0])
    raise AssertionError(f"no other record of {kind}")


async def value_of(chat: Chat, sql: str, *params: object) -> Any:
    found = await chat.app.db.conn.execute_fetchall(sql, params)
    return next(iter(found))[0]


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
async def test_each_command_is_allowed_or_refused(command: Command, world: World,
                                                  tmp_path: Path):
    chat = await open_copy(world, tmp_path / "commands.sqlite3")
    try:
        for role, whos in WHO_OF_ROLE.items():
            for word in command.words:
                sent = await chat.say(ROLES[role], word)
                cell = Cell(chat, world, role, sent)
                assert cell.mine(), f"{role}: no answer to {word}"
                assert refused(cell) != bool(command.allow & whos), f"{role}: {word}"
    finally:
        await chat.app.close()


async def test_every_action_and_command_is_declared_and_handled(world: World, tmp_path: Path):
    """The router refuses to start with a declared action nobody handles; a feature cannot
    handle an undeclared one (its handlers are keyed by declared classes)."""
    chat = await open_copy(world, tmp_path / "w.sqlite3")
    try:
        core = chat.app.core
        assert set(core.actions) == set(declared().values())
        assert all(issubclass(kind, Action) for kind in core.actions)
        assert set(core.command_handlers) == {c.name for c in COMMANDS}
    finally:
        await chat.app.close()
