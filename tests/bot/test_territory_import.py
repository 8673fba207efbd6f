"""Importing Etalab's decoupage-administratif files into the shipped territory format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.territory_import import build_territory, main
from flows.territory import Found, Territory

SHIPPED = Path(__file__).resolve().parents[2] / "storage" / "data" / "territory-05.json"

# Shaped like @etalab/decoupage-administratif data/communes.json and data/epci.json.
COMMUNES: list[dict[str, Any]] = [
    {
        "code": "05179",
        "nom": "Veynes",
        "typeLiaison": 0,
        "zone": "metro",
        "arrondissement": "052",
        "departement": "05",
        "region": "93",
        "type": "commune-actuelle",
        "rangChefLieu": 0,
        "siren": "210501797",
        "codesPostaux": ["05400"],
        "population": 3214,
    },
    {
        "code": "04209",
        "nom": "Sisteron",
        "departement": "04",
        "type": "commune-actuelle",
        "codesPostaux": ["04200"],
        "population": 8000,
    },
    {
        "code": "05053",
        "nom": "Éourres",
        "departement": "05",
        "type": "commune-actuelle",
        "codesPostaux": ["05300", "04200"],
    },
    {
        "code": "38185",
        "nom": "Grenoble",
        "departement": "38",
        "type": "commune-actuelle",
        "codesPostaux": ["38000", "38100"],
        "population": 158000,
    },
    # A former commune sharing an INSEE code with a current one must be ignored.
    {"code": "05179", "nom": "Ancienne", "departement": "05", "type": "commune-deleguee"},
]

EPCIS: list[dict[str, Any]] = [
    {
        "code": "200067452",
        "nom": "CC du Sisteronais-Buëch",
        "type": "CC",
        "modeFinancement": "FPU",
        "populationTotale": 25000,
        "membres": [
            {"code": "04209", "siren": "210402095", "nom": "Sisteron"},
            {"code": "05053", "siren": "210500534", "nom": "Éourres"},
        ],
    },
    {
        "code": "200040715",
        "nom": "CA Grenoble-Alpes-Métropole",
        "type": "METRO",
        "membres": [{"code": "38185", "siren": "213801855", "nom": "Grenoble"}],
    },
    {
        "code": "200067460",
        "nom": "CC Buëch-Dévoluy",
        "type": "CC",
        "membres": [{"code": "05179", "siren": "210501797", "nom": "Veynes"}],
    },
]


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    output = tmp_path / "out" / "territory-05.json"
    code = main(
        [
            "--communes",
            str(write(tmp_path / "communes.json", COMMUNES)),
            "--epci",
            str(write(tmp_path / "epci.json", EPCIS)),
            "--departement",
            "05",
            "--output",
            str(output),
            *extra,
        ]
    )
    return code, output


def test_main_writes_epci_of_the_departement_with_all_members(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run(tmp_path)
    assert code == 0
    assert capsys.readouterr().out.count("\n") == 1

    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["departement"] == "05"
    assert "decoupage-administratif" in data["source"]
    assert [e["nom"] for e in data["epci"]] == ["CC Buëch-Dévoluy", "CC du Sisteronais-Buëch"]
    sisteronais = data["epci"][1]
    assert sisteronais["siren"] == "200067452"
    # All members, including the one in 04; sorted by name.
    assert sisteronais["communes"] == [
        {
            "insee": "04209",
            "nom": "Sisteron",
            "departement": "04",
            "codes_postaux": ["04200"],
            "population": 8000,
        },
        {
            "insee": "05053",
            "nom": "Éourres",
            "departement": "05",
            "codes_postaux": ["04200", "05300"],
            "population": 0,
        },
    ]
    assert data["epci"][0]["communes"][0]["nom"] == "Veynes"

    territory = Territory.from_dict(data)
    assert len(territory.communes) == 3
    assert territory.resolve("veynes") == Found(territory.commune("05179"))


def test_build_territory_accepts_snake_case_postal_codes() -> None:
    communes = [
        {"code": "05061", "nom": "Gap", "departement": "05", "codes_postaux": ["05000"]},
    ]
    epcis = [{"code": "200067825", "nom": "CA Gap", "membres": [{"code": "05061"}]}]
    data = build_territory(communes, epcis, "05")
    assert data["epci"][0]["communes"][0]["codes_postaux"] == ["05000"]


def test_shipped_territory_round_trips(tmp_path: Path) -> None:
    """Expanding the shipped file back to Etalab's shape and re-importing gives it back."""
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    communes = [
        {
            "code": c["insee"],
            "nom": c["nom"],
            "departement": c["departement"],
            "type": "commune-actuelle",
            "codesPostaux": c["codes_postaux"],
            "population": c["population"],
        }
        for e in shipped["epci"]
        for c in e["communes"]
    ]
    epcis = [
        {
            "code": e["siren"],
            "nom": e["nom"],
            "membres": [{"code": c["insee"]} for c in e["communes"]],
        }
        for e in shipped["epci"]
    ]
    rebuilt = build_territory(communes, epcis, "05", source=shipped["source"])
    assert rebuilt == shipped
    # Same bytes as the shipped file, so a regeneration only shows real changes in a diff.
    assert json.dumps(rebuilt, ensure_ascii=False, indent=1) == SHIPPED.read_text("utf-8")

    territory = Territory.from_dict(shipped)
    assert len(territory.epcis) == 9
    assert len(territory.communes) == 191


def test_missing_file_returns_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--communes",
            str(tmp_path / "absent.json"),
            "--epci",
            str(write(tmp_path / "epci.json", EPCIS)),
            "--departement",
            "05",
            "--output",
            str(tmp_path / "out.json"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert "not found" in captured.err and "absent.json" in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "out.json").exists()


def test_malformed_json_returns_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "communes.json"
    broken.write_text("[{not json", encoding="utf-8")
    code = main(
        [
            "--communes",
            str(broken),
            "--epci",
            str(write(tmp_path / "epci.json", EPCIS)),
            "--departement",
            "05",
            "--output",
            str(tmp_path / "out.json"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert "not valid JSON" in captured.err


@pytest.mark.parametrize("departement", ["5", "ABC", "2C", "00", "0005"])
def test_invalid_departement_is_rejected(tmp_path: Path, departement: str) -> None:
    code = main(
        [
            "--communes",
            str(write(tmp_path / "communes.json", COMMUNES)),
            "--epci",
            str(write(tmp_path / "epci.json", EPCIS)),
            "--departement",
            departement,
            "--output",
            str(tmp_path / "out.json"),
        ]
    )
    assert code == 2
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("departement", ["2A", "971"])
def test_other_departement_codes_are_accepted(tmp_path: Path, departement: str) -> None:
    communes = [
        {"code": "2A004", "nom": "Ajaccio", "departement": "2A", "codesPostaux": ["20000"]},
        {"code": "97101", "nom": "Les Abymes", "departement": "971", "codesPostaux": ["97139"]},
    ]
    epcis = [
        {"code": "242010056", "nom": "CA du Pays Ajaccien", "membres": [{"code": "2A004"}]},
        {"code": "200018653", "nom": "CA Cap Excellence", "membres": [{"code": "97101"}]},
    ]
    data = build_territory(communes, epcis, departement)
    assert [c["departement"] for e in data["epci"] for c in e["communes"]] == [departement]
