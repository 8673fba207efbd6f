"""A small network with one person in every role and one target of every kind, for the
security tests; built once through the bot itself, then copied for each scenario.

Roles (user keys): an unknown person (never spoke), a beneficiary (joined with a code, has a
help ticket open), a donor (declared a lot), a prescriber (owns an equipment request routed to
Veynes), the staff of the Veynes place, a reconditioner, a coordinator, and a revoked former
professional (their role taken away, their old place left on the row: the worst case).

Personal strings planted along the way (names, phones, free text) are listed in ``PLANTED``
so privacy tests can look for them anywhere.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from flows.messages import UserKey
from flows.records import DeviceId, DeviceState, PlaceId, RequestId, Role
from flows.warranty import Problem
from storage.db import ts
from tests.support import Chat, Clock, make_chat, texts

ROLES: dict[str, UserKey] = {
    "unknown": UserKey("cli:stranger"),
    "beneficiary": UserKey("cli:benef"),
    "donor": UserKey("cli:donor"),
    "prescriber": UserKey("cli:presc"),
    "place_staff": UserKey("cli:demo-veynes"),
    "reconditioner": UserKey("cli:demo-recond"),
    "coordinator": UserKey("cli:coord"),
    "revoked": UserKey("cli:revoked"),
    "driver": UserKey("cli:driver"),
}
OTHER_PRESCRIBER = UserKey("cli:presc2")
OTHER_DONOR = UserKey("cli:donor2")
VEYNES = "Centre de ressources de Veynes"

APPLICANT_STRUCTURE = "Structure Alpha Secrète"
APPLICANT_NAME = "Bérénice Applicante"
APPLICANT_PHONE = "06 98 76 54 32"
DONOR_CONTACT = "Jeanne Dupontel"
DONOR_PHONE = "06 11 22 33 44"
BENEFICIARY_NAME = "Zoéline"
REQUEST_FIRST_NAME = "Léandrine"
OTHER_FIRST_NAME = "Hortensia"
OTHER_CONTACT = "Anatole Autredon"
HELP_TEXT = "Mon voisin Gaston Lagaffe a cassé l'écran"
PLANTED = (APPLICANT_STRUCTURE, APPLICANT_NAME, "+33698765432", "0698765432", DONOR_CONTACT,
           "+33611223344", "0611223344", BENEFICIARY_NAME, REQUEST_FIRST_NAME, "Gaston Lagaffe")
"""Personal data typed by people in the world: never in logs, gone after "forget me"."""

CODE = re.compile(r"REJ [0-9A-Z]{3} [0-9A-Z]{3}")


def access_script(structure: str, name: str, phone: str) -> list[str]:
    """A professional's access request (role: prescriber) from "bonjour" to confirmed."""
    return ["bonjour", "1", "1", structure, "3 rue de la Gare", "veynes", name,
            "Conseillère sociale", phone, "1"]


def equipment(first_name: str) -> list[str]:
    """An equipment request's answers after ``rq:new`` (needs, RSA, Veynes, a laptop...)."""
    return ["1, 4", "4", "Passer", "veynes", "Ordinateur portable", "2", first_name, "2", "1"]


def company_lot(contact: str, phone: str) -> list[str]:
    """A company declares 12 laptops and 5 screens holding client data, dropped in Veynes."""
    return ["bonjour", "2", "1", "ACME Informatique 73282932000074", contact, phone,
            "12 portables, 5 écrans", "2, 5, 7", "2", "5", "veynes", "1", "1"]


@dataclass(frozen=True)
class World:
    """Where the built network's targets are."""

    path: Path
    veynes: PlaceId
    access: int           # a pending access request (of cli:applicant)
    approved: int         # an approved access request not yet attached to a place
    request: int          # the prescriber's equipment request, sent to Veynes
    request_ref: str
    other_request: int    # another prescriber's request, also at Veynes
    other_request_ref: str
    lot: int              # the donor's lot, received in Veynes, sent to the Gap workshop
    lot_ref: str
    other_lot: int        # another donor's lot, declared, to be dropped in Veynes
    other_lot_ref: str
    ticket: int           # the beneficiary's help ticket at Veynes, not taken
    workshop: int         # a workshop session at Veynes, booked by the beneficiary
    laptops: int          # laptops in stock at Veynes
    member: int           # the approved professional's account number (cli:approved)
    gap_workshop: int     # the reconditioning workshop (a place) of cli:demo-recond
    other_workshop: int   # another upcoming session, not booked
    device: int           # a laptop of the donor's lot, registered at Veynes, not diagnosed
    device_label: str
    payment: int          # a third party's payment for the prescriber's request, at Veynes
    handed: int           # another laptop of the lot, handed over at Veynes for the
                          # prescriber's request to the beneficiary (their join code)
    repair: int           # the beneficiary's open repair ticket on it (Veynes, Gap workshop)
    spare: int            # a ready laptop at Veynes (a replacement)
    transfer: int         # a ready laptop of Gap's hub planned to Veynes, not taken

    def copy(self, to: Path) -> Path:
        """A fresh copy of the built database (the bot closed it: no WAL left over)."""
        shutil.copyfile(self.path, to)
        return to


async def value(chat: Chat, sql: str, *params: object) -> object:
    found = await chat.app.db.conn.execute_fetchall(sql, params)
    row = next(iter(found), None)
    return row[0] if row is not None else None


async def _professional(chat: Chat, key: UserKey, role: Role | None,
                        place: PlaceId | None) -> None:
    async with chat.app.storage.transaction() as uow:
        await uow.users.create(key, "fr", chat.clock())
        await uow.users.set_role(key, role, place)


async def build_world(path: Path, clock: Clock) -> World:
    """Every role and target, through the bot's own paths where they exist."""
    chat = await make_chat(path, clock)
    try:
        veynes = PlaceId(int(str(await value(chat, "SELECT id FROM places WHERE name = ?",
                                             VEYNES))))
        await _professional(chat, ROLES["prescriber"], Role.PRESCRIBER, veynes)
        await _professional(chat, OTHER_PRESCRIBER, Role.PRESCRIBER, veynes)
        await _professional(chat, ROLES["revoked"], None, veynes)
        await chat.app.db.conn.execute(
            "INSERT INTO access_requests (user_key, role, structure, address, commune,"
            " contact_name, function, phone, status, created_at) VALUES (?, 'place_staff',"
            " 'Ancienne structure', 'rue', '05179', 'Ex Membre', 'Agent', '+33600000000',"
            " 'revoked', ?)", (ROLES["revoked"], ts(clock())))

        await chat.script("applicant", *access_script(APPLICANT_STRUCTURE, APPLICANT_NAME,
                                                      APPLICANT_PHONE))
        await chat.script("approved", *access_script("Structure Beta", "Paul Beta",
                                                     "06 55 44 33 22"))
        access = int(str(await value(chat, "SELECT id FROM access_requests WHERE user_key ="
                                           " 'cli:applicant'")))
        approved = int(str(await value(chat, "SELECT id FROM access_requests WHERE user_key ="
                                             " 'cli:approved'")))
        await chat.say("coord", choice=f"acc:ok:{approved}")

        await chat.say("presc", choice="rq:new")
        await chat.script("presc", *equipment(REQUEST_FIRST_NAME))
        await chat.say("presc2", choice="rq:new")
        await chat.script("presc2", *equipment(OTHER_FIRST_NAME))
        request, request_ref = await _request_of(chat, ROLES["prescriber"])
        other_request, other_ref = await _request_of(chat, OTHER_PRESCRIBER)

        await chat.script("donor", *company_lot(DONOR_CONTACT, DONOR_PHONE))
        await chat.script("donor2", *company_lot(OTHER_CONTACT, "06 99 99 99 99"))
        lot, lot_ref = await _lot_of(chat, ROLES["donor"])
        other_lot, other_lot_ref = await _lot_of(chat, OTHER_DONOR)

        sent = await chat.say("demo-veynes", choice="bs:code")
        code = CODE.search(texts(sent, "demo-veynes"))
        assert code, texts(sent, "demo-veynes")
        await chat.script("benef", code.group(0), "1", BENEFICIARY_NAME, "1")
        await chat.say("benef", choice="bn:help")
        await chat.say("benef", HELP_TEXT)
        await chat.say("benef", "menu")  # out of the help chat; the ticket stays open
        ticket = int(str(await value(chat, "SELECT id FROM help_tickets WHERE user_key = ?",
                                     ROLES["beneficiary"])))
        workshop = int(str(await value(
            chat, "SELECT id FROM workshops WHERE place_id = ? AND starts_at > ?"
            " ORDER BY starts_at LIMIT 1", veynes, ts(clock()))))
        async with chat.app.storage.transaction() as uow:
            laptops = await uow.catalogue.available(veynes, "laptop")
        await chat.say("benef", choice=f"bn:bk:{workshop}")
        await chat.say("demo-veynes", choice=f"lot:rcv:{lot}")
        await chat.say("demo-veynes", choice=f"dv:rest:{lot}")
        device = int(str(await value(chat, "SELECT min(id) FROM devices WHERE lot_id = ?",
                                     lot)))
        device_label = str(await value(chat, "SELECT label FROM devices WHERE id = ?",
                                       device))
        gap_workshop = int(str(await value(chat, "SELECT id FROM places WHERE kind ="
                                                 " 'reconditioner'")))
        other_workshop = int(str(await value(
            chat, "SELECT id FROM workshops WHERE id <> ? AND starts_at > ? ORDER BY starts_at"
            " LIMIT 1", workshop, ts(clock()))))
        await chat.say("demo-veynes", choice=f"pay:rq:{request}")
        await chat.script("demo-veynes", "3", "CCAS de Veynes", "2", "40", "Confirmer")
        payment = int(str(await value(chat, "SELECT id FROM payments WHERE request_id = ?",
                                      request)))
        handed, repair = await _handed(chat, clock, lot, request, veynes, gap_workshop)
        spare = int(str(await value(chat, "SELECT min(id) FROM devices WHERE place_id = ?"
                                          " AND state = 'ready' AND kind = 'laptop'", veynes)))
        transfer = await _transfer(chat, clock, veynes, spare)
    finally:
        await chat.app.close()
    return World(path, veynes, access, approved, request, request_ref, other_request,
                 other_ref, lot, lot_ref, other_lot, other_lot_ref, ticket, workshop, laptops,
                 approved, gap_workshop, other_workshop, device, device_label, payment, handed,
                 repair, spare, transfer)


async def _transfer(chat: Chat, clock: Clock, veynes: PlaceId, spare: int) -> int:
    """A volunteer driver (no other role), and a ready laptop of Gap's hub planned to
    Veynes by the coordination."""
    gap = PlaceId(int(str(await value(chat, "SELECT id FROM places WHERE commune = '05061'"
                                            " AND kind = 'hub'"))))
    device = DeviceId(int(str(await value(
        chat, "SELECT min(id) FROM devices WHERE place_id = ? AND state = 'ready'"
        " AND kind = 'laptop' AND id <> ?", gap, spare))))
    async with chat.app.storage.transaction() as uow:
        await uow.users.create(ROLES["driver"], "fr", clock())
        await uow.transfers.set_driver(ROLES["driver"], True, ROLES["coordinator"], clock())
        planned = await uow.transfers.plan(device, "laptop", None, gap, veynes, "-",
                                           ROLES["coordinator"], clock())
    return planned.id


async def _handed(chat: Chat, clock: Clock, lot: int, request: int, veynes: PlaceId,
                  workshop: int) -> tuple[int, int]:
    """The lot's last laptop handed over to the beneficiary for the prescriber's request
    (written as the handover writes it), and the problem they reported with it."""
    ref = str(await value(chat, "SELECT ref FROM beneficiaries WHERE user_key = ?",
                          ROLES["beneficiary"]))
    handed = DeviceId(int(str(await value(
        chat, "SELECT max(id) FROM devices WHERE lot_id = ? AND category = 'laptop'", lot))))
    async with chat.app.storage.transaction() as uow:
        assert await uow.devices.change(handed, [DeviceState.RECEIVED], DeviceState.HANDED_OVER,
                                        "handed_over", clock(), None, place_id=veynes,
                                        request_id=RequestId(request), join_code=ref)
        ticket = await uow.repairs.open(handed, RequestId(request), veynes, PlaceId(workshop),
                                        ROLES["beneficiary"], Problem.SCREEN,
                                        clock().date().replace(year=2027), clock())
    return int(handed), ticket.id


async def _request_of(chat: Chat, key: UserKey) -> tuple[int, str]:
    found = await chat.app.db.conn.execute_fetchall(
        "SELECT id, reference FROM equipment_requests WHERE prescriber = ?", (key,))
    row = next(iter(found))
    return int(row[0]), str(row[1])


async def _lot_of(chat: Chat, key: UserKey) -> tuple[int, str]:
    found = await chat.app.db.conn.execute_fetchall(
        "SELECT id, reference FROM lots WHERE donor_key = ?", (key,))
    row = next(iter(found))
    return int(row[0]), str(row[1])
