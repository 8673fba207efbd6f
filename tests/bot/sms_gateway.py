"""A local stand-in for the API of SMS Gateway for Android, for the SMS tests.

Built from the app's documentation (its README, docs.sms-gate.app "Webhooks") and its OpenAPI
description (``app/src/main/assets/api/swagger.json`` of capcom6/android-sms-gateway): the
local server's routes at the root of the address, with Basic authentication;

* ``POST /messages`` (and the older ``/message``): ``{"id"?, "phoneNumbers": [...],
  "textMessage": {"text"}, "withDeliveryReport", "ttl"...}``, answered 202 with the message's
  state (``{"id", "deviceId", "state": "Pending", "recipients": [{"phoneNumber", "state"}],
  "isHashed", "isEncrypted"}``), 409 when a message with that id exists already, 400 for a
  malformed one; ``GET /messages/{id}``: its state, 404 if unknown;
* ``GET`` and ``POST /webhooks``, ``DELETE /webhooks/{id}``: the registered webhooks (a POST
  with an existing id replaces it);
* incoming SMS: :meth:`FakeSmsGateway.receive` posts an ``sms:received`` event to every
  webhook registered for it, as the phone does: ``{"id", "webhookId", "event", "deviceId",
  "payload": {"messageId", "message", "phoneNumber", "sender", "simNumber", "receivedAt"}}``,
  signed: ``X-Signature`` the hexadecimal HMAC-SHA256 of the body followed by ``X-Timestamp``
  (Unix seconds), under the signing key. It returns the status the bot answered.

The phone's sending is played by the test: a message stays Pending until its state is asked,
then reads Delivered, or Failed for the next ones :meth:`fail_next` names (the phone could
not send them), or stays Pending while :attr:`holding`. :meth:`refuse_next` makes the next
posts answer an error status (a 400 refusal, a 503 server in trouble). It listens on
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

DEVICE_ID = "ffffffffceb0b1db0000018e937c815b"


@dataclass
class Stored:
    """One SMS the bot asked the phone to send."""

    id: str
    phone: str
    text: str
    state: str = "Pending"
    error: str | None = None
    ttl: int | None = None
    at: float = field(default_factory=time.monotonic)


class FakeSmsGateway:
    """The gateway's HTTP API on 127.0.0.1, and the phone's part played on demand."""

    def __init__(self, login: str = "sms", password: str = "gateway-pass",
                 signing_key: str = "signing-key-of-the-phone") -> None:
        self.login, self.password, self.signing_key = login, password, signing_key
        self.messages: dict[str, Stored] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.posts = 0
        """POST /messages calls received (accepted or not)."""
        self.holding = False
        """While True, messages stay Pending (the phone is off)."""
        self._fail: list[str] = []
        self._refuse: list[int] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- the server -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/messages", self._send)
        app.router.add_post("/message", self._send)
        app.router.add_get("/messages/{id}", self._state)
        app.router.add_get("/webhooks", self._webhooks)
        app.router.add_post("/webhooks", self._add_webhook)
        app.router.add_delete("/webhooks/{id}", self._delete_webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        return hmac.compare_digest(request.headers.get("Authorization", ""),
                                   f"Basic {expected}")

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"code": 0, "message": message}, status=status)

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "Unauthorized")
        self.posts += 1
        if self._refuse:
            status = self._refuse.pop(0)
            return self._error(status, "refused by the test")
        try:
            data = await request.json()
            phones = data["phoneNumbers"]
            text = data["textMessage"]["text"]
            assert isinstance(phones, list) and len(phones) == 1 and isinstance(text, str)
            assert text, "empty text"
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            return self._error(400, f"invalid message: {exc}")
        message_id = data.get("id") or secrets.token_urlsafe(15)
        if message_id in self.messages:
            return self._error(409, "Message with such ID already exists")
        stored = Stored(message_id, phones[0], text, ttl=data.get("ttl"))
        if self._fail:
            stored.error = self._fail.pop(0)
        self.messages[message_id] = stored
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(self._shape(stored), status=202)

    def _shape(self, stored: Stored) -> dict[str, Any]:
        recipient: dict[str, Any] = {"phoneNumber": stored.phone, "state": stored.state}
        if stored.error and stored.state == "Failed":
            recipient["error"] = stored.error
        return {"id": stored.id, "deviceId": DEVICE_ID, "state": stored.state,
                "recipients": [recipient], "isHashed": False, "isEncrypted": False,
                "states": {stored.state: datetime.now(UTC).isoformat()}}

    async def _state(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "Unauthorized")
        stored = self.messages.get(request.match_info["id"])
        if stored is None:
            return self._error(404, "message not found")
        if stored.state == "Pending" and not self.holding:
            stored.state = "Failed" if stored.error else "Delivered"
        return web.json_response(self._shape(stored))

    async def _webhooks(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "Unauthorized")
        return web.json_response(list(self.webhooks.values()))

    async def _add_webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "Unauthorized")
        data = await request.json()
        if data.get("event") not in ("sms:received", "sms:sent", "sms:delivered",
                                     "sms:failed", "system:ping") or not data.get("url"):
            return self._error(400, "invalid webhook")
        hook = {"id": data.get("id") or secrets.token_urlsafe(12), "url": data["url"],
                "event": data["event"]}
        self.webhooks[hook["id"]] = hook
        return web.json_response(hook, status=201)

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, "Unauthorized")
        self.webhooks.pop(request.match_info["id"], None)
        return web.Response(status=204)

    # --- the phone's part, played by the test ------------------------------------------------

    def fail_next(self, *errors: str) -> None:
        """The next messages posted end Failed, with these errors (one each)."""
        self._fail.extend(errors)

    def refuse_next(self, *statuses: int) -> None:
        """The next posts answer these HTTP statuses (one each) and keep nothing."""
        self._refuse.extend(statuses)

    def to(self, phone: str) -> list[Stored]:
        """What the bot asked to send to ``phone``, in order."""
        return [m for m in self.messages.values() if m.phone == phone]

    def texts(self, phone: str) -> list[str]:
        return [m.text for m in self.to(phone)]

    async def wait_posted(self, count: int, within: float = 15.0) -> None:
        """Until ``count`` messages were accepted in all."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.messages) >= count)

    def signed(self, body: bytes, *, skew: int = 0,
               key: str | None = None) -> dict[str, str]:
        """The headers the phone sends with ``body``: its timestamp (off by ``skew``
        seconds) and its signature (under ``key``, the signing key by default)."""
        timestamp = str(int(time.time()) + skew)
        signature = hmac.new((key or self.signing_key).encode(), body + timestamp.encode(),
                             hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Signature": signature,
                "X-Timestamp": timestamp}

    def event(self, phone: str, text: str, event_id: str | None = None) -> bytes:
        """The body of an ``sms:received`` event, as the phone writes it."""
        hook = next((h for h in self.webhooks.values() if h["event"] == "sms:received"),
                    {"id": "unregistered"})
        received = datetime.now(UTC).isoformat(timespec="milliseconds")
        return json.dumps({
            "deviceId": DEVICE_ID, "event": "sms:received",
            "id": event_id or secrets.token_urlsafe(15), "webhookId": hook["id"],
            "payload": {"messageId": hashlib.sha1(text.encode()).hexdigest()[:10],
                        "message": text, "phoneNumber": phone, "sender": phone,
                        "simNumber": 1, "receivedAt": received},
        }).encode()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as session, session.post(
                url, data=body, headers=headers) as response:
            return response.status

    async def receive(self, phone: str, text: str, *, event_id: str | None = None,
                      url: str | None = None) -> int:
        """Someone texts the network's phone: the signed event goes to the registered
        ``sms:received`` webhook (or ``url``); the status the bot answered."""
        if url is None:
            hooks = [h["url"] for h in self.webhooks.values() if h["event"] == "sms:received"]
            assert hooks, "no sms:received webhook registered"
            url = hooks[0]
        body = self.event(phone, text, event_id)
        return await self.post(url, body, self.signed(body))
