"""Every migration applied to an empty database of each engine gives the same schema: the
same tables, with the same columns, and the same indexes."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database, migrations
from storage.postgres import PostgresDatabase


async def sqlite_schema(path: Path) -> tuple[dict[str, set[str]], set[str]]:
    db = await Database.open(path)
    try:
        conn = db.conn
        tables = [row[0] for row in await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        columns = {table: {row[1] for row in await conn.execute_fetchall(
            "SELECT * FROM pragma_table_info(?)", (table,))} for table in tables}
        indexes = {row[0] for row in await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        return columns, indexes
    finally:
        await db.close()


async def postgres_schema(url: str) -> tuple[dict[str, set[str]], set[str]]:
    db = await PostgresDatabase.open(url)
    try:
        raw = db.conn.raw
        columns: dict[str, set[str]] = {}
        for row in await raw.fetch(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema()"):
            columns.setdefault(row["table_name"], set()).add(row["column_name"])
        indexes = {row["indexname"] for row in await raw.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'")}
        return columns, indexes
    finally:
        await db.close()


async def test_both_engines_have_the_same_tables_columns_and_indexes(
        tmp_path: Path, pg_database: str):
    lite_columns, lite_indexes = await sqlite_schema(tmp_path / "schema.sqlite3")
    pg_columns, pg_indexes = await postgres_schema(pg_database)
    assert set(lite_columns) == set(pg_columns)
    for table, names in lite_columns.items():
        assert names == pg_columns[table], table
    assert lite_indexes == pg_indexes
    assert len(lite_columns) > 30 and len(migrations()) >= 8  # the whole schema was compared
