"""The catalogs: every text of the code is in them, translated, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalog(lang: str):
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "filiere.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def code_ids() -> set[str]:
    found = set()
    for package in ("flows", "handlers", "bot"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords={"_": None, "_n": (1, 2)}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_text_of_the_code_is_translated(lang: str):
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog(lang) if m.id}
    missing = sorted(i for i in code_ids() if i not in entries or not entries[i].string
                     or entries[i].fuzzy)
    assert missing == [], f"run `make i18n` and translate: {missing[:5]}"


def test_translations_keep_the_placeholders():
    for message in catalog("en"):
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= wanted | {"n"}, message.id
