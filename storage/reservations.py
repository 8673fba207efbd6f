"""The public's reservations (``flows.public_sale``): held, then sold or lapsed; the first
name, phone and chat key are blanked as soon as it ends. And the door's waiting list: a row
per person and kind, deleted when they are told, leave, or stay too long."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flows.messages import UserKey
from flows.public_sale import Reservation, ReservationStatus, Waiting
from storage.connection import Connection, Row
from storage.db import from_ts, ts

_SELECT = ("SELECT id, kind, place_id, first_name, contact, user_key, status, created_at,"
           " expires_at FROM reservations")


def _reservation(row: Row) -> Reservation:
    return Reservation(row["id"], row["kind"], row["place_id"], row["first_name"],
                       row["contact"], UserKey(row["user_key"]) if row["user_key"] else None,
                       ReservationStatus(row["status"]), from_ts(row["created_at"]),
                       from_ts(row["expires_at"]))


class SqliteReservationRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, kind: str, place_id: int, first_name: str, contact: str | None,
                     user_key: UserKey, now: datetime, expires: datetime) -> Reservation:
        async with self._conn.execute(
            "INSERT INTO reservations (kind, place_id, first_name, contact, user_key,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (kind, place_id, first_name, contact, user_key, ts(now), ts(expires))) as cur:
            row = await cur.fetchone()
        assert row is not None
        found = await self.get(row[0])
        assert found is not None
        return found

    async def get(self, reservation_id: int) -> Reservation | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (reservation_id,)) as cur:
            row = await cur.fetchone()
        return _reservation(row) if row else None

    async def held_at(self, place_id: int) -> list[Reservation]:
        async with self._conn.execute(_SELECT + " WHERE place_id = ? AND status = 'held'"
                                      " ORDER BY expires_at", (place_id,)) as cur:
            return [_reservation(r) for r in await cur.fetchall()]

    async def sell(self, reservation_id: int, device_id: int, now: datetime) -> bool:
        """Held to sold (False when it was not held any more)."""
        cur = await self._conn.execute(
            "UPDATE reservations SET status = 'sold', device_id = ?, closed_at = ?,"
            " first_name = NULL, contact = NULL, user_key = NULL"
            " WHERE id = ? AND status = 'held'", (device_id, ts(now), reservation_id))
        return cur.rowcount == 1

    async def cancel(self, reservation_id: int, user_key: UserKey, now: datetime) -> bool:
        """The person who made it gives it up: held to lapsed, the device back in the stock
        (False when it was not theirs or not held any more)."""
        cur = await self._conn.execute(
            "UPDATE reservations SET status = 'lapsed', closed_at = ?,"
            " first_name = NULL, contact = NULL, user_key = NULL"
            " WHERE id = ? AND user_key = ? AND status = 'held'",
            (ts(now), reservation_id, user_key))
        return cur.rowcount == 1

    async def held_by(self, user_key: UserKey) -> list[Reservation]:
        """The reservations still held that were made from this chat."""
        async with self._conn.execute(_SELECT + " WHERE user_key = ? AND status = 'held'"
                                      " ORDER BY id", (user_key,)) as cur:
            return [_reservation(r) for r in await cur.fetchall()]

    async def lapse(self, now: datetime) -> list[Reservation]:
        """End the held reservations past their time; the ones ended, as they were."""
        async with self._conn.execute(_SELECT + " WHERE status = 'held' AND expires_at < ?",
                                      (ts(now),)) as cur:
            due = [_reservation(r) for r in await cur.fetchall()]
        for reservation in due:
            await self._conn.execute(
                "UPDATE reservations SET status = 'lapsed', closed_at = ?,"
                " first_name = NULL, contact = NULL, user_key = NULL"
                " WHERE id = ? AND status = 'held'", (ts(now), reservation.id))
        return due

    async def grade_prices(self) -> dict[tuple[str, str], int]:
        """The public price by (kind, grade), as coordinators set it."""
        async with self._conn.execute("SELECT kind, grade, cents FROM grade_prices") as cur:
            return {(r["kind"], r["grade"]): int(r["cents"]) for r in await cur.fetchall()}

    async def set_grade_price(self, kind: str, grade: str, cents: int) -> None:
        await self._conn.execute(
            "INSERT INTO grade_prices (kind, grade, cents) VALUES (?, ?, ?)"
            " ON CONFLICT (kind, grade) DO UPDATE SET cents = excluded.cents",
            (kind, grade, cents))

    async def replace_grade_prices(self, prices: Mapping[tuple[str, str], int]) -> None:
        """The whole grid at once (a coordinators' file): what it leaves out has no price of
        its own any more."""
        await self._conn.execute("DELETE FROM grade_prices")
        await self._conn.executemany(
            "INSERT INTO grade_prices (kind, grade, cents) VALUES (?, ?, ?)",
            [(kind, grade, cents) for (kind, grade), cents in prices.items()])

    async def wait(self, kind: str, first_name: str, contact: str | None, user_key: UserKey,
                   now: datetime) -> bool:
        """Put the person on the waiting list for ``kind`` (False if they already are)."""
        if kind in await self.waiting_kinds(user_key):
            return False
        await self._conn.execute(
            "INSERT INTO public_waitlist (kind, first_name, contact, user_key, created_at)"
            " VALUES (?, ?, ?, ?, ?)", (kind, first_name, contact, user_key, ts(now)))
        return True

    async def waiting_kinds(self, user_key: UserKey) -> set[str]:
        async with self._conn.execute("SELECT kind FROM public_waitlist WHERE user_key = ?",
                                      (user_key,)) as cur:
            return {r["kind"] for r in await cur.fetchall()}

    async def leave(self, kind: str, user_key: UserKey) -> int:
        cur = await self._conn.execute(
            "DELETE FROM public_waitlist WHERE user_key = ? AND kind = ?", (user_key, kind))
        return cur.rowcount

    async def first_waiting(self, kind: str) -> Waiting | None:
        """Whoever joined the list for ``kind`` first."""
        async with self._conn.execute(
            "SELECT id, kind, first_name, contact, user_key, created_at FROM public_waitlist"
            " WHERE kind = ? ORDER BY id LIMIT 1", (kind,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Waiting(row["id"], row["kind"], row["first_name"], row["contact"],
                       UserKey(row["user_key"]), from_ts(row["created_at"]))

    async def told(self, waiting_id: int) -> bool:
        """The person was told a device is there: their entry goes (False if already gone)."""
        cur = await self._conn.execute("DELETE FROM public_waitlist WHERE id = ?",
                                       (waiting_id,))
        return cur.rowcount == 1

    async def drop_waiting(self, before: datetime) -> int:
        """Entries older than ``before`` go: nobody stays on the list for ever."""
        cur = await self._conn.execute("DELETE FROM public_waitlist WHERE created_at < ?",
                                       (ts(before),))
        return cur.rowcount
