"""WAL checkpoints on a worker thread, so that the event loop never waits for the disk.

SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold and syncs the
database file: a few milliseconds to a few hundred on a slow disk, which would stall every
conversation when statements run on the loop (:mod:`storage.connection`). The bot's connection
turns it off; this copies the WAL back into the database from a separate connection on a
thread once enough commits have piled up, awaited by the transaction that crossed the count
(after its commit and outside the lock), like SQLite's own but without blocking the loop.

The checkpoint holds the database's asyncio lock while it runs on its thread: the bot's own
transactions wait for it (as they would for SQLite's automatic one) but the loop does not, so
deliveries in flight and polling go on. Without the lock, a steady stream of commits would
append frames during every checkpoint, the WAL would never be wholly copied back, and SQLite
could never start it again from the beginning: the file would grow without end.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

log = logging.getLogger(__name__)

COMMITS_PER_CHECKPOINT = 500
"""About the 1,000 WAL pages of SQLite's own default, for this bot's small transactions."""


def checkpoint_now(path: str) -> tuple[int, int, int]:
    """One PASSIVE checkpoint of ``path``: (busy, WAL frames, frames copied)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)
    finally:
        conn.close()


class Checkpointer:
    """Counts commits; every so many, the committing task runs a checkpoint on a thread."""

    def __init__(self, path: str, lock: asyncio.Lock,
                 every: int = COMMITS_PER_CHECKPOINT) -> None:
        self.path = path
        self.every = every
        self._lock = lock
        self._commits = 0

    def committed(self) -> bool:
        """Count a commit; True when it is time for a checkpoint."""
        self._commits += 1
        if self._commits < self.every:
            return False
        self._commits = 0
        return True

    async def run(self) -> None:
        """Copy the WAL back, holding the lock (the bot's writes wait, the loop does not)."""
        try:
            async with self._lock:
                await asyncio.to_thread(checkpoint_now, self.path)
        except sqlite3.Error as exc:  # the next one will catch up; never fail a commit
            log.warning("WAL checkpoint failed: %s", exc)
