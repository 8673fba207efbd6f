"""A local stand-in for Telegram's Bot API server, for the Telegram tests and benchmarks.

The one stand-in of the project: the end-to-end tests of the Telegram adapter use it, and so
do the benchmarks (``bench/telegram.py``, ``bench/reminders.py``). It listens on 127.0.0.1 (a
random port) and speaks the methods the bot uses with Telegram's response shapes: JSON bodies,
or form-encoded (multipart, for files) ones with JSON inside some fields; an error is a
non-2xx status, so a flood limit is an HTTP 429 whose body carries
``parameters.retry_after``, as Telegram's is.

Telegram allows a bot about 30 messages a second overall and about one a second in one chat;
past that it answers 429. The server enforces either, when asked (``overall_limit``,
``chat_limit`` messages per ``window`` seconds, sliding windows: the worst case a bot must
live with), counting edits as messages, and counts what it refused (``refused_overall``,
``refused_chat``), so a benchmark tells a sustained rate from one paid for with 429s; each
message accepted has its time (:attr:`Sent.at`).

The test plays the people: :meth:`FakeBotApi.say` and :meth:`FakeBotApi.press` queue updates
that the bot's long polling (``getUpdates``) collects; :meth:`FakeBotApi.block` and
:meth:`FakeBotApi.unblock` the ``my_chat_member`` updates of a person blocking the bot and
coming back; a chat in :attr:`FakeBotApi.never_started` answers "chat not found" until the
person writes. Everything the bot sends is recorded in :attr:`FakeBotApi.sent` and can be
awaited with :meth:`FakeBotApi.wait_sent`.

Beside plain error answers (:meth:`FakeBotApi.fail`), :meth:`FakeBotApi.inject` makes the server
misbehave on one chosen call the way a real one does under load: answer only after the client
has given up waiting, or close the connection without any answer, in both cases having
carried the call out first (the message reached the person) or not. The client cannot tell
which from its side; the fault tests check that a message is repeated only in the first case.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

BOT_ID = 7000001
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Filière",
    "username": "filiere_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
SENDING = ("sendMessage", "sendDocument", "sendPhoto")


@dataclass
class Sent:
    """One message the bot sent, as the fake server stored it, and when (monotonic)."""

    method: str
    chat_id: int
    message: dict[str, Any]
    file: bytes | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def text(self) -> str:
        return str(self.message.get("text") or self.message.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of the inline keyboard, in order."""
        markup = self.message.get("reply_markup") or {}
        return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", [])
                for b in row]


@dataclass
class Failure:
    """An error to answer instead of the next calls to a method."""

    status: int
    times: int
    description: str
    retry_after: int | None = None


@dataclass
class Fault:
    """How the server misbehaves on one call (see :meth:`FakeBotApi.inject`).

    ``error``: answer ``status`` (with ``retry_after`` for a 429), the call not carried out.
    ``drop``: close the connection without a response. ``slow``: answer only after ``delay``
    seconds (longer than the client's read timeout, so it has given up by then); when not
    ``accepted`` the connection is then closed, as a server that never got to the call.
    ``accepted``: for ``drop`` and ``slow``, the call was carried out (the message recorded in
    :attr:`FakeBotApi.sent`) before the server went quiet.
    """

    kind: Literal["error", "drop", "slow"]
    status: int = 500
    retry_after: int | None = None
    delay: float = 0.0
    accepted: bool = False


@dataclass
class FakeBotApi:
    """The fake server; ``chat_limit`` messages (edits included) per ``window`` seconds in a
    chat, ``overall_limit`` in all, then 429; each send takes ``latency`` seconds first (a
    distant api.telegram.org)."""

    token: str
    chat_limit: int | None = None
    window: float = 1.0
    retry_after: int = 1
    overall_limit: int | None = None
    latency: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    commands: dict[str | None, list[dict[str, str]]] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    never_started: set[int] = field(default_factory=set)
    """Chats the bot cannot write to yet ("chat not found"): the person never wrote."""
    webhook: dict[str, Any] | None = None
    confirmed: int = 0
    refused_overall: int = 0
    refused_chat: int = 0
    refused_at: list[float] = field(default_factory=list)
    first_fetch: float | None = None
    """When a long poll first handed updates over (monotonic seconds)."""

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._next_update = 500
        self._next_message: dict[int, int] = defaultdict(lambda: 100)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._recent: dict[int, deque[float]] = defaultdict(deque)
        self._recent_all: deque[float] = deque()
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._faults: list[tuple[str, Callable[[dict[str, Any]], bool] | None, Fault]] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._files: dict[str, tuple[bytes, int]] = {}
        self.downloads: list[str] = []
        self.polled = asyncio.Event()
        """Set at the first long poll: the bot is up and waiting for updates."""
        self.port = 0

    @property
    def too_many(self) -> int:
        """Messages refused with a 429 (over the overall or a chat's limit)."""
        return self.refused_overall + self.refused_chat

    @property
    def accepted(self) -> list[Sent]:
        """Every message accepted, in order (what a benchmark counts)."""
        return self.sent

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on 127.0.0.1 and return the root URL (``TELEGRAM_API_BASE_URL``)."""
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("GET", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """Answer the long polls still waiting, then close."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what people do ------------------------------------------------------------------------

    def _person(self, user_id: int, lang: str | None, name: str) -> dict[str, Any]:
        person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": name}
        if lang:
            person["language_code"] = lang
        return person

    def update(self, payload: dict[str, Any], update_id: int | None = None) -> int:
        """Queue a raw update (``update_id`` given to replay an old one); returns its id."""
        if update_id is None:
            update_id = self._next_update
            self._next_update += 1
        self._updates.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def message_update(self, user_id: int, text: str, lang: str | None = "fr",
                       name: str = "Ana") -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message[user_id],
            "from": self._person(user_id, lang, name),
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "date": int(time.time()),
            "text": text,
        }
        self._next_message[user_id] += 1
        if text.startswith("/"):
            command = text.split(" ", 1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        return {"message": message}

    def send_file(self, user_id: int, data: bytes, file_name: str | None = "fichier.csv",
                  mime: str | None = "text/csv", caption: str = "", lang: str | None = "fr",
                  size: int | None = None) -> int:
        """The person sends a document (``size``: the size Telegram announces, if not the
        data's own); the bot fetches it with ``getFile`` and the file URL."""
        update = self.message_update(user_id, "", lang)
        message = update["message"]
        del message["text"]
        file_id = f"in{user_id}-{message['message_id']}"
        self._files[file_id] = (data, len(data) if size is None else size)
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                    "file_size": self._files[file_id][1]}
        if file_name is not None:
            document["file_name"] = file_name
        if mime is not None:
            document["mime_type"] = mime
        message["document"] = document
        if caption:
            message["caption"] = caption
        return self.update(update)

    def say(self, user_id: int, text: str, lang: str | None = "fr", name: str = "Ana") -> int:
        """The person ``user_id`` types ``text`` in their private chat with the bot."""
        self.never_started.discard(user_id)
        return self.update(self.message_update(user_id, text, lang, name))

    def _membership(self, user_id: int, old: str, new: str) -> int:
        def member(status: str) -> dict[str, Any]:
            return {"user": BOT_USER, "status": status,
                    **({"until_date": 0} if status == "kicked" else {})}

        return self.update({"my_chat_member": {
            "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
            "from": self._person(user_id, "fr", "Ana"), "date": int(time.time()),
            "old_chat_member": member(old), "new_chat_member": member(new),
        }})

    def block(self, user_id: int) -> int:
        """The person blocks the bot: sending to them is refused (403), and the bot gets a
        ``my_chat_member`` update saying so."""
        self.blocked.add(user_id)
        return self._membership(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> int:
        """The person unblocks the bot (``my_chat_member``: a member again)."""
        self.blocked.discard(user_id)
        return self._membership(user_id, "kicked", "member")

    def press_update(self, user_id: int, on: Sent, data: str,
                     lang: str | None = "fr") -> dict[str, Any]:
        """The update of a press on the button ``data`` of the bot's message ``on``, as it
        stands now (after the bot's edits), without its ``update_id``."""
        message = self._messages.get((on.chat_id, on.message_id), on.message)
        return {"callback_query": {
            "id": f"cq{self._next_update}-{len(self.calls)}",
            "from": self._person(user_id, lang, "Ana"),
            "chat_instance": f"ci{on.chat_id}",
            "message": message,
            "data": data,
        }}

    def press(self, user_id: int, on: Sent, data: str, lang: str | None = "fr") -> int:
        """The person presses a button whose data is ``data`` on the bot's message ``on``."""
        return self.update(self.press_update(user_id, on, data, lang))

    def fail(self, method: str, status: int, times: int = 1, description: str = "",
             retry_after: int | None = None) -> None:
        """Answer the next ``times`` calls to ``method`` with an error."""
        self._failures[method].append(
            Failure(status, times, description or f"Error {status}", retry_after)
        )

    def inject(self, method: str, fault: Fault,
               when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Misbehave once, on the next call to ``method`` whose parameters satisfy ``when``
        (a predicate on the form fields; any call when ``None``). Faults injected for the
        same call strike one after the other, on its successive attempts."""
        self._faults.append((method, when, fault))

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for index, (name, when, fault) in enumerate(self._faults):
            if name == method and (when is None or when(params)):
                del self._faults[index]
                return fault
        return None

    @property
    def faults_left(self) -> int:
        """Injected faults that have not struck yet."""
        return len(self._faults)

    # --- what the test reads -------------------------------------------------------------------

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_sent(self, chat_id: int, count: int, within: float = 10.0) -> list[Sent]:
        """Wait until ``count`` messages in all were sent to ``chat_id``; return them all."""
        await self.wait_until(lambda: len(self.to(chat_id)) >= count, within)
        return self.to(chat_id)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (checked after every call the server takes)."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._changed.wait()

    async def wait_accepted(self, count: int, within: float = 600.0) -> None:
        """Wait until ``count`` messages in all were accepted (to anyone)."""
        await self.wait_until(lambda: len(self.sent) >= count, within)

    def restart_clock(self) -> None:
        """Forget what was accepted and when the updates were first fetched: what follows is
        measured on its own (after a warm-up)."""
        self.sent.clear()
        self.first_fetch = None

    def stored(self, sent: Sent) -> dict[str, Any]:
        """The message as it stands now (after the bot's edits)."""
        return self._messages[(sent.chat_id, sent.message_id)]

    def _notify(self) -> None:
        """Wake whoever waits for a change (``wait_until``, a long poll)."""
        self._changed.set()
        self._changed = asyncio.Event()

    # --- the server ----------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        params: dict[str, Any] = {}
        files: dict[str, Any] = {}
        if request.content_type == "application/json":
            params = await request.json()
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = {"data": value.file.read(), "filename": value.filename,
                              "mime": value.content_type}
            else:
                params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                files[key] = files.pop(value.removeprefix("attach://"))
                del params[key]
        return params, files

    @staticmethod
    def _json(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def _error(self, status: int, description: str,
               retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        self.calls.append((method, params))
        self._notify()
        fault = self._take_fault(method, params)
        if fault is not None:
            return await self._misbehave(request, method, params, files, fault)
        queued = self._failures.get(method)
        if queued:
            failure = queued[0]
            failure.times -= 1
            if failure.times <= 0:
                queued.pop(0)
            return self._error(failure.status, failure.description, failure.retry_after)
        return await self._carry_out(method, params, files)

    async def _misbehave(self, request: web.Request, method: str, params: dict[str, Any],
                         files: dict[str, Any], fault: Fault) -> web.StreamResponse:
        if fault.kind == "error":
            return self._error(fault.status, f"Error {fault.status}", fault.retry_after)
        answer: web.StreamResponse | None = None
        if fault.accepted:
            answer = await self._carry_out(method, params, files)
        if fault.kind == "slow":
            # The client has given up by the end of the delay; aiohttp does not cancel a
            # handler whose client left, so this runs on as a busy server's would.
            await asyncio.sleep(fault.delay)
            if answer is not None:
                return answer  # written to a closed connection: nobody reads it
        transport = request.transport
        if transport is not None:
            transport.close()  # no status line, no body: "server disconnected"
        return web.Response(status=204)  # aiohttp drops it: the connection is gone

    async def _carry_out(self, method: str, params: dict[str, Any],
                         files: dict[str, Any]) -> web.StreamResponse:
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except _ApiError as exc:
            return self._error(exc.status, exc.description, exc.retry_after)
        self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.downloads.append(path)
        found = self._files.get(path.removeprefix("documents/"))
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type="application/octet-stream")

    # --- methods -------------------------------------------------------------------------------

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        found = self._files.get(file_id)
        if found is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if found[1] > 20 * 1024 * 1024:
            raise _ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": found[1],
                "file_path": f"documents/{file_id}"}

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        timeout = float(self._json(params.get("timeout")) or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self.polled.set()
        if not self._updates and timeout:
            with contextlib.suppress(TimeoutError):
                await self.wait_until(lambda: bool(self._updates) or self._closing, timeout)
        limit = int(params.get("limit") or 100)
        handed = self._updates[:limit]
        if handed and self.first_fetch is None:
            self.first_fetch = time.monotonic()
        return handed

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook = None
        if str(params.get("drop_pending_updates")).lower() == "true":
            self._updates.clear()
        return True

    async def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.commands[params.get("language_code") or None] = self._json(params["commands"])
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any],
                                     files: dict[str, Any]) -> Any:
        self.answered.append(str(params["callback_query_id"]))
        return True

    def _flood(self, chat_id: int) -> None:
        """Refuse a message (or an edit) to a chat that blocked the bot, that never wrote,
        or over a flood limit; else count it."""
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.never_started:
            raise _ApiError(400, "Bad Request: chat not found")
        now = time.monotonic()
        recent = self._recent[chat_id]
        for window in (recent, self._recent_all):
            while window and now - window[0] >= self.window:
                window.popleft()
        if self.overall_limit is not None and len(self._recent_all) >= self.overall_limit:
            self.refused_overall += 1
            self.refused_at.append(now)
            raise _ApiError(429, f"Too Many Requests: retry after {self.retry_after}",
                            self.retry_after)
        if self.chat_limit is not None and len(recent) >= self.chat_limit:
            self.refused_chat += 1
            self.refused_at.append(now)
            raise _ApiError(429, f"Too Many Requests: retry after {self.retry_after}",
                            self.retry_after)
        recent.append(now)
        self._recent_all.append(now)

    def _new_message(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message[chat_id],
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
            "date": int(time.time()),
        }
        self._next_message[chat_id] += 1
        markup = self._json(params.get("reply_markup"))
        if markup:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if len(button.get("callback_data", "").encode()) > 64:
                        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            message["reply_markup"] = markup
        return message

    def _record(self, method: str, chat_id: int, message: dict[str, Any],
                data: bytes | None = None) -> dict[str, Any]:
        self._messages[(chat_id, message["message_id"])] = message
        self.sent.append(Sent(method, chat_id, message, data))
        return message

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if self.latency:
            await asyncio.sleep(self.latency)  # a distant server, not a wait for an event
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        self._flood(chat_id)
        message = self._new_message(chat_id, params)
        message["text"] = text
        return self._record("sendMessage", chat_id, message)

    def _caption(self, params: dict[str, Any], message: dict[str, Any]) -> None:
        caption = params.get("caption")
        if caption:
            if len(str(caption).encode("utf-16-le")) // 2 > 1024:
                raise _ApiError(400, "Bad Request: message caption is too long")
            message["caption"] = caption

    def _file_message(self, params: dict[str, Any], files: dict[str, Any],
                      field: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """(chat id, new message with its caption, the upload) of a sendDocument/sendPhoto."""
        chat_id = int(params["chat_id"])
        upload = files.get(field)
        if upload is None:
            raise _ApiError(400, f"Bad Request: there is no {field} in the request")
        self._flood(chat_id)
        message = self._new_message(chat_id, params)
        self._caption(params, message)
        return chat_id, message, upload

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id, message, upload = self._file_message(params, files, "document")
        number = message["message_id"]
        message["document"] = {"file_id": f"doc{chat_id}-{number}",
                               "file_unique_id": f"udoc{chat_id}-{number}",
                               "file_name": upload["filename"], "mime_type": upload["mime"],
                               "file_size": len(upload["data"])}
        return self._record("sendDocument", chat_id, message, upload["data"])

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id, message, upload = self._file_message(params, files, "photo")
        number = message["message_id"]
        message["photo"] = [{"file_id": f"ph{chat_id}-{number}",
                             "file_unique_id": f"uph{chat_id}-{number}",
                             "width": 90, "height": 90, "file_size": len(upload["data"])}]
        return self._record("sendPhoto", chat_id, message, upload["data"])

    def _target(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self._messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self._messages[key]

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        message = self._target(params)
        text = str(params["text"])
        markup = self._json(params.get("reply_markup")) or None
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified")
        self._flood(int(params["chat_id"]))
        message["text"] = text
        markup = self._json(params.get("reply_markup"))
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any],
                                        files: dict[str, Any]) -> Any:
        message = self._target(params)
        markup = self._json(params.get("reply_markup")) or None
        if markup == message.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified")
        self._flood(int(params["chat_id"]))
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
