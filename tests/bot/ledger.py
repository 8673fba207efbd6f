"""Reading a running bot's database from the side, to know when it has finished answering.

An end-to-end test says something, then waits until the bot has handled that event (its id is
in ``processed_events``) and delivered everything it queued for the person (no pending outbox
row left): only then does it read the answer, so a test never guesses how many messages a step
produces, nor sleeps "long enough". It also checks what was sent: exactly once, every message.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any


class Ledger:
    """Read-only queries on the bot's SQLite file (WAL mode lets them run beside the bot)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self._query, sql, params)

    async def _poll(self, check: Any, within: float, what: str) -> Any:
        deadline = time.monotonic() + within
        while True:
            found = await check()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {within} s for {what}")
            await asyncio.sleep(0.05)

    async def wait_handled(self, platform: str, event_id: str, within: float = 15.0) -> None:
        """Until the router has handled (and committed) the event."""
        key = f"{platform}:{event_id}"

        async def check() -> bool | None:
            rows = await self.query("SELECT 1 FROM processed_events WHERE event_id = ?", key)
            return True if rows else None

        await self._poll(check, within, f"event {key} to be handled")

    async def wait_delivered(self, user: str, within: float = 15.0) -> int:
        """Until nothing is pending for ``user``; returns how many platform messages were sent
        to them in all (a message with a file counts two: the text, then the file)."""

        async def check() -> int | None:
            rows = await self.query(
                "SELECT status, att_name FROM outbox WHERE recipient = ?", user)
            if any(status == "pending" for status, _ in rows):
                return None
            return sum(1 + (name is not None) for status, name in rows if status == "sent")

        return int(await self._poll(check, within, f"the outbox of {user} to be delivered"))

    async def wait_error(self, user: str, part: str, within: float = 15.0) -> None:
        """Until a message to ``user`` was refused with an error containing ``part`` (and
        recorded so)."""

        async def check() -> bool | None:
            return True if any(part in e for e in await self.errors(user)) else None

        await self._poll(check, within, f"an error {part!r} for {user}")

    async def errors(self, user: str) -> list[str]:
        """The last error of each message that needed a retry."""
        rows = await self.query(
            "SELECT last_error FROM outbox WHERE recipient = ? AND last_error IS NOT NULL",
            user)
        return [row[0] for row in rows]
