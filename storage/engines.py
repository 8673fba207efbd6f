"""Which database a setting names: a path is SQLite (the embedded default), a
``postgresql://`` URL is PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database
from storage.postgres import PostgresDatabase, safe_url

AnyDatabase = Database | PostgresDatabase


def is_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def shown(target: str | Path) -> str:
    """The database as messages and logs may name it: a URL without its password."""
    return safe_url(str(target)) if is_url(target) else str(target)


async def open_database(target: str | Path) -> AnyDatabase:
    """Open (creating, migrating) the database ``target`` names."""
    if is_url(target):
        return await PostgresDatabase.open(str(target))
    return await Database.open(target)
