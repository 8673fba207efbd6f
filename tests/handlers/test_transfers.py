"""Transfers by volunteer drivers: a ready device planned from one place to another, taken
by a driver who sees it by route, picked up and delivered; both places are told and the
device joins the stock of the place of arrival."""

from __future__ import annotations

from pathlib import Path

from flows.messages import UserKey
from flows.records import Role
from tests.handlers.chain import GAP_HUB, STAFF, VEYNES, add_ready, place_id, rows, set_stock
from tests.handlers.test_equipment_requests import approve, ask
from tests.support import Chat, Clock, make_chat, texts

DRIVER = "marc"


def choices(sent: list, who: str) -> list[str]:
    return [cid for m in sent if m.to == who for cid, _label in m.choices]


async def make_driver(chat: Chat, name: str) -> None:
    async with chat.app.storage.transaction() as uow:
        await uow.users.create(UserKey(f"cli:{name}"), "fr", chat.clock())
        await uow.transfers.set_driver(UserKey(f"cli:{name}"), True, UserKey("cli:coord"),
                                       chat.clock())


async def test_a_driver_carries_a_device_from_veynes_to_gap(tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock)
    try:
        await make_driver(chat, DRIVER)
        await make_driver(chat, "other")
        [device] = await add_ready(chat, VEYNES)
        gap = await place_id(chat, GAP_HUB)
        label = (await rows(chat, "SELECT label FROM devices WHERE id = ?", device))[0][0]
        sent = await chat.say(STAFF, choice=f"dv:see:{device}")
        assert f"tr:to:{device}" in choices(sent, f"cli:{STAFF}")
        sent = await chat.say(STAFF, choice=f"tr:to:{device}")
        assert f"tr:plan:{device}:{gap}" in choices(sent, f"cli:{STAFF}")
        sent = await chat.say(STAFF, choice=f"tr:plan:{device}:{gap}")
        assert f"Transport prévu : {label}" in texts(sent, f"cli:{STAFF}")
        assert f"Transport prévu : {label}" in texts(sent, "cli:demo-gap")
        assert "CC Buëch-Dévoluy → CA Gap-Tallard-Durance" in texts(sent, f"cli:{DRIVER}")
        [(transfer,)] = await rows(chat, "SELECT id FROM transfers")
        sent = await chat.say(DRIVER, "/transports")  # a driver with no other role
        assert "CC Buëch-Dévoluy → CA Gap-Tallard-Durance" in texts(sent, f"cli:{DRIVER}")
        assert f"tr:take:{transfer}" in choices(sent, f"cli:{DRIVER}")
        await chat.say(DRIVER, choice=f"tr:take:{transfer}")
        sent = await chat.say(DRIVER, choice="tr:list")
        assert f"tr:drop:{transfer}" in choices(sent, f"cli:{DRIVER}")
        sent = await chat.say(DRIVER, choice=f"tr:drop:{transfer}")
        assert "proposé aux autres chauffeurs" in texts(sent, f"cli:{DRIVER}")
        assert "Nouveau transport" in texts(sent, "cli:other")
        assert await rows(chat, "SELECT status, driver FROM transfers") == [("planned", None)]
        sent = await chat.say(DRIVER, choice=f"tr:take:{transfer}")
        assert "a pris le transport" in texts(sent, f"cli:{STAFF}")
        assert "a pris le transport" in texts(sent, "cli:demo-gap")
        # Taken: another driver neither takes it nor picks it up.
        sent = await chat.say("other", choice=f"tr:take:{transfer}")
        assert "déjà pris" in texts(sent, "cli:other")
        sent = await chat.say("other", choice=f"tr:up:{transfer}")
        assert "pas (ou plus) valable" in texts(sent, "cli:other")
        sent = await chat.say(DRIVER, choice=f"tr:up:{transfer}")
        assert "est en route" in texts(sent, "cli:demo-gap")
        assert await rows(chat, "SELECT state FROM devices WHERE id = ?", device) == [
            ("in_transit",)]
        sent = await chat.say(DRIVER, choice=f"tr:done:{transfer}")
        assert f"{label} est arrivé à {GAP_HUB}" in texts(sent, "cli:demo-gap")
        assert f"{label} est arrivé à {GAP_HUB}" in texts(sent, f"cli:{STAFF}")
        assert await rows(chat, "SELECT state, place_id FROM devices WHERE id = ?",
                          device) == [("ready", gap)]
        assert await rows(chat, "SELECT status, driver FROM transfers") == [
            ("delivered", f"cli:{DRIVER}")]
        sent = await chat.say(DRIVER, choice=f"tr:done:{transfer}")
        assert "pas (ou plus) valable" not in texts(sent, f"cli:{DRIVER}")
        assert "n'en est pas là" in texts(sent, f"cli:{DRIVER}")
    finally:
        await chat.app.close()


async def test_a_coordinator_grants_the_driver_capability(tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_COORDINATORS="cli:coord")
    try:
        [(number,)] = await rows(chat, "SELECT number FROM users WHERE key = ?",
                                 f"cli:{STAFF}")
        sent = await chat.say("coord", choice=f"co:m:{number}")
        assert f"co:drv:{number}:1" in choices(sent, "cli:coord")
        sent = await chat.say("coord", choice=f"co:drv:{number}:1")
        assert "tr:list" in choices(sent, f"cli:{STAFF}")
        sent = await chat.say(STAFF, choice="tr:list")
        assert "Aucun transport" in texts(sent, f"cli:{STAFF}")
        sent = await chat.say("coord", choice=f"co:drv:{number}:0")
        sent = await chat.say(STAFF, choice="tr:list")
        assert "pas (ou plus) valable" in texts(sent, f"cli:{STAFF}")
    finally:
        await chat.app.close()


async def test_a_prescriber_has_the_device_brought_to_their_own_place(tmp_path: Path,
                                                                      clock: Clock):
    """Available now at Veynes, but the prescriber works at Gap's hub: a driver brings one
    there, the request moving with the device at the pick-up."""
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_TRANSFER_DAYS="5")
    try:
        await make_driver(chat, DRIVER)
        await approve(chat, "paul", Role.PRESCRIBER, GAP_HUB)
        await set_stock(chat, "laptop", {VEYNES: 1, GAP_HUB: 0})
        gap, veynes = await place_id(chat, GAP_HUB), await place_id(chat, VEYNES)
        sent = await ask(chat, "paul")
        told = texts(sent, "cli:paul")
        assert "Centre de ressources de Veynes" in told
        assert f"l'apporte à {GAP_HUB} en 5 jours environ" in told
        [(request,)] = await rows(chat, "SELECT id FROM equipment_requests")
        assert f"tr:here:{request}" in choices(sent, "cli:paul")
        sent = await chat.say("paul", choice=f"tr:here:{request}")
        assert "en 5 jours environ" in texts(sent, "cli:paul")
        assert "pour la demande DEM-2026-0001" in texts(sent, f"cli:{STAFF}")
        assert "CC Buëch-Dévoluy → CA Gap-Tallard-Durance" in texts(sent, f"cli:{DRIVER}")
        [(transfer, device)] = await rows(chat, "SELECT id, device_id FROM transfers")
        sent = await chat.say("paul", choice=f"tr:here:{request}")
        assert "déjà prévu" in texts(sent, "cli:paul")
        await chat.say(DRIVER, choice=f"tr:take:{transfer}")
        assert await rows(chat, "SELECT place_id FROM equipment_requests") == [(veynes,)]
        sent = await chat.say(DRIVER, choice=f"tr:up:{transfer}")
        assert await rows(chat, "SELECT place_id, status FROM equipment_requests") == [
            (gap, "sent")]
        assert "DEM-2026-0001" in texts(sent, "cli:demo-gap")  # the request reaches Gap
        assert "en route vers votre lieu" in texts(sent, "cli:paul")
        sent = await chat.say(DRIVER, choice=f"tr:done:{transfer}")
        assert "DEM-2026-0001 est arrivé à" in texts(sent, "cli:paul")
        assert await rows(chat, "SELECT state, place_id FROM devices WHERE id = ?",
                          device) == [("ready", gap)]
        async with chat.app.storage.transaction() as uow:  # Gap's one device, held
            assert await uow.catalogue.available(gap, "laptop") == 0
            assert await uow.catalogue.available(veynes, "laptop") == 0
    finally:
        await chat.app.close()
