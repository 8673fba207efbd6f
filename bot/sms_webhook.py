"""The gateway's webhook: an incoming SMS, checked, and answered only once it is handled.

SMS Gateway for Android posts each event as JSON (``{"id", "event": "sms:received",
"deviceId", "webhookId", "payload": {...}}``), signed: ``X-Signature`` is the hexadecimal
HMAC-SHA256, under the app's signing key, of the raw body followed by ``X-Timestamp`` (Unix
seconds). A request whose signature does not match is refused (401), and so is one whose
timestamp is more than five minutes from this machine's clock: a request captured on the way
cannot be played again later.

The phone retries an event that is not answered 2xx (10 s, then 20 s, 40 s... 14 times), so
the answer waits until the message is handled and committed (as the Telegram webhook's
does, ``bot/telegram_webhook.py``); 503 when the database could not take it, so that the
phone brings it again. Events are handled one at a time, in the order they arrive: one
person's messages must not overtake each other. An event handled but not acknowledged at a
crash comes again and is dropped as already handled (its id is recorded).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from flows.ports import StorageUnavailable

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
TOLERANCE = 300
"""Seconds a signed request stays valid (the gateway's documentation advises ±5 minutes)."""
MAX_BODY = 256 * 1024
"""Bytes: an SMS event is well under a kilobyte."""


def signature(secret: str, body: bytes, timestamp: str) -> str:
    """What the gateway puts in ``X-Signature`` for ``body`` sent at ``timestamp``."""
    return hmac.new(secret.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def genuine(secret: str, body: bytes, timestamp: str, signed: str, now: float,
            tolerance: int = TOLERANCE) -> bool:
    """Whether a request is the gateway's, and recent: signed with our key, at a time
    within ``tolerance`` seconds of ``now``."""
    if not timestamp.isdigit() or len(timestamp) > 12 or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, timestamp), signed.strip().lower())


class SmsWebhook:
    """An HTTP server receiving the gateway's events on one path."""

    def __init__(self, path: str, secret: str,
                 process: Callable[[dict[str, Any]], Awaitable[bool]], *,
                 wall: Callable[[], float] = time.time) -> None:
        self.path = "/" + path.lstrip("/")
        self.secret = secret
        self.process = process
        self.wall = wall
        """The machine's clock, Unix seconds: the gateway's timestamps are the phone's."""
        self._turn = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, listen: str, port: int) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, listen, port)
        await site.start()
        self.port = self._runner.addresses[0][1] if self._runner.addresses else port

    async def stop(self) -> None:
        """Stop receiving; the event in hand is finished and answered first."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not genuine(self.secret, body, request.headers.get(TIMESTAMP_HEADER, ""),
                       request.headers.get(SIGNATURE_HEADER, ""), self.wall()):
            log.warning("sms: a webhook call with a wrong or outdated signature refused")
            return web.Response(status=401)
        try:
            data = json.loads(body)
        except ValueError:
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        async with self._turn:
            try:
                handled = await self.process(data)
            except StorageUnavailable as exc:
                log.warning("sms: event %s not handled now (%s); the gateway sends it again",
                            data.get("id"), exc)
                handled = False
            except Exception:  # the router already apologised; the phone must not loop on it
                log.exception("sms: event %s not handled", data.get("id"))
                handled = True
        return web.Response(status=200 if handled else 503)
