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
* a file the bot sends (a receipt, a certificate, a QR code) is saved in the files folder
  (``var/console-files`` by default) and its path printed, for the reader to open it;
* given a ``woken`` event (the scheduler's jobs set it when they queue something), what they
  queue is printed as it comes, even while the console waits for a line: a reminder goes out
  in the demo as it would on a chat platform.
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

from bot.i18n import Rendered, numbered
from flows.messages import Attachment, Incoming, UserKey
from flows.ports import StorageUnavailable

SPEAKER = re.compile(r"^@([A-Za-z0-9_.\-]{1,40}):\s?(.*)$")
MAX_LINE = 20_000
FILE_COMMAND = "/fichier "
MAX_FILE = 20_000_000
"""Telegram lets a bot download files up to 20 MB: the console sends no more."""
FILES = Path("var") / "console-files"
"""Where the files the bot sends are saved, beside the demo database (``var/``)."""
IDLE_SECONDS = 5
"""Without a wake-up, what is due (a message put off) is looked for this often."""


class ConsoleTransport:
    """Prints every message for a ``cli:`` user on the given stream; saves its file."""

    platform = "cli"

    def __init__(self, out: TextIO, files: Path = FILES) -> None:
        self.out = out
        self.files = files

    async def send(self, message: Rendered) -> None:
        if message.replaces is not None and not message.text:
            return  # buttons taken off a message: the console has none
        lines = [f"[→ {message.to}]", message.text]
        lines.extend(f"  {line}" for line in numbered(message.choices))
        if message.attachment is not None:
            try:
                path = await asyncio.to_thread(save_attachment, self.files, message.attachment)
            except OSError as error:
                lines.append(f"  [fichier non enregistré : {message.attachment.filename} "
                             f"({error.strerror})]")
            else:
                lines.append(f"  [fichier : {path}]")
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()


def save_attachment(folder: Path, attachment: Attachment) -> Path:
    """Write a file the bot sent into ``folder`` under its own name; returns its path.

    The name the bot gives says which document it is (``recu-LOT-2026-0001.pdf``,
    ``lieux.csv``): the same name again is the same document made again (a newer export, a
    message sent again after a restart), so it replaces the older copy, whole or not at all.
    """
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(attachment.filename).name or "fichier"  # never a path out of the folder
    path = folder / name
    partial = folder / f".{name}.part"
    partial.write_bytes(attachment.data)
    partial.replace(path)
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
    *,
    woken: asyncio.Event | None = None,
) -> int:
    """Read messages until end of input; every reply is delivered before the next line.

    With ``woken``, what the periodic jobs queue is delivered as soon as they set it (and
    anything due at least every few seconds), lines being read off the event loop so that
    the jobs run while the console waits.
    """
    interactive = stdin.isatty()
    delivering = asyncio.Lock()  # one delivery round at a time: nothing is sent twice

    async def deliver() -> None:
        """Deliver what is due; if the database cannot be written now (locked, full), the
        messages stay in the outbox and go out after a later line."""
        async with delivering:
            with contextlib.suppress(StorageUnavailable):
                await drain()

    async def deliver_when_woken(event: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), IDLE_SECONDS)
            event.clear()
            await deliver()

    background = (asyncio.create_task(deliver_when_woken(woken), name="console-delivery")
                  if woken is not None else None)
    try:
        return await _read_lines(handle, deliver, user, lang_hint, stdin, out, interactive,
                                 off_loop=woken is not None)
    finally:
        if background is not None:
            async with delivering:  # never cut a delivery short
                background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background


async def _read_lines(
    handle: Callable[[Incoming], Awaitable[None]],
    deliver: Callable[[], Awaitable[None]],
    user: UserKey,
    lang_hint: str | None,
    stdin: TextIO,
    out: TextIO,
    interactive: bool,
    *,
    off_loop: bool,
) -> int:
    """Hand each line to the bot as its speaker's message, then deliver the replies."""
    loop = asyncio.get_running_loop()
    counter = 0
    if interactive:
        out.write("filiere-bot (console). Ctrl-D pour quitter ; « @nom: texte » parle en tant "
                  "que cli:nom.\n\n")
        await handle(Incoming(user, "bonjour", lang_hint=lang_hint))
        await deliver()
    while True:
        if interactive:
            line = await loop.run_in_executor(None, _prompt, user)
        elif off_loop:
            line = await loop.run_in_executor(None, stdin.readline)
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
