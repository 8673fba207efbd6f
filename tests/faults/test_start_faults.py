"""Every setting or database problem at start ends the bot with one clear line and status 2.

The operator reads that line in the journal (``systemctl status filiere-bot``) and fixes what
it names; a traceback would hide it, and a bot that started anyway would fail every message.
Each case runs the real entry point in a child process (``python -m bot console --db ...``),
as ``tests/faults/test_read_only_storage.py`` does for a read-only database.
"""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from storage.db import migrations
from tests.bot.test_cli import run_bot
from tests.faults.test_read_only_storage import as_anyone, made

KNOWN = migrations()[-1][0]


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed start wrote on stderr (checked to be single, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in lines[0]
    assert lines[0].startswith("filiere-bot: ")
    return lines[0]


def start(tmp_path: Path, db: Path | str, env: dict[str, str] | None = None,
          ) -> subprocess.CompletedProcess[str]:
    """The console started on ``db`` (a file given with --db, a URL as FILIERE_DATABASE)."""
    args = ["console"] if isinstance(db, str) else ["console", "--db", str(db)]
    settings = {"FILIERE_DATABASE": db} if isinstance(db, str) else {}
    return run_bot(args, "bonjour\n", {**settings, **(env or {})}, tmp_path)


async def test_a_database_made_by_a_newer_release_is_refused_in_one_line(tmp_path: Path):
    db = tmp_path / "newer.sqlite3"
    await made(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {KNOWN + 1}")
    line = one_line(start(tmp_path, db))
    assert f"schema version {KNOWN + 1}, newer than this release knows ({KNOWN})" in line
    assert "restore a backup" in line


@pytest.mark.parametrize("content", [b"name;phone\nAna;0612345678\n", bytes(range(256)) * 32],
                         ids=["a CSV named by mistake", "random bytes"])
def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path, content: bytes):
    db = tmp_path / "not-a-database.sqlite3"
    db.write_bytes(content)
    line = one_line(start(tmp_path, db))
    assert f"the database {db} is damaged or is not an SQLite database" in line
    assert "filiere-bot restore" in line
    assert db.read_bytes() == content, "the file was written to"


async def test_a_database_with_damaged_pages_is_refused_in_one_line(tmp_path: Path):
    """The header and the schema are sound; the pages of every table are not (a disk fault):
    SQLite says SQLITE_CORRUPT when the start reads the territory."""
    db = tmp_path / "damaged.sqlite3"
    await made(db)
    with sqlite3.connect(db) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        roots = [row[0] for row in conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND rootpage > 1")]
    conn.close()
    with db.open("r+b") as raw:
        for root in roots:
            raw.seek((root - 1) * size)
            raw.write(b"\xff" * size)
    line = one_line(start(tmp_path, db))
    assert f"the database {db} is damaged or is not an SQLite database" in line
    assert "malformed" in line


@pytest.mark.parametrize("url", [
    "postgresql://filiere:s3cret@127.0.0.1:1/filiere",
    "postgresql://filiere:s3cret@/filiere?host={tmp}/no-server",
    "postgresql://filiere:s3cret@db.example.org:port/filiere",
], ids=["nothing listening", "no socket", "malformed"])
def test_an_unreachable_postgresql_url_is_refused_in_one_line_without_its_password(
        tmp_path: Path, url: str):
    line = one_line(start(tmp_path, url.format(tmp=tmp_path)))
    assert line.startswith("filiere-bot: cannot connect to the database postgresql://filiere:***@")
    assert "s3cret" not in line


def test_a_dotenv_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path):
    (tmp_path / ".env").write_bytes(b"FILIERE_TIMEZONE=Europe/Paris\nFILIERE_DEMO=\xe9\n")
    line = one_line(start(tmp_path, tmp_path / "db.sqlite3"))
    assert line == "filiere-bot: .env: not UTF-8 text (byte 0xe9 at offset 43)"


def test_a_dotenv_this_user_cannot_read_is_refused_in_one_line(tmp_path: Path):
    """Read silently as empty, it would start the bot on the defaults: the demo database."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("FILIERE_DEMO=no\n")
    dotenv.chmod(stat.S_IWUSR)
    assert refuses_reads(dotenv), f"{dotenv} is still readable: the test would be void"
    result = as_anyone(["-m", "bot", "console", "--db", str(tmp_path / "db.sqlite3")],
                       "bonjour\n", tmp_path)
    assert one_line(result) == "filiere-bot: .env: cannot be read (Permission denied)"
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_named_env_file_that_does_not_exist_is_refused_in_one_line(tmp_path: Path):
    result = run_bot(["--env-file", str(tmp_path / "missing.env"), "console"], "", {},
                     tmp_path)
    assert one_line(result) == f"filiere-bot: --env-file {tmp_path / 'missing.env'}: no such file"


def test_the_env_file_named_on_the_command_line_is_the_one_read(tmp_path: Path):
    """Administrators run commands with the service's settings file
    (``filiere-bot --env-file /etc/filiere-bot/filiere-bot.env backup ...``)."""
    settings = tmp_path / "service.env"
    settings.write_text("FILIERE_TIMEZONE=Nowhere/Town\n")
    result = run_bot(["--env-file", str(settings), "console"], "", {}, tmp_path)
    assert "FILIERE_TIMEZONE: 'Nowhere/Town' is not a time zone" in one_line(result)


def refuses_reads(target: Path) -> bool:
    """Whether a process run by :func:`as_anyone` cannot read ``target``."""
    result = as_anyone(["-c", f"open({str(target)!r}).read()"])
    return result.returncode != 0 and "PermissionError" in result.stderr
