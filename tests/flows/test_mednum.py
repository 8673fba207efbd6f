"""The national schema of digital-mediation places (standard-mediation-num 1.0.x): import the
territory's places from a national file, export the network's places in the same columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from flows import mednum
from flows.csv_import import CsvKind, Table, detect, read_table
from flows.records import Place, PlaceId, PlaceKind
from flows.territory import Territory

DATA = Path(__file__).resolve().parents[2] / "storage" / "data" / "territory-05.json"
HEADER = ",".join(mednum.COLUMNS)


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory.from_dict(json.loads(DATA.read_text(encoding="utf-8")))


def row(**values: str) -> str:
    """One CSV line in the schema's column order (empty where not given)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values.get(c, "") for c in mednum.COLUMNS])
    return out.getvalue()


GOOD = dict(id="mednum-1", pivot="43493312300029", nom="Espace numérique de Gap",
            commune="Gap", code_postal="05000", code_insee="05061",
            adresse="2 rue Carnot", latitude="44.5594", longitude="6.0786",
            telephone="+33492000000", courriels="personne@example.org",
            site_web="https://exemple.fr|https://facebook.com/exemple",
            horaires="Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00",
            services="Aide aux démarches administratives|"
                     "Acquisition de matériel informatique à prix solidaire",
            structure_parente="Ville de Gap", source="Hinaura", date_maj="2026-06-02")


def imported(text: str, territory: Territory) -> mednum.MednumImport:
    table = read_table(text.encode("utf-8"), max_rows=mednum.MAX_ROWS)
    assert isinstance(table, Table)
    assert detect(table.header) is CsvKind.MEDNUM
    return mednum.check(table, territory)


def test_a_national_file_keeps_the_places_of_the_territory(territory: Territory):
    text = HEADER + "\n" + row(**GOOD) + row(**{**GOOD, "id": "lyon-1", "commune": "Lyon",
                                                "code_postal": "69001", "code_insee": "69381"})
    result = imported(text, territory)
    assert result.errors == ()
    assert result.outside == 1
    (place,) = result.places
    assert place == mednum.MediationPlace(
        source_id="mednum-1", pivot="43493312300029", name="Espace numérique de Gap",
        commune="05061", postal_code="05000", address="2 rue Carnot",
        osm_hours="Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00",
        services=("Aide aux démarches administratives",
                  "Acquisition de matériel informatique à prix solidaire"),
        updated_on=date(2026, 6, 2), latitude=44.5594, longitude=6.0786,
        phone="+33492000000", website="https://exemple.fr", parent="Ville de Gap",
        source="Hinaura")
    assert place.sells_equipment


def test_no_email_address_is_kept(territory: Territory):
    (place,) = imported(HEADER + "\n" + row(**GOOD), territory).places
    assert "personne@example.org" not in repr(place)


def test_the_commune_is_found_from_the_postal_code_when_insee_is_missing(territory: Territory):
    text = HEADER + "\n" + row(**{**GOOD, "code_insee": "", "commune": "Veynes",
                                  "code_postal": "05400"})
    (place,) = imported(text, territory).places
    assert place.commune == "05179"


def test_older_files_with_semicolons_in_services_are_read(territory: Territory):
    text = HEADER + "\n" + row(**{**GOOD, "services": "Aide aux démarches administratives;"
                                                      "Inconnu"})
    (place,) = imported(text, territory).places
    assert place.services == ("Aide aux démarches administratives",)
    assert not place.sells_equipment


def test_bad_lines_are_named_with_their_reason_and_the_others_kept(territory: Territory):
    text = HEADER + "\n" + "".join([
        row(**GOOD),                                                   # 2: good
        row(**{**GOOD, "id": ""}),                                     # 3: no id
        row(**{**GOOD, "id": "x2", "date_maj": "02/06/2026"}),         # 4: date not ISO
        row(**{**GOOD, "id": "x3", "code_postal": "5000", "code_insee": "05061"}),  # 5
        row(**{**GOOD, "id": "x4", "pivot": "12"}),                    # 6: bad pivot
        row(**GOOD),                                                   # 7: same id as 2
        row(**{**GOOD, "id": "x5", "latitude": "north"}),              # 8: kept, no latitude
    ])
    result = imported(text, territory)
    assert {e.line: e.reason.msgid for e in result.errors} == {
        3: "colonne obligatoire vide : {name}.",
        4: "date_maj invalide (AAAA-MM-JJ attendu).",
        5: "code_postal invalide.",
        6: "pivot invalide (SIRET ou RNA attendu).",
        7: "même identifiant que la ligne {other}.",
    }
    assert [p.source_id for p in result.places] == ["mednum-1", "x5"]
    assert result.places[1].latitude is None


def test_the_export_has_every_column_of_the_schema_and_reads_back(territory: Territory):
    places = [(Place(PlaceId(3), "Médiathèque de Briançon", PlaceKind.RELAY, "05023",
                     "Place de l'Europe", "", osm_hours="We,Sa 10:00-18:00"), None,
               date(2026, 11, 1)),
              (Place(PlaceId(4), "Lycée professionnel", PlaceKind.RECONDITIONER, "05061",
                     "Route de Romette", ""), "73282932000074", date(2026, 10, 1))]
    data = mednum.export(places, territory, source="Réseau 05", id_prefix="r05")
    assert not data.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM, comma separated
    lines = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(lines[0]) == list(mednum.COLUMNS)
    assert lines[0]["id"] == "r05-3" and lines[0]["pivot"] == mednum.UNKNOWN_PIVOT
    assert lines[0]["code_postal"] == "05100" and lines[0]["commune"] == "Briançon"
    assert lines[0]["horaires"] == "We,Sa 10:00-18:00"
    assert lines[0]["services"] == ("Maîtrise des outils numériques du quotidien|"
                                    "Acquisition de matériel informatique à prix solidaire")
    assert lines[1]["pivot"] == "73282932000074" and lines[1]["date_maj"] == "2026-10-01"
    back = imported(data.decode("utf-8"), territory)
    assert back.errors == () and [p.source_id for p in back.places] == ["r05-3", "r05-4"]


def test_a_name_like_a_formula_is_exported_as_text_and_reads_back(territory: Territory):
    formula = '=HYPERLINK("http://x","y")'
    places = [(Place(PlaceId(3), formula, PlaceKind.RELAY, "05023", "+cmd|' /C calc'!A0", ""),
               None, date(2026, 11, 1))]
    data = mednum.export(places, territory, source="@Réseau 05", id_prefix="r05")
    (line,) = csv.DictReader(io.StringIO(data.decode("utf-8")))
    assert line["nom"] == "'" + formula and line["adresse"] == "'+cmd|' /C calc'!A0"
    assert line["source"] == "'@Réseau 05"
    (back,) = imported(data.decode("utf-8"), territory).places
    assert (back.name, back.address, back.source) == (formula, "+cmd|' /C calc'!A0", "@Réseau 05")
