"""CSV files of the network's lists: reading what spreadsheets write, recognising the list,
checking every row and naming each refused line with its number and reason."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.csv_import import (
    FORMULA_STARTS,
    Checked,
    CsvKind,
    KindRow,
    Known,
    PlaceExport,
    PlaceRow,
    PriceRow,
    RowError,
    RuleRow,
    StockRow,
    Table,
    check,
    detect,
    errors_text,
    escape_cell,
    euros,
    kinds_csv,
    parse_euros,
    places_csv,
    read_table,
    stock_csv,
    unescape_cell,
    write_csv,
)
from flows.pricing import Tier
from flows.records import CatalogueKind, Place, PlaceId, PlaceKind
from flows.territory import Territory
from flows.text import _

DATA = Path(__file__).resolve().parents[2] / "storage" / "data" / "territory-05.json"
GAP, VEYNES = "05061", "05179"
EPCI_GAP, EPCI_BUECH = "200067825", "200067445"


@pytest.fixture(scope="module")
def known() -> Known:
    territory = Territory.from_dict(json.loads(DATA.read_text(encoding="utf-8")))
    return Known(territory, frozenset({1, 2, 3}), frozenset({"laptop", "desktop", "tablet"}))


def table(text: str) -> Table:
    found = read_table(text.encode("utf-8"))
    assert isinstance(found, Table), found
    return found


def checked(text: str, known: Known) -> Checked:
    t = table(text)
    kind = detect(t.header)
    assert kind is not None
    return check(t, kind, known)


def reasons(result: Checked) -> dict[int, str]:
    """Refused lines and the msgid of their reason, for assertions."""
    return {e.line: e.reason.msgid for e in result.errors}


# --- Reading ---------------------------------------------------------------------------------


def test_a_french_excel_file_is_read_windows_1252_with_semicolons():
    data = "nom;type;commune\r\nMédiathèque;relais;Gap\r\n".encode("cp1252")
    found = read_table(data)
    assert isinstance(found, Table)
    assert found.header == ("nom", "type", "commune")
    assert found.rows == ((2, {"nom": "Médiathèque", "type": "relais", "commune": "Gap"}),)


def test_utf8_with_bom_and_commas_and_blank_lines():
    found = read_table("\ufeffNom,Type,Commune\n\nA,hub,Gap\n".encode())
    assert isinstance(found, Table)
    assert found.header == ("nom", "type", "commune")
    assert found.rows[0][0] == 3  # the blank line still counts


def test_a_quoted_cell_on_two_lines_keeps_the_line_numbers_right():
    found = table('nom;adresse;type;commune\n"A";"1 rue\nbis";hub;Gap\nB;x;hub;Gap\n')
    assert [line for line, _row in found.rows] == [2, 4]


@pytest.mark.parametrize(("data", "line"), [
    (b"", 1),
    (b"\n\n", 1),
    (b"nom;nom\nA;B\n", 1),
    (b"nom;type;commune\nA;hub\n", 2),
    (b"nom;type;commune\nA;hub;Gap\nB;hub;Gap;extra\n", 3),
])
def test_unreadable_files_are_refused_with_the_line(data: bytes, line: int):
    found = read_table(data)
    assert isinstance(found, RowError)
    assert found.line == line


def test_too_many_rows_are_refused():
    found = read_table(("code;nom;usages\n" + "x;y;admin\n" * 5).encode(), max_rows=4)
    assert isinstance(found, RowError) and found.line == 6


@pytest.mark.parametrize(("header", "kind"), [
    (("id", "nom", "type", "commune", "adresse"), CsvKind.PLACES),
    (("nom", "type", "commune"), CsvKind.PLACES),
    (("code", "nom", "description", "usages"), CsvKind.KINDS),
    (("lieu", "nom_lieu", "materiel", "disponible"), CsvKind.STOCK),
    (("situation", "revenu", "palier"), CsvKind.RULES),
    (("palier", "materiel", "prix"), CsvKind.PRICES),
    (("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj"), CsvKind.MEDNUM),
    (("lot", "device_serial"), None),
])
def test_the_header_says_which_list_it_is(header: tuple[str, ...], kind: CsvKind | None):
    assert detect(header) is kind


# --- Places ----------------------------------------------------------------------------------

PLACES_OK = (
    "id;nom;type;commune;adresse;horaires;epci;siret;actif;aide_distance;lien_aide\n"
    ";Médiathèque de Gap;relais;Gap;1 rue Colonel Roux;Mo-Fr 09:00-12:00;;;oui;;\n"
    f"2;Centre de Veynes;hub;{VEYNES};Av. des Martinets;;{EPCI_BUECH}|{EPCI_GAP};"
    "732 829 320 00074;non;Installez RustDesk;https://rustdesk.com/fr/\n"
)


def test_a_good_places_file_gives_new_and_updated_places(known: Known):
    result = checked(PLACES_OK, known)
    assert result.errors == ()
    new, veynes = result.rows
    assert isinstance(new, PlaceRow) and isinstance(veynes, PlaceRow)
    assert (new.id, new.kind, new.commune, new.osm_hours, new.active) == (
        None, PlaceKind.RELAY, GAP, "Mo-Fr 09:00-12:00", True)
    assert (veynes.id, veynes.kind, veynes.covers, veynes.siret, veynes.active) == (
        2, PlaceKind.HUB, (EPCI_BUECH, EPCI_GAP), "73282932000074", False)
    assert veynes.help_link == "https://rustdesk.com/fr/"


def test_bad_place_rows_are_named_by_line_with_their_reason(known: Known):
    text = (
        "id;nom;type;commune;horaires;epci;siret;actif\n"
        "9;Inconnu;hub;Gap;;;;\n"                           # 2: unknown id
        ";AB;hub;Gap;;;;\n"                                 # 3: name too short
        ";Lieu;boutique;Gap;;;;\n"                          # 4: unknown type
        ";Lieu;hub;Paris;;;;\n"                             # 5: commune outside
        ";Lieu;hub;Gap;lundi 9h-12h;;;\n"                   # 6: hours not OSM
        ";Lieu;hub;Gap;;123456789;;\n"                      # 7: unknown EPCI
        ";Lieu;hub;Gap;;;12345678901234;\n"                 # 8: bad SIRET
        ";Lieu;hub;Gap;;;;peut-être\n"                      # 9: bad yes/no
        "1;Lieu;hub;Gap;;;;\n"                              # 10: ok
        "1;Lieu bis;hub;Gap;;;;\n"                          # 11: same id as line 10
    )
    result = checked(text, known)
    assert set(reasons(result)) == {2, 3, 4, 5, 6, 7, 8, 9, 11}
    assert "inconnu" in reasons(result)[2]
    assert "type inconnu" in reasons(result)[4]
    assert "commune" in reasons(result)[5]
    assert "n'est pas compris" in reasons(result)[6]
    assert "SIRET" in reasons(result)[8]
    assert reasons(result)[11] == "même ligne que la ligne {other}."
    assert len(result.rows) == 1


def test_the_places_export_reads_back_as_the_same_places(known: Known):
    places = [PlaceExport(Place(PlaceId(1), "Pôle de Gap", PlaceKind.HUB, GAP, "Rue Carnot",
                                "lun.-ven. 09:00-17:00", (EPCI_GAP,), "Mo-Fr 09:00-17:00"),
                          True, None, "", "")]
    result = checked(places_csv(places).decode("utf-8"), known)
    assert result.errors == ()
    (row,) = result.rows
    assert isinstance(row, PlaceRow)
    assert (row.id, row.name, row.kind, row.commune, row.osm_hours, row.covers) == (
        1, "Pôle de Gap", PlaceKind.HUB, GAP, "Mo-Fr 09:00-17:00", (EPCI_GAP,))


# --- Formulas are never exported (CSV injection) -------------------------------------------

FORMULA = '=HYPERLINK("http://x","y")'


def cells(data: bytes) -> list[list[str]]:
    """The cells a spreadsheet sees, before our import takes anything off."""
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@pytest.mark.parametrize(("text", "written"), [
    (FORMULA, "'" + FORMULA),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("'=1+1", "''=1+1"),   # a quote typed before a formula is kept: one more is added
    ("-2.5", "-2.5"),      # a plain negative number stays a number
    ("-3,5", "-3,5"),
    ("Pôle de Gap", "Pôle de Gap"),
    ("l'=atelier", "l'=atelier"),
    ("", ""),
])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(text: str, written: str):
    assert escape_cell(text) == written
    assert unescape_cell(written) == text


@given(st.text())
def test_escaping_then_unescaping_gives_back_any_text(text: str):
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped.startswith(FORMULA_STARTS) or re.fullmatch(r"-[0-9]+([.,][0-9]+)?",
                                                                    escaped)


@given(st.text(), st.text())
def test_any_text_written_to_a_csv_reads_back_the_same(first: str, second: str):
    found = read_table(write_csv(("a", "b", "c"), [("x", first, second)]))
    assert isinstance(found, Table)
    assert found.rows == ((2, {"a": "x", "b": first, "c": second}),)


def test_numbers_are_written_as_numbers():
    assert cells(write_csv(("lat", "n"), [(-2.5, -3)]))[1] == ["-2.5", "-3"]


def test_a_place_named_like_a_formula_is_exported_as_text_and_reads_back(known: Known):
    places = [PlaceExport(Place(PlaceId(1), FORMULA, PlaceKind.HUB, GAP, "@SUM(1+1)", "",
                                (EPCI_GAP,)), True, None, "-2+3", "")]
    data = places_csv(places)
    assert cells(data)[1][1] == "'" + FORMULA and cells(data)[1][4] == "'@SUM(1+1)"
    result = checked(data.decode("utf-8"), known)
    assert result.errors == ()
    (row,) = result.rows
    assert isinstance(row, PlaceRow)
    assert (row.name, row.address, row.help_text) == (FORMULA, "@SUM(1+1)", "-2+3")


def test_the_stock_and_kinds_exports_escape_formulas(known: Known):
    place = Place(PlaceId(1), FORMULA, PlaceKind.HUB, GAP, "Rue Carnot", "")
    kind = CatalogueKind("laptop", "+Portable", "-x", ("work",))
    stock = cells(stock_csv([place], [kind], {(1, "laptop"): 2}))
    assert stock[1] == ["1", "'" + FORMULA, "laptop", "2"]
    assert cells(kinds_csv([kind]))[1][1:3] == ["'+Portable", "'-x"]
    back = checked(stock_csv([place], [kind], {(1, "laptop"): 2}).decode("utf-8"), known)
    assert back.errors == () and back.rows == (StockRow(2, 1, "laptop", 2),)


# --- Catalogue, stock, price grid --------------------------------------------------------


def test_kinds_good_and_bad(known: Known):
    result = checked("code;nom;description;usages\n"
                     "ecran;Écran seul;Un écran;office|adapted\n"
                     "Bad Code;X;;admin\n"
                     "souris;Souris;;dessin\n", known)
    assert result.rows == (KindRow(2, "ecran", "Écran seul", "Un écran", ("office", "adapted")),)
    assert set(reasons(result)) == {3, 4}


def test_stock_good_and_bad(known: Known):
    result = checked("lieu;nom_lieu;materiel;disponible\n"
                     "1;Veynes;laptop;6\n"
                     "7;?;laptop;1\n"
                     "1;Veynes;phone;1\n"
                     "1;Veynes;tablet;-2\n"
                     "1;Veynes;laptop;3\n", known)
    assert result.rows == (StockRow(2, 1, "laptop", 6),)
    assert set(reasons(result)) == {3, 4, 5, 6}


def test_rules_good_and_bad(known: Known):
    result = checked("situation;revenu;palier\n"
                     "ase;*;free\n"
                     "student;none_min;free\n"
                     "pirate;*;free\n"
                     "student;rich;free\n"
                     "student;*;cheap\n", known)
    assert result.rows == (RuleRow(2, "ase", "*", Tier.FREE),
                           RuleRow(3, "student", "none_min", Tier.FREE))
    assert set(reasons(result)) == {4, 5, 6}


def test_prices_need_a_default_row_for_every_paying_tier(known: Known):
    good = ("palier;materiel;prix\nsymbolic;*;1\nreduced;*;30,00\nfull;*;70 €\n"
            "full;laptop;90,50\nfree;*;0\n")
    result = checked(good, known)
    assert result.errors == ()
    assert PriceRow(5, Tier.FULL, "laptop", 9050) in result.rows
    missing = checked("palier;materiel;prix\nsymbolic;*;1\nfull;*;70\n", known)
    assert reasons(missing) == {1: "il manque la ligne « * » du palier {tier}."}


def test_bad_price_rows(known: Known):
    result = checked("palier;materiel;prix\nsymbolic;*;1\nreduced;*;beaucoup\nfull;*;70\n"
                     "full;phone;3\nfree;*;5\n", known)
    assert set(reasons(result)) == {3, 5, 6}


@pytest.mark.parametrize(("text", "cents"), [
    ("40", 4000), ("40,5", 4050), ("40,50 €", 4050), ("1 200", 120000), ("0", 0),
    ("1.99", 199), ("abc", None), ("-3", None), ("4,555", None), ("", None),
])
def test_euros_as_typed_in_a_spreadsheet(text: str, cents: int | None):
    assert parse_euros(text) == cents
    if cents is not None:
        assert parse_euros(euros(cents)) == cents


def test_errors_text_names_ten_lines_and_counts_the_rest():
    reason = _("nom manquant.")
    errors = [RowError(n, reason) for n in range(2, 15)]
    text = errors_text(errors, nothing_saved=True)
    lines = text.params["lines"].items
    assert len(lines) == 11
    assert lines[0].params == {"line": 2, "reason": reason}
    assert lines[-1].params == {"n": 3}


def test_ambiguous_postal_codes_ask_for_the_insee_code(known: Known):
    result = checked("nom;type;commune\nLieu;hub;05000\n", known)
    assert reasons(result) == {2: "commune « {text} » ambiguë : écrivez son code INSEE."}
