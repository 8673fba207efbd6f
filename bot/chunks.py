"""Cutting a long text into pieces a platform accepts, at natural boundaries."""

from __future__ import annotations

from collections.abc import Callable


def utf16_len(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` (as ``measure`` counts), cutting at a
    paragraph, else a line, else a space, in the second half of a piece if there is one."""
    parts: list[str] = []
    rest = text
    while measure(rest) > limit:
        end = min(len(rest), limit)
        while (over := measure(rest[:end]) - limit) > 0:
            end -= (over + 1) // 2  # a character counts one or two units
        window = rest[:end]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > end // 2:
                break
        if cut <= end // 2:
            cut = end
        head = rest[:cut].rstrip()
        if head:
            parts.append(head)
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts
