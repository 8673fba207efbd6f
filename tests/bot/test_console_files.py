"""The console sends a local file as a chat app would: ``/fichier PATH`` (a CSV to import)."""

from __future__ import annotations

import io
from pathlib import Path

from bot.console import read_attachment, run_console
from flows.messages import Attachment, Incoming, UserKey


def test_a_file_line_reads_the_file_with_its_type(tmp_path: Path):
    path = tmp_path / "prix.csv"
    path.write_bytes(b"palier;materiel;prix\nfull;*;70\n")
    found = read_attachment(f"/fichier {path}")
    assert found == Attachment("prix.csv", "text/csv", b"palier;materiel;prix\nfull;*;70\n")
    assert read_attachment("bonjour") is None


def test_a_missing_file_is_said_and_nothing_is_sent(tmp_path: Path):
    found = read_attachment(f"/fichier {tmp_path / 'absent.csv'}")
    assert isinstance(found, str) and "absent.csv" in found


async def test_the_console_hands_the_file_to_the_bot_from_any_speaker(tmp_path: Path):
    path = tmp_path / "lieux.csv"
    path.write_text("nom;type;commune\nLieu;hub;Gap\n", encoding="utf-8")
    received: list[Incoming] = []

    async def handle(incoming: Incoming) -> None:
        received.append(incoming)

    async def drain() -> int:
        return 0

    out = io.StringIO()
    stdin = io.StringIO(f"@coord: /fichier {path}\n/fichier {tmp_path / 'nope.csv'}\nbonjour\n")
    assert await run_console(handle, drain, UserKey("cli:ana"), None, stdin, out) == 0
    assert [(m.user, m.text, m.attachment is not None) for m in received] == [
        ("cli:coord", "", True), ("cli:ana", "bonjour", False)]
    assert received[0].attachment is not None
    assert received[0].attachment.filename == "lieux.csv"
    assert "fichier illisible" in out.getvalue()
