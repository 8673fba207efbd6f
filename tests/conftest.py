"""Fixtures shared by the whole suite (helpers live in ``tests/support.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import Chat, Clock, compile_catalogs, make_chat


@pytest.fixture(scope="session", autouse=True)
def catalogs() -> None:
    """Compile the message catalogs once, as `make locales` does, so English renders."""
    compile_catalogs()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "filiere.sqlite3"


@pytest.fixture
async def chat(db_path: Path, clock: Clock) -> AsyncIterator[Chat]:
    bot = await make_chat(db_path, clock)
    yield bot
    await bot.app.close()
