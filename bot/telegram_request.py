"""The Bot API's HTTP calls: a request object that posts JSON, through the public interface.

python-telegram-bot's ``HTTPXRequest`` posts every call without a file as an HTML form: each
parameter is JSON-encoded, then percent-encoded by httpx, character by character, in Python.
A reply of the home menu (its text, its numbered options and a keyboard of five buttons)
is about 850 bytes of form, most of them escaped; the same call as JSON is about half that,
encoded by the standard library's C encoder. The Bot API takes ``application/json`` for
every call that uploads nothing (core.telegram.org/bots/api, "Making requests").

:class:`JsonRequest` is a ``telegram.request.BaseRequest``, the interface python-telegram-bot
documents for networking back-ends of one's own: it implements ``initialize``, ``shutdown``,
``read_timeout`` and ``do_request`` on an httpx client it owns, and reads the call only
through ``RequestData``'s public properties. The ``Bot`` builds the calls, parses the answers
and raises its own exceptions for a 429, a 403 or a network failure, as with its default
request object (bench/telegram.py measures the difference).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_HEADERS = {"User-Agent": BaseRequest.USER_AGENT, "Content-Type": "application/json"}
FORM_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}


class JsonRequest(BaseRequest):
    """A request object that sends the calls without files as one JSON body, and those with
    files as a multipart form; timeouts as python-telegram-bot's ``HTTPXRequest`` takes them
    (``media_write_timeout`` for uploads)."""

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout,
                                      write=write_timeout, pool=pool_timeout)
        self._limits = httpx.Limits(max_connections=connection_pool_size)
        self._media_write_timeout = media_write_timeout
        self._httpx = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, limits=self._limits)

    @property
    def read_timeout(self) -> float | None:
        return self._timeout.read

    async def initialize(self) -> None:
        if self._httpx.is_closed:
            self._httpx = self._new_client()

    async def shutdown(self) -> None:
        if not self._httpx.is_closed:
            await self._httpx.aclose()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE,
                         write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._httpx.is_closed:
            raise RuntimeError("This JsonRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        default = self._timeout
        timeout = httpx.Timeout(
            connect=_given(connect_timeout, default.connect),
            read=_given(read_timeout, default.read),
            write=_given(write_timeout, self._media_write_timeout if files else default.write),
            pool=_given(pool_timeout, default.pool),
        )
        try:
            if request_data is None:
                response = await self._httpx.request(method, url, headers=FORM_HEADERS,
                                                    timeout=timeout)
            elif files:
                response = await self._httpx.request(
                    method, url, headers=FORM_HEADERS, timeout=timeout,
                    data=request_data.json_parameters, files=request_data.multipart_data)
            else:
                body = json.dumps(request_data.parameters, ensure_ascii=False,
                                  separators=(",", ":")).encode()
                response = await self._httpx.request(method, url, content=body,
                                                    headers=JSON_HEADERS, timeout=timeout)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.PoolTimeout):
                raise TimedOut("Pool timeout: every connection of the pool is busy; "
                               "the request was not sent") from exc
            raise TimedOut from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
        return response.status_code, response.content


def _given(value: Any, default: float | None) -> float | None:
    """A timeout passed to the call, or the default when the call left it to the default."""
    return default if value is BaseRequest.DEFAULT_NONE else value
