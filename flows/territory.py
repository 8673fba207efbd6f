"""The communes and intercommunalities (EPCI) the network covers, and how to find one from text.

Members tell the bot where they are by typing a commune name, a postal code, or both, in any
case, with or without accents, often abbreviated or misspelt. :meth:`Territory.resolve` turns
that text into a typed outcome the flow can act on: one commune, a short list to choose from,
nothing, a postal code outside the territory, or input that cannot be a place at all. It never
guesses silently on a typo: a near miss is offered as a choice so the member confirms.

Pure and in memory: the data is loaded elsewhere (``storage/data/territory-05.json``) and passed
to :meth:`Territory.from_dict`; indexes are built once so resolving costs little per message.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from flows.normalize import fold

__all__ = [
    "MAX_CANDIDATES",
    "MAX_INPUT_LENGTH",
    "Ambiguous",
    "Commune",
    "Epci",
    "Found",
    "Invalid",
    "NotFound",
    "OutsideTerritory",
    "Resolution",
    "Territory",
]

MAX_CANDIDATES = 12
"""At most this many choices are offered: a longer list is unusable in a chat."""

MAX_INPUT_LENGTH = 80
"""No French commune name comes close; longer text is a message, not a place."""

MIN_PARTIAL_LENGTH = 3
"""Prefix and substring matching start at this many folded characters, to avoid noise."""

TYPO_CUTOFF = 0.85
"""difflib similarity above which a name counts as a near miss."""


@dataclass(frozen=True)
class Commune:
    """A commune; ``epci`` is the SIREN of the intercommunality it belongs to."""

    insee: str
    name: str
    departement: str
    postal_codes: tuple[str, ...]
    population: int
    epci: str


@dataclass(frozen=True)
class Epci:
    """An intercommunality (EPCI à fiscalité propre), identified by its SIREN."""

    siren: str
    name: str


@dataclass(frozen=True)
class Found:
    """The text designates exactly one commune."""

    commune: Commune


@dataclass(frozen=True)
class Ambiguous:
    """Several communes fit (or a near miss needs confirming): the member picks one.

    Candidates are sorted by population, largest first, since that is the likeliest answer.
    """

    candidates: tuple[Commune, ...]
    total: int = 0
    """How many communes fit in all (``candidates`` holds at most :data:`MAX_CANDIDATES`):
    05700 covers 17 communes."""


@dataclass(frozen=True)
class NotFound:
    """Nothing in the territory resembles the text."""


@dataclass(frozen=True)
class OutsideTerritory:
    """A valid French postal code, but no commune of the territory has it."""

    postal_code: str


@dataclass(frozen=True)
class Invalid:
    """The text cannot name a place: empty, too long, or without any letter or digit."""


Resolution: TypeAlias = Found | Ambiguous | NotFound | OutsideTerritory | Invalid

_Entry: TypeAlias = "tuple[str, str, Commune]"

# ASCII digits only: \d would also accept other scripts' digits, which int() then parses.
_POSTAL_CODE = re.compile(r"[0-9]{5}")
_POSTAL_THEN_NAME = re.compile(r"([0-9]{5}) (.+)")
_NAME_THEN_POSTAL = re.compile(r"(.+) ([0-9]{5})")
# Anything that is neither a letter/digit of any script nor a space is noise around names
# ("Veynes.", "(Gap)", "St. Bonnet"); names themselves only use letters, dashes, apostrophes.
_NOISE = re.compile(r"[^\w ]")


def _key(text: str) -> str:
    """Fold ``text`` and drop punctuation; folded twice so "st." still expands to "saint"."""
    return fold(_NOISE.sub(" ", fold(text)))


def _is_french_postal_code(code: str) -> bool:
    """Whether ``code`` is shaped like a French postal code (départements 01-95, 97, 98)."""
    if not _POSTAL_CODE.fullmatch(code):
        return False
    prefix = int(code[:2])
    return 1 <= prefix <= 95 or prefix in (97, 98)


def _by_population(communes: Iterable[Commune]) -> tuple[Commune, ...]:
    """Largest first, then by name, so the likeliest choice comes first and order is stable."""
    unique = {commune.insee: commune for commune in communes}
    ordered = sorted(unique.values(), key=lambda c: (-c.population, c.name, c.insee))
    return tuple(ordered[:MAX_CANDIDATES])


def _one_or_many(communes: Sequence[Commune]) -> Found | Ambiguous:
    """``Found`` for a single commune, ``Ambiguous`` otherwise."""
    candidates = _by_population(communes)
    if len(candidates) == 1:
        return Found(candidates[0])
    return Ambiguous(candidates, len({commune.insee for commune in communes}))


def _edit_distance_at_most(a: str, b: str, limit: int) -> bool:
    """Whether ``a`` and ``b`` are within ``limit`` edits (insert, delete, substitute, swap).

    difflib's ratio alone misses a single wrong letter in a short name ("vaynes" vs "veynes"
    scores 0.83), so short names get a bounded edit distance as well.
    """
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def _typo_limit(key: str) -> int:
    """Edits tolerated for a name of this length: none below 4 characters, 2 from 8."""
    if len(key) < 4:
        return 0
    return 1 if len(key) < 8 else 2


class Territory:
    """The communes and EPCI of the network, indexed for lookups by code and by typed text."""

    def __init__(
        self, communes: Iterable[Commune], epcis: Iterable[Epci], departement: str
    ) -> None:
        self.departement = departement
        self._communes: dict[str, Commune] = {}
        for commune in communes:
            self._communes.setdefault(commune.insee, commune)
        self._epcis: dict[str, Epci] = {}
        for epci in epcis:
            self._epcis.setdefault(epci.siren, epci)

        self._by_epci: dict[str, list[Commune]] = {}
        self._by_postal_code: dict[str, list[Commune]] = {}
        self._by_key: dict[str, list[Commune]] = {}
        for commune in sorted(self._communes.values(), key=lambda c: (_key(c.name), c.insee)):
            self._by_epci.setdefault(commune.epci, []).append(commune)
            for code in commune.postal_codes:
                self._by_postal_code.setdefault(code, []).append(commune)
            self._by_key.setdefault(_key(commune.name), []).append(commune)
        # The search space for partial and approximate matches: (folded name, same without
        # spaces, commune). The compact form catches elisions typed without a space
        # ("largentiere", "labatieneuve").
        self._entries: tuple[_Entry, ...] = tuple(
            (key, key.replace(" ", ""), commune)
            for key, communes in self._by_key.items()
            for commune in communes
        )

    @property
    def communes(self) -> tuple[Commune, ...]:
        """Every commune, in the order given."""
        return tuple(self._communes.values())

    @property
    def epcis(self) -> tuple[Epci, ...]:
        """Every EPCI, in the order given."""
        return tuple(self._epcis.values())

    def commune(self, insee: str) -> Commune | None:
        """The commune with this INSEE code, if it is in the territory."""
        return self._communes.get(insee)

    def epci(self, siren: str) -> Epci | None:
        """The EPCI with this SIREN, if it is in the territory."""
        return self._epcis.get(siren)

    def communes_of_epci(self, siren: str) -> list[Commune]:
        """The member communes of an EPCI, by name; empty for an unknown SIREN."""
        return list(self._by_epci.get(siren, ()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Territory:
        """Build from the shipped JSON format (``storage/data/territory-05.json``).

        Raises ``ValueError`` when the structure is not that format, so a bad data file fails
        loudly at start-up rather than at the first member's message.
        """
        try:
            communes: list[Commune] = []
            epcis: list[Epci] = []
            for item in data["epci"]:
                siren = str(item["siren"])
                epcis.append(Epci(siren=siren, name=str(item["nom"])))
                for entry in item["communes"]:
                    communes.append(
                        Commune(
                            insee=str(entry["insee"]),
                            name=str(entry["nom"]),
                            departement=str(entry["departement"]),
                            postal_codes=tuple(str(code) for code in entry["codes_postaux"]),
                            population=int(entry.get("population") or 0),
                            epci=siren,
                        )
                    )
            departement = str(data["departement"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"malformed territory data: {error!r}") from error
        return cls(communes, epcis, departement)

    def resolve(self, text: str) -> Resolution:
        """Interpret what a member typed as a commune of the territory.

        Accepted shapes: a postal code ("05400"), a name ("veynes", "st bonnet"), or both in
        either order ("05400 Veynes", "Veynes 05400"). Never raises, whatever the text.
        """
        if not isinstance(text, str):
            return Invalid()
        stripped = text.strip()
        if not stripped or len(stripped) > MAX_INPUT_LENGTH:
            return Invalid()
        if not any(char.isalnum() for char in stripped):
            return Invalid()
        key = _key(stripped)
        if not key:
            return Invalid()

        if _POSTAL_CODE.fullmatch(key):
            return self._resolve_postal_code(key)
        for pattern, code_group, name_group in (
            (_POSTAL_THEN_NAME, 1, 2),
            (_NAME_THEN_POSTAL, 2, 1),
        ):
            match = pattern.fullmatch(key)
            if match:
                return self._resolve_postal_code_and_name(
                    match.group(code_group), match.group(name_group)
                )
        return self._match_name(key, self._entries) or NotFound()

    def _resolve_postal_code(self, code: str) -> Resolution:
        """A lone postal code: its communes, or why there are none."""
        communes = self._by_postal_code.get(code)
        if communes:
            return _one_or_many(communes)
        return OutsideTerritory(code) if _is_french_postal_code(code) else NotFound()

    def _resolve_postal_code_and_name(self, code: str, name: str) -> Resolution:
        """Both given: the name chooses among the communes of the postal code.

        If the name fits none of them, the postal code's communes are offered for confirmation
        (even a single one) rather than trusting either half of contradictory input.
        """
        communes = self._by_postal_code.get(code)
        if not communes:
            return OutsideTerritory(code) if _is_french_postal_code(code) else NotFound()
        insees = {commune.insee for commune in communes}
        entries = tuple(entry for entry in self._entries if entry[2].insee in insees)
        return self._match_name(name, entries) or Ambiguous(_by_population(communes))

    def _match_name(self, key: str, entries: Sequence[_Entry]) -> Found | Ambiguous | None:
        """Exact, then prefix, then substring, then near-miss matching of a folded name.

        Each stage compares both the spaced and the compact forms; the first stage with any
        match decides, so an exact name is never drowned among longer names containing it.
        """
        compact = key.replace(" ", "")
        exact = [c for name, packed, c in entries if name == key or packed == compact]
        if exact:
            return _one_or_many(exact)
        if len(compact) >= MIN_PARTIAL_LENGTH:
            prefix = [
                c
                for name, packed, c in entries
                if name.startswith(key) or packed.startswith(compact)
            ]
            if prefix:
                return _one_or_many(prefix)
            inner = [c for name, packed, c in entries if key in name or compact in packed]
            if inner:
                return _one_or_many(inner)
        names = list(dict.fromkeys(name for name, _, _ in entries))
        close = set(difflib.get_close_matches(key, names, n=MAX_CANDIDATES, cutoff=TYPO_CUTOFF))
        limit = _typo_limit(key)
        if limit:
            close.update(name for name in names if _edit_distance_at_most(key, name, limit))
        if close:
            # A near miss is never accepted silently: the member confirms, even for one.
            return Ambiguous(_by_population(c for name, _, c in entries if name in close))
        return None
