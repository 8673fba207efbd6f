"""Plain language ("Facile à lire et à comprendre"), as a chat can follow it: what a text
that a beneficiary reads must be, checked the same way for the bot's own texts (by
``tests/flows/test_beneficiary_texts.py``) and for what a coordinator writes for them (a
place's remote-help procedure, checked by the place editor before it is saved).

The rules: at most 15 words a sentence; at most three sentences before the question (or in
all, when there is none); no abbreviation ("mar.", "9 h", "n°", "RDV"); no inclusive-writing
middle dot ("inscrit·es"). A bulleted line ("• ...") is one step of a list: it is held to the
word limit but is not counted as a sentence (FALC recommends lists for steps). A placeholder
(``{when}``) counts as one word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.text import Msg, _, verbatim

MAX_WORDS = 15
MAX_SENTENCES = 3

ALLOWED_CAPITALS = frozenset({"REJ", "QR", "SMS", "STOP", "START", "OUI", "NON", "YES", "NO"})
"""Words in capitals that are not abbreviations here: the join code's word, "QR code", "SMS"
(the everyday word), and the words a person answers an SMS with, written as they type them."""

_ABBREVIATIONS = re.compile(
    r"\b(?:lun|mar|mer|jeu|ven|sam|dim|ex|cf|env|tél|tel|min|max|mon|tue|wed|thu|fri|sat|"
    r"sun)\.|\betc\b|n°|\bsvp\b|\brdv\b|"
    r"\b[0-9]{1,2} ?h(?: ?[0-9]{2})?\b|\b[0-9]{1,2}h\b",
    re.IGNORECASE,
)
_CAPITALS = re.compile(r"\b[A-ZÀ-Ý]{2,}\b")
_PLACEHOLDER = re.compile(r"\{\w+\}")


@dataclass(frozen=True)
class Problem:
    """One rule a text breaks, with the part to change."""

    rule: str
    """``long``, ``many``, ``abbreviation`` or ``dot``."""
    part: str
    words: int = 0

    def say(self) -> Msg:
        """What to change, for the person who wrote it."""
        match self.rule:
            case "long":
                return _("• phrase de {n} mots (15 au plus) : « {part} »", n=self.words,
                         part=verbatim(self.part))
            case "many":
                return _("• {n} phrases avant la question (3 au plus) : faites une liste, "
                         "une étape par ligne, chaque ligne commençant par « • »", n=self.words)
            case "abbreviation":
                return _("• abréviation : « {part} » (écrivez le mot en entier)",
                         part=verbatim(self.part))
        return _("• point médian : « {part} » (écrivez le mot sans « · »)",
                 part=verbatim(self.part))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (bulleted lines are kept whole, with their bullet)."""
    text = _PLACEHOLDER.sub("X", text)
    parts = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("•"):
            parts.append(line)
            continue
        parts += [p for p in re.split(r"(?<=[.!?…])\s+", line) if p.strip()]
    return parts


def words(sentence: str) -> int:
    """Words of a sentence (a placeholder is one; punctuation alone is none)."""
    return sum(1 for token in _PLACEHOLDER.sub("X", sentence).split()
               if re.search(r"\w", token))


def problems(text: str) -> list[Problem]:
    """Every rule ``text`` breaks (none: it is plain)."""
    found: list[Problem] = []
    parts = sentences(text)
    for sentence in parts:
        if words(sentence) > MAX_WORDS:
            found.append(Problem("long", sentence, words(sentence)))
    counted = [s for s in parts if not s.startswith("•")]
    questions = [i for i, s in enumerate(counted) if s.rstrip().endswith("?")]
    before = questions[-1] if questions else len(counted)
    if before > MAX_SENTENCES:
        found.append(Problem("many", "", before))
    bare = _PLACEHOLDER.sub("X", text)
    short = [m.group(0) for m in _ABBREVIATIONS.finditer(bare)]
    short += [m.group(0) for m in _CAPITALS.finditer(bare) if m.group(0) not in ALLOWED_CAPITALS]
    found += [Problem("abbreviation", part) for part in dict.fromkeys(short)]
    for word in re.findall(r"\S*·\S*", bare):
        found.append(Problem("dot", word))
    return found
