"""A structure's members are found by their commune, one professional by their key: the
professional space no longer reads every member of the network to find someone's referent."""

from __future__ import annotations

from datetime import timedelta

from flows.coordination import structure_key
from flows.messages import UserKey
from storage.db import ts
from tests.support import Chat

VEYNES, GAP = "05179", "05061"


async def test_members_are_found_by_the_commune_of_their_latest_approved_request(chat: Chat):
    now = chat.clock()
    conn = chat.app.db.conn
    people = {"cli:ana": "prescriber", "cli:ben": "prescriber", "cli:cleo": "place_staff",
              "cli:dan": None}
    for number, (key, role) in enumerate(people.items(), start=100):
        await conn.execute("INSERT INTO users (key, lang, role, created_at, number) VALUES"
                           " (?, 'fr', ?, ?, ?)", (key, role, ts(now), number))
    requests = [  # (who, structure, commune, status), oldest first
        ("cli:ana", "CCAS de Veynes", VEYNES, "approved"),
        ("cli:ben", "CCAS de Veynes", VEYNES, "approved"),
        ("cli:ben", "Secours populaire", GAP, "approved"),  # Ben moved to Gap since
        ("cli:cleo", "ccas de VEYNES", VEYNES, "approved"),
        ("cli:cleo", "Mairie de Veynes", VEYNES, "rejected"),  # refused: not her structure
        ("cli:dan", "CCAS de Veynes", VEYNES, "approved"),  # access withdrawn since (no role)
    ]
    for number, (key, structure, commune, status) in enumerate(requests):
        await conn.execute(
            "INSERT INTO access_requests (user_key, role, structure, address, commune,"
            " contact_name, function, phone, status, created_at, decided_at)"
            " VALUES (?, 'prescriber', ?, '', ?, '', '', '', ?, ?, ?)",
            (key, structure, commune, status, ts(now + timedelta(minutes=number)),
             ts(now + timedelta(minutes=number))))
    async with chat.app.storage.transaction() as uow:
        at_veynes = await uow.coordination.members_at(VEYNES)
        ben = await uow.coordination.member_of(UserKey("cli:ben"))
        dan = await uow.coordination.member_of(UserKey("cli:dan"))
        everyone = {m.user: m for m in await uow.coordination.members()}
        by_number = [await uow.coordination.member(m.number) for m in everyone.values()]
    assert [m.user for m in at_veynes] == ["cli:ana", "cli:cleo"]
    assert {m.structure for m in at_veynes} == {structure_key("CCAS de Veynes", VEYNES)}
    assert ben is not None and ben.structure == structure_key("Secours populaire", GAP)
    assert dan is None and "cli:dan" not in everyone
    assert [everyone[m.user] for m in at_veynes] == at_veynes and everyone[ben.user] == ben
    assert by_number == list(everyone.values())
