"""Backups taken while the bot runs, and restores: nothing committed is missing, nothing half.

A backup is a snapshot: everything committed before it began is in it, with the messages each
change wrote (the outbox is written in the same transaction), and nothing committed after.
The test of that holds the copy between the moment its snapshot is taken and the copy itself
(``storage.backup.read_snapshot``, wrapped) until more messages have been committed, while a
task goes on handling messages the whole time: those must not be in the copy, and everything
before must, down to the erasure certificate issued through the chat.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from bot.backups import NAME, backups_in, restore_backup, take_backup
from flows.messages import Incoming, UserKey
from storage import backup as engine
from storage.backup import BackupError, Refused
from storage.db import NewerDatabase, migrations
from tests.bot.test_cli import run_bot
from tests.handlers.test_donations import RECOND, certify_lot, declare_organisation_lot
from tests.pg import Cluster
from tests.support import Chat, Clock, make_chat, texts, unavailable

CODE = re.compile(r"EFF-[A-Z0-9]{4}-[A-Z0-9]{4}")


async def certified(chat: Chat) -> str:
    """A lot declared, erased and certified through the chat; the certificate's code."""
    await declare_organisation_lot(chat)
    sent = await certify_lot(chat)
    found = CODE.search(texts(sent, RECOND))
    assert found is not None, texts(sent, RECOND)
    return found.group(0)


def hello(n: int) -> Incoming:
    """Someone new says hello: one event, recorded with its answer in one transaction."""
    return Incoming(UserKey(f"cli:flow{n}"), "bonjour", None, f"flow-{n}", None)


async def test_a_backup_taken_while_messages_flow_restores_every_committed_answer_and_proof(
        tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch):
    chat = await make_chat(tmp_path / "live.sqlite3", clock)
    try:
        code = await certified(chat)
        for n in range(1, 21):  # committed before the backup: their answers wait in the outbox
            await chat.app.core.handle(hello(n))
        before = list(range(1, 21))

        loop = asyncio.get_running_loop()
        taken, enough, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        resume = threading.Event()
        snapshot = engine.read_snapshot

        def held(conn: sqlite3.Connection) -> None:
            """The copy's snapshot is taken; the copy waits for the test's word."""
            snapshot(conn)
            loop.call_soon_threadsafe(taken.set)
            assert resume.wait(timeout=120), "the test never let the copy go on"

        monkeypatch.setattr(engine, "read_snapshot", held)
        after: list[int] = []

        async def flow() -> None:
            """Messages, one after another, for as long as the test lets them come."""
            n = 20
            while not stop.is_set():
                n += 1
                started_after = taken.is_set()
                await chat.app.core.handle(hello(n))
                if started_after:
                    after.append(n)
                    if len(after) >= 10:
                        enough.set()

        flowing = asyncio.create_task(flow())
        backing_up = asyncio.create_task(
            take_backup(tmp_path / "live.sqlite3", tmp_path / "backups", keep=3, now=clock()))
        await taken.wait()
        await enough.wait()  # ten messages committed after the snapshot, before the copy
        resume.set()
        done = await backing_up
        stop.set()
        await flowing
    finally:
        resume.set()
        await chat.app.close()

    assert after, "no message was handled while the backup ran"
    restored = await restore_backup(done.path, tmp_path / "restored.sqlite3", force=False,
                                    now=clock())
    assert restored.matches_manifest is True
    assert restored.summary.counts == done.summary.counts

    again = await make_chat(tmp_path / "restored.sqlite3", Clock(clock()))
    try:
        await again.app.dispatcher.drain()  # the answers committed but not yet delivered
        delivered = {m.to for m in again.recorder.sent}
        assert {f"cli:flow{n}" for n in before} <= delivered
        assert not {f"cli:flow{n}" for n in after} & delivered
        rows = await again.app.db.conn.execute_fetchall(
            "SELECT event_id FROM processed_events WHERE event_id LIKE 'cli:flow-%'")
        handled = {int(row[0].rsplit("-", 1)[1]) for row in rows}
        assert set(before) <= handled and not set(after) & handled
        # Each event in the copy came with its answer, and no answer without its event.
        answered = {int(to.removeprefix("cli:flow")) for to in delivered
                    if to.startswith("cli:flow")}
        assert answered == handled
        sent = await again.say("auditor", f"/verifier {code}")
        assert "Certificat authentique : lot LOT-2026-0001" in texts(sent, "auditor")
    finally:
        await again.app.close()


async def test_backups_are_named_by_their_time_private_and_the_last_n_kept(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("the operator's own file")
    (folder / "filiere-old-by-hand").mkdir()
    made = []
    for _day in range(4):
        made.append(await take_backup(db_path, folder, keep=2, now=clock()))
        clock.advance(days=1)
    assert [b.path.name for b in made] == ["filiere-20261123T090000Z", "filiere-20261124T090000Z",
                                           "filiere-20261125T090000Z", "filiere-20261126T090000Z"]
    assert backups_in(folder) == [made[2].path, made[3].path]
    assert made[2].removed == [made[0].path] and made[3].removed == [made[1].path]
    assert (folder / "notes.txt").exists() and (folder / "filiere-old-by-hand").is_dir()
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
    for path in [made[3].path, *made[3].path.iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    same_second = clock() - timedelta(days=1)
    again = await take_backup(db_path, folder, keep=2, now=same_second)
    assert again.path.name == "filiere-20261126T090000Z-2"
    assert NAME.match(again.path.name)
    assert backups_in(folder)[-1] == again.path


async def test_the_matrix_store_is_copied_consistently_with_its_permissions_and_restored(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path):
    """The store holds the keys people's messages are encrypted with: lost, the bot is a new
    device nobody trusts and old messages cannot be read."""
    store = tmp_path / "matrix"
    store.mkdir(mode=0o700)
    (store / "session.json").write_text('{"device_id": "DEV"}')
    (store / "session.json").chmod(0o600)
    keys = sqlite3.connect(store / "@bot:example.org_DEV.db", isolation_level=None)
    keys.execute("PRAGMA journal_mode = WAL")
    keys.execute("CREATE TABLE olm (account BLOB)")
    keys.execute("INSERT INTO olm VALUES (x'0102')")
    (store / "@bot:example.org_DEV.db").chmod(0o640)
    (store / "sub").mkdir(mode=0o750)
    (store / "sub" / "extra").write_text("x")
    try:  # the keys database is open (and its WAL holds the row) while the copy is made
        done = await take_backup(db_path, tmp_path / "backups", keep=3, now=clock(),
                                 store=store)
    finally:
        keys.close()
    copy = done.path / "matrix"
    assert done.store_files == 3
    assert sorted(p.name for p in copy.rglob("*")) == [
        "@bot:example.org_DEV.db", "extra", "session.json", "sub"]
    for name in ("session.json", "@bot:example.org_DEV.db", "sub", "sub/extra", "."):
        assert stat.S_IMODE((copy / name).stat().st_mode) == \
            stat.S_IMODE((store / name).stat().st_mode), name
    with sqlite3.connect(copy / "@bot:example.org_DEV.db") as conn:
        assert conn.execute("SELECT account FROM olm").fetchall() == [(b"\x01\x02",)]
    conn.close()

    target = tmp_path / "restored-store"
    target.mkdir()
    (target / "session.json").write_text('{"device_id": "NEW"}')
    with pytest.raises(Refused, match=f"the Matrix store {target} already exists"):
        await restore_backup(done.path, tmp_path / "restored.sqlite3", force=False,
                             store=target, now=clock())
    assert not (tmp_path / "restored.sqlite3").exists()
    restored = await restore_backup(done.path, tmp_path / "restored.sqlite3", force=True,
                                    store=target, now=clock())
    assert restored.store == target and restored.set_aside is not None
    assert json.loads((target / "session.json").read_text()) == {"device_id": "DEV"}
    assert json.loads((restored.set_aside / "session.json").read_text()) == {
        "device_id": "NEW"}
    assert stat.S_IMODE((target / "@bot:example.org_DEV.db").stat().st_mode) == 0o640


async def test_restore_refuses_an_existing_database_without_force(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path):
    done = await take_backup(db_path, tmp_path / "backups", keep=3, now=clock())
    await chat.say("ana", "bonjour")  # the live database moves on after the backup

    async def ana() -> int:
        rows = await chat.app.db.conn.execute_fetchall(
            "SELECT count(*) FROM users WHERE key = 'cli:ana'")
        return int(next(iter(rows))[0])

    result = run_bot(["restore", str(done.path), "--db", str(db_path)], "", {}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"filiere-bot: the database {db_path} already exists: stop the bot, then add --force "
        "to replace it with the backup")
    assert await ana() == 1
    result = run_bot(["restore", str(done.path), "--db", str(db_path), "--force"], "", {},
                     tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"restored {db_path} from {done.path / 'database.sqlite3'}" in result.stdout
    # Replaced under SQLite's lock: even a connection left open sees the backup, whole.
    assert await ana() == 0


def damage(path: Path) -> None:
    """Overwrite the root page of every table of the SQLite file ``path`` (a disk fault)."""
    with sqlite3.connect(path) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        roots = [r[0] for r in conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND rootpage > 1")]
    conn.close()
    with path.open("r+b") as raw:
        for root in roots:
            raw.seek((root - 1) * size)
            raw.write(b"\xff" * size)


async def test_restore_checks_the_backup_first_and_refuses_a_damaged_one(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path):
    done = await take_backup(db_path, tmp_path / "backups", keep=3, now=clock())
    damage(done.database_file)
    result = run_bot(["restore", str(done.path), "--db", str(tmp_path / "new.sqlite3")], "",
                     {}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"filiere-bot: {done.database_file} is damaged")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "new.sqlite3").exists()


async def test_restore_refuses_rows_that_refer_to_missing_ones(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path):
    done = await take_backup(db_path, tmp_path / "backups", keep=3, now=clock())
    with sqlite3.connect(done.database_file) as conn:  # foreign keys are off by default
        conn.execute("INSERT INTO bookings (workshop_id, user_key, booked_at) "
                     "VALUES (9999, 'cli:nobody', '2026-11-23T09:00:00+00:00')")
    conn.close()
    with pytest.raises(BackupError, match="fails its foreign key check: bookings row"):
        await restore_backup(done.path, tmp_path / "new.sqlite3", force=False, now=clock())
    assert not (tmp_path / "new.sqlite3").exists()


async def test_restore_refuses_a_backup_made_by_a_newer_release(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path):
    done = await take_backup(db_path, tmp_path / "backups", keep=3, now=clock())
    known = migrations()[-1][0]
    with sqlite3.connect(done.database_file) as conn:
        conn.execute(f"PRAGMA user_version = {known + 1}")
    conn.close()
    with pytest.raises(NewerDatabase, match=f"schema version {known + 1}, newer"):
        await restore_backup(done.path, tmp_path / "new.sqlite3", force=False, now=clock())
    assert not (tmp_path / "new.sqlite3").exists()


async def test_a_pg_dump_archive_is_not_restored_into_an_sqlite_file(tmp_path: Path,
                                                                     clock: Clock):
    archive = tmp_path / "database.pgdump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    with pytest.raises(BackupError, match="restores into a postgresql:// database"):
        await restore_backup(archive, tmp_path / "new.sqlite3", force=False, now=clock())


async def test_the_command_line_prints_what_it_wrote_and_what_it_restored(
        tmp_path: Path, chat: Chat, db_path: Path):
    await certified(chat)
    result = run_bot(["backup", str(tmp_path / "backups"), "--db", str(db_path)], "", {},
                     tmp_path)
    assert result.returncode == 0, result.stderr
    [made] = backups_in(tmp_path / "backups")
    lines = result.stdout.splitlines()
    assert re.fullmatch(rf"wrote {re.escape(str(made))} \(\d+\.\d kB\)", lines[0])
    assert re.fullmatch(r"  database\.sqlite3: \d+\.\d kB, schema version \d+, checked",
                        lines[1])
    assert "lots 1, erasure_certificates 1" in lines[2]
    assert lines[3].startswith("  newest message: 2026-11-23 09:00:00 UTC")
    result = run_bot(["restore", str(made), "--db", str(tmp_path / "back.sqlite3")], "", {},
                     tmp_path)
    assert result.returncode == 0, result.stderr
    assert "integrity and foreign keys checked" in result.stdout
    assert "lots 1, erasure_certificates 1" in result.stdout
    assert "the same rows as the backup counted" in result.stdout


async def test_the_running_bot_backs_up_once_a_day_when_a_folder_is_set(
        tmp_path: Path, clock: Clock):
    folder = tmp_path / "daily"
    chat = await make_chat(tmp_path / "live.sqlite3", clock, FILIERE_BACKUP_DIR=str(folder),
                           FILIERE_BACKUP_KEEP="2")
    try:
        [job] = [j for j in chat.app.core.jobs if j.name == "backups.daily"]
        assert await chat.app.core.run_job(job) == 1
        clock.advance(hours=14)  # 23:00 the same day (UTC): restarts or hourly looks
        assert await chat.app.core.run_job(job) == 0
        clock.advance(hours=2)
        assert await chat.app.core.run_job(job) == 1
        clock.advance(days=1)
        assert await chat.app.core.run_job(job) == 1
        assert [p.name for p in backups_in(folder)] == [
            "filiere-20261124T010000Z", "filiere-20261125T010000Z"]
    finally:
        await chat.app.close()
    plain = await make_chat(tmp_path / "other.sqlite3", clock)
    try:
        assert not [j for j in plain.app.core.jobs if j.name.startswith("backups")]
    finally:
        await plain.app.close()


async def test_a_backup_into_a_folder_another_backup_is_writing_is_refused(
        tmp_path: Path, chat: Chat, clock: Clock, db_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    loop = asyncio.get_running_loop()
    taken = asyncio.Event()
    resume = threading.Event()
    snapshot = engine.read_snapshot

    def held(conn: sqlite3.Connection) -> None:
        snapshot(conn)
        loop.call_soon_threadsafe(taken.set)
        assert resume.wait(timeout=120)

    monkeypatch.setattr(engine, "read_snapshot", held)
    first = asyncio.create_task(take_backup(db_path, tmp_path / "b", keep=3, now=clock()))
    try:
        await taken.wait()
        with pytest.raises(BackupError, match="another backup is being written"):
            await take_backup(db_path, tmp_path / "b", keep=3, now=clock())
    finally:
        resume.set()
    done = await first
    assert backups_in(tmp_path / "b") == [done.path]


async def test_root_is_refused_where_the_bots_files_are(tmp_path: Path, clock: Clock):
    """An administrator who forgets ``sudo -u filiere-bot`` is told so before anything is
    written: a backup folder or a database file root made there would lock the bot out."""
    if os.geteuid() != 0:
        pytest.skip("the refusal is for root, and the tests do not run as root here")
    bots = tmp_path / "var"
    bots.mkdir()
    os.chown(bots, 65534, 65534)
    with pytest.raises(BackupError, match=f"{bots} belongs to .*: run this as that user"):
        await take_backup(tmp_path / "db.sqlite3", bots / "backups", keep=2, now=clock())
    with pytest.raises(BackupError, match=f"{bots} belongs to .*: run this as that user"):
        await restore_backup(tmp_path, bots / "filiere.sqlite3", force=False, now=clock())
    assert list(bots.iterdir()) == []


def test_backup_files_are_not_world_readable_whatever_the_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        engine.create_private(tmp_path / "f")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o600


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_tools(cluster: Cluster) -> Path:
    """The folder of the cluster's pg_dump and pg_restore (beside its initdb)."""
    missing = [name for name in ("pg_dump", "pg_restore")
               if not os.access(cluster.bindir / name, os.X_OK)]
    if missing:
        unavailable(f"{' and '.join(missing)} not beside initdb in {cluster.bindir}")
    return cluster.bindir


def with_password(url: str, password: str) -> str:
    """The URL with a password (the tests' server trusts its socket and ignores it)."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@", 1)


async def test_a_postgresql_database_is_dumped_while_it_runs_and_restored(
        tmp_path: Path, clock: Clock, pg_database: str, postgres_cluster: Cluster):
    bindir = pg_tools(postgres_cluster)
    url = with_password(pg_database, "s3cret-pw")
    chat = await make_chat(url, clock)
    try:
        code = await certified(chat)
        for n in range(1, 6):
            await chat.app.core.handle(hello(n))
        done = await take_backup(url, tmp_path / "backups", keep=3, now=clock(),
                                 pg_bindir=bindir)
        await chat.app.core.handle(hello(6))  # after the dump: not in it
    finally:
        await chat.app.close()
    assert done.path.name == "filiere-20261123T090000Z"
    assert done.database_file.name == "database.pgdump"
    assert done.database_file.read_bytes().startswith(b"PGDMP")
    assert stat.S_IMODE(done.database_file.stat().st_mode) == 0o600
    assert done.summary.counts["erasure_certificates"] == 1
    assert "s3cret" not in "".join(str(p) for p in done.path.rglob("*"))
    assert "s3cret" not in (done.path / "backup.json").read_text()

    async with postgres_cluster.database() as other:
        target = with_password(other, "s3cret-pw")
        restored = await restore_backup(done.path, target, force=False, pg_bindir=bindir,
                                        now=clock())
        assert restored.matches_manifest is True
        assert "s3cret" not in restored.database
        with pytest.raises(Refused, match=r"the database postgresql://postgres:\*\*\*@.* "
                                          r"\(\d+ tables\) already exists"):
            await restore_backup(done.path, target, force=False, pg_bindir=bindir,
                                 now=clock())
        again = await make_chat(target, Clock(clock()))
        try:
            await again.app.dispatcher.drain()
            delivered = {m.to for m in again.recorder.sent}
            assert {f"cli:flow{n}" for n in range(1, 6)} <= delivered
            assert "cli:flow6" not in delivered
            sent = await again.say("auditor", f"/verifier {code}")
            assert "Certificat authentique : lot LOT-2026-0001" in texts(sent, "auditor")
            await again.say("newcomer", "bonjour")  # new rows numbered after the restored
        finally:
            await again.app.close()
        replaced = await restore_backup(done.path, target, force=True, pg_bindir=bindir,
                                        now=clock())
        assert replaced.matches_manifest is True


async def test_a_damaged_pg_dump_archive_is_refused_before_anything_is_replaced(
        tmp_path: Path, clock: Clock, pg_database: str, postgres_cluster: Cluster):
    bindir = pg_tools(postgres_cluster)
    chat = await make_chat(pg_database, clock)
    await chat.app.close()
    done = await take_backup(pg_database, tmp_path / "backups", keep=3, now=clock(),
                             pg_bindir=bindir)
    data = done.database_file.read_bytes()
    done.database_file.write_bytes(data[:-200])  # its table of contents whole, data cut
    async with postgres_cluster.database() as other:
        with pytest.raises(BackupError, match="is not a readable pg_dump archive"):
            await restore_backup(done.path, other, force=True, pg_bindir=bindir, now=clock())
        assert await engine.tables_in(other) == []
