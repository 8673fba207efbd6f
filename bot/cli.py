"""Command line: ``filiere-bot`` (or ``python -m bot``) and its sub-commands.

* ``filiere-bot`` / ``filiere-bot run``: every adapter whose settings are present; the console
  on the demo database when no platform is configured;
* ``filiere-bot console [--as NAME] [--db PATH] [--lang fr|en] [--files DIR]``: the console
  adapter (``--files``: where the files the bot sends are saved);
* ``filiere-bot import-territory --communes F --epci F --departement 05 [--db PATH]``: load the
  official Etalab files of any département into the database;
* ``filiere-bot copy-database --to postgresql://... [--db PATH]``: move the SQLite database
  into an empty PostgreSQL database;
* ``filiere-bot backup DEST [--keep N] [--db PATH]``: a consistent copy of the database (and
  of the Matrix store) into a new folder of DEST, while the bot runs; the last N kept;
* ``filiere-bot restore SRC [--db PATH] [--force]``: put a backup back, checked first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import backups, territory_import
from bot import settings as settings_module
from bot.app import App, build, system_clock
from bot.console import FILES, ConsoleTransport, run_console
from bot.health import JobRuns
from bot.scheduler import build_scheduler
from bot.serve import serve, start_web
from bot.settings import Settings, SettingsError
from flows.messages import UserKey
from flows.ports import StorageUnavailable
from storage import territory as territory_store
from storage.backup import BackupError, Summary
from storage.copy import NotEmpty, copy_database
from storage.db import CannotOpen, NewerDatabase
from storage.engines import is_url, open_database

NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def _name(value: str) -> str:
    if not NAME.match(value):
        raise argparse.ArgumentTypeError("letters, digits, '.', '_' or '-' (at most 40)")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="filiere-bot", description=__doc__.split("\n")[0])
    top.add_argument("--env-file", type=Path,
                     help="settings file to read (default: .env of the current folder, if any);"
                          " the environment wins over it")
    sub = top.add_subparsers(dest="command")
    sub.add_parser("run", help="start every configured adapter (console if none)")
    console = sub.add_parser("console", help="talk to the bot in the terminal")
    console.add_argument("--as", dest="user", type=_name, default="moi",
                         help="who you are (user cli:NAME); default: moi")
    console.add_argument("--db", type=Path, help="SQLite file (default: FILIERE_DATABASE)")
    console.add_argument("--files", type=Path,
                         help="save the files the bot sends (PDFs...) into this folder")
    console.add_argument("--lang", choices=settings_module.LANGUAGES,
                         help="language hint, as a platform would give it")
    imp = sub.add_parser("import-territory", help="load Etalab communes.json and epci.json")
    imp.add_argument("--communes", type=Path, required=True)
    imp.add_argument("--epci", type=Path, required=True)
    imp.add_argument("--departement", required=True)
    imp.add_argument("--db", type=Path)
    copy = sub.add_parser("copy-database",
                          help="copy the SQLite database into an empty PostgreSQL database")
    copy.add_argument("--to", required=True, help="postgresql://user@host/database")
    copy.add_argument("--db", type=Path, help="SQLite file (default: FILIERE_DATABASE)")
    back = sub.add_parser("backup", help="copy the database and the Matrix store, bot running")
    back.add_argument("dest", type=Path, help="backups folder (a new folder is made in it)")
    back.add_argument("--keep", type=int,
                      help="backups kept in DEST, the oldest deleted (default: "
                           "FILIERE_BACKUP_KEEP, 14)")
    back.add_argument("--db", help="SQLite file or postgresql:// URL (default: FILIERE_DATABASE)")
    restore = sub.add_parser("restore", help="put a backup back (stop the bot first)")
    restore.add_argument("source", type=Path,
                         help="a backup folder (filiere-...Z), or a database.sqlite3 or "
                              "database.pgdump file")
    restore.add_argument("--db", help="SQLite file or postgresql:// URL to restore into "
                                      "(default: FILIERE_DATABASE)")
    restore.add_argument("--force", action="store_true",
                         help="replace a database or Matrix store that is already there")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.env_file is not None and not args.env_file.is_file():
        print(f"filiere-bot: --env-file {args.env_file}: no such file", file=sys.stderr)
        return 2
    try:
        settings = settings_module.load(dotenv=args.env_file or Path(".env"))
    except SettingsError as exc:
        print(f"filiere-bot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        match args.command:
            case "console":
                return asyncio.run(console(settings, args.user, args.db, args.lang,
                                           args.files))
            case "import-territory":
                return asyncio.run(import_territory(settings, args))
            case "copy-database":
                return asyncio.run(copy_to_postgres(settings, args))
            case "backup":
                return asyncio.run(backup(settings, args))
            case "restore":
                return asyncio.run(restore(settings, args))
            case "run" | None:
                return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 130
    except (CannotOpen, NewerDatabase, BackupError) as exc:
        # A setting or a database to fix, like the ones above: one line, no traceback.
        print(f"filiere-bot: {exc}", file=sys.stderr)
        return 2
    return 2


async def console(settings: Settings, user: str, db: Path | None, lang: str | None,
                  files: Path | None = None) -> int:
    """The console on the database, with the periodic jobs of ``serve`` (reminders, purges,
    backups) running beside it: what they queue is printed as it comes."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick otherwise
    transport = ConsoleTransport(sys.stdout, files or FILES)
    app = await build(settings, {"cli": transport}, database=db)
    woken = asyncio.Event()
    wake_dispatcher = app.core.wake

    def wake() -> None:
        wake_dispatcher()
        woken.set()

    app.core.wake = wake
    runs = JobRuns(system_clock)
    scheduler = build_scheduler(app.core, app.dispatcher, runs)
    web = None
    try:
        scheduler.start()
        if settings.web is not None:  # the pages of the demo network, beside the console
            web = await start_web(settings, app, [], runs, system_clock)
        return await run_console(app.core.handle, _drain(app), UserKey(f"cli:{user}"), lang,
                                 woken=woken)
    finally:
        scheduler.shutdown(wait=False)
        if web is not None:
            await web.stop()
        # A job cut short rolls back before the database closes.
        with contextlib.suppress(StorageUnavailable):
            async with app.storage.transaction():
                pass
        await app.close()


def _drain(app: App) -> Callable[[], Awaitable[int]]:
    """Deliver the chat messages due, then the e-mails (with a relay configured)."""
    async def drain() -> int:
        done = await app.dispatcher.drain()
        if app.mail is not None:
            done += await app.mail.run_once()
            done += await app.dispatcher.drain()  # what the coordinators are told
        return done
    return drain


async def run(settings: Settings) -> int:
    """Every configured adapter side by side until SIGINT or SIGTERM; the console if none."""
    if settings.telegram is None and settings.matrix is None and settings.sms is None:
        return await console(settings, "moi", None, None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await serve(settings, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def copy_to_postgres(settings: Settings, args: argparse.Namespace) -> int:
    """``copy-database --to URL``: the SQLite file's rows into an empty PostgreSQL database,
    with the row count of each table and a check that the counts match."""
    source = args.db or settings.database
    if is_url(source) or not is_url(args.to):
        print("filiere-bot: copy-database copies an SQLite file (--db or FILIERE_DATABASE)"
              " into a postgresql:// URL (--to)", file=sys.stderr)
        return 2
    if not await asyncio.to_thread(Path(source).exists):
        print(f"filiere-bot: no database at {source}", file=sys.stderr)
        return 2
    try:
        copied = await copy_database(Path(source), args.to)
    except NotEmpty as exc:
        print(f"filiere-bot: {exc}", file=sys.stderr)
        return 2
    target = await open_database(args.to)
    try:
        mismatched = []
        for done in copied:
            rows = await target.conn.execute_fetchall(
                f'SELECT count(*) FROM "{done.table}"')  # noqa: S608 (names from the schema)
            print(f"{done.table}: {done.rows}")
            if int(rows[0][0]) != done.rows:
                mismatched.append(done.table)
        version = await target.version()
    finally:
        await target.close()
    if mismatched:
        print(f"filiere-bot: counts differ for {', '.join(mismatched)}", file=sys.stderr)
        return 1
    print(f"copied {sum(d.rows for d in copied)} rows in {len(copied)} tables;"
          f" schema version {version}")
    return 0


def _target(settings: Settings, given: str | None) -> Path | str:
    """The database a command acts on: ``--db``, else ``FILIERE_DATABASE``."""
    if given is None:
        return settings.database
    return given if is_url(given) else Path(given)


async def backup(settings: Settings, args: argparse.Namespace) -> int:
    """``backup DEST``: a new backup folder in DEST, what it holds, and the old ones removed."""
    keep = settings.backup_keep if args.keep is None else args.keep
    store = settings.matrix.store_path if settings.matrix is not None else None
    done = await backups.take_backup(_target(settings, args.db), args.dest, keep=keep,
                                     now=system_clock(), store=store,
                                     pg_bindir=settings.pg_bindir)
    print(f"wrote {done.path} ({_size(done.size)})")
    print(f"  {done.database_file.name}: {_size(done.database_size)}, "
          f"schema version {done.summary.version}, checked")
    if done.store_files is not None:
        print(f"  {backups.STORE}/: the Matrix store, {done.store_files} files")
    _print_summary(done.summary)
    for old in done.removed:
        print(f"removed {old} (keeping the last {keep})")
    return 0


async def restore(settings: Settings, args: argparse.Namespace) -> int:
    """``restore SRC``: the backup checked, then put in place of the database (and store)."""
    store = settings.matrix.store_path if settings.matrix is not None else None
    done = await backups.restore_backup(args.source, _target(settings, args.db),
                                        force=args.force, store=store,
                                        pg_bindir=settings.pg_bindir, now=system_clock())
    checked = ("integrity and foreign keys checked" if done.kind == "sqlite"
               else "archive read whole by pg_restore")
    print(f"restored {done.database} from {done.source} ({checked}; "
          f"schema version {done.summary.version})")
    _print_summary(done.summary)
    known = backups.known_version()
    if done.summary.version < known:
        print(f"  the bot brings it to schema version {known} at its next start")
    if done.store is not None:
        aside = f"; the one it replaced is in {done.set_aside}" if done.set_aside else ""
        print(f"restored the Matrix store to {done.store}{aside}")
    for note in done.notes:
        print(f"note: {note}")
    if done.matches_manifest is False:
        print("filiere-bot: the rows restored differ from those the backup counted",
              file=sys.stderr)
        return 1
    if done.matches_manifest:
        print("  the same rows as the backup counted")
    return 0


def _print_summary(summary: Summary) -> None:
    rows = ", ".join(f"{table} {count}" for table, count in summary.counts.items())
    print(f"  rows: {rows or 'none of the main tables'}")
    print(f"  newest message: {_when(summary.newest_message)}; "
          f"newest record: {_when(summary.newest_record)}")


def _when(text: str | None) -> str:
    if text is None:
        return "none"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} bytes"


async def import_territory(settings: Settings, args: argparse.Namespace) -> int:
    """Build our territory file from the official files, then load it into the database."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "territory.json"
        status = territory_import.main([
            "--communes", str(args.communes), "--epci", str(args.epci),
            "--departement", args.departement, "--output", str(output),
        ])
        if status != 0:
            return status
        data = json.loads(output.read_text(encoding="utf-8"))
    db = await open_database(args.db or settings.database)
    try:
        async with db.transaction() as conn:
            count = await territory_store.replace_territory(conn, data, system_clock())
    finally:
        await db.close()
    print(f"{count} communes in {len(data['epci'])} intercommunalities loaded "
          f"for département {data['departement']}.")
    return 0
