"""The console adapter: talk to the bot in a terminal, or script it through standard input.

Contract (tests and scripts depend on it):

* interactive on a terminal; otherwise one message per input line, exit 0 at end of input once
  every reply is printed;
* a line ``@NAME: text`` is said by ``cli:NAME``; other lines by the ``--as`` user;
* every message the bot sends to a ``cli:`` user is printed with its recipient, so notices to
  other users (a coordinator, a place's staff) show in the same run;
* choices are printed numbered; the user answers with the number or the label;
* a line ``/fichier PATH`` (or ``@NAME: /fichier PATH``) sends the local file at ``PATH`` as
  the message's attachment (a CSV to import, for instance), as a chat app would;
* a file the bot sends (a certificate, a sheet of labels, a handover kit) is named with its
  type and size; with ``--files DIR`` it is also saved there, and its path printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.i18n import Rendered
from flows.messages import Attachment, Incoming, UserKey
from flows.ports import StorageUnavailable

SPEAKER = re.compile(r"^@([A-Za-z0-9_.\-]{1,40}):\s?(.*)$")
MAX_LINE = 20_000
FILE_COMMAND = "/fichier "
MAX_FILE = 20_000_000
"""Telegram lets a bot download files up to 20 MB: the console sends no more."""


class ConsoleTransport:
    """Prints every message for a ``cli:`` user on the given stream."""

    platform = "cli"

    def __init__(self, out: TextIO, files: Path | None = None) -> None:
        self.out = out
        self.files = files
        """Where files sent to console users are saved (None: not saved)."""

    async def send(self, message: Rendered) -> None:
        if message.replaces is not None and not message.text:
            return  # buttons taken off a message: the console has none
        lines = [f"[→ {message.to}]", message.text]
        for number, (_, label) in enumerate(message.choices, start=1):
            lines.append(f"  {number}. {label}")
        if message.attachment is not None:
            att = message.attachment
            lines.append(f"  [{att.filename} · {att.mime} · {len(att.data)} o]")
            if self.files is not None:
                lines.append(f"  [→ {self._save(att)}]")
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()

    def _save(self, attachment: Attachment) -> Path:
        """Write a file sent by the bot into ``files`` under its own name (numbered when
        the name is taken: nothing is overwritten)."""
        assert self.files is not None
        self.files.mkdir(parents=True, exist_ok=True)
        name = Path(attachment.filename).name or "fichier"
        path, number = self.files / name, 1
        while path.exists():
            number += 1
            path = self.files / f"{Path(name).stem}-{number}{Path(name).suffix}"
        path.write_bytes(attachment.data)
        return path


def read_attachment(text: str) -> Attachment | str | None:
    """The file a ``/fichier PATH`` line sends; an error text if unreadable; None if no file."""
    if not text.startswith(FILE_COMMAND):
        return None
    path = Path(text.removeprefix(FILE_COMMAND).strip()).expanduser()
    try:
        if path.stat().st_size > MAX_FILE:
            return f"fichier trop gros : {path}"
        data = path.read_bytes()
    except OSError as error:
        return f"fichier illisible : {path} ({error.strerror})"
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Attachment(path.name, mime, data)


def parse_line(line: str, default: UserKey) -> tuple[UserKey, str]:
    """Who says what: ``@ana: bonjour`` is ``cli:ana``; anything else is the default user."""
    found = SPEAKER.match(line)
    if found:
        return UserKey(f"cli:{found.group(1)}"), found.group(2)
    return default, line


async def run_console(
    handle: Callable[[Incoming], Awaitable[None]],
    drain: Callable[[], Awaitable[int]],
    user: UserKey,
    lang_hint: str | None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> int:
    """Read messages until end of input; every reply is delivered before the next line."""
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()

    async def deliver() -> None:
        """Deliver what is due; if the database cannot be written now (locked, full), the
        messages stay in the outbox and go out after a later line."""
        with contextlib.suppress(StorageUnavailable):
            await drain()

    counter = 0
    if interactive:
        out.write("filiere-bot (console). Ctrl-D pour quitter ; « @nom: texte » parle en tant "
                  "que cli:nom.\n\n")
        await handle(Incoming(user, "bonjour", lang_hint=lang_hint))
        await deliver()
    while True:
        if interactive:
            line = await loop.run_in_executor(None, _prompt, user)
        else:
            line = stdin.readline()
        if not line:
            break
        line = line.rstrip("\r\n")[:MAX_LINE]
        if not line.strip():
            continue
        speaker, text = parse_line(line, user)
        if not interactive:
            out.write(f"{speaker} > {text}\n")
        counter += 1
        attachment = await loop.run_in_executor(None, read_attachment, text)
        if isinstance(attachment, str):
            out.write(f"[{attachment}]\n\n")
            continue
        if attachment is not None:
            text = ""
        await handle(Incoming(speaker, text, lang_hint=lang_hint, attachment=attachment))
        await deliver()
    await deliver()
    return 0


def _prompt(user: UserKey) -> str:
    try:
        return input(f"{user.removeprefix('cli:')}> ") + "\n"
    except EOFError:
        return ""
