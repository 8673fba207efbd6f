"""What a lot holds, read from one line: "12 portables, 3 écrans".

A donor states the whole content of a lot in one answer rather than picking types and then
answering one question per type. The reading is tolerant: accents, case and plurals do not
matter, numbers come as digits or words ("un", "douze", "a dozen"), the type may come before or
after its number, and a word one letter off still counts ("imprimente"). What is not
understood is named back to the donor, and what was understood is kept meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import get_close_matches

from flows.normalize import fold
from flows.records import DeviceCategory

MAX_PER_CATEGORY = 1000
"""Largest quantity of one category in one lot (a bounded integer, like every quantity)."""

C = DeviceCategory

# Words that name a category, folded and singular. Several words ("unite centrale") match as
# a whole; the longest match wins, so "telephone portable" is a phone, not a laptop.
NAMES: dict[str, DeviceCategory] = {
    # laptops
    "portable": C.LAPTOP, "ordinateur portable": C.LAPTOP, "pc portable": C.LAPTOP,
    "ordi portable": C.LAPTOP, "ultraportable": C.LAPTOP, "laptop": C.LAPTOP,
    "notebook": C.LAPTOP, "macbook": C.LAPTOP, "chromebook": C.LAPTOP,
    # desktops
    "unite centrale": C.DESKTOP, "uc": C.DESKTOP, "tour": C.DESKTOP, "fixe": C.DESKTOP,
    "pc fixe": C.DESKTOP, "ordinateur fixe": C.DESKTOP, "ordi fixe": C.DESKTOP,
    "ordinateur de bureau": C.DESKTOP, "desktop": C.DESKTOP, "imac": C.DESKTOP,
    "tower": C.DESKTOP, "desktop tower": C.DESKTOP,
    "mini pc": C.DESKTOP,
    # screens
    "ecran": C.SCREEN, "moniteur": C.SCREEN, "screen": C.SCREEN, "monitor": C.SCREEN,
    # tablets
    "tablette": C.TABLET, "tablet": C.TABLET, "ipad": C.TABLET,
    # phones
    "smartphone": C.SMARTPHONE, "telephone": C.SMARTPHONE, "telephone portable": C.SMARTPHONE,
    "mobile": C.SMARTPHONE, "iphone": C.SMARTPHONE, "phone": C.SMARTPHONE,
    "portable telephone": C.SMARTPHONE, "gsm": C.SMARTPHONE,
    # printers
    "imprimante": C.PRINTER, "printer": C.PRINTER, "multifonction": C.PRINTER,
    "photocopieur": C.PRINTER, "copieur": C.PRINTER,
    # servers
    "serveur": C.SERVER, "server": C.SERVER, "nas": C.SERVER, "baie": C.SERVER,
    # peripherals and cables
    "peripherique": C.PERIPHERAL, "peripherique et cable": C.PERIPHERAL,
    "peripheral": C.PERIPHERAL, "clavier": C.PERIPHERAL, "souris": C.PERIPHERAL,
    "cable": C.PERIPHERAL, "cordon": C.PERIPHERAL, "keyboard": C.PERIPHERAL,
    "mouse": C.PERIPHERAL, "mice": C.PERIPHERAL, "dock": C.PERIPHERAL,
    "station d accueil": C.PERIPHERAL, "webcam": C.PERIPHERAL, "casque": C.PERIPHERAL,
    "accessoire": C.PERIPHERAL, "chargeur": C.PERIPHERAL, "charger": C.PERIPHERAL,
    "disque dur externe": C.PERIPHERAL, "cle usb": C.PERIPHERAL, "scanner": C.PERIPHERAL,
    # other
    "autre": C.OTHER, "autre materiel": C.OTHER, "other": C.OTHER, "divers": C.OTHER,
    "autre appareil": C.OTHER,
}

# Words that mean a whole number. "une dizaine" is about ten: the donor says "à peu près".
NUMBERS: dict[str, int] = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    "soixante": 60,
    "cent": 100, "dizaine": 10, "douzaine": 12, "quinzaine": 15, "vingtaine": 20,
    "trentaine": 30, "cinquantaine": 50, "centaine": 100,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "fifty": 50,
    "hundred": 100, "dozen": 12,
}

MULTIPLIERS = frozenset({"cent", "hundred", "dizaine", "douzaine", "quinzaine", "vingtaine",
                         "trentaine", "cinquantaine", "centaine", "dozen"})
"""Number words that multiply the one before: "deux cents", "une dizaine", "two dozen"."""

# Words that say nothing about the count or the type ("des", "environ", "x").
FILLERS = frozenset({
    "de", "des", "d", "du", "le", "la", "les", "l", "en", "environ", "a", "peu", "pres", "x",
    "et", "avec", "plus", "ou", "moins", "quelque", "approx", "about", "around", "some", "of",
    "the", "an", "and", "pc", "ordinateur", "ordi", "computer", "appareil", "unite", "piece",
    "materiel", "lot", "total", "env", "qty", "nb", "nombre", "vieux", "vieille", "ancien",
    "ancienne", "old", "usage", "usagee", "bon", "etat", "marche", "hs", "dont", "type",
})
"""Words dropped around a type; "pc" and "ordinateur" alone say neither laptop nor desktop."""

_PARTS = re.compile(r"[,;/+\n]+|\s+(?:et|and|puis)\s+")
_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")


@dataclass
class Reading:
    """What one line says: counts per category, types named without a number, the rest."""

    counts: dict[DeviceCategory, int] = field(default_factory=dict)
    uncounted: list[DeviceCategory] = field(default_factory=list)
    """Types named without a number ("des écrans"): to ask how many."""
    unknown: list[str] = field(default_factory=list)
    """Parts not understood, as typed."""
    too_many: list[DeviceCategory] = field(default_factory=list)


def words_of(text: str) -> list[str]:
    """The folded words and digit runs of ``text``, plural marks dropped."""
    return [singular(t) for t in _TOKEN.findall(fold(text))]


def singular(word: str) -> str:
    """A folded word without its plural mark ("ecrans" → "ecran", "cables" → "cable")."""
    if (len(word) > 3 and word[-1] in "sx" and word not in NUMBERS and word not in FILLERS
            and word not in {"souris", "divers", "mice"}):
        return word[:-1]
    return word


def _spelled(word: str, known: list[str]) -> str:
    """``word``, or the word of a type's name it is one slip away from ("imprimente")."""
    if word in known or word in NUMBERS or word in FILLERS or len(word) < 5:
        return word
    close = get_close_matches(word, known, n=1, cutoff=0.8)
    return close[0] if close else word


def read_number(tokens: list[str]) -> int | None:
    """The count ``tokens`` state: digits, else number words ("vingt-deux", "une dizaine",
    "deux cents"); None when there is none or two in digits."""
    digits = [int(t) for t in tokens if t.isdigit()]
    if digits:
        return digits[0] if len(digits) == 1 else None
    value, seen, previous = 0, False, ""
    for word in tokens:
        if word in NUMBERS:
            seen = True
            if (previous, word) == ("quatre", "vingt"):  # quatre-vingts: 4 × 20
                value += 80 - 4
            elif word in MULTIPLIERS:
                value = (value or 1) * NUMBERS[word]
            else:
                value += NUMBERS[word]
        previous = word
    return value if seen else None


def category_of(words: list[str], names: dict[str, DeviceCategory]
                ) -> tuple[DeviceCategory | None, list[str]]:
    """The one category ``words`` name (longest names first) and the words left unexplained;
    ``None`` when they name none or two different ones."""
    found: set[DeviceCategory] = set()
    rest = list(words)
    for size in (4, 3, 2, 1):
        i = 0
        while i + size <= len(rest):
            name = " ".join(rest[i:i + size])
            if name in names:
                found.add(names[name])
                del rest[i:i + size]
            else:
                i += 1
    leftover = [w for w in rest if w not in FILLERS]
    return (found.pop() if len(found) == 1 else None), leftover


def _piece(text: str, names: dict[str, DeviceCategory], reading: Reading) -> None:
    """Read one part of the line ("12 portables") into ``reading``."""
    tokens = words_of(text)
    if not tokens:
        return
    known = sorted({word for name in names for word in name.split()})
    words = [_spelled(t, known) for t in tokens if not t.isdigit() and t not in NUMBERS]
    category, leftover = category_of(words, names)
    count = read_number(tokens)
    has_digits = sum(t.isdigit() for t in tokens)
    if category is None or leftover or has_digits > 1:
        reading.unknown.append(text.strip())
    elif count is None:
        if category not in reading.uncounted:
            reading.uncounted.append(category)
    elif count > MAX_PER_CATEGORY:
        reading.too_many.append(category)
    else:
        reading.counts[category] = reading.counts.get(category, 0) + count


def read_items(text: str, labels: dict[str, DeviceCategory] | None = None) -> Reading:
    """Read "12 portables, 3 écrans" (or "portables : 12 et écrans : 3", "12 portables 3
    écrans"); ``labels`` adds the categories' own labels in the reader's language (as
    :func:`words_of` gives them)."""
    names = {**NAMES, **(labels or {})}
    reading = Reading()
    for part in _PARTS.split(text[:500]):
        # "12 portables 3 écrans": a new number after a type starts a new part.
        for piece in re.split(r"(?<=[^\W\d_])\s+(?=[0-9])", part.strip()):
            _piece(piece, names, reading)
    for category in list(reading.uncounted):
        if category in reading.counts:
            reading.uncounted.remove(category)
    return reading
