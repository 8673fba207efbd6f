"""SIRET numbers: read what a donor typed and check its Luhn key before storing it.

A SIRET is 14 digits: the 9-digit SIREN of the organisation, then a 5-digit establishment
number (NIC). Both the SIREN and the whole SIRET carry a Luhn key. La Poste is the known
exception: its establishments share the SIREN 356000000 and, having more of them than the key
allows, their SIRET is valid when the sum of its 14 digits is a multiple of 5 (the head office,
35600000000048, still follows Luhn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

LA_POSTE_SIREN = "356000000"

_SEPARATORS = re.compile(r"[\s.\-/]+")


class SiretProblem(StrEnum):
    """Why a typed SIRET is refused."""

    LENGTH = "length"
    """Not 14 digits once spaces, dots and dashes are removed."""
    KEY = "key"
    """14 digits, but the control key does not match: a typo."""


@dataclass(frozen=True)
class Siret:
    """A SIRET whose key was checked; ``digits`` is the 14-digit form stored."""

    digits: str

    @property
    def siren(self) -> str:
        """The organisation's SIREN (the first nine digits)."""
        return self.digits[:9]

    def spaced(self) -> str:
        """The usual written form: ``732 829 320 00074``."""
        d = self.digits
        return f"{d[:3]} {d[3:6]} {d[6:9]} {d[9:]}"


def luhn_ok(digits: str) -> bool:
    """The Luhn check: doubling every second digit from the right, the sum ends in 0."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def parse_siret(text: str) -> Siret | SiretProblem:
    """Read a typed SIRET (spaces, dots and dashes allowed) and check its key."""
    digits = _SEPARATORS.sub("", text.strip())
    if len(digits) != 14 or not digits.isascii() or not digits.isdigit():
        return SiretProblem.LENGTH
    if digits.startswith(LA_POSTE_SIREN):
        if luhn_ok(digits) or sum(int(c) for c in digits) % 5 == 0:
            return Siret(digits)
        return SiretProblem.KEY
    if luhn_ok(digits[:9]) and luhn_ok(digits):
        return Siret(digits)
    return SiretProblem.KEY
