"""The holes found from outside with ordinary menus, each closed by a declaration's scope.

A structure's referent approves only the prescribers of their own structure (never a
reconditioner or place staff, who could then certify lots); a lot is acted on only by the
staff of its drop-off place or of the workshop it is sent to; a lot the network never
received cannot be certified.
"""

from __future__ import annotations

from tests.handlers.test_coordination import access
from tests.handlers.test_donations import RECOND, WIPE, declare_organisation_lot
from tests.support import Chat, texts

REFUSAL = "pas (ou plus) valable pour vous"


async def rows(chat: Chat, sql: str, *params: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await chat.app.db.conn.execute_fetchall(sql, params)]


async def test_a_referent_approves_only_the_prescribers_of_their_structure(chat: Chat):
    await chat.script("ana", *access())
    await chat.say("coord", choice="acc:ok:1")  # Ana: first member, referent of her CCAS
    reconditioner = access()
    reconditioner[2] = "3"  # Reconditionneur, same structure and commune
    await chat.script("bob", *[line.replace("Ana Martin", "Bob Durand")
                               for line in reconditioner])
    sent = await chat.say("ana", choice="acc:ok:2")
    assert REFUSAL in texts(sent, "ana")
    assert await rows(chat, "SELECT role FROM users WHERE key = 'cli:bob'") == [(None,)]
    assert await rows(chat, "SELECT status FROM access_requests WHERE id = 2") == [("pending",)]
    await chat.script("cleo", *[line.replace("Ana Martin", "Cléo Petit") for line in access()])
    sent = await chat.say("ana", choice="acc:ok:3")  # a prescriber of her structure: yes
    assert REFUSAL not in texts(sent, "ana")
    assert await rows(chat, "SELECT role FROM users WHERE key = 'cli:cleo'") == [("prescriber",)]


async def test_another_places_staff_neither_sees_nor_receives_a_lot(chat: Chat):
    await declare_organisation_lot(chat)  # dropped at Veynes, sent to the Gap workshop
    sent = await chat.say("demo-gap", choice="lot:list")
    assert "LOT-2026-0001" not in texts(sent, "demo-gap")
    assert "Jeanne" not in texts(sent, "demo-gap")
    for data in ("lot:see:1", "lot:rcv:1", "lot:see:999"):
        sent = await chat.say("demo-gap", choice=data)
        assert {m.to for m in sent} == {"cli:demo-gap"}  # the donor is told nothing
        assert REFUSAL in texts(sent, "demo-gap")
    assert await rows(chat, "SELECT status FROM lots") == [("declared",)]
    sent = await chat.say("demo-veynes", choice="lot:list")
    assert "LOT-2026-0001" in texts(sent, "demo-veynes")


async def test_a_lot_never_received_cannot_be_certified(chat: Chat):
    await declare_organisation_lot(chat)
    sent = await chat.say(RECOND, choice="lot:wipe:1")
    assert "pas encore marqué comme reçu" in texts(sent, RECOND)
    await chat.script(RECOND, *WIPE)
    sent = await chat.say(RECOND, choice="lot:cert:1")
    assert "pas encore marqué comme reçu" in texts(sent, RECOND)
    assert texts(sent, "acme") == ""
    assert await rows(chat, "SELECT count(*) FROM erasure_certificates") == [(0,)]
    assert await rows(chat, "SELECT count(*) FROM erasure_records") == [(0,)]


async def test_a_reconditioner_of_another_workshop_cannot_certify(chat: Chat):
    await declare_organisation_lot(chat, receive=True)
    async with chat.app.storage.transaction() as uow:
        await uow.conn.execute("UPDATE lots SET workshop_id = NULL")
    for data in ("lot:wipe:1", "lot:cert:1"):
        sent = await chat.say(RECOND, choice=data)
        assert REFUSAL in texts(sent, RECOND)
    sent = await chat.say(RECOND, "/effacements")
    assert REFUSAL not in texts(sent, RECOND)
