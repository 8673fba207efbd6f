"""The territory (communes, intercommunalities, postal codes) kept in the database.

It is loaded once from a JSON file in the shape of ``storage/data/territory-05.json`` and
read back whole at start into an in-memory :class:`flows.territory.Territory`.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from flows.territory import Commune, Epci, Territory
from storage.connection import Connection
from storage.db import ts

DEFAULT_TERRITORY = "territory-05.json"


def shipped_territory() -> dict[str, Any]:
    """The Hautes-Alpes territory shipped with the project (Etalab data, see data/README)."""
    text = resources.files("storage.data").joinpath(DEFAULT_TERRITORY).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def read_territory_file(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def is_loaded(conn: Connection) -> bool:
    async with conn.execute("SELECT count(*) FROM communes") as cur:
        row = await cur.fetchone()
    return bool(row and row[0])


async def replace_territory(
    conn: Connection, data: dict[str, Any], now: datetime
) -> int:
    """Insert or update every EPCI and commune of ``data``; returns the number of communes.

    Existing rows are updated in place (places and requests refer to communes), so a new
    release of the official files can be imported over a live database.
    """
    count = 0
    for epci in data["epci"]:
        await conn.execute(
            "INSERT INTO epci (siren, name) VALUES (?, ?)"
            " ON CONFLICT (siren) DO UPDATE SET name = excluded.name",
            (epci["siren"], epci["nom"]),
        )
        for commune in epci["communes"]:
            await conn.execute(
                "INSERT INTO communes (insee, name, departement, population, epci)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (insee) DO UPDATE SET"
                " name = excluded.name, departement = excluded.departement,"
                " population = excluded.population, epci = excluded.epci",
                (commune["insee"], commune["nom"], commune["departement"],
                 int(commune.get("population") or 0), epci["siren"]),
            )
            await conn.execute(
                "DELETE FROM commune_postal_codes WHERE insee = ?", (commune["insee"],)
            )
            await conn.executemany(
                "INSERT INTO commune_postal_codes (insee, postal_code) VALUES (?, ?)",
                [(commune["insee"], code) for code in commune["codes_postaux"]],
            )
            count += 1
    await conn.execute(
        "INSERT INTO territory_meta (id, departement, source, loaded_at) VALUES (1, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET departement = excluded.departement,"
        " source = excluded.source, loaded_at = excluded.loaded_at",
        (data["departement"], data.get("source", ""), ts(now)),
    )
    return count


async def load_territory(conn: Connection) -> Territory:
    """Read the whole territory into memory (a few hundred rows)."""
    async with conn.execute("SELECT departement FROM territory_meta WHERE id = 1") as cur:
        meta = await cur.fetchone()
    async with conn.execute("SELECT siren, name FROM epci") as cur:
        epcis = [Epci(row["siren"], row["name"]) for row in await cur.fetchall()]
    codes: dict[str, list[str]] = {}
    async with conn.execute(
        "SELECT insee, postal_code FROM commune_postal_codes ORDER BY postal_code"
    ) as cur:
        for row in await cur.fetchall():
            codes.setdefault(row["insee"], []).append(row["postal_code"])
    async with conn.execute(
        "SELECT insee, name, departement, population, epci FROM communes"
    ) as cur:
        communes = [
            Commune(row["insee"], row["name"], row["departement"],
                    tuple(codes.get(row["insee"], ())), row["population"], row["epci"])
            for row in await cur.fetchall()
        ]
    return Territory(communes, epcis, meta["departement"] if meta else "")
