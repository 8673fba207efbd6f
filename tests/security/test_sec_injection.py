"""SQL injection attempts in every free-text field are stored as text (or refused by
validation) and do nothing else; arbitrary input and forged choice ids mid-flow never crash.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.test_sec_scenario import code_from, rows
from tests.support import Chat, Clock, make_chat, texts

INJECTIONS = [
    "Robert'); DROP TABLE users;--",
    "x' OR '1'='1",
    "1; DELETE FROM lots; --",
    "\"; UPDATE users SET role='coordinator' WHERE 1=1; --",
    "' UNION SELECT key, role FROM users --",
]


async def tables(chat: Chat) -> list[str]:
    return [t for (t,) in await rows(
        chat, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]


async def counts(chat: Chat, *skip: str) -> dict[str, int]:
    return {t: (await rows(chat, f"SELECT count(*) FROM {t}"))[0][0]
            for t in await tables(chat) if t not in skip}


async def roles(chat: Chat) -> list[tuple]:
    return await rows(chat, "SELECT key, role, place_id FROM users ORDER BY key")


TOUCHED = ("users", "conversations", "outbox", "menus", "processed_events", "audit_log")
"""Tables any conversation writes to (checked separately)."""


@pytest.mark.parametrize("evil", INJECTIONS)
async def test_access_request_fields_store_injections_as_text(chat: Chat, evil: str):
    names = await tables(chat)
    before = await counts(chat, *TOUCHED, "access_requests")
    sent = await chat.script("eve", "bonjour", "1", "1", evil, evil, "veynes", evil, evil,
                             "06 12 34 56 78", "1")
    assert texts(sent, "eve")
    stored = await rows(chat, "SELECT structure, address, contact_name, function "
                              "FROM access_requests")
    assert stored in ([], [(evil, evil, evil, evil)])
    assert await tables(chat) == names
    assert await counts(chat, *TOUCHED, "access_requests") == before
    assert ("cli:eve", None, None) in await roles(chat)
    assert [r for r in await roles(chat) if r[1] == "coordinator"] == []


@pytest.mark.parametrize("evil", INJECTIONS)
async def test_equipment_request_first_name_stores_injections_as_text(chat: Chat, evil: str):
    names = await tables(chat)
    users = await roles(chat)
    await chat.say("demo-fs", choice="rq:new")
    sent = await chat.script("demo-fs", "1, 4", "4", "Passer", "veynes",
                             "Ordinateur portable", "2", evil, "2", "1")
    assert texts(sent, "demo-fs")
    stored = await rows(chat, "SELECT first_name FROM equipment_requests")
    assert stored in ([], [(evil,)], [(None,)]), stored
    assert await tables(chat) == names
    assert await roles(chat) == users


@pytest.mark.parametrize("evil", INJECTIONS)
async def test_beneficiary_name_and_help_text_store_injections_as_text(chat: Chat, evil: str):
    names = await tables(chat)
    code = await code_from(chat, "demo-veynes")
    users = await roles(chat)
    await chat.script("eve", code, "1", evil[:40], "1")
    assert await rows(chat, "SELECT first_name FROM beneficiaries") in ([(evil[:40],)],
                                                                        [(None,)], [])
    await chat.say("eve", choice="bn:help")
    sent = await chat.say("eve", evil)
    assert evil in texts(sent, "demo-veynes")
    assert await tables(chat) == names
    assert [r for r in await roles(chat) if r[0] != "cli:eve"] == users


@pytest.mark.parametrize("evil", INJECTIONS)
async def test_donation_fields_store_injections_as_text(chat: Chat, evil: str):
    names = await tables(chat)
    users = await roles(chat)
    lot = ["bonjour", "2", "1", evil, evil, "06 12 34 56 78", "12 portables, 5 écrans",
           "2, 5, 7", "2", "5", "veynes", "1", "1"]
    sent = await chat.script("eve", *lot)
    assert texts(sent, "eve")
    stored = await rows(chat, "SELECT organisation, contact_name FROM lots")
    assert stored in ([], [(evil, evil)]), stored
    private = ["bonjour", "2", "4", evil, "eve@exemple.fr", "1 portable", "3, 4, 9", "1", "5",
               "gap", "Je demande un enlèvement", "gap", evil, "1"]
    await chat.script("eva", *private)
    stored = await rows(chat, "SELECT contact_name, availability FROM lots WHERE donor_kind = "
                              "'private'")
    assert stored in ([], [(evil, evil)]), stored
    assert await tables(chat) == names
    assert [r for r in await roles(chat) if r[0] not in ("cli:eve", "cli:eva")] == users


@pytest.mark.parametrize("evil", INJECTIONS)
async def test_injections_as_commands_and_choice_ids_do_nothing(chat: Chat, evil: str):
    names = await tables(chat)
    before = await counts(chat, *TOUCHED)
    users = await roles(chat)
    for who in ("eve", "demo-fs", "coord"):
        for said in (evil, f"/verifier {evil}", f"rej {evil}", f"/langue {evil}"):
            assert texts(await chat.say(who, said), who)
            await chat.say(who, "menu")
        for prefix in ("acc:ok:", "rq:cy:", "bn:bk:", "don:cert:", "lot:see:", "co:m:",
                       "tk:take:"):
            assert texts(await chat.say(who, choice=prefix + evil), who)
    assert await tables(chat) == names
    assert await counts(chat, *TOUCHED) == before
    known = {r[0] for r in users}
    assert [r for r in await roles(chat) if r[0] in known] == users


# --- property-based: arbitrary input mid-flow ------------------------------------------------

STARTERS = [("demo-fs", "rq:new"), ("fuzz", "m:pro"), ("fuzz", "m:give"), ("coord", "co:pl:add"),
            ("demo-veynes", "bs:new"), ("demo-recond", "lot:wipe:1"), ("fuzz", "m:got")]
PREFIXES = ["m:", "i:", "acc:", "q:", "rq:", "bn:", "tk:", "bs:", "don:", "lot:", "co:", ""]

free_text = st.text(max_size=300) | st.text(alphabet=st.characters(codec="utf-8"),
                                            min_size=1000, max_size=5000)
forged = st.builds(lambda p, rest: p + rest, st.sampled_from(PREFIXES),
                   st.text(alphabet=st.characters(codec="utf-8"), max_size=70))
inputs = st.lists(st.one_of(free_text.map(lambda t: ("text", t)),
                            forged.map(lambda c: ("choice", c)),
                            st.sampled_from(["annuler", "retour", "/aide", "menu", "stop",
                                             "/langue", "1", "passer"]).map(
                                lambda t: ("text", t))),
                  min_size=1, max_size=4)


def test_arbitrary_input_and_forged_choices_mid_flow_never_crash(tmp_path: Path):
    with asyncio.Runner() as runner:
        chat = runner.run(make_chat(tmp_path / "fuzz.sqlite3", Clock()))
        runner.run(chat.script("acme", "bonjour", "2", "1", "ACME", "Jo", "06 12 34 56 78",
                               "3 portables", "2, 5, 7", "2", "5", "veynes", "1", "1"))
        names = runner.run(tables(chat))

        @settings(max_examples=100, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(starter=st.sampled_from(STARTERS), steps=inputs)
        def run(starter: tuple[str, str], steps: list[tuple[str, str]]) -> None:
            who, choice = starter
            runner.run(chat.say(who, choice=choice))
            for kind, value in steps:
                if kind == "text":
                    sent = runner.run(chat.say(who, value))
                else:
                    sent = runner.run(chat.say(who, choice=value))
                assert [m for m in sent if m.to == f"cli:{who}"], (kind, value)
            runner.run(chat.say(who, "annuler"))

        try:
            run()
            assert runner.run(tables(chat)) == names
            assert runner.run(rows(chat, "PRAGMA integrity_check")) == [("ok",)]
        finally:
            runner.run(chat.app.close())
