"""A minimal Bot API server on 127.0.0.1 that enforces Telegram's flood limits, for benchmarks.

Telegram allows a bot about 30 messages a second overall and about one a second in one chat;
past that it answers HTTP 429 with ``parameters.retry_after``. This server enforces both
strictly, as sliding one-second windows (the worst case a bot must live with), and counts
what it accepted and what it refused, so a benchmark can tell a sustained rate from one paid
for with 429s. It also queues updates for long polling, so a bot under test can be fed.

The tests' richer fake (``tests/bot/fake_bot_api.py``) checks behaviour; this one only counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 7000002, "is_bot": True, "first_name": "Bench", "username": "bench_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


@dataclass
class Accepted:
    """One message the server took: to whom, what, when (monotonic seconds)."""

    chat_id: int
    text: str
    at: float


@dataclass
class LimitedBotApi:
    """The server; ``overall`` and ``per_chat`` are messages allowed in any one second."""

    token: str
    overall: int | None = 30
    per_chat: int | None = 1
    latency: float = 0.0
    """Seconds each send takes before the server sees it (a distant api.telegram.org)."""
    accepted: list[Accepted] = field(default_factory=list)
    refused_overall: int = 0
    refused_chat: int = 0
    refused_at: list[float] = field(default_factory=list)
    first_fetch: float | None = None
    """When a long poll first handed updates over (monotonic seconds)."""

    def __post_init__(self) -> None:
        self._recent: deque[float] = deque()
        self._chat_recent: dict[int, deque[float]] = defaultdict(deque)
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self._arrived = asyncio.Event()
        self._took = asyncio.Event()
        self.polled = asyncio.Event()
        """Set at the first long poll: the bot is up and waiting for updates."""
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def too_many(self) -> int:
        return self.refused_overall + self.refused_chat

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_accepted(self, count: int) -> None:
        """Return once ``count`` messages in all were accepted."""
        while len(self.accepted) < count:
            self._took.clear()
            await self._took.wait()

    def restart_clock(self) -> None:
        """Forget what was accepted and when the updates were first fetched: what follows is
        measured on its own (after a warm-up)."""
        self.accepted.clear()
        self.first_fetch = None

    def say(self, user_id: int, text: str) -> None:
        """Queue a private message from ``user_id`` for the bot's long polling."""
        self._updates.append({"update_id": self._next_update, "message": {
            "message_id": self._next_message, "date": int(time.time()), "text": text,
            "from": {"id": user_id, "is_bot": False, "first_name": "P", "language_code": "fr"},
            "chat": {"id": user_id, "type": "private", "first_name": "P"},
        }})
        self._next_update += 1
        self._next_message += 1
        self._arrived.set()

    # --- the server ----------------------------------------------------------------------

    @staticmethod
    def _reply(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _too_many() -> web.Response:
        return web.json_response({"ok": False, "error_code": 429,
                                  "description": "Too Many Requests: retry after 1",
                                  "parameters": {"retry_after": 1}}, status=429)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        match method:
            case "getMe":
                return self._reply(BOT_USER)
            case "getUpdates":
                return self._reply(await self._get_updates(params))
            case "sendMessage" | "sendDocument" | "sendPhoto":
                if self.latency:
                    await asyncio.sleep(self.latency)
                return self._send(params)
            case _:  # setMyCommands, deleteWebhook, answerCallbackQuery, edits...
                return self._reply(True)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polled.set()
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(1.0, float(json.loads(str(params.get("timeout") or 0))))
        if not self._updates and timeout and not self._closing:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        handed = self._updates[:int(params.get("limit") or 100)]
        if handed and self.first_fetch is None:
            self.first_fetch = time.monotonic()
        return handed

    def _send(self, params: dict[str, Any]) -> web.Response:
        now = time.monotonic()
        chat_id = int(params["chat_id"])
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        mine = self._chat_recent[chat_id]
        while mine and now - mine[0] >= 1.0:
            mine.popleft()
        if self.overall is not None and len(self._recent) >= self.overall:
            self.refused_overall += 1
            self.refused_at.append(now)
            return self._too_many()
        if self.per_chat is not None and len(mine) >= self.per_chat:
            self.refused_chat += 1
            self.refused_at.append(now)
            return self._too_many()
        self._recent.append(now)
        mine.append(now)
        text = str(params.get("text") or params.get("caption") or "")
        self.accepted.append(Accepted(chat_id, text, now))
        self._took.set()
        self._next_message += 1
        return self._reply({"message_id": self._next_message, "date": int(time.time()),
                            "chat": {"id": chat_id, "type": "private"}, "text": text})
