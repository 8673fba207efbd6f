"""What a repository may ask of a database connection: the part of aiosqlite's interface the
repositories are written against, so that they read the same whatever drives the database.

``await conn.execute(sql, params)`` or ``async with conn.execute(...) as cur``, then
``cur.fetchone()``, ``cur.fetchall()``, ``cur.rowcount``, ``cur.lastrowid``;
``conn.execute_fetchall``; ``conn.executemany``. Parameters are ``?`` placeholders; a row is
read by column name or by position.
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

__all__ = ["Connection", "Cursor", "Params", "Row"]
