"""One prescriber never reaches another's request, one donor another's lot, one beneficiary
another's data: not by buttons (forged choice ids), not by references typed by hand, not by
the certificate check.

Owners (see ``test_sec_scenario``): DEM-2026-0001 is demo-accomp's (the other prescriber is
demo-fs); LOT-2026-0001 is ACME's, certified (the other donor is dona, owner of LOT-2026-0002);
Léa and Ben are two beneficiaries of Veynes.
"""

from __future__ import annotations

import pytest

import tests.security.test_sec_scenario as scenario
from tests.security.test_sec_scenario import rows
from tests.support import Chat, texts

scenario_template = scenario.scenario_template  # shared fixtures
scenario_chat = scenario.scenario_chat

REQUEST_SECRETS = ("Léa", "DEM-2026-0001", "18")
LOT_SECRETS = ("ACME", "Jeanne Dupont", "+33612345678", "06 12 34 56 78", "LOT-2026-0001")


async def request_row(chat: Chat) -> list[tuple]:
    return await rows(chat, "SELECT * FROM equipment_requests")


async def lot_one(chat: Chat) -> list[tuple]:
    return await rows(chat, "SELECT * FROM lots WHERE id = 1")


# --- requests -------------------------------------------------------------------------------


async def test_another_prescriber_does_not_see_the_request_in_my_requests(scenario_chat: Chat):
    sent = await scenario_chat.say("demo-fs", choice="rq:mine")
    assert "DEM-2026-0001" not in texts(sent)
    sent = await scenario_chat.say("demo-accomp", choice="rq:mine")
    assert "DEM-2026-0001" in texts(sent, "demo-accomp")  # the owner does


@pytest.mark.parametrize("forged", ["rq:cx:1", "rq:cy:1", "rq:ok:1", "rq:no:1", "rq:rd:1",
                                    "rq:ho:1", "rq:hy:1", "rq:hn:1", "rq:nr:1:stock",
                                    "rq:rdd:1:20261130", "rq:cy:0001", "rq:cy:1:x"])
async def test_another_prescriber_cannot_act_on_the_request(scenario_chat: Chat, forged: str):
    chat = scenario_chat
    before = await request_row(chat)
    sent = await chat.say("demo-fs", choice=forged)
    assert texts(sent, "demo-fs")
    assert {m.to for m in sent} == {"cli:demo-fs"}
    assert "Léa" not in texts(sent)
    assert await request_row(chat) == before


@pytest.mark.parametrize("typed", ["DEM-2026-0001", "dem-2026-0001", "DEM 2026 0001", "1",
                                   "/verifier DEM-2026-0001", "annuler DEM-2026-0001"])
async def test_a_request_reference_typed_by_hand_reveals_nothing(scenario_chat: Chat,
                                                                 typed: str):
    chat = scenario_chat
    await chat.say("demo-fs", choice="rq:mine")  # the last menu is their (empty) list
    before = await request_row(chat)
    sent = await chat.say("demo-fs", typed)
    said = texts(sent, "demo-fs")
    assert said and {m.to for m in sent} == {"cli:demo-fs"}
    assert not [s for s in REQUEST_SECRETS if s in said], said
    assert await request_row(chat) == before


# --- lots -----------------------------------------------------------------------------------


async def test_another_donor_sees_only_their_own_lots(scenario_chat: Chat):
    sent = await scenario_chat.say("dona", "/dons")
    said = texts(sent, "dona")
    assert "LOT-2026-0002" in said
    assert not [s for s in LOT_SECRETS if s in said], said


@pytest.mark.parametrize("forged", ["don:cert:1", "don:cert:01", "don:cert:1:x", "don:cert:-1",
                                    "lot:see:1", "lot:rcv:1", "lot:wipe:1", "lot:cert:1"])
async def test_another_donor_cannot_fetch_or_touch_the_lot(scenario_chat: Chat, forged: str):
    chat = scenario_chat
    before = await lot_one(chat)
    sent = await chat.say("dona", choice=forged)
    said = texts(sent, "dona")
    assert said and {m.to for m in sent} == {"cli:dona"}
    assert not [m for m in sent if m.attachment], "a certificate was sent to another donor"
    assert not [s for s in LOT_SECRETS if s in said], said
    assert await lot_one(chat) == before


@pytest.mark.parametrize("typed", ["LOT-2026-0001", "lot-2026-0001", "/verifier LOT-2026-0001",
                                   "/dons LOT-2026-0001", "/effacements", "1"])
async def test_a_lot_reference_typed_by_hand_reveals_nothing(scenario_chat: Chat, typed: str):
    chat = scenario_chat
    await chat.say("dona", "/dons")  # the last menu is their own list
    before = await lot_one(chat)
    sent = await chat.say("dona", typed)
    said = texts(sent, "dona")
    assert said and {m.to for m in sent} == {"cli:dona"}
    assert not [m for m in sent if m.attachment]
    assert not [s for s in LOT_SECRETS if s in said], said
    assert await lot_one(chat) == before


async def test_the_certificate_check_confirms_without_naming_the_donor(scenario_chat: Chat):
    chat = scenario_chat
    [(code,)] = await rows(chat, "SELECT code FROM erasure_certificates WHERE lot_id = 1")
    sent = await chat.say("dona", f"/verifier {code}")
    said = texts(sent, "dona")
    assert "Certificat authentique" in said
    assert not [m for m in sent if m.attachment]
    assert not [s for s in LOT_SECRETS[:4] if s in said], said


async def test_a_donor_forgetting_their_contact_leaves_other_lots_alone(scenario_chat: Chat):
    chat = scenario_chat
    before = await lot_one(chat)
    await chat.say("dona", choice="don:forget:ok")
    assert await lot_one(chat) == before
    [(name,)] = await rows(chat, "SELECT contact_name FROM lots WHERE id = 2")
    assert "Jeanne Dupont" not in (name or "")


# --- beneficiaries --------------------------------------------------------------------------


async def test_a_beneficiary_forgetting_themself_leaves_the_other_alone(scenario_chat: Chat):
    chat = scenario_chat
    lea = await rows(chat, "SELECT * FROM beneficiaries WHERE user_key = 'cli:lea'")
    bookings = await rows(chat, "SELECT * FROM bookings")
    await chat.say("ben", choice="bn:fg:ok")
    assert await rows(chat, "SELECT * FROM beneficiaries WHERE user_key = 'cli:ben'") == []
    assert await rows(chat, "SELECT * FROM beneficiaries WHERE user_key = 'cli:lea'") == lea
    assert await rows(chat, "SELECT * FROM bookings") == bookings


@pytest.mark.parametrize("forged", ["bn:cx:1", "bn:yes:1", "bn:no:1", "bn:mv:1", "bn:mt:1:2",
                                    "tk:rep:1", "tk:end:1", "tk:take:1"])
async def test_a_beneficiary_cannot_act_on_another_ones_booking_or_ticket(scenario_chat: Chat,
                                                                          forged: str):
    chat = scenario_chat
    before = (await rows(chat, "SELECT * FROM bookings"),
              await rows(chat, "SELECT * FROM help_tickets"))
    sent = await chat.say("ben", choice=forged)
    assert texts(sent, "ben") and {m.to for m in sent} == {"cli:ben"}
    assert "Léa" not in texts(sent)
    assert (await rows(chat, "SELECT * FROM bookings"),
            await rows(chat, "SELECT * FROM help_tickets")) == before
