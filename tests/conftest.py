"""Fixtures shared by the whole suite (helpers live in ``tests/support.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.bot.synapse import Synapse, SynapseUnavailable, ensure_installed
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


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """One homeserver for the whole session (installed on first use, then cached), here so
    that the Matrix tests of ``tests/bot`` and the fault tests of ``tests/faults`` share it."""
    try:
        python = ensure_installed()
    except SynapseUnavailable as exc:
        pytest.skip(f"Synapse cannot be installed here: {exc}")
    server = Synapse(python, tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()
