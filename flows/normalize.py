"""Fold free text so that what people type compares equal to official names.

People write "briancon", "BRIANÇON", "st bonnet" or "la batie neuve" for names that are
officially "Briançon", "Saint-Bonnet-en-Champsaur" or "La Bâtie-Neuve". Comparing folded forms
makes case, accents, punctuation between words and the usual Saint/Sainte abbreviations
irrelevant, without any external dependency.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]

# Characters that separate words in place names and that users swap freely for a space.
_APOSTROPHES = "'\u2018\u2019\u02bc\u0060\u00b4\u2032"
_SEPARATORS = frozenset(_APOSTROPHES + "_")

# Ligatures that NFKD leaves intact but that French speakers routinely type as two letters.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})

# Abbreviated words, once folded and split, mapped to their full form.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def _is_separator(char: str) -> bool:
    """Whether ``char`` only separates words (dashes of any kind, apostrophes, underscore)."""
    return char in _SEPARATORS or unicodedata.category(char) == "Pd"


# The same separators among ASCII characters (the only ASCII dash is "-").
_ASCII_SEPARATORS = str.maketrans({char: " " for char in "'`_-"})


def fold(text: str) -> str:
    """Return a comparison key for ``text``: lower case, no accents, single spaces.

    Steps, in order: casefold (so "ß" becomes "ss"), expand "œ"/"æ", NFKD-decompose and drop
    combining marks (accents), turn dashes, apostrophes, underscores and any whitespace into
    single spaces, strip, and expand the "st"/"ste" abbreviations so that "St-Bonnet" and
    "Saint-Bonnet" fold identically. Other characters (letters of any script, digits,
    punctuation) are kept: callers decide what else is noise for them.
    """
    if text.isascii():  # most of what is typed ("1", "oui", "menu"): no accent to drop
        words = text.lower().translate(_ASCII_SEPARATORS).split()
        return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    chars = [
        " " if _is_separator(char) else char
        for char in decomposed
        if not unicodedata.combining(char)
    ]
    words = "".join(chars).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
