"""Warranty and return: a problem reported with a device handed over reaches the place and
the workshop, which repair it or replace it; after the warranty, the person is pointed to the
place."""

from __future__ import annotations

import re
from pathlib import Path

from tests.handlers.chain import RECOND, STAFF, VEYNES, add_ready, rows, value
from tests.handlers.test_handover import CODE, one_ready_laptop, requested
from tests.support import Chat, Clock, make_chat, texts


def choices(sent: list, who: str) -> list[str]:
    return [cid for m in sent if m.to == who for cid, _label in m.choices]


async def handed_to_lea(chat: Chat) -> tuple[int, str]:
    """Ana's request for Léa handed over at Veynes with a laptop; Léa joined with her kit's
    code. The device's id and label."""
    device, label = await one_ready_laptop(chat)
    await requested(chat)
    await chat.say(STAFF, choice="rq:hy:1")
    sent = await chat.say(STAFF, label)
    code = CODE.search(texts(sent, STAFF))
    assert code is not None
    await chat.script("lea", code.group(0), "1", "Passer", "1")
    return device, label


async def test_the_person_reports_a_problem_and_the_place_replaces_the_device(
        tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_WARRANTY_MONTHS="6")
    try:
        device, label = await handed_to_lea(chat)
        [spare] = await add_ready(chat, VEYNES)
        sent = await chat.say("lea", "menu")
        assert "wr:me" in choices(sent, "cli:lea")
        sent = await chat.say("lea", choice="wr:me")
        assert "garanti jusqu'au" in texts(sent, "cli:lea")
        assert f"wr:pb:{device}:start" in choices(sent, "cli:lea")
        sent = await chat.say("lea", choice=f"wr:pb:{device}:start")
        assert "Le lieu Centre de ressources de Veynes va vous contacter" in texts(
            sent, "cli:lea")
        assert f"{label}" in texts(sent, f"cli:{STAFF}")
        assert "Il ne s'allume pas" in texts(sent, f"cli:{STAFF}")
        assert "Il ne s'allume pas" in texts(sent, f"cli:{RECOND}")  # the lot's workshop
        assert "DEM-2026-0001" in texts(sent, "cli:ana")
        [see] = [c for c in choices(sent, f"cli:{STAFF}") if c.startswith("wr:see:")]
        ticket = int(see.rsplit(":", 1)[1])
        # Reported twice: one ticket.
        sent = await chat.say("lea", choice="wr:me")
        assert "déjà signalé" in texts(sent, "cli:lea")
        sent = await chat.say(STAFF, choice=see)
        assert f"wr:swap:{ticket}" in choices(sent, f"cli:{STAFF}")
        sent = await chat.say(STAFF, choice=f"wr:swap:{ticket}")
        assert f"wr:with:{ticket}:{spare}" in choices(sent, f"cli:{STAFF}")
        sent = await chat.say(STAFF, choice=f"wr:with:{ticket}:{spare}")
        spare_label = await value(chat, "SELECT label FROM devices WHERE id = ?", spare)
        assert f"remplacé par {spare_label}" in texts(sent, f"cli:{STAFF}")
        assert f"remplacé par un autre, {spare_label}" in texts(sent, "cli:lea")
        assert "est traité" in texts(sent, "cli:ana")
        assert f"{label} revient en atelier" in texts(sent, f"cli:{RECOND}")
        assert await rows(chat, "SELECT id, state, request_id FROM devices WHERE id IN (?, ?)"
                                " ORDER BY id", device, spare) == [
            (device, "returned", 1), (spare, "handed_over", 1)]
        assert await value(chat, "SELECT join_code FROM devices WHERE id = ?", spare) == \
            await value(chat, "SELECT join_code FROM devices WHERE id = ?", device)
        assert await rows(chat, "SELECT status, replacement_id FROM repair_tickets") == [
            ("replaced", spare)]
        # The replacement is the one Léa holds now: a new problem is about it.
        sent = await chat.say("lea", choice="wr:me")
        assert f"wr:pb:{spare}:start" in choices(sent, "cli:lea")
        # The first device's old button: it was taken back.
        sent = await chat.say("lea", choice=f"wr:pb:{device}:start")
        assert "repris par le lieu" in texts(sent, "cli:lea")
        # Pressed again, the ticket is closed already.
        sent = await chat.say(STAFF, choice=f"wr:with:{ticket}:{spare}")
        assert "pas (ou plus) prêt" in texts(sent, f"cli:{STAFF}")
    finally:
        await chat.app.close()


async def test_the_prescriber_reports_and_the_workshop_repairs(tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_WARRANTY_MONTHS="6")
    try:
        device, label = await handed_to_lea(chat)
        sent = await chat.say("ana", choice="rq:mine")
        assert "wr:rq:1" in choices(sent, "cli:ana")
        sent = await chat.say("ana", choice="wr:rq:1")
        sent = await chat.say("ana", choice=f"wr:pb:{device}:battery")
        assert "La batterie ne tient pas" in texts(sent, f"cli:{RECOND}")
        sent = await chat.say(RECOND, choice="wr:list")
        [see] = [c for c in choices(sent, f"cli:{RECOND}") if c.startswith("wr:see:")]
        sent = await chat.say(RECOND, choice=see)
        ticket = see.rsplit(":", 1)[1]
        assert f"wr:swap:{ticket}" not in choices(sent, f"cli:{RECOND}")  # the place's call
        sent = await chat.say(RECOND, choice=f"wr:ok:{ticket}")
        assert f"{label} est réparé" in texts(sent, f"cli:{RECOND}")
        assert "Vous pouvez le récupérer à Centre de ressources de Veynes" in texts(
            sent, "cli:ana")
        assert await value(chat, "SELECT status FROM repair_tickets") == "repaired"
        assert await value(chat, "SELECT state FROM devices WHERE id = ?",
                           device) == "handed_over"
    finally:
        await chat.app.close()


async def test_after_the_warranty_the_person_is_pointed_to_the_place(tmp_path: Path,
                                                                     clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_WARRANTY_MONTHS="6")
    try:
        await handed_to_lea(chat)
        clock.advance(days=200)
        sent = await chat.say("lea", choice="wr:me")
        told = texts(sent, "cli:lea")
        assert re.search(r"La garantie de cet appareil est finie depuis le \w+ \d+ mai 2027",
                         told), told
        assert "Centre de ressources de Veynes" in told
        assert await value(chat, "SELECT count(*) FROM repair_tickets") == 0
    finally:
        await chat.app.close()
