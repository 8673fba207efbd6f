"""A bar chart of the last twelve months as a PNG image (Pillow), for the coordinators' phone.

Pillow is enough for grouped bars and keeps the set-up light (no plotting library). Texts
come already rendered in the reader's language. A count from 1 to 4 is never drawn to scale:
its bar is left out and "< 5" written in its place, like in every other figure.
"""

from __future__ import annotations

import functools
import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from flows.report import MASK, is_masked

WIDTH, HEIGHT = 960, 540
"""Wide enough for twelve groups of bars, small enough to send in a chat (about 20 kB)."""

BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
GRID = (225, 225, 225)
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189))


@dataclass(frozen=True)
class Series:
    """One series of bars: its legend and one value per month."""

    label: str
    values: Sequence[int]


FONT_FILES = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "FreeSans.ttf",
              "NotoSans-Regular.ttf", "Arial.ttf")
"""Fonts tried in turn (Pillow finds them among the system's fonts by file name)."""


@functools.cache
def _font_file() -> str | None:
    """The first system font with French letters, or None (then Pillow's own font)."""
    for name in FONT_FILES:
        try:
            ImageFont.truetype(name, 12)
        except OSError:
            continue
        return name
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = _font_file()
    return ImageFont.truetype(name, size) if name else ImageFont.load_default(size=size)


def _text(text: str) -> str:
    """Pillow's built-in font has no accented letters: without a system font, drop them."""
    if _font_file() is not None:
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    return "".join(c for c in decomposed if not unicodedata.combining(c) and ord(c) < 128)


def _tick(value: int) -> int:
    """A round step for four ticks covering ``value``: 1, 2, 5, 10, 20, 50..."""
    raw = max(1, math.ceil(value / 4))
    magnitude = 10 ** int(math.log10(raw))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def bar_chart(title: str, months: Sequence[str], series: Sequence[Series], *,
              width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Grouped bars, one group per month, one bar per series; returns PNG bytes."""
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, font, small = _font(22), _font(14), _font(12)
    draw.text((24, 16), _text(title), fill=INK, font=title_font)

    left, right, top, bottom = 64, width - 24, 90, height - 56
    legend_x = left
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        draw.rectangle((legend_x, 56, legend_x + 14, 70), fill=color)
        draw.text((legend_x + 20, 55), _text(s.label), fill=INK, font=font)
        legend_x += 40 + int(draw.textlength(_text(s.label), font=font))

    shown = [v for s in series for v in s.values if not is_masked(v)]
    step = _tick(max(shown, default=0))
    axis_top = 4 * step
    for tick in range(5):
        value = step * tick
        y = bottom - (bottom - top) * tick / 4
        draw.line((left, y, right, y), fill=GRID)
        draw.text((left - 8 - draw.textlength(str(value), font=small), y - 7), str(value),
                  fill=INK, font=small)
    draw.line((left, bottom, right, bottom), fill=INK)

    group = (right - left) / max(1, len(months))
    bar = group * 0.8 / max(1, len(series))
    for m, month in enumerate(months):
        x0 = left + group * m + group * 0.1
        for index, s in enumerate(series):
            value = s.values[m] if m < len(s.values) else 0
            bx = x0 + bar * index
            if is_masked(value):
                draw.text((bx, bottom - 16), MASK, fill=INK, font=small)
                continue
            if value:
                y = bottom - (bottom - top) * value / axis_top
                draw.rectangle((bx, y, bx + bar - 2, bottom), fill=PALETTE[index % len(PALETTE)])
        label = _text(month)
        text_x = left + group * m + group / 2 - draw.textlength(label, font=small) / 2
        draw.text((text_x, bottom + 8), label, fill=INK, font=small)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
