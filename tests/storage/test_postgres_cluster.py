"""The tests' own PostgreSQL 15 server: each test gets a new empty database of its own."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.pg import MAJOR, Cluster, PostgresUnavailable, find_bindir


async def test_a_new_database_stores_rows_and_reads_them_back(pg_database: str) -> None:
    connection = await asyncpg.connect(pg_database)
    try:
        await connection.execute(
            "CREATE TABLE lots (id integer PRIMARY KEY, label text NOT NULL)"
        )
        await connection.executemany("INSERT INTO lots (id, label) VALUES ($1, $2)",
                                     [(1, "portable Lenovo"), (2, "écran 22 pouces")])
        rows = await connection.fetch("SELECT id, label FROM lots ORDER BY id")
    finally:
        await connection.close()
    assert [tuple(row) for row in rows] == [(1, "portable Lenovo"), (2, "écran 22 pouces")]


async def test_the_server_is_postgresql_15_on_a_socket_only_with_durability_off(
    pg_database: str,
) -> None:
    connection = await asyncpg.connect(pg_database)
    try:
        version = int(await connection.fetchval("SHOW server_version_num"))
        settings = {name: await connection.fetchval(f"SHOW {name}")
                    for name in ("synchronous_commit", "fsync", "listen_addresses")}
    finally:
        await connection.close()
    assert version // 10000 == MAJOR
    assert connection.get_server_version().major == MAJOR
    assert settings == {"synchronous_commit": "off", "fsync": "off", "listen_addresses": ""}


async def test_a_new_database_has_no_tables(pg_database: str) -> None:
    connection = await asyncpg.connect(pg_database)
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    assert tables == 0


async def test_two_databases_do_not_see_each_others_tables(
    pg_database: str, postgres_cluster: Cluster
) -> None:
    first = await asyncpg.connect(pg_database)
    try:
        await first.execute("CREATE TABLE lots (id integer PRIMARY KEY)")
        await first.execute("INSERT INTO lots VALUES (1)")
        async with postgres_cluster.database() as other_url:
            assert other_url != pg_database
            other = await asyncpg.connect(other_url)
            try:
                assert await other.fetchval("SELECT to_regclass('lots')") is None
                await other.execute("CREATE TABLE lots (id integer PRIMARY KEY)")
                await other.execute("INSERT INTO lots VALUES (2)")
            finally:
                await other.close()
        assert await first.fetchval("SELECT array_agg(id) FROM lots") == [1]
    finally:
        await first.close()


async def test_a_database_is_dropped_after_its_test_even_with_a_connection_left_open(
    postgres_url: str, postgres_cluster: Cluster
) -> None:
    async with postgres_cluster.database() as url:
        name = url.split("/")[3].split("?")[0]
        left_open = await asyncpg.connect(url)
    try:
        admin = await asyncpg.connect(postgres_url)
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        finally:
            await admin.close()
    finally:
        await left_open.close()
    assert name.startswith("test_")
    assert exists is None


def test_where_no_postgresql_15_is_found_the_reason_says_where_it_looked(
    tmp_path: Path,
) -> None:
    with pytest.raises(PostgresUnavailable, match=r"no PostgreSQL 15 initdb and pg_ctl on the "
                       r"PATH.*apt-get install postgresql-15"):
        find_bindir(env={"PATH": str(tmp_path)}, installed=str(tmp_path / "*" / "bin"))


async def test_a_job_runs_in_one_of_two_processes_sharing_a_database(pg_database: str):
    """Two bot processes on one PostgreSQL database: the one that holds a job's advisory lock
    runs it, the other skips that turn; once the first is done (or dead), the other may."""
    from storage.postgres import PostgresDatabase

    first, second = (await PostgresDatabase.open(pg_database),
                     await PostgresDatabase.open(pg_database))
    try:
        async with first.exclusive("job:purge") as mine:
            assert mine
            async with second.exclusive("job:purge") as theirs:
                assert not theirs
            async with second.exclusive("job:other") as other:
                assert other
        async with second.exclusive("job:purge") as theirs:
            assert theirs
        async with first.exclusive("job:purge") as mine:
            assert mine
            await first.conn.raw.close()  # the process dies holding it
        async with second.exclusive("job:purge") as theirs:
            assert theirs
    finally:
        for db in (first, second):
            if not db.conn.raw.is_closed():
                await db.close()
