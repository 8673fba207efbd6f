"""Move a network's SQLite file into an empty PostgreSQL database, for a network that grows.

Both are brought to the same schema first (the target is migrated by opening it), then every
table is copied, a table after those it references, each value given the type of the
target's column (SQLite keeps what it is given), and the target's row numbering moved past
the copied ids. The target must be empty: nothing is ever merged. The copy is one
transaction on the target: a failure leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.db import Database
from storage.postgres import PostgresDatabase

BATCH = 2000

SKIPPED = frozenset({"schema_migrations"})
"""Made by each engine's own migrations, not copied."""


RESTART = ("SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
           " coalesce((SELECT max(id) FROM \"{table}\"), 0) + 1, false)")
"""New rows of a copied table are numbered after the copied ones."""


class NotEmpty(Exception):
    """The target already holds a network's data."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def _converter(data_type: str) -> Callable[[Any], Any]:
    """How a SQLite value becomes the target column's type."""
    if data_type in ("integer", "bigint", "smallint"):
        return lambda v: v if v is None else int(v)
    if data_type in ("double precision", "real", "numeric"):
        return lambda v: v if v is None else float(v)
    if data_type == "bytea":
        return lambda v: v if v is None or isinstance(v, bytes) else str(v).encode()
    return lambda v: v if v is None or isinstance(v, str) else str(v)


async def copy_database(source: Path, target: str) -> list[Copied]:
    """Copy every row of the SQLite file ``source`` into the PostgreSQL database ``target``."""
    lite = await Database.open(source)
    pg = await PostgresDatabase.open(target)
    try:
        tables = [row[0] for row in await lite.conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY rowid")]
        raw = pg.conn.raw
        tables = await _referenced_first([t for t in tables if t not in SKIPPED], raw)
        async with pg.transaction():
            for table in tables:
                has_rows = await raw.fetchval(f'SELECT count(*) FROM "{table}"')  # noqa: S608
                if has_rows and table not in _SHIPPED:
                    raise NotEmpty(f"{table} already has rows: copy into an empty database")
            copied = []
            for table in tables:
                columns = {row["column_name"]: row["data_type"] for row in await raw.fetch(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = $1", table)}
                names = list(columns)
                convert = [_converter(columns[name]) for name in names]
                quoted = ", ".join(f'"{name}"' for name in names)
                await raw.execute(f'DELETE FROM "{table}"')  # noqa: S608 (shipped rows)
                insert = (f'INSERT INTO "{table}" ({quoted}) VALUES '  # noqa: S608
                          f'({", ".join(f"${i + 1}" for i in range(len(names)))})')
                count = 0
                async with lite.conn.execute(
                        f'SELECT {quoted} FROM "{table}"') as cur:  # noqa: S608
                    while rows := await cur.fetchmany(BATCH):
                        await raw.executemany(insert, [
                            [c(value) for c, value in zip(convert, row, strict=True)]
                            for row in rows])
                        count += len(rows)
                if "id" in columns and columns["id"] == "integer":
                    move_on = RESTART.format(table=table)
                    await raw.execute(move_on)
                copied.append(Copied(table, count))
        return copied
    finally:
        await lite.close()
        await pg.close()


async def _referenced_first(tables: list[str], raw: Any) -> list[str]:
    """The tables ordered so that a table comes after every table it references."""
    edges = await raw.fetch(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent"
        " FROM pg_constraint c WHERE c.contype = 'f'")
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for edge in edges:
        child, parent = edge["child"].strip('"'), edge["parent"].strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = [t for t in tables if t in parents and not parents[t] - set(ordered)]
        if not ready:
            raise RuntimeError(f"circular references between {sorted(parents)}")
        for table in ready:
            ordered.append(table)
            del parents[table]
    return ordered


_SHIPPED = frozenset({"epci", "communes", "commune_postal_codes", "territory_meta",
                      "catalogue_kinds", "price_rules", "tier_prices"})
"""Tables the migrations fill (the territory, the catalogue, the price grid): replaced by
the source's own rows."""
