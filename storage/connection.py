"""What a repository may ask of a database connection: the part of aiosqlite's interface the
repositories are written against, so that they read the same whatever drives the database.

``await conn.execute(sql, params)`` or ``async with conn.execute(...) as cur``, then
``cur.fetchone()``, ``cur.fetchall()``, ``cur.rowcount``;
``conn.execute_fetchall``; ``conn.executemany``. Parameters are ``?`` placeholders; a row is
read by column name or by position. A new row's id is read back with ``INSERT ...
RETURNING id`` (:func:`inserted_id`), which both engines say the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]
Connection = aiosqlite.Connection
Cursor = aiosqlite.Cursor



async def inserted_id(cur: Any) -> int:
    """The id an ``INSERT ... RETURNING id`` gave the new row."""
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


__all__ = ["Connection", "Cursor", "Params", "Row", "inserted_id"]
