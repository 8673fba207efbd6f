"""A throwaway PostgreSQL 15 cluster for the tests, started by the tests themselves.

The server is the machine's own (Debian's ``postgresql-15``): ``initdb`` and ``pg_ctl`` are
looked for on the ``PATH``, then in the folder ``pg_config --bindir`` names, then in
``/usr/lib/postgresql/*/bin``. A session fixture creates one cluster in a new temporary folder,
in memory (``/dev/shm``) when there is room (initdb about 1 s, start 0.15 s), and stops it at
the end of the session (``pg_ctl stop -m immediate``: nothing in it is kept). It listens on a
Unix socket in that folder only, no TCP port; fsync and synchronous commit are off, which is
safe for data thrown away. Every test that asks for one gets a new empty database (15-40 ms),
dropped afterwards.

PostgreSQL refuses to run as root, and CI runs as root: then ``initdb`` and ``pg_ctl`` run as
the ``postgres`` system user (``runuser``), and the folder is made its own. That is why the
folder is not under pytest's temporary directory, which only root may enter.

``python tests/pg.py`` starts one in the foreground and prints its URL (for ``psql`` or to try
the bot by hand).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import asyncpg

MAJOR = 15
SUPERUSER = "postgres"
PORT = 5432  # names the socket file only: there is no TCP listener to collide with
START_TIMEOUT = 60
MEMORY_ROOM = 512 * 1024 * 1024  # a cluster takes 40 MB, each open test database 8 MB more
SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'16MB'",
    "max_connections": "50",
    "log_min_messages": "warning",
}


class PostgresUnavailable(Exception):
    """PostgreSQL could not be found or started here; the message says why."""


def version_of(bindir: Path) -> int | None:
    """The major version of the ``initdb`` in ``bindir``, or None if it has none."""
    try:
        done = subprocess.run([str(bindir / "initdb"), "--version"], capture_output=True,
                              text=True, timeout=30, check=False)
    except OSError:
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", done.stdout)
    return int(found.group(1)) if found else None


def find_bindir(env: Mapping[str, str] = os.environ,
                installed: str = "/usr/lib/postgresql/*/bin") -> Path:
    """The folder of PostgreSQL 15's ``initdb`` and ``pg_ctl``: on the PATH, then where
    ``pg_config --bindir`` says, then under ``installed``."""
    path = env.get("PATH", "")
    candidates: list[Path] = []
    if (initdb := shutil.which("initdb", path=path)) is not None:
        candidates.append(Path(initdb).resolve().parent)
    if (pg_config := shutil.which("pg_config", path=path)) is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                  timeout=30, check=True)
            candidates.append(Path(done.stdout.strip()))
    candidates += sorted((Path(found) for found in glob.glob(installed)), reverse=True)
    seen: list[str] = []
    for bindir in dict.fromkeys(candidates):
        if not all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            continue
        version = version_of(bindir)
        if version == MAJOR:
            return bindir
        seen.append(f"{version} in {bindir}")
    others = f" (found PostgreSQL {', '.join(seen)})" if seen else ""
    raise PostgresUnavailable(
        f"no PostgreSQL {MAJOR} initdb and pg_ctl on the PATH, in pg_config --bindir or in "
        f"{installed}{others}; on Debian: apt-get install postgresql-{MAJOR}"
    )


def in_memory(folder: str = "/dev/shm", room: int = MEMORY_ROOM) -> str | None:
    """``folder`` if it is there with room to spare, else None (the usual temporary folder).

    In memory (tmpfs) a database is created in 15-40 ms; on the shared disk of a 2-core
    development machine it took 60-300 ms.
    """
    try:
        if os.access(folder, os.W_OK) and shutil.disk_usage(folder).free >= room:
            return folder
    except OSError:
        pass
    return None


class Cluster:
    """One PostgreSQL server on a Unix socket in its own temporary folder."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        """PostgreSQL's own defaults (fsync on, on disk), for benchmarks that measure a real
        commit; the tests turn syncing off and run in memory."""
        self.workdir: Path | None = None
        self.initdb_seconds = 0.0
        self.start_seconds = 0.0
        self._numbers = itertools.count(1)
        self._as_postgres = os.geteuid() == 0

    @property
    def data(self) -> Path:
        assert self.workdir is not None, "the cluster is not started"
        return self.workdir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.workdir is not None, "the cluster is not started"
        return self.workdir

    @property
    def log(self) -> Path:
        assert self.workdir is not None, "the cluster is not started"
        return self.workdir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for asyncpg (and libpq): the socket folder as host."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={PORT}"

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  check=False, cwd=self.workdir)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{tool} failed: {exc}") from exc
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise PostgresUnavailable(f"{tool} failed: {' / '.join(tail)}")

    def _make_workdir(self) -> Path:
        # Short, so that the socket's path stays under the 107 bytes a Unix socket allows.
        workdir = Path(tempfile.mkdtemp(prefix="filiere-pg-",
                                        dir=None if self.durable else in_memory()))
        if self._as_postgres:
            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                shutil.rmtree(workdir)
                raise PostgresUnavailable(
                    f"running as root, and there is no {SUPERUSER!r} user to run PostgreSQL as"
                ) from None
            os.chown(workdir, owner.pw_uid, owner.pw_gid)
        return workdir

    def start(self) -> None:
        """initdb, configure and start; wait until the server accepts connections. On
        failure nothing is left behind."""
        self.workdir = self._make_workdir()
        atexit.register(self.stop)  # even when a test run is interrupted
        try:
            self._initdb_and_start()
        except BaseException:
            self.stop()
            raise

    def _initdb_and_start(self) -> None:
        began = time.monotonic()
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
        self.initdb_seconds = time.monotonic() - began
        unsynced = ("fsync", "synchronous_commit", "full_page_writes")
        chosen = {k: v for k, v in SETTINGS.items() if not (self.durable and k in unsynced)}
        settings = {**chosen, "unix_socket_directories": f"'{self.socket_dir}'",
                    "port": str(PORT)}
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# the tests' cluster (tests/pg.py)\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        began = time.monotonic()
        try:
            self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w",
                      "-t", str(START_TIMEOUT), "-s", timeout=START_TIMEOUT + 10)
        except PostgresUnavailable as exc:
            log = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
            raise PostgresUnavailable(f"{exc}; server log: {' / '.join(log[-3:])}") from exc
        self.start_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        if self.workdir is None:
            return
        try:
            if (self.data / "postmaster.pid").exists():
                with contextlib.suppress(PostgresUnavailable):
                    self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-s")
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    async def create_database(self) -> str:
        """Create a new empty database ``test_<n>``; return its name."""
        name = f"test_{next(self._numbers)}"
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()
        return name

    async def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections a test left open on it."""
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()

    @contextlib.asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A new empty database for the time of the block; yields its URL."""
        name = await self.create_database()
        try:
            yield self.url(name)
        finally:
            await self.drop_database(name)


if __name__ == "__main__":
    cluster = Cluster(find_bindir())
    cluster.start()
    print(f"PostgreSQL {MAJOR} on {cluster.url()} (initdb {cluster.initdb_seconds:.2f} s, "
          f"start {cluster.start_seconds:.2f} s); Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        cluster.stop()
