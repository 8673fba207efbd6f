"""Bot API calls with a JSON body, and inline keyboards serialised once.

python-telegram-bot's ``HTTPXRequest`` posts every call without a file as an HTML form: each
parameter is JSON-encoded, then percent-encoded by httpx, character by character, in Python.
A reply of the home menu (its text, its numbered options and a keyboard of five buttons)
is about 850 bytes of form, most of them escaped; the same call as JSON is about half that,
encoded by the standard library's C encoder. The Bot API takes ``application/json`` for
every call that uploads nothing (core.telegram.org/bots/api, "Making requests"), so the
calls without files go out as JSON and those with files as before, through
python-telegram-bot's own code (bench/telegram.py measures the difference).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from telegram import InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

JSON_HEADERS = {"User-Agent": HTTPXRequest.USER_AGENT, "Content-Type": "application/json"}


class JsonRequest(HTTPXRequest):
    """``HTTPXRequest`` that sends the calls without files as one JSON body.

    Timeouts, errors and the connection pool are python-telegram-bot's: a call with files, or
    without parameters, is handed to ``HTTPXRequest`` unchanged.
    """

    __slots__ = ()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
                         write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
                         connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
                         pool_timeout: Any = HTTPXRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if request_data is None or request_data.contains_files:
            return await super().do_request(url, method, request_data, read_timeout,
                                            write_timeout, connect_timeout, pool_timeout)
        client = self._client
        if client.is_closed:
            raise RuntimeError("This JsonRequest is not initialized!")
        default = client.timeout
        timeout = httpx.Timeout(
            connect=_given(connect_timeout, default.connect),
            read=_given(read_timeout, default.read),
            write=_given(write_timeout, default.write),
            pool=_given(pool_timeout, default.pool),
        )
        body = json.dumps(request_data.parameters, ensure_ascii=False,
                          separators=(",", ":")).encode()
        try:
            response = await client.request(method, url, content=body, headers=JSON_HEADERS,
                                            timeout=timeout)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.PoolTimeout):
                raise TimedOut("Pool timeout: every connection of the pool is busy; "
                               "the request was not sent") from exc
            raise TimedOut from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
        return response.status_code, response.content


def _given(value: Any, default: float | None) -> float | None:
    """A timeout passed to the call, or the client's own when the call left it to the default."""
    return default if isinstance(value, type(HTTPXRequest.DEFAULT_NONE)) else value


class JsonBody(RequestData):
    """The parameters of a call without files, already as the Bot API's JSON values.

    For the calls whose answer the bot does not read (``TelegramTransport`` sending a text):
    they go through ``BaseRequest.post``, as the ``Bot``'s own calls do, without the ``Bot``
    turning the answer into a ``telegram.Message``.
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__()
        self._values = {key: value for key, value in values.items() if value is not None}

    @property
    def parameters(self) -> dict[str, Any]:
        return self._values

    @property
    def json_parameters(self) -> dict[str, str]:
        """The form fields, for a request object other than :class:`JsonRequest`."""
        return {key: value if isinstance(value, str) else json.dumps(value)
                for key, value in self._values.items()}


class Keyboard(InlineKeyboardMarkup):
    """An inline keyboard that turns itself into the Bot API's dict once, not at every send.

    python-telegram-bot serialises a keyboard by walking its objects' attributes on each call
    (``TelegramObject.to_dict``), which cost as much as encoding the rest of a reply; its
    objects are immutable, so the dict of the first call is the dict of every call. The
    same home menu goes to everyone (``bot.telegram.keyboard`` keeps one per menu).
    """

    __slots__ = ("_as_dict",)

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        if not recursive:
            return super().to_dict(recursive=False)
        try:
            return self._as_dict  # type: ignore[no-any-return]
        except AttributeError:
            as_dict = super().to_dict()
            object.__setattr__(self, "_as_dict", as_dict)  # frozen: the one cached field
            return as_dict
