"""Plain language: every beneficiary-facing text follows the FALC rules that fit a chat.

Every message id a beneficiary reads is checked in French and in English (the English
catalog must translate each): no sentence longer than 15 words, at most 3 sentences before
the question (or in all, when there is none), no abbreviation, no inclusive-writing middle
dot (``flows/plain.py``, which also checks what a coordinator writes for beneficiaries). The
texts read: all of ``flows/beneficiary.py``, the workshop topics, opening hours in plain
words, the front door a newcomer sees, and the router's words to someone not understood.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from flows.plain import problems as plain_problems
from flows.workshops import TOPIC_LABELS

ROOT = Path(__file__).resolve().parents[2]

SOURCES: dict[str, frozenset[str] | None] = {
    "flows/beneficiary.py": None,  # every text of the module
    "flows/opening_hours.py": frozenset({"DAY_NAMES", "clock_words", "_and", "_days_words",
                                         "in_words", "when_words"}),
    "flows/home.py": frozenset({"home"}),
    "handlers/beneficiary_common.py": None,
    "handlers/core.py": frozenset({"_route"}),
    "flows/warranty.py": frozenset({"PROBLEM_LABELS"}),
    "handlers/warranty.py": frozenset({"my_device", "offer_problems", "_place_name",
                                       "_told_reported", "_told_repaired", "_told_replaced"}),
}
"""Where beneficiary-facing texts are: a module, or only some of its functions."""

NOT_FOR_BENEFICIARIES = frozenset({
    "Ce bouton répond à une question précédente : il n'est pas pris en compte. La question "
    "en cours :",
    "Espace professionnel",
    "Écrivez votre réponse à la demande n° {id}.",  # the mediator's side of a help chat
    "Envoyé à la personne.",
})
"""Texts of those functions that only professionals read."""


def message_ids(path: Path, only: frozenset[str] | None = None) -> list[str]:
    """The literal first argument of every ``_()`` and ``_n()`` call in a module (or in
    some of its top-level functions and assignments); both forms of a plural."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: list[ast.AST] = [tree]
    if only is not None:
        roots = [node for node in ast.walk(tree)
                 if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and node.name in only)
                 or (isinstance(node, ast.Assign | ast.AnnAssign)
                     and any(isinstance(t, ast.Name) and t.id in only
                             for t in (node.targets if isinstance(node, ast.Assign)
                                       else [node.target])))]
    ids = []
    for root in roots:
        for node in ast.walk(root):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "_n") and node.args):
                ids += [arg.value for arg in node.args[:1 if node.func.id == "_" else 2]
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    return ids


def beneficiary_ids() -> list[str]:
    ids = {msgid for source, only in SOURCES.items()
           for msgid in message_ids(ROOT / source, only)}
    ids |= {label.msgid for label in TOPIC_LABELS.values()}
    return sorted(ids - NOT_FOR_BENEFICIARIES)


def english() -> dict[str, list[str]]:
    po = ROOT / "locales" / "en" / "LC_MESSAGES" / "filiere.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    found: dict[str, list[str]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        keys = [message.id] if isinstance(message.id, str) else list(message.id)
        values = [message.string] if isinstance(message.string, str) else list(message.string)
        for key in keys:
            found[key] = [v for v in values if v]
    return found


def problems(text: str) -> list[str]:
    """What breaks the rules in ``text``, as readable strings."""
    return [f"{p.rule}: {p.part or p.words}" for p in plain_problems(text)]


def test_the_checker_catches_long_sentences_long_messages_abbreviations_and_dots():
    assert problems("Un deux trois quatre cinq six sept huit neuf dix onze douze treize "
                    "quatorze quinze seize.")
    assert problems("Un. Deux. Trois. Quatre. Vous venez ?")
    assert not problems("Un. Deux. Trois. Vous venez ?")
    assert not problems("Rappel : atelier « {topic} » le {when}.")
    assert not problems("Vos ateliers :\n• un\n• deux\n• trois\n• quatre")
    assert problems("Ouvert : mar.-ven. 9 h-12 h.")
    assert problems("Votre RDV est confirmé.")
    assert problems("Vous êtes inscrit·e.")


@pytest.mark.parametrize("msgid", beneficiary_ids())
def test_french_text_is_plain(msgid: str):
    assert problems(msgid) == []


def test_every_beneficiary_text_is_translated_and_plain_in_english():
    translated = english()
    missing = [msgid for msgid in beneficiary_ids() if not translated.get(msgid)]
    assert missing == []
    bad = {msgid: found for msgid in beneficiary_ids()
           for text in translated[msgid] if (found := problems(text))}
    assert bad == {}
