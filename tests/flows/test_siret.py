"""SIRET numbers are checked with their Luhn key, La Poste's establishments with their own rule."""

from __future__ import annotations

import pytest

from flows.siret import Siret, SiretProblem, luhn_ok, parse_siret


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("73282932000074", Siret("73282932000074")),
        ("732 829 320 00074", Siret("73282932000074")),
        ("732.829.320-00074", Siret("73282932000074")),
        (" 73282932000074 ", Siret("73282932000074")),
        ("73282932000075", SiretProblem.KEY),  # one digit off: the key catches it
        ("73282932000047", SiretProblem.KEY),  # two digits swapped
        ("12345678000006", SiretProblem.KEY),  # SIRET key right, SIREN key wrong
        ("7328293200007", SiretProblem.LENGTH),
        ("732829320000744", SiretProblem.LENGTH),
        ("7328293200007A", SiretProblem.LENGTH),
        ("７３２８２９３２０００７４", SiretProblem.LENGTH),  # full-width digits are not a SIRET
        ("", SiretProblem.LENGTH),
        ("35600000000048", Siret("35600000000048")),  # La Poste head office: plain Luhn
        ("35600000049837", Siret("35600000049837")),  # La Poste: digit sum multiple of 5
        ("35600000049838", SiretProblem.KEY),  # La Poste: neither rule holds
    ],
)
def test_a_typed_siret_is_read_and_checked(typed: str, expected: Siret | SiretProblem):
    assert parse_siret(typed) == expected


def test_la_poste_establishments_are_valid_without_a_luhn_key():
    """The exception exists because La Poste has more establishments than the key allows."""
    assert not luhn_ok("35600000049837")
    assert isinstance(parse_siret("35600000049837"), Siret)


def test_a_siret_is_shown_in_its_usual_groups():
    assert Siret("73282932000074").spaced() == "732 829 320 00074"
    assert Siret("73282932000074").siren == "732829320"
