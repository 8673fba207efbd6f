"""Pacing of outgoing messages under a platform's flood limits, shared by the transports.

The outbox dispatcher delivers one person's messages one after the other, a few people at a
time. A transport asks the pacer before each call to the platform: a short wait is slept in
place (so a reply and the menu that follows it keep their order), a long one is handed back
to the dispatcher as :class:`RetryLater`, so a chat that must wait does not hold up every
other chat. When the platform itself says "too many requests", the transport tells the pacer
to hold that chat (or everything) for the time asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.dispatcher import RetryLater

MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        if self.rate <= 0:
            return 0.0
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class Pacer:
    """Overall and per-chat token buckets, plus holds set after a platform's 429."""

    def __init__(
        self,
        overall_rate: float,
        overall_burst: float,
        chat_rate: float = 0.0,
        chat_burst: float = 1.0,
        *,
        max_wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        now = clock()
        self._overall = _Bucket(overall_rate, overall_burst, overall_burst, now)
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._chats: dict[str, _Bucket] = {}
        self._held_all_until = 0.0
        self._held_until: dict[str, float] = {}

    @property
    def rate(self) -> float:
        """Messages a second allowed overall (0: no limit)."""
        return self._overall.rate

    def hold(self, chat: str | None, seconds: float) -> None:
        """Send nothing to ``chat`` (every chat when ``None``) for ``seconds``."""
        until = self.clock() + max(0.0, seconds)
        if chat is None:
            self._held_all_until = max(self._held_all_until, until)
        else:
            self._held_until[chat] = max(self._held_until.get(chat, 0.0), until)

    def _chat_bucket(self, chat: str, now: float) -> _Bucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= MAX_BUCKETS:
                self._forget_idle(now)
            bucket = self._chats[chat] = _Bucket(self._chat_rate, self._chat_burst,
                                                 self._chat_burst, now)
        return bucket

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that are full again: they hold no information."""
        for key, bucket in list(self._chats.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.burst:
                del self._chats[key]
        for key, until in list(self._held_until.items()):
            if until <= now:
                del self._held_until[key]

    def _wait(self, chat: str, now: float) -> float:
        waits = [self._held_all_until - now, self._held_until.get(chat, 0.0) - now,
                 self._overall.wait(now)]
        if self._chat_rate > 0:
            waits.append(self._chat_bucket(chat, now).wait(now))
        return max(0.0, *waits)

    async def acquire(self, chat: str) -> None:
        """Wait for a slot to send to ``chat``; raise :class:`RetryLater` if it is far off.

        Several chats may be waiting at once (the dispatcher sends to a few people at a
        time): nobody holds a lock while sleeping, so one chat's wait never holds up
        another's, and the check and the taking of the tokens happen with no ``await``
        between them, so two waiters can never spend the same token.
        """
        while True:
            now = self.clock()
            wait = self._wait(chat, now)
            if wait <= 0:
                break
            if wait > self.max_wait:
                raise RetryLater(wait, "paced under the platform's flood limits", failed=False)
            await self.sleep(wait)
        self._overall.refill(now)
        self._overall.tokens -= 1
        if self._chat_rate > 0:
            bucket = self._chat_bucket(chat, now)
            bucket.refill(now)
            bucket.tokens -= 1
