"""The security tests' world: built once per run through the bot, copied for each scenario."""

from __future__ import annotations

import asyncio

import pytest

from tests.security.world import World, build_world
from tests.support import Clock


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, catalogs: None) -> World:
    path = tmp_path_factory.mktemp("world") / "world.sqlite3"
    return asyncio.run(build_world(path, Clock()))
