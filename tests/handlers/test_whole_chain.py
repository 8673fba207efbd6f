"""One lot followed along the whole chain, as the people of the network see it: a company's
two laptops received at Veynes and reconditioned by the school, stocked at the departmental
hub in Gap; a volunteer driver brings them to Veynes, where a prescriber's request for Léa is
handed over with the first; Léa reports a problem, the place replaces it with the second and
the school takes the first apart for spare parts; the lot settled, the donor is told what
became of the gift."""

from __future__ import annotations

from pathlib import Path

from flows.records import DeviceCategory
from tests.handlers.chain import (
    GAP_HUB,
    RECOND,
    STAFF,
    place_id,
    ready_device,
    received_lot,
    rows,
    set_stock,
    value,
)
from tests.handlers.test_handover import CODE, requested
from tests.handlers.test_transfers import make_driver
from tests.support import Chat, Clock, make_chat, texts

DRIVER = "marc"
DONOR = "acme"


def choices(sent: list, who: str) -> list[str]:
    return [cid for m in sent if m.to == who for cid, _label in m.choices]


async def carried_to_veynes(chat: Chat, device: int) -> None:
    """Gap's hub plans the device's transport to Veynes; the driver takes it, picks it up and
    delivers it."""
    veynes = await place_id(chat, "Centre de ressources de Veynes")
    await chat.say("coord", choice=f"tr:plan:{device}:{veynes}")
    [(transfer,)] = await rows(chat, "SELECT id FROM transfers WHERE device_id = ?", device)
    await chat.say(DRIVER, choice=f"tr:take:{transfer}")
    await chat.say(DRIVER, choice=f"tr:up:{transfer}")
    sent = await chat.say(DRIVER, choice=f"tr:done:{transfer}")
    assert "Centre de ressources de Veynes" in texts(sent, f"cli:{STAFF}")
    assert await value(chat, "SELECT place_id FROM devices WHERE id = ?", device) == veynes


async def test_one_lot_from_reception_through_a_transfer_and_a_return_to_the_donors_notice(
        tmp_path: Path, clock: Clock):
    chat = await make_chat(tmp_path / "bot.sqlite3", clock, FILIERE_WARRANTY_MONTHS="6")
    try:
        await set_stock(chat, "laptop", {})  # the demo's laptops are gone
        await make_driver(chat, DRIVER)
        lot, ref, [(first, label), (second, second_label)] = await received_lot(
            chat, {DeviceCategory.LAPTOP: 2})
        await ready_device(chat, first, stock=GAP_HUB)
        await ready_device(chat, second, "PF2XYZ99", stock=GAP_HUB)
        hub = await place_id(chat, GAP_HUB)
        assert await rows(chat, "SELECT place_id, state FROM devices WHERE lot_id = ?"
                                " ORDER BY id", lot) == [(hub, "ready"), (hub, "ready")]

        # Both laptops carried to Veynes; Léa's request is served there with the first.
        await carried_to_veynes(chat, first)
        await carried_to_veynes(chat, second)
        await requested(chat)
        await chat.say(STAFF, choice="rq:hy:1")
        sent = await chat.say(STAFF, label)
        assert f"Remise enregistrée pour DEM-2026-0001 : appareil {label}" in texts(
            sent, f"cli:{STAFF}")
        code = CODE.search(texts(sent, f"cli:{STAFF}"))
        assert code is not None
        await chat.script("lea", code.group(0), "1", "Passer", "1")

        # Léa's laptop does not start: the place replaces it with the second one.
        await chat.say("lea", choice="wr:me")
        sent = await chat.say("lea", choice=f"wr:pb:{first}:start")
        [see] = [c for c in choices(sent, f"cli:{STAFF}") if c.startswith("wr:see:")]
        ticket = int(see.rsplit(":", 1)[1])
        sent = await chat.say(STAFF, choice=f"wr:with:{ticket}:{second}")
        assert f"remplacé par un autre, {second_label}" in texts(sent, "cli:lea")
        assert f"Ce qu'est devenu votre don {ref}" not in texts(sent, f"cli:{DONOR}")

        # The school takes the first apart: every device of the lot is settled.
        await chat.say(RECOND, choice=f"dv:dx:{first}")
        sent = await chat.script(RECOND, "3", "Passer")  # spare parts, nothing to note
        told = texts(sent, f"cli:{DONOR}")
        assert f"Ce qu'est devenu votre don {ref}" in told, texts(sent, f"cli:{RECOND}")
        assert "1 appareil a été remis à une personne accompagnée" in told
        assert "1 appareil a servi de pièces détachées" in told
        assert "Léa" not in told
        assert await rows(chat, "SELECT state FROM devices WHERE lot_id = ? ORDER BY id",
                          lot) == [("parts",), ("handed_over",)]
    finally:
        await chat.app.close()
