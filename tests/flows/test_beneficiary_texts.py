"""Plain language: every beneficiary-facing text follows the FALC rules that fit a chat.

Every message id of ``flows/beneficiary.py`` (and the workshop topics a beneficiary reads) is
checked in French and, where the English catalog translates it, in English: no sentence longer
than 15 words, and at most 3 sentences before the question (or in all, when there is none).
A placeholder counts as one word; the items of a bulleted list ("• ...") are checked for length
but do not count as sentences (FALC recommends lists).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from flows.workshops import TOPIC_LABELS

ROOT = Path(__file__).resolve().parents[2]
MAX_WORDS = 15
MAX_SENTENCES = 3


def message_ids(path: Path) -> list[str]:
    """The literal first argument of every ``_()`` and ``_n()`` call in a module."""
    ids = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "_n") and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            ids.append(node.args[0].value)
    return ids


def beneficiary_ids() -> list[str]:
    ids = message_ids(ROOT / "flows" / "beneficiary.py")
    return sorted(set(ids) | {label.msgid for label in TOPIC_LABELS.values()})


def english() -> dict[str, str]:
    po = ROOT / "locales" / "en" / "LC_MESSAGES" / "filiere.po"
    if not po.exists():
        return {}
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    found = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        value = message.string if isinstance(message.string, str) else message.string[0]
        if value:
            found[key] = value
    return found


def sentences(text: str) -> list[str]:
    text = re.sub(r"\{\w+\}", "X", text)
    parts = []
    for line in text.splitlines():
        parts += [p for p in re.split(r"(?<=[.!?…])\s+", line.strip()) if p.strip()]
    return parts


def words(sentence: str) -> int:
    return sum(1 for token in sentence.split() if re.search(r"\w", token))


def problems(text: str) -> list[str]:
    found = []
    parts = sentences(text)
    for sentence in parts:
        if words(sentence) > MAX_WORDS:
            found.append(f"sentence of {words(sentence)} words: {sentence!r}")
    parts = [s for s in parts if not s.startswith("•")]
    questions = [i for i, s in enumerate(parts) if s.rstrip().endswith("?")]
    before = questions[-1] if questions else len(parts)
    if before > MAX_SENTENCES:
        found.append(f"{before} sentences before the question")
    return found


def test_the_checker_catches_long_sentences_and_long_messages():
    assert problems("Un deux trois quatre cinq six sept huit neuf dix onze douze treize "
                    "quatorze quinze seize.")
    assert problems("Un. Deux. Trois. Quatre. Vous venez ?")
    assert not problems("Un. Deux. Trois. Vous venez ?")
    assert not problems("Rappel : atelier « {topic} » le {when}.")
    assert not problems("Vos ateliers :\n• un\n• deux\n• trois\n• quatre")


@pytest.mark.parametrize("msgid", beneficiary_ids())
def test_french_text_is_plain(msgid: str):
    assert problems(msgid) == []


def test_english_text_is_plain_where_translated():
    translated = english()
    bad = {msgid: problems(translated[msgid]) for msgid in beneficiary_ids()
           if msgid in translated and problems(translated[msgid])}
    assert bad == {}
