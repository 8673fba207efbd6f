"""A real Synapse homeserver for the Matrix tests, started by the tests themselves.

Synapse comes from PyPI (``matrix-synapse``) into its own virtual environment,
``var/synapse-venv``, installed once (about 20-30 s) and reused by later runs; a file lock keeps
two test runs from installing it at the same time. A session fixture starts one homeserver on
127.0.0.1 (SQLite, no TLS, no federation, registration by shared secret only) in a temporary
directory; users are registered through the shared-secret admin API. Rate limits are relaxed
in the configuration; a test that needs Synapse's real event-sending limit sets it back for one
user through the admin API, as an administrator would lift it for the bot.

:class:`Relay` stands between the bot and the homeserver when a test needs an answer lost on
the way back (the homeserver carried the request out; the client never hears of it).

``python tests/bot/synapse.py`` installs Synapse and starts one in the foreground (to try the
bot by hand with a Matrix client on http://127.0.0.1:8008).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
VENV = VAR / "synapse-venv"
STAMP = VENV / ".installed"
REQUIREMENT = "matrix-synapse>=1.100,<2"
SERVER_NAME = "localhost"
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60

RELAXED = {"per_second": 1000, "burst_count": 1000}


class SynapseUnavailable(Exception):
    """Synapse could not be installed or started here; the message says why."""


def python() -> Path:
    return VENV / "bin" / "python"


def ensure_installed() -> Path:
    """Install Synapse into ``var/synapse-venv`` unless it is there; return its Python."""
    VAR.mkdir(exist_ok=True)
    with open(VAR / "synapse-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.exists():
            return python()
        shutil.rmtree(VENV, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(VENV)],
            [str(python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             REQUIREMENT],
        ]
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True,
                                      timeout=INSTALL_TIMEOUT, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SynapseUnavailable(f"installing {REQUIREMENT} failed: {exc}") from exc
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise SynapseUnavailable(
                    f"installing {REQUIREMENT} failed: {' / '.join(tail)}"
                )
        STAMP.write_text(REQUIREMENT + "\n")
        return python()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Account:
    """A registered user, logged in once (the token is the registration's)."""

    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver process on 127.0.0.1, with helpers to register and configure users."""

    def __init__(self, python: Path, workdir: Path, port: int | None = None) -> None:
        self.python = python
        self.workdir = workdir
        self.port = port or free_port()
        self.secret = secrets.token_urlsafe(24)
        self.process: subprocess.Popen[bytes] | None = None
        self.admin: Account | None = None
        self._config = workdir / "homeserver.yaml"
        if self._config.exists():  # a kept dev server: reuse its secret and port
            kept = json.loads(self._config.read_text())
            self.secret = kept["registration_shared_secret"]
            self.port = kept["listeners"][0]["port"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        """Configuration as JSON (a subset of YAML), so no YAML library is needed here."""
        work = self.workdir
        work.mkdir(parents=True, exist_ok=True)
        log_config = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain",
                                  "filename": str(work / "homeserver.log")}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (work / "log.yaml").write_text(json.dumps(log_config))
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "pid_file": str(work / "homeserver.pid"),
            "listeners": [{
                "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                "tls": False, "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }],
            "database": {"name": "sqlite3", "args": {"database": str(work / "homeserver.db")}},
            "log_config": str(work / "log.yaml"),
            "media_store_path": str(work / "media"),
            "signing_key_path": str(work / "signing.key"),
            "registration_shared_secret": self.secret,
            "macaroon_secret_key": secrets.token_urlsafe(24),
            "form_secret": secrets.token_urlsafe(24),
            "report_stats": False,
            "enable_registration": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "enable_metrics": False,
            "bcrypt_rounds": 4,
            "max_upload_size": "10M",
            # The default caches /sync for two minutes: a restarted client would see old
            # events again, which is exactly what the restart tests must rule out.
            "caches": {"sync_response_cache_duration": 0},
            "rc_message": RELAXED,
            "rc_registration": RELAXED,
            "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
            "rc_joins": {"local": RELAXED, "remote": RELAXED},
            "rc_joins_per_room": RELAXED,
            "rc_invites": {"per_room": RELAXED, "per_user": RELAXED, "per_issuer": RELAXED},
            "rc_room_creation": RELAXED,
            "rc_key_requests": RELAXED,
            "rc_media_create": RELAXED,
        }
        self._config.write_text(json.dumps(config, indent=1))
        subprocess.run([str(self.python), "-m", "synapse.app.homeserver", "-c",
                        str(self._config), "--generate-keys"],
                       capture_output=True, check=True, timeout=120, cwd=work)

    def start(self) -> None:
        """Start the process and wait until the client API answers."""
        if not self._config.exists():
            self.write_config()
        log = open(self.workdir / "stdout.log", "ab")  # noqa: SIM115 - kept by the process
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self._config)],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
        )
        atexit.register(self.stop)  # even when a test run is interrupted
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SynapseUnavailable(f"Synapse exited at start; see {self.workdir}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise SynapseUnavailable(f"Synapse did not answer within {START_TIMEOUT} s")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    # --- client-server and admin API -----------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             token: str | None = None) -> dict[str, Any]:
        """One JSON request to the homeserver (blocking: tests run it in a thread)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read() or b"{}"))

    def register(self, localpart: str, admin: bool = False) -> Account:
        """Register a user with the shared secret (the admin API's nonce and HMAC)."""
        nonce = self.call("GET", "/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_urlsafe(12)
        parts = (nonce, localpart, password, "admin" if admin else "notadmin")
        digest = hmac.new(self.secret.encode(), b"\x00".join(p.encode() for p in parts),
                          hashlib.sha1).hexdigest()
        done = self.call("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin,
            "mac": digest,
        })
        return Account(done["user_id"], password, done["access_token"], done["device_id"])

    def admin_account(self) -> Account:
        if self.admin is None:
            self.admin = self.register(f"admin{secrets.token_hex(3)}", admin=True)
        return self.admin

    def override_ratelimit(self, user_id: str, messages_per_second: int,
                           burst_count: int) -> None:
        """Set one user's event-sending limit (0 and 0 lift it), as the README explains."""
        self.call("POST", f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
                  {"messages_per_second": messages_per_second, "burst_count": burst_count},
                  token=self.admin_account().access_token)


class Relay:
    """A TCP relay on 127.0.0.1 in front of the homeserver, that can lose one answer.

    Bytes go through unchanged both ways. After :meth:`lose_answer`, the answer to the next
    request containing the given bytes is not relayed: the relay closes the connection as the
    homeserver starts answering, so the homeserver has done what was asked (stored the event)
    and the client only sees the connection drop. That is the one moment a client may send
    the same message again; a transaction id is what lets the homeserver recognise it. While
    the homeserver is down, connections are accepted and closed at once.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.lost = asyncio.Event()
        self._marker: bytes | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def lose_answer(self, marker: bytes) -> None:
        """Lose the answer to the next request whose bytes contain ``marker``."""
        self.lost.clear()
        self._marker = marker

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            try:
                up_reader, upstream = await asyncio.open_connection("127.0.0.1",
                                                                    self.upstream_port)
            except OSError:
                return  # the homeserver is down: the client sees the connection closed
            request = bytearray()  # the request in progress (HTTP/1.1, one at a time)

            async def forward() -> None:
                assert upstream is not None
                while data := await reader.read(65536):
                    request.extend(data)
                    upstream.write(data)
                    await upstream.drain()

            async def backward() -> None:
                while data := await up_reader.read(65536):
                    if self._marker is not None and self._marker in request:
                        self._marker = None
                        self.lost.set()
                        return  # carried out upstream; the client hears nothing back
                    request.clear()
                    writer.write(data)
                    await writer.drain()

            directions = [asyncio.create_task(forward()), asyncio.create_task(backward())]
            try:
                await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for direction in directions:
                    direction.cancel()
                await asyncio.gather(*directions, return_exceptions=True)
        finally:
            for stream in (writer, upstream):
                if stream is not None:
                    stream.close()
                    with contextlib.suppress(OSError, asyncio.CancelledError):
                        await stream.wait_closed()
            self._connections.discard(task)


def running_synapse(workdir: Path) -> Iterator[Synapse]:
    """Install if needed, start, yield, stop: the body of the session fixture."""
    server = Synapse(ensure_installed(), workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    workdir = VAR / "synapse-dev"
    server = Synapse(ensure_installed(), workdir, port=int(os.environ.get("PORT", "8008")))
    server.start()
    print(f"Synapse on {server.url} (shared secret in {workdir / 'homeserver.yaml'}); "
          "Ctrl-C to stop.")
    try:
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
