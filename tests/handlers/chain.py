"""Helpers of the chain's tests: a lot stored as a declaration leaves it (the declaration's
conversation is tested in ``test_donations.py``), and the demo's staff acting on it.

The demo data gives ``cli:demo-veynes`` (staff of the Veynes hub), ``cli:demo-recond`` (the
Gap school's workshop) and ``cli:demo-gap`` (staff of the Gap hub).
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Rendered
from flows.devices import new_label
from flows.erasure import DataKind, Encrypted, HoldsData, Questionnaire, assess
from flows.messages import UserKey
from flows.records import (
    AgeBand,
    Chargers,
    Condition,
    DeviceCategory,
    DeviceState,
    DonorKind,
    Logistics,
    LotDraft,
    PlaceId,
)
from tests.support import Chat

VEYNES = "Centre de ressources de Veynes"
GAP_HUB = "Pôle de coordination départemental (Gap)"
SCHOOL = "Atelier de reconditionnement du lycée professionnel (Gap)"
RECOND = "demo-recond"
STAFF = "demo-veynes"


async def value(chat: Chat, sql: str, *params: object) -> Any:
    rows = await chat.app.db.conn.execute_fetchall(sql, params)
    row = next(iter(rows), None)
    return row[0] if row is not None else None


async def rows(chat: Chat, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await chat.app.db.conn.execute_fetchall(sql, params)]


async def place_id(chat: Chat, name: str) -> PlaceId:
    return PlaceId(int(await value(chat, "SELECT id FROM places WHERE name = ?", name)))


async def seed_lot(chat: Chat, items: dict[DeviceCategory, int] | None = None, *,
                   donor: str = "cli:acme", place: str = VEYNES) -> tuple[int, str]:
    """A company's lot of client-data laptops (and screens), dropped at ``place`` and sent to
    the school's workshop, as the declaration stores it; its id and reference."""
    items = items or {DeviceCategory.LAPTOP: 3, DeviceCategory.SCREEN: 1}
    questionnaire = Questionnaire(HoldsData.YES, frozenset({DataKind.THIRD_PARTY}), Encrypted.NO)
    assessment = assess(questionnaire)
    draft = LotDraft(
        donor_kind=DonorKind.COMPANY, organisation="ACME Informatique",
        siret="73282932000074", contact_name="Jeanne Dupont", commune="05179",
        reach="+33612345678", items=tuple(items.items()), age=AgeBand.FROM_5_TO_8,
        condition=Condition.WORKING, chargers=Chargers.YES, questionnaire=questionnaire,
        level=assessment.level, measures=assessment.measures, logistics=Logistics.DROP_OFF,
        place_id=await place_id(chat, place), workshop_id=await place_id(chat, SCHOOL))
    async with chat.app.storage.transaction() as uow:
        await uow.users.create(UserKey(donor), "fr", chat.clock())
        lot = await uow.lots.create(draft, UserKey(donor), 2026, chat.clock())
    return int(lot.id), lot.reference


async def received_lot(chat: Chat, items: dict[DeviceCategory, int] | None = None
                       ) -> tuple[int, str, list[tuple[int, str]]]:
    """A lot received at Veynes with all its devices registered, details later: its id,
    reference and devices (id, label) in order."""
    lot, ref = await seed_lot(chat, items)
    await chat.say(STAFF, choice=f"lot:rcv:{lot}")
    await chat.say(STAFF, choice=f"dv:rest:{lot}")
    devices = await rows(chat, "SELECT id, label FROM devices WHERE lot_id = ? ORDER BY id",
                         lot)
    return lot, ref, [(int(i), str(label)) for i, label in devices]


WIPE_MEDIUM = ["2", "Samsung 860", "S3Z9NB0K", "1", "0.34", "1", "1", "maintenant",
               "maintenant", "1"]
"""One SSD overwritten with nwipe 0.34 and verified (answers after ``dv:wipe``, the device
known)."""


def diagnosis_works(serial: str = "PF1ABC23", grade: str = "2") -> list[str]:
    """"Works": model and serial typed, Linux Mint, a new SSD, the grade, a good battery,
    stocked at Veynes (answers after ``dv:dx``, for a device registered without details)."""
    return ["1", "Lenovo ThinkPad T480", serial, "1", "SSD 240 Go", grade, "1", "1"]


async def ready_device(chat: Chat, device: int, serial: str = "PF1ABC23",
                       stock: str = VEYNES) -> list[Rendered]:
    """The school diagnoses a laptop (works, grade B) then records its disk's erasure: it is
    ready in ``stock``'s stock. Returns what was sent meanwhile."""
    await chat.say(RECOND, choice=f"dv:dx:{device}")
    answers = diagnosis_works(serial)
    answers[-1] = stock
    sent = await chat.script(RECOND, *answers)
    sent += await chat.say(RECOND, choice=f"dv:wipe:{device}")
    medium = list(WIPE_MEDIUM)
    medium[2] = f"S{serial}"
    return sent + await chat.script(RECOND, *medium)


async def add_ready(chat: Chat, place: str, kind: str = "laptop", count: int = 1
                    ) -> list[int]:
    """``count`` devices of ``kind`` made ready at ``place`` (as a workshop's diagnosis does,
    without the conversation); their ids."""
    made = []
    pid = await place_id(chat, place)
    async with chat.app.storage.transaction() as uow:
        for _i in range(count):
            device = None
            while device is None:
                device = await uow.devices.register(
                    new_label(), None, DeviceCategory(kind), kind, "Lenovo ThinkPad T470",
                    None, pid, chat.clock(), None)
            await uow.devices.mark_wiped(device.id, chat.clock())
            await uow.devices.change(device.id, [DeviceState.RECEIVED], DeviceState.READY,
                                     "passed", chat.clock(), None)
            made.append(int(device.id))
    return made


async def set_stock(chat: Chat, kind: str, units: dict[str, int]) -> None:
    """``units`` devices of ``kind`` available at the named places, none anywhere else: the
    others are sent to recycling, and the places get what their held requests need too."""
    async with chat.app.storage.transaction() as uow:
        await uow.conn.execute("UPDATE devices SET state = 'recycled' WHERE kind = ?"
                               " AND state = 'ready'", (kind,))
    for name, n in units.items():
        async with chat.app.storage.transaction() as uow:
            held = await uow.catalogue.held(await place_id(chat, name), kind)
        await add_ready(chat, name, kind, n + held)
