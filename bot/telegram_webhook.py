"""Telegram's webhook, answered only once the update is handled.

Telegram delivers an update to a webhook again until it is answered 200. python-telegram-bot's
own webhook answers as soon as it has queued the update, before the bot has handled it: a
process killed in between lost the update for good, as its long polling did
(tests/faults/test_process_kill_telegram.py). This small server hands each update to the
router and answers once the router has committed it; an update handled but not acknowledged
at a kill comes again and is dropped as already handled (its update id is recorded).

Updates are handled one at a time, in the order they arrive, as in long polling: Telegram may
open several connections, and one person's messages must not overtake each other.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY = 1024 * 1024
"""Bytes: an update is a few kilobytes (files come as ids, downloaded afterwards)."""


class Webhook:
    """An HTTP server receiving Telegram's updates on one path."""

    def __init__(self, path: str, secret: str | None,
                 process: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self.path = "/" + path.lstrip("/")
        self.secret = secret
        self.process = process
        self._turn = asyncio.Lock()
        self._runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()

    async def stop(self) -> None:
        """Stop receiving; the update in hand is finished and answered first."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        if self.secret is not None and not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, ""), self.secret
        ):
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        async with self._turn:
            try:
                await self.process(data)
            except Exception:  # the router already retried; Telegram must not loop on it
                log.exception("telegram: webhook update %s not handled", data.get("update_id"))
        return web.Response(status=200)
