"""Regenerate ``storage/data/territory-<dep>.json`` from Etalab's official division files.

The bot ships a small extract rather than the full national files: the intercommunalities
(EPCI) with at least one commune in the département, each with *all* its member communes,
because an EPCI may straddle a border (CC du Sisteronais-Buëch spans 04 and 05) and members
of its communes belong to the network too.

Input: ``data/communes.json`` and ``data/epci.json`` of the npm package
``@etalab/decoupage-administratif`` (``npm pack @etalab/decoupage-administratif`` and unpack).
Communes carry ``code`` (INSEE), ``nom``, ``departement``, ``type``, ``codesPostaux`` and
``population``; EPCI carry ``code`` (SIREN), ``nom`` and ``membres`` (``{"code": INSEE, ...}``).

Usage::

    python -m bot.territory_import --communes package/data/communes.json \\
        --epci package/data/epci.json --departement 05 \\
        --output storage/data/territory-05.json

Standard library only, so it runs anywhere without the bot's dependencies.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["build_territory", "main", "source_text"]

PACKAGE = "@etalab/decoupage-administratif"
_DEPARTEMENT = re.compile(r"(?:0[1-9]|[1-8]\d|9[0-5]|2[AB]|97\d)")


class InputError(Exception):
    """A problem with the input files, reported as one line without a traceback."""


def _postal_codes(commune: Mapping[str, Any]) -> list[str]:
    """Postal codes of a commune, accepting the camelCase upstream key or a snake_case one."""
    codes = commune.get("codesPostaux", commune.get("codes_postaux")) or []
    return sorted({str(code) for code in codes})


def _population(commune: Mapping[str, Any]) -> int:
    """Population, 0 when the source has none (recent communes may lack a census figure)."""
    try:
        return int(commune.get("population") or 0)
    except (TypeError, ValueError):
        return 0


def _is_current(commune: Mapping[str, Any]) -> bool:
    """Keep current communes only; former (associated, delegated) ones share INSEE codes."""
    return commune.get("type", "commune-actuelle") == "commune-actuelle"


def source_text(departement: str, version: str | None = None, name: str | None = None) -> str:
    """The provenance line stored in the output's ``source`` field."""
    package = f"{PACKAGE} {version}" if version else PACKAGE
    where = f"{name} ({departement})" if name else f"département {departement}"
    return (
        f"Etalab, {package} (npm, MIT licence): communes.json and epci.json, "
        f"filtered to the EPCI with at least one commune in {where}"
    )


def build_territory(
    communes: list[dict[str, Any]],
    epcis: list[dict[str, Any]],
    departement: str,
    source: str | None = None,
) -> dict[str, Any]:
    """Extract the territory of ``departement`` in the format read by ``Territory.from_dict``.

    Every EPCI with at least one current member commune in the département is kept, with all
    its current member communes whatever their département. Communes and EPCI are sorted by
    name so that regenerating from the same files gives the same bytes (reviewable diffs).
    """
    by_insee = {
        str(commune["code"]): commune
        for commune in communes
        if isinstance(commune, Mapping) and "code" in commune and _is_current(commune)
    }
    selected: list[dict[str, Any]] = []
    for epci in epcis:
        members = [
            by_insee[str(member["code"])]
            for member in epci.get("membres") or []
            if isinstance(member, Mapping) and str(member.get("code")) in by_insee
        ]
        if not any(str(member.get("departement")) == departement for member in members):
            continue
        selected.append(
            {
                "siren": str(epci["code"]),
                "nom": str(epci["nom"]),
                "communes": sorted(
                    (
                        {
                            "insee": str(member["code"]),
                            "nom": str(member["nom"]),
                            "departement": str(member.get("departement")),
                            "codes_postaux": _postal_codes(member),
                            "population": _population(member),
                        }
                        for member in members
                    ),
                    key=lambda commune: (commune["nom"], commune["insee"]),
                ),
            }
        )
    selected.sort(key=lambda epci: (epci["nom"], epci["siren"]))
    return {
        "source": source or source_text(departement),
        "departement": departement,
        "epci": selected,
    }


def _load_list(path: Path, what: str) -> list[dict[str, Any]]:
    """Read a JSON array of objects, or raise :class:`InputError` with a readable reason."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise InputError(f"{what} file not found: {path}") from None
    except OSError as error:
        raise InputError(f"cannot read {what} file {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{what} file {path} is not valid JSON: {error}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError(f"{what} file {path} is not a JSON list of objects")
    return data


def _package_metadata(communes_path: Path, departement: str) -> tuple[str | None, str | None]:
    """Best effort: package version and département name from the unpacked npm package.

    The files normally sit in ``<package>/data/``, next to ``departements.json`` and below
    ``package.json``; when they do, the ``source`` line names the exact release.
    """
    version = name = None
    try:
        package = json.loads((communes_path.parent.parent / "package.json").read_text("utf-8"))
        if package.get("name") == PACKAGE:
            version = str(package.get("version") or "") or None
    except (OSError, ValueError, AttributeError):
        pass
    try:
        departements = json.loads((communes_path.parent / "departements.json").read_text("utf-8"))
        name = next(
            (str(d["nom"]) for d in departements if str(d.get("code")) == departement), None
        )
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    return version, name


def _departement(value: str) -> str:
    """argparse type: a département code as INSEE writes it ("05", "2A", "971")."""
    code = value.strip().upper()
    if not _DEPARTEMENT.fullmatch(code):
        raise argparse.ArgumentTypeError(f"not a département code: {value!r}")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; 0 on success, 2 on unusable input (one line on stderr)."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.territory_import",
        description="Extract a département's EPCI and communes from Etalab's JSON files.",
    )
    parser.add_argument("--communes", type=Path, required=True, help="path to communes.json")
    parser.add_argument("--epci", type=Path, required=True, help="path to epci.json")
    parser.add_argument("--departement", type=_departement, required=True, help='e.g. "05"')
    parser.add_argument("--output", type=Path, required=True, help="territory JSON to write")
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exit_:
        # argparse has already printed its one-line usage error (or the help); callers such
        # as tests get a return code rather than an exception.
        return exit_.code if isinstance(exit_.code, int) else 2

    try:
        communes = _load_list(args.communes, "communes")
        epcis = _load_list(args.epci, "epci")
        version, name = _package_metadata(args.communes, args.departement)
        try:
            territory = build_territory(
                communes,
                epcis,
                args.departement,
                source=source_text(args.departement, version, name),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise InputError(f"unexpected structure in the input files: {error!r}") from None
        if not territory["epci"]:
            raise InputError(f"no EPCI has a commune in département {args.departement}")
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(
                json.dumps(territory, ensure_ascii=False, indent=1), encoding="utf-8"
            )
        except OSError as error:
            raise InputError(f"cannot write {args.output}: {error.strerror}") from None
    except InputError as error:
        print(f"territory_import: error: {error}", file=sys.stderr)
        return 2

    count = sum(len(epci["communes"]) for epci in territory["epci"])
    print(
        f"territory_import: wrote {args.output}: {len(territory['epci'])} EPCI, "
        f"{count} communes for département {args.departement}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
