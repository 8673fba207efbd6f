"""Command line: ``filiere-bot`` (or ``python -m bot``) and its sub-commands.

* ``filiere-bot`` / ``filiere-bot run``: every adapter whose settings are present; the console
  on the demo database when no platform is configured;
* ``filiere-bot console [--as NAME] [--db PATH] [--lang fr|en]``: the console adapter;
* ``filiere-bot import-territory --communes F --epci F --departement 05 [--db PATH]``: load the
  official Etalab files of any département into the database;
* ``filiere-bot copy-database --to postgresql://... [--db PATH]``: move the SQLite database
  into an empty PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot import settings as settings_module
from bot import territory_import
from bot.app import build, system_clock
from bot.console import ConsoleTransport, run_console
from bot.health import JobRuns
from bot.serve import serve, start_web
from bot.settings import Settings, SettingsError
from flows.messages import UserKey
from storage import territory as territory_store
from storage.copy import NotEmpty, copy_database
from storage.db import CannotOpen
from storage.engines import is_url, open_database

NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def _name(value: str) -> str:
    if not NAME.match(value):
        raise argparse.ArgumentTypeError("letters, digits, '.', '_' or '-' (at most 40)")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="filiere-bot", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command")
    sub.add_parser("run", help="start every configured adapter (console if none)")
    console = sub.add_parser("console", help="talk to the bot in the terminal")
    console.add_argument("--as", dest="user", type=_name, default="moi",
                         help="who you are (user cli:NAME); default: moi")
    console.add_argument("--db", type=Path, help="SQLite file (default: FILIERE_DATABASE)")
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
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_module.load()
    except SettingsError as exc:
        print(f"filiere-bot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        match args.command:
            case "console":
                return asyncio.run(console(settings, args.user, args.db, args.lang))
            case "import-territory":
                return asyncio.run(import_territory(settings, args))
            case "copy-database":
                return asyncio.run(copy_to_postgres(settings, args))
            case "run" | None:
                return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 130
    except CannotOpen as exc:  # a setting to fix, like the ones above: one line, no traceback
        print(f"filiere-bot: {exc}", file=sys.stderr)
        return 2
    return 2


async def console(settings: Settings, user: str, db: Path | None, lang: str | None) -> int:
    app = await build(settings, {"cli": ConsoleTransport(sys.stdout)}, database=db)
    web = None
    try:
        if settings.web is not None:  # the pages of the demo network, beside the console
            web = await start_web(settings, app, [], JobRuns(system_clock), system_clock)
        return await run_console(app.core.handle, app.dispatcher.drain,
                                 UserKey(f"cli:{user}"), lang)
    finally:
        if web is not None:
            await web.stop()
        await app.close()


async def run(settings: Settings) -> int:
    """Every configured adapter side by side until SIGINT or SIGTERM; the console if none."""
    if settings.telegram is None and settings.matrix is None:
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
