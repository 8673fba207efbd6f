"""The printable sheet of a lot's stickers (fpdf2 + segno): "Réemploi solidaire — Hautes-Alpes",
each device's label and its QR code, on a standard A4 sheet of 21 stickers (3 × 7,
63.5 × 38.1 mm, as Avery L7160 and its equivalents: a place prints it on the sheets it buys).

The QR code holds the Telegram deep link that opens the bot on the device, or the label alone
when the bot's username is not known (``flows.devices.qr_payload``). Streams are left
uncompressed, as for the certificates: the text can be read back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import segno
from fpdf import FPDF

from flows.devices import DEVICE_NAMES, STICKER_TITLE, qr_payload
from flows.records import Device
from handlers.certificates import Translate, pdf_safe

COLUMNS, ROWS = 3, 7
WIDTH, HEIGHT = 63.5, 38.1
LEFT, TOP = 7.25, 15.15
PITCH_X = 66.04
"""Where each sticker is on the A4 sheet (millimetres)."""
QR_MM = 30.0


def qr_image(data: str) -> io.BytesIO:
    """A QR code as a PNG (never a Micro QR, which many phones do not read), with a quiet
    margin of two modules (the sticker's edge adds more) and low error correction (boosted
    by segno where it costs nothing): bigger modules, read from a small sticker."""
    buffer = io.BytesIO()
    segno.make_qr(data, error="l").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def label_sheet_pdf(devices: Sequence[Device], bot_username: str | None,
                    translate: Translate, created: datetime) -> bytes:
    """One sticker per device, 21 to a page, in the order given."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_compression(False)
    pdf.set_creation_date(created)
    pdf.set_auto_page_break(auto=False)
    for index, device in enumerate(devices):
        slot = index % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
        x = LEFT + (slot % COLUMNS) * PITCH_X
        y = TOP + (slot // COLUMNS) * HEIGHT
        _sticker(pdf, device, x, y, bot_username, translate)
    if not devices:
        pdf.add_page()
    return bytes(pdf.output())


def _sticker(pdf: FPDF, device: Device, x: float, y: float, bot_username: str | None,
             translate: Translate) -> None:
    margin = (HEIGHT - QR_MM) / 2
    pdf.image(qr_image(qr_payload(device.label, bot_username)), x=x + 2, y=y + margin,
              w=QR_MM, h=QR_MM)
    text_x = x + 2 + QR_MM + 2
    width = WIDTH - (text_x - x) - 2
    title, _dash, territory = STICKER_TITLE.partition(" — ")
    pdf.set_xy(text_x, y + 5)
    pdf.set_font("Helvetica", style="B", size=7)
    pdf.multi_cell(width, 3.4, pdf_safe(f"{title} —\n{territory}"), align="L")
    pdf.set_xy(text_x, y + 15)
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(width, 7, pdf_safe(device.label), align="L")
    pdf.set_xy(text_x, y + 24)
    pdf.set_font("Helvetica", size=7)
    pdf.multi_cell(width, 3.2, pdf_safe(translate(DEVICE_NAMES[device.category])), align="L")


__all__ = ["label_sheet_pdf"]
