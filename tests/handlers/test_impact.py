"""The donor told what became of their gift: once every device of the lot is settled, and in
"Mes dons" at any time, with the receipt again."""

from __future__ import annotations

from pathlib import Path

from flows.records import DeviceCategory, DeviceState
from tests.bot.browser import ensure_pdf_tools, pdf_text
from tests.handlers.chain import STAFF, ready_device, received_lot, set_stock, value
from tests.handlers.test_handover import requested
from tests.support import Chat, Clock, make_chat, texts

DONOR = "acme"


async def settle(chat: Chat, device: int, state: DeviceState) -> None:
    """A device taken apart or recycled, as a workshop's diagnosis leaves it."""
    async with chat.app.storage.transaction() as uow:
        await uow.devices.change(device, [DeviceState.RECEIVED], state, state.value,
                                 chat.clock(), None)


async def test_the_donor_is_told_once_the_last_device_of_the_lot_is_handed_over(
        tmp_path: Path, clock: Clock):
    ensure_pdf_tools()
    chat = await make_chat(tmp_path / "bot.sqlite3", clock)
    try:
        await set_stock(chat, "laptop", {})
        lot, ref, devices = await received_lot(
            chat, {DeviceCategory.LAPTOP: 2, DeviceCategory.SCREEN: 1, DeviceCategory.PRINTER: 1})
        (laptop, label), (spare, _l2), (screen, _l3), (printer, _l4) = devices
        await ready_device(chat, laptop)
        await settle(chat, spare, DeviceState.PARTS)
        await settle(chat, printer, DeviceState.RECYCLED)
        await requested(chat)
        # The screen is still to recondition: "Mes dons" tells the story so far.
        sent = await chat.say(DONOR, choice=f"don:impact:{lot}")
        told = texts(sent, DONOR)
        assert "1 appareil a servi de pièces détachées" in told
        assert "2 appareils sont encore en cours" in told
        await settle(chat, screen, DeviceState.RECYCLED)
        assert await value(chat, "SELECT impact_told_at FROM lots WHERE id = ?", lot) is None
        await chat.say(STAFF, choice="rq:hy:1")
        sent = await chat.say(STAFF, label)  # the last device: handed over at Veynes
        told = texts(sent, f"cli:{DONOR}")
        assert f"Ce qu'est devenu votre don {ref}" in told
        assert "1 appareil a été remis à une personne accompagnée" in told
        assert "CC Buëch-Dévoluy : 1" in told
        assert "1 appareil a servi de pièces détachées" in told
        assert "2 appareils, irréparables, ont été confiés au recyclage" in told
        assert "Environ 156 kg de CO2e évités" in told
        assert "Ordinateurs portables : 156 kg CO2e par appareil (ADEME 2018" in told
        assert "Léa" not in told and "ana" not in told  # aggregated, never a person
        [pdf] = [m.attachment.data for m in sent
                 if m.to == f"cli:{DONOR}" and m.attachment is not None]
        assert await value(chat, "SELECT impact_told_at FROM lots WHERE id = ?", lot)
        # Told once: another look from "Mes dons" is the same report, not a new notice.
        sent = await chat.say(DONOR, "/dons")
        assert f"don:impact:{lot}" in [c for m in sent for c, _label in m.choices]
        assert f"don:receipt:{lot}" in [c for m in sent for c, _label in m.choices]
        sent = await chat.say(DONOR, choice=f"don:receipt:{lot}")
        [receipt] = [m.attachment for m in sent if m.attachment is not None]
        assert receipt.filename == f"recu-{ref}.pdf"
    finally:
        await chat.app.close()
    report = pdf_text(pdf, tmp_path)
    assert ref in report and "CC Buëch-Dévoluy : 1" in report and "156 kg" in report
    assert "Reçu de don" in pdf_text(receipt.data, tmp_path)
