"""The console as ``make run`` opens it on the demo: the periodic jobs run beside it (a
reminder goes out while the person waits at the prompt), and the files the bot sends are
saved under ``var/`` with their path printed."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.console import ConsoleTransport, save_attachment
from bot.i18n import Rendered
from flows.messages import Attachment, UserKey
from tests.bot.test_cli import ROOT
from tests.support import Clock, make_chat

QUIET_NEVER = {"FILIERE_QUIET_HOURS": "00:00-00:00"}
"""Reminders may go out whatever the hour the test runs at."""


async def test_a_booked_reminder_goes_out_in_the_console(tmp_path: Path):
    """A beneficiary booked on the demo; her reminder falls due: the console, left waiting
    for a line, prints it by itself."""
    db = tmp_path / "demo.sqlite3"
    chat = await make_chat(db, Clock(datetime.now(UTC)), **QUIET_NEVER)
    try:
        async with chat.app.storage.transaction() as uow:
            place = next(p for p in await uow.places.all() if "Veynes" in p.name)
            [workshop, *_] = await uow.workshops.upcoming_at([place.id], chat.clock(), 5)
            await uow.users.create(UserKey("cli:lea"), "fr", chat.clock())
            await uow.beneficiaries.join(UserKey("cli:lea"), place.id, "REJ7K3M9P", "Léa",
                                         True, chat.clock())
            assert await uow.workshops.book(workshop.id, UserKey("cli:lea"), chat.clock()) is None
            await uow.reminders.add(workshop.id, UserKey("cli:lea"),
                                    [chat.clock() - timedelta(minutes=1)])
    finally:
        await chat.app.close()

    prefixes = ("FILIERE_", "TELEGRAM_", "MATRIX_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(PYTHONPATH=str(ROOT), FILIERE_DATABASE=str(db), **QUIET_NEVER)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "console", "--as", "lea", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path)
    assert process.stdin is not None and process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):  # a bound for a broken bot, not a wait for it
            while not any("Je ne peux pas venir" in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, "the console ended without the reminder:\n" + "".join(seen)
                seen.append(line)
    finally:
        process.stdin.close()
        _out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    said = "".join(seen)
    assert "[→ cli:lea]\nRappel : atelier" in said and "Vous venez ?" in said


async def test_a_file_the_bot_sends_is_saved_and_its_path_printed(tmp_path: Path):
    out = io.StringIO()
    transport = ConsoleTransport(out, tmp_path / "var" / "console-files")
    receipt = Attachment("recu-LOT-2026-0001.pdf", "application/pdf", b"%PDF-1.7 receipt")
    await transport.send(Rendered(UserKey("cli:ana"), "Votre reçu.", (), receipt))
    saved = tmp_path / "var" / "console-files" / "recu-LOT-2026-0001.pdf"
    assert saved.read_bytes() == b"%PDF-1.7 receipt"
    assert f"[fichier : {saved}]" in out.getvalue()
    assert "application/pdf" not in out.getvalue() and " o]" not in out.getvalue()


def test_the_same_document_again_replaces_its_copy_and_stays_in_the_folder(tmp_path: Path):
    first = save_attachment(tmp_path, Attachment("lieux.csv", "text/csv", b"old"))
    again = save_attachment(tmp_path, Attachment("lieux.csv", "text/csv", b"new"))
    sneaky = save_attachment(tmp_path, Attachment("../../evil.png", "image/png", b"x"))
    assert first == again and again.read_bytes() == b"new"
    assert sneaky.parent == tmp_path and sorted(p.name for p in tmp_path.iterdir()) == [
        "evil.png", "lieux.csv"]
