"""Resolving typed text to communes of the shipped Hautes-Alpes territory."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import normalize
from flows.normalize import fold
from flows.territory import (
    MAX_CANDIDATES,
    Ambiguous,
    Commune,
    Epci,
    Found,
    Invalid,
    NotFound,
    OutsideTerritory,
    Territory,
)

DATA = Path(__file__).resolve().parents[2] / "storage" / "data" / "territory-05.json"


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory.from_dict(json.loads(DATA.read_text(encoding="utf-8")))


def names(result: object) -> list[str]:
    assert isinstance(result, Ambiguous), result
    return [commune.name for commune in result.candidates]


def found_name(result: object) -> str:
    assert isinstance(result, Found), result
    return result.commune.name


# --- fold -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Briançon", "briancon"),
        ("  La Bâtie-Neuve ", "la batie neuve"),
        ("L'Argentière-la-Bessée", "l argentiere la bessee"),
        ("L’Épine", "l epine"),
        ("St-Bonnet", "saint bonnet"),
        ("STE  Marie", "sainte marie"),
        ("Saint_Bonnet", "saint bonnet"),
        ("Stéphane", "stephane"),
        ("Œuf", "oeuf"),
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_is_idempotent_on_names(territory: Territory) -> None:
    for commune in territory.communes:
        assert fold(fold(commune.name)) == fold(commune.name)


# --- data and lookups -------------------------------------------------------------------------


def test_shipped_territory_has_9_epci_and_191_communes(territory: Territory) -> None:
    assert territory.departement == "05"
    assert len(territory.epcis) == 9
    assert len(territory.communes) == 191
    assert sum(len(territory.communes_of_epci(e.siren)) for e in territory.epcis) == 191


def test_lookups_by_code(territory: Territory) -> None:
    veynes = territory.commune("05179")
    assert veynes is not None and veynes.name == "Veynes"
    epci = territory.epci(veynes.epci)
    assert epci is not None and epci.name == "CC Buëch-Dévoluy"
    assert veynes in territory.communes_of_epci(epci.siren)
    assert territory.commune("75056") is None
    assert territory.epci("000000000") is None
    assert territory.communes_of_epci("000000000") == []


def test_epci_spanning_two_departements(territory: Territory) -> None:
    sisteronais = next(e for e in territory.epcis if e.name == "CC du Sisteronais-Buëch")
    departements = {c.departement for c in territory.communes_of_epci(sisteronais.siren)}
    assert {"04", "05"} <= departements


# --- resolve ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["veynes", "Veynes", "VEYNES", "  vEyNeS  ", "05400 Veynes", "Veynes 05400"]
)
def test_veynes_by_name(territory: Territory, text: str) -> None:
    assert found_name(territory.resolve(text)) == "Veynes"


def test_postal_code_shared_by_several_communes(territory: Territory) -> None:
    assert "Veynes" in names(territory.resolve("05400"))
    gap_area = names(territory.resolve("05000"))
    assert gap_area[0] == "Gap"  # largest first
    assert {"Gap", "Châteauvieux", "La Freissinouse", "Neffes"} <= set(gap_area)
    assert len(gap_area) <= MAX_CANDIDATES


def test_postal_code_and_name_pick_one(territory: Territory) -> None:
    assert found_name(territory.resolve("05000 châteauvieux")) == "Châteauvieux"
    assert found_name(territory.resolve("Gap 05000")) == "Gap"


def test_postal_code_contradicting_name_asks(territory: Territory) -> None:
    assert "Gap" in names(territory.resolve("05000 Veynes"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("briancon", "Briançon"),
        ("BRIANÇON", "Briançon"),
        ("la batie neuve", "La Bâtie-Neuve"),
        ("La Bâtie-Neuve", "La Bâtie-Neuve"),
        ("st bonnet", "Saint-Bonnet-en-Champsaur"),
        ("St-Bonnet-en-Champsaur", "Saint-Bonnet-en-Champsaur"),
        ("st. bonnet", "Saint-Bonnet-en-Champsaur"),
        ("l'argentiere", "L'Argentière-la-Bessée"),
        ("gap", "Gap"),
        ("Sisteron", "Sisteron"),
    ],
)
def test_names_tolerate_case_accents_and_abbreviations(
    territory: Territory, text: str, expected: str
) -> None:
    assert found_name(territory.resolve(text)) == expected


def test_partial_name_shared_by_several_is_ambiguous(territory: Territory) -> None:
    candidates = names(territory.resolve("la batie"))
    assert {"La Bâtie-Neuve", "La Bâtie-Vieille"} <= set(candidates)


def test_ambiguous_sorted_by_population_and_capped(territory: Territory) -> None:
    result = territory.resolve("saint")
    assert isinstance(result, Ambiguous)
    assert 1 < len(result.candidates) <= MAX_CANDIDATES
    populations = [c.population for c in result.candidates]
    assert populations == sorted(populations, reverse=True)


@pytest.mark.parametrize(("typo", "expected"), [("Vaynes", "Veynes"), ("briancn", "Briançon")])
def test_typo_is_offered_for_confirmation_never_found(
    territory: Territory, typo: str, expected: str
) -> None:
    result = territory.resolve(typo)
    assert isinstance(result, Ambiguous)
    assert expected in names(result)


@pytest.mark.parametrize("code", ["75001", "38000", "04000"])
def test_postal_code_outside_territory(territory: Territory, code: str) -> None:
    assert territory.resolve(code) == OutsideTerritory(code)
    assert territory.resolve(f"{code} Paris") == OutsideTerritory(code)


def test_postal_code_of_neighbouring_member_commune_is_inside(territory: Territory) -> None:
    # Claret (04) belongs to CA Gap-Tallard-Durance and uses a 05 postal code.
    assert "Claret" in names(territory.resolve("05110"))


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "😀😀", "!!!", "x" * 10_000, "a" * 81])
def test_invalid_input(territory: Territory, text: str) -> None:
    assert territory.resolve(text) == Invalid()


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE communes;--",
        "Robert'); DROP TABLE students;--",
        "مرحبا",
        "שלום",
        "\u202eשלום Gap\u202c",
        "zzzzzz",
        "00000",
        "123456",
        "٠٥٤٠٠",
    ],
)
def test_hostile_or_unknown_text_does_not_raise(territory: Territory, text: str) -> None:
    assert isinstance(territory.resolve(text), NotFound | Invalid)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_resolve_never_raises(territory: Territory, text: str) -> None:
    result = territory.resolve(text)
    assert isinstance(result, Found | Ambiguous | NotFound | OutsideTerritory | Invalid)


def test_same_folded_name_is_ambiguous() -> None:
    twins = [
        Commune("99001", "Saint-Martin", "99", ("99100",), 10, "1"),
        Commune("99002", "St Martin", "99", ("99200",), 20, "1"),
    ]
    territory = Territory(twins, [Epci("1", "CC Test")], "99")
    result = territory.resolve("saint martin")
    assert isinstance(result, Ambiguous)
    assert [c.insee for c in result.candidates] == ["99002", "99001"]


def test_from_dict_rejects_malformed_data() -> None:
    with pytest.raises(ValueError):
        Territory.from_dict({"departement": "05", "epci": [{"nom": "no siren"}]})


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_fold_of_plain_ascii_takes_a_short_cut_to_the_same_result(text: str) -> None:
    """Typed answers are mostly ASCII ("1", "oui", "menu"): they skip the Unicode
    decomposition, and must fold exactly as the full way would."""
    full = " ".join(normalize._ABBREVIATIONS.get(word, word) for word in "".join(
        " " if normalize._is_separator(char) else char
        for char in unicodedata.normalize("NFKD", text.casefold())
        if not unicodedata.combining(char)).split())
    assert fold(text) == full
