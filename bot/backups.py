"""Backups of a running bot into a folder, the last ones kept, and putting one back.

A backup is a folder named by its UTC time, ``filiere-20261123T090000Z`` (never a token, a
password or a server name), readable by its owner only:

* ``database.sqlite3``, a checked copy of the SQLite database, or ``database.pgdump``,
  ``pg_dump``'s custom format (``storage/backup.py`` makes both while the bot runs);
* ``matrix/``, the Matrix store (the bot's device, access token and the encryption keys
  people's messages are encrypted with), each file with its permissions;
* ``backup.json``: when, the schema version, the rows of the main tables.

It is written under a hidden name, then renamed: a folder named so is a whole backup. Then
the oldest beyond ``keep`` are deleted (folders named so only: nothing else in the folder is
touched). The running bot makes one a day when ``FILIERE_BACKUP_DIR`` is set (:func:`feature`);
``filiere-bot backup`` and ``filiere-bot restore`` call the same functions.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import pwd
import re
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.settings import Settings
from flows.ports import Storage
from handlers.session import Feature, Job
from storage import backup as engine
from storage.backup import BackupError, Refused, Summary
from storage.db import CannotOpen, NewerDatabase, migrations
from storage.engines import is_url, shown

log = logging.getLogger(__name__)

NAME = re.compile(r"^filiere-(\d{8}T\d{6}Z)(?:-(\d+))?$")
"""A whole backup's folder: its UTC time, and a number when two fall in the same second."""
STAMP = "%Y%m%dT%H%M%SZ"
SQLITE_FILE = "database.sqlite3"
PGDUMP_FILE = "database.pgdump"
STORE = "matrix"
MANIFEST = "backup.json"
LOCK = ".filiere-backup.lock"

LOOK_EVERY = timedelta(hours=1)
"""How often the running bot looks whether today's backup is made (and at start)."""

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database; the backup API copies what they hold."""


@dataclass(frozen=True)
class Backup:
    """What :func:`take_backup` wrote."""

    path: Path
    database_file: Path
    database_size: int
    size: int
    """Bytes of the whole backup folder."""
    summary: Summary
    store_files: int | None
    """Files of the Matrix store copied, or None when there is no store."""
    removed: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Restored:
    """What :func:`restore_backup` put back."""

    database: str
    source: Path
    kind: str
    """``sqlite`` or ``pgdump``: what the backup was."""
    summary: Summary
    matches_manifest: bool | None
    """Whether the rows restored are those the backup counted (None: no manifest)."""
    store: Path | None = None
    set_aside: Path | None = None
    """Where the Matrix store that was replaced was moved, if one was."""
    notes: list[str] = field(default_factory=list)


def known_version() -> int:
    return migrations()[-1][0]


def backups_in(folder: Path) -> list[Path]:
    """The whole backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = NAME.match(entry.name)
        if match and entry.is_dir():
            found.append((match.group(1), int(match.group(2) or 1), entry))
    return [entry for _stamp, _n, entry in sorted(found)]


def made_on(folder: Path, day: date) -> bool:
    """Whether ``folder`` holds a backup made on the UTC ``day``."""
    stamp = day.strftime("%Y%m%d")
    return any(entry.name.startswith(f"filiere-{stamp}T") for entry in backups_in(folder))


async def take_backup(database: Path | str, folder: Path, *, keep: int, now: datetime,
                      store: Path | None = None, pg_bindir: Path | None = None) -> Backup:
    """Write a backup of ``database`` (and of the Matrix ``store``, if it exists) into a new
    folder of ``folder``, then keep the last ``keep`` backups there."""
    if keep < 1:
        raise BackupError("--keep: at least one backup is kept")
    mine = [folder] + ([] if is_url(database) else [Path(database)])
    await asyncio.to_thread(not_as_root_on_others, mine)
    lock, partial, name = await asyncio.to_thread(_begin, folder, now)
    try:
        if is_url(database):
            target = partial / PGDUMP_FILE
            summary = await engine.dump_postgres(str(database), target, pg_bindir)
        else:
            target = partial / SQLITE_FILE
            summary = await asyncio.to_thread(_copy_and_check, Path(database), target)
        store_files = None
        if store is not None and await asyncio.to_thread(store.is_dir):
            store_files = await asyncio.to_thread(copy_store, store, partial / STORE)
        return await asyncio.to_thread(_finish, partial, folder / name, target.name,
                                       summary, store_files, keep, now)
    finally:
        await asyncio.to_thread(_release, lock, partial)


def not_as_root_on_others(paths: list[Path]) -> None:
    """Refuse to work as root where another user's files are (the bot's): the files root
    would make there (a backup, a restored database, SQLite's ``-wal`` and ``-shm``) could
    not be written, rotated or deleted by the bot any more."""
    if os.geteuid() != 0:
        return
    for path in paths:
        found = next((p for p in (path, *path.parents) if p.exists()), None)
        if found is not None and (owner := found.stat().st_uid) != 0:
            try:
                name = pwd.getpwuid(owner).pw_name
            except KeyError:
                name = str(owner)
            raise BackupError(f"{found} belongs to {name}: run this as that user (sudo -u "
                              f"{name} filiere-bot ...), not as root, or the files root makes "
                              "there would lock the bot out")


def _begin(folder: Path, now: datetime) -> tuple[int, Path, str]:
    """Make the folder (the owner's only), take its lock, start a hidden partial backup."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise BackupError(f"another backup is being written into {folder}") from None
    for leftover in folder.glob(".filiere-*.partial"):  # a backup interrupted by a crash
        shutil.rmtree(leftover, ignore_errors=True)
    stamp = now.astimezone(UTC).strftime(STAMP)
    name, number = f"filiere-{stamp}", 1
    while (folder / name).exists():
        number += 1
        name = f"filiere-{stamp}-{number}"
    partial = folder / f".{name}.partial"
    partial.mkdir(mode=0o700)
    return lock, partial, name


def _copy_and_check(source: Path, target: Path) -> Summary:
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    engine.copy_sqlite(source, target)
    return engine.check_sqlite(target)


def _finish(partial: Path, final: Path, database_file: str, summary: Summary,
            store_files: int | None, keep: int, now: datetime) -> Backup:
    """Write the manifest, give the backup its name, delete the oldest beyond ``keep``."""
    manifest = {"made_at": now.astimezone(UTC).isoformat(timespec="seconds"),
                "engine": "postgresql" if database_file == PGDUMP_FILE else "sqlite",
                "database": database_file, "matrix_store": STORE if store_files else None,
                **summary.to_json()}
    descriptor = os.open(partial / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.rename(partial, final)
    _sync_folder(final.parent)
    every = backups_in(final.parent)
    removed = [old for old in every[:-keep] if old != final]
    for old in removed:
        shutil.rmtree(old)
    size = sum(f.stat().st_size for f in final.rglob("*") if f.is_file())
    return Backup(final, final / database_file, (final / database_file).stat().st_size, size,
                  summary, store_files, removed)


def _release(lock: int, partial: Path) -> None:
    """Delete what is left of a backup that did not finish, and let the next one in."""
    shutil.rmtree(partial, ignore_errors=True)
    os.close(lock)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def copy_store(source: Path, target: Path) -> int:
    """Copy the Matrix store ``source`` into the new folder ``target``, every file and folder
    with its permissions; its SQLite databases (matrix-nio's keys) through the backup API,
    consistent even while the bot writes them. Returns the number of files copied."""
    copied = 0
    for folder, subfolders, files in os.walk(source):
        here = Path(folder)
        there = target / here.relative_to(source)
        there.mkdir(mode=0o700)
        for name in sorted(files):
            path = here / name
            if _sqlite_side_file(here, name) or not path.is_file():
                continue
            if engine.kind_of(path) == "sqlite":
                engine.copy_sqlite(path, there / name)
                shutil.copystat(path, there / name)
            else:
                shutil.copy2(path, there / name)
            copied += 1
        subfolders.sort()
    for folder, _subfolders, _files in os.walk(source):  # after their files: the times stay
        shutil.copystat(folder, target / Path(folder).relative_to(source))
    return copied


def _sqlite_side_file(folder: Path, name: str) -> bool:
    for suffix in SQLITE_SIDE_FILES:
        if name.endswith(suffix) and (folder / name.removesuffix(suffix)).is_file():
            return True
    return False


# --- Restore ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A backup to restore: its database file, what kind, its manifest and store if any."""

    database: Path
    kind: str
    manifest: dict[str, Any] | None
    store: Path | None


def find_source(path: Path) -> Source:
    """A backup folder, or a database file given directly (an SQLite copy, a pg_dump)."""
    if path.is_dir():
        files = [path / name for name in (SQLITE_FILE, PGDUMP_FILE) if (path / name).is_file()]
        if not files:
            raise BackupError(f"{path} holds no {SQLITE_FILE} or {PGDUMP_FILE}: not a backup")
        manifest = None
        if (path / MANIFEST).is_file():
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        store = path / STORE if (path / STORE).is_dir() else None
        database = files[0]
    elif path.is_file():
        database, manifest, store = path, None, None
    else:
        raise BackupError(f"no backup at {path}")
    kind = engine.kind_of(database)
    if kind is None:
        raise BackupError(f"{database} is neither an SQLite database nor a pg_dump archive")
    return Source(database, kind, manifest, store)


async def restore_backup(source_path: Path, database: Path | str, *, force: bool,
                         store: Path | None = None, pg_bindir: Path | None = None,
                         now: datetime) -> Restored:
    """Put the backup ``source_path`` back into ``database`` (and its Matrix store into
    ``store``), after checking it; an existing database or store is replaced only with
    ``force``."""
    to_postgres = is_url(database)
    mine = ([] if to_postgres else [Path(database)]) + ([store] if store is not None else [])
    await asyncio.to_thread(not_as_root_on_others, mine)
    source = await asyncio.to_thread(find_source, source_path)
    if to_postgres != (source.kind == "pgdump"):
        what, into = (("a pg_dump archive", "a postgresql:// database") if to_postgres is False
                      else ("an SQLite copy", "an SQLite file"))
        raise BackupError(f"{source.database} is {what}: it restores into {into}, "
                          f"not {shown(database)}")
    # The backup first: checked whole before anything is replaced.
    known = known_version()
    expected = Summary.from_json(source.manifest) if source.manifest is not None else None
    archived: set[str] = set()
    if source.kind == "sqlite":
        expected = await asyncio.to_thread(engine.check_sqlite, source.database)
    else:
        archived = await engine.check_dump(source.database, pg_bindir)
    if expected is not None and expected.version > known:
        raise NewerDatabase(str(source.database), expected.version, known)
    # Then what it would replace.
    notes = []
    restore_store = source.store is not None and store is not None
    if source.store is not None and store is None:
        notes.append(f"the backup's Matrix store ({source.store}) was not restored: Matrix is "
                     "not configured here (MATRIX_HOMESERVER, MATRIX_STORE_PATH)")
    if not force:
        existing = await _existing(database)
        if restore_store and store is not None and await asyncio.to_thread(_holds_files, store):
            existing.append(f"the Matrix store {store}")
        if existing:
            one = len(existing) == 1
            raise Refused(f"{' and '.join(existing)} already exist{'s' if one else ''}: stop "
                          f"the bot, then add --force to replace {'it' if one else 'them'} "
                          "with the backup")
    if source.kind == "sqlite":
        await asyncio.to_thread(engine.restore_sqlite, source.database, Path(database))
        summary = await asyncio.to_thread(engine.summarise_sqlite, Path(database))
    else:
        summary = await engine.restore_postgres(source.database, archived, str(database),
                                                pg_bindir)
    set_aside = None
    if restore_store and source.store is not None and store is not None:
        set_aside = await asyncio.to_thread(_restore_store, source.store, store, now)
    matches = None
    if expected is not None:
        matches = expected.counts == summary.counts and expected.version == summary.version
    return Restored(shown(database), source.database, source.kind, summary, matches,
                    store if restore_store else None, set_aside, notes)


async def _existing(database: Path | str) -> list[str]:
    """The database, named, if it exists and holds anything."""
    if is_url(database):
        tables = await engine.tables_in(str(database))
        return [f"the database {shown(database)} ({len(tables)} tables)"] if tables else []
    path = Path(database)
    exists = await asyncio.to_thread(lambda: path.is_file() and path.stat().st_size > 0)
    return [f"the database {path}"] if exists else []


def _holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _restore_store(source: Path, store: Path, now: datetime) -> Path | None:
    """Copy the backup's store to ``store``; one already there is moved aside, not deleted
    (its keys may be the only copy of some)."""
    set_aside = None
    if store.exists():
        set_aside = store.with_name(f"{store.name}.before-restore-"
                                    f"{now.astimezone(UTC).strftime(STAMP)}")
        os.rename(store, set_aside)
    store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, store, copy_function=shutil.copy2)
    return set_aside


# --- The daily job ------------------------------------------------------------------------


def feature(settings: Settings, database: Path | str) -> Feature:
    """The daily backup of the running bot, when ``FILIERE_BACKUP_DIR`` is set: looked for
    every hour and at start, made when the folder holds none of the day (UTC). A bot
    restarted many times a day still makes one a day, and the copies kept span ``keep``
    days."""
    folder = settings.backup_dir
    if folder is None:
        return Feature(name="backups")
    store = settings.matrix.store_path if settings.matrix is not None else None

    async def daily(_storage: Storage, now: datetime) -> int:
        if await asyncio.to_thread(made_on, folder, now.astimezone(UTC).date()):
            return 0
        try:
            done = await take_backup(database, folder, keep=settings.backup_keep, now=now,
                                     store=store, pg_bindir=settings.pg_bindir)
        except (BackupError, CannotOpen, OSError, sqlite3.Error) as exc:
            log.error("daily backup into %s failed: %s; tried again in an hour", folder, exc)
            return 0
        log.info("daily backup written: %s (%s bytes, %s removed)", done.path, done.size,
                 len(done.removed))
        return 1

    return Feature(name="backups", jobs=[Job("backups.daily", LOOK_EVERY, daily)])
