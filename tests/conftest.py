"""Fixtures shared by the whole suite (helpers live in ``tests/support.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.bot.synapse import Synapse, SynapseUnavailable, ensure_installed
from tests.pg import Cluster, PostgresUnavailable, find_bindir
from tests.support import Chat, Clock, compile_catalogs, make_chat, unavailable


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
        unavailable(f"Synapse cannot be installed here: {exc}")
    server = Synapse(python, tmp_path_factory.mktemp("synapse"))
    try:
        server.start()
    except SynapseUnavailable as exc:
        unavailable(f"Synapse cannot be started here: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One PostgreSQL 15 server for the whole session, on a Unix socket (``tests/pg.py``)."""
    try:
        cluster = Cluster(find_bindir())
        cluster.start()
    except PostgresUnavailable as exc:
        unavailable(f"PostgreSQL cannot be started here: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_cluster: Cluster) -> str:
    """The session's server, as its ``postgres`` superuser and database."""
    return postgres_cluster.url()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_target(request: pytest.FixtureRequest,
                          tmp_path: Path) -> AsyncIterator[Path | str]:
    """Where the storage contract tests open their database: an SQLite file, then a new
    PostgreSQL database of the session's server (each test runs on both engines)."""
    if request.param == "sqlite":
        yield tmp_path / "contract.sqlite3"
        return
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    async with cluster.database() as url:
        yield url


@pytest.fixture
async def pg_database(postgres_cluster: Cluster) -> AsyncIterator[str]:
    """A new empty database (``test_<n>``) for one test, dropped after it; yields its URL."""
    async with postgres_cluster.database() as url:
        yield url
