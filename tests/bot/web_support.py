"""A bot with its web pages, for the tests of ``bot/web.py``: the console's chat (``Chat``) on
a real SQLite file, and the pages' server on 127.0.0.1, on a socket bound before the bot is
built so that certificates carry the server's real address."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from bot.health import JobRuns, Status, read_status
from bot.i18n import Rendered
from bot.web import TokenBuckets, WebServer
from tests.support import Chat, Clock, make_chat


class Ticks:
    """A monotonic clock the test moves by hand (the rate limit's)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    """The bot, its pages and their address."""

    chat: Chat
    web: WebServer
    url: str
    ticks: Ticks
    runs: JobRuns
    certified: list[Rendered] = field(default_factory=list)
    """What a test's set-up had sent (a certificate...)."""

    async def close(self) -> None:
        await self.web.stop()
        await self.chat.app.close()


async def open_site(db: Path, clock: Clock, **env: str) -> Site:
    """The demo bot on ``db`` with its pages listening on a free port of 127.0.0.1."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    chat = await make_chat(db, clock, FILIERE_WEB_PORT=str(port), FILIERE_WEB_BASE_URL=url,
                           **env)
    runs = JobRuns(clock)
    app = chat.app

    async def status() -> Status:
        return await read_status(app.storage, list(app.dispatcher.transports), (),
                                 app.dispatcher.paused, runs, clock())

    ticks = Ticks()
    settings = app.settings.web
    assert settings is not None
    web = WebServer(settings, app, status, clock=clock, lookups=TokenBuckets(clock=ticks))
    await web.start(sock)
    return Site(chat, web, url, ticks, runs)


def attachment_of(sent: list[Rendered], to: str, suffix: str) -> bytes:
    """The file ``to`` received whose name ends with ``suffix``."""
    key = to if ":" in to else f"cli:{to}"
    return next(m.attachment.data for m in sent if m.to == key and m.attachment
                and m.attachment.filename.endswith(suffix))

