"""Workshop sessions published by places, and the seats beneficiaries book in them.

A seat is taken with one conditional UPDATE (``booked < seats``) inside the booking's
transaction, so two people racing for the last seat can never both get it, even from two
processes: the second one's UPDATE changes no row and they are told the session is full.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from flows.joincode import printed
from flows.messages import UserKey
from flows.records import Attendee, Booking, PlaceId, Workshop
from flows.workshops import Refusal
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts

_SELECT = (
    "SELECT w.id, w.place_id, w.topic, w.starts_at, w.minutes, w.seats, w.booked"
    " FROM workshops w"
)


def _workshop(row: Row) -> Workshop:
    return Workshop(row["id"], PlaceId(row["place_id"]), row["topic"],
                    from_ts(row["starts_at"]), row["minutes"], row["seats"], row["booked"])


class SqliteWorkshopRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def upcoming(self, now: datetime, limit: int) -> list[Workshop]:
        async with self._conn.execute(
            _SELECT + " WHERE w.starts_at >= ? ORDER BY w.starts_at LIMIT ?",
            (ts(now), limit),
        ) as cur:
            return [_workshop(row) for row in await cur.fetchall()]

    async def upcoming_at(
        self, places: Sequence[PlaceId], now: datetime, limit: int
    ) -> list[Workshop]:
        """The next sessions of some places (a beneficiary's place and its neighbours)."""
        async with self._conn.execute(
            "SELECT w.id, w.place_id, w.topic, w.starts_at, w.minutes, w.seats, w.booked"
            " FROM workshops w WHERE w.starts_at > ?"
            " AND w.place_id IN (SELECT value FROM json_each(?))"
            " ORDER BY w.starts_at, w.id LIMIT ?",
            (ts(now), json.dumps([int(p) for p in places]), limit),
        ) as cur:
            return [_workshop(row) for row in await cur.fetchall()]

    async def get(self, workshop_id: int) -> Workshop | None:
        async with self._conn.execute(
            _SELECT + " WHERE w.id = ?",
            (workshop_id,),
        ) as cur:
            row = await cur.fetchone()
        return _workshop(row) if row else None

    async def add(
        self, place_id: PlaceId, topic: str, starts_at: datetime, minutes: int, seats: int
    ) -> int:
        cur = await self._conn.execute(
            "INSERT INTO workshops (place_id, topic, starts_at, minutes, seats)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (place_id, topic, ts(starts_at), minutes, seats),
        )
        new_id = await inserted_id(cur)
        return new_id

    async def remove(self, workshop_id: int) -> bool:
        """Cancel a session: its bookings and reminders go with it (cascade)."""
        cur = await self._conn.execute("DELETE FROM workshops WHERE id = ?", (workshop_id,))
        return cur.rowcount > 0

    async def book(self, workshop_id: int, user: UserKey, now: datetime) -> Refusal | None:
        """Take a seat for ``user``; None when booked, else why not (full, already, started)."""
        cur = await self._conn.execute(
            "INSERT INTO bookings (workshop_id, user_key, booked_at) VALUES (?, ?, ?)"
            " ON CONFLICT (workshop_id, user_key) DO NOTHING",
            (workshop_id, user, ts(now)),
        )
        if cur.rowcount == 0:
            return Refusal.ALREADY
        cur = await self._conn.execute(
            "UPDATE workshops SET booked = booked + 1"
            " WHERE id = ? AND booked < seats AND starts_at > ?",
            (workshop_id, ts(now)),
        )
        if cur.rowcount == 1:
            return None
        await self._conn.execute(
            "DELETE FROM bookings WHERE workshop_id = ? AND user_key = ?", (workshop_id, user)
        )
        workshop = await self.get(workshop_id)
        return Refusal.STARTED if workshop is None or workshop.starts_at <= now else Refusal.FULL

    async def cancel(self, workshop_id: int, user: UserKey) -> bool:
        """Give the seat back; its reminders go with the booking (cascade)."""
        cur = await self._conn.execute(
            "DELETE FROM bookings WHERE workshop_id = ? AND user_key = ?", (workshop_id, user)
        )
        if cur.rowcount == 0:
            return False
        await self._conn.execute(
            "UPDATE workshops SET booked = booked - 1 WHERE id = ? AND booked > 0",
            (workshop_id,),
        )
        return True

    async def is_booked(self, workshop_id: int, user: UserKey) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM bookings WHERE workshop_id = ? AND user_key = ?", (workshop_id, user)
        ) as cur:
            return await cur.fetchone() is not None

    async def bookings_of(self, user: UserKey, since: datetime) -> list[Booking]:
        """A beneficiary's bookings of sessions starting after ``since``, soonest first."""
        async with self._conn.execute(
            "SELECT w.id, w.place_id, w.topic, w.starts_at, w.minutes, w.seats, w.booked,"
            " b.booked_at, b.coming FROM bookings b JOIN workshops w ON w.id = b.workshop_id"
            " WHERE b.user_key = ? AND w.starts_at > ? ORDER BY w.starts_at",
            (user, ts(since)),
        ) as cur:
            rows = await cur.fetchall()
        return [
            Booking(_workshop(row), user, from_ts(row["booked_at"]),
                    None if row["coming"] is None else bool(row["coming"]))
            for row in rows
        ]

    async def set_coming(self, workshop_id: int, user: UserKey, coming: bool) -> bool:
        cur = await self._conn.execute(
            "UPDATE bookings SET coming = ? WHERE workshop_id = ? AND user_key = ?",
            (int(coming), workshop_id, user),
        )
        return cur.rowcount > 0

    async def attendees(self, workshop_id: int) -> list[Attendee]:
        """Who booked a session: first name if given, else the join code; nothing more."""
        async with self._conn.execute(
            "SELECT n.first_name, n.ref, b.coming, b.attended FROM bookings b"
            " JOIN beneficiaries n ON n.user_key = b.user_key"
            " WHERE b.workshop_id = ? ORDER BY b.booked_at, n.ref",
            (workshop_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [Attendee(row["first_name"] or printed(row["ref"]),
                         None if row["coming"] is None else bool(row["coming"]), row["ref"],
                         None if row["attended"] is None else bool(row["attended"]))
                for row in rows]

    async def record_attendance(self, workshop_id: int,
                                present: Sequence[str]) -> list[tuple[UserKey, bool]]:
        """Who came to a session (their join codes); everyone else booked did not. Returns
        each booked person with whether they came."""
        await self._conn.execute(
            "UPDATE bookings SET attended = CASE WHEN user_key IN (SELECT user_key FROM"
            " beneficiaries WHERE ref IN (SELECT value FROM json_each(?))) THEN 1 ELSE 0 END"
            " WHERE workshop_id = ?",
            (json.dumps(list(present)), workshop_id),
        )
        async with self._conn.execute(
            "SELECT user_key, attended FROM bookings WHERE workshop_id = ? ORDER BY user_key",
            (workshop_id,),
        ) as cur:
            return [(UserKey(row["user_key"]), bool(row["attended"]))
                    for row in await cur.fetchall()]

    async def attended(self, user: UserKey) -> list[str]:
        """The topics of the sessions a beneficiary came to, first first."""
        async with self._conn.execute(
            "SELECT w.topic FROM bookings b JOIN workshops w ON w.id = b.workshop_id"
            " WHERE b.user_key = ? AND b.attended = 1 ORDER BY w.starts_at, w.id",
            (user,),
        ) as cur:
            return [row["topic"] for row in await cur.fetchall()]

    async def missed_in_a_row(self, user: UserKey, last: int) -> int:
        """How many of the ``last`` sessions recorded for a beneficiary, the latest first,
        they missed in a row."""
        async with self._conn.execute(
            "SELECT b.attended FROM bookings b JOIN workshops w ON w.id = b.workshop_id"
            " WHERE b.user_key = ? AND b.attended IS NOT NULL"
            " ORDER BY w.starts_at DESC, w.id DESC LIMIT ?",
            (user, last),
        ) as cur:
            rows = await cur.fetchall()
        missed = 0
        for row in rows:
            if row["attended"]:
                break
            missed += 1
        return missed

    async def held_at(self, place: PlaceId, since: datetime, now: datetime,
                      limit: int) -> list[Workshop]:
        """A place's sessions begun between ``since`` and ``now`` with someone booked, the
        latest first: those whose attendance is to be recorded."""
        async with self._conn.execute(
            "SELECT w.id, w.place_id, w.topic, w.starts_at, w.minutes, w.seats, w.booked"
            " FROM workshops w WHERE w.place_id = ? AND w.starts_at > ? AND w.starts_at <= ?"
            " AND EXISTS (SELECT 1 FROM bookings b WHERE b.workshop_id = w.id)"
            " ORDER BY w.starts_at DESC, w.id DESC LIMIT ?",
            (place, ts(since), ts(now), limit),
        ) as cur:
            return [_workshop(row) for row in await cur.fetchall()]

    async def booked_users(self, workshop_id: int) -> list[UserKey]:
        async with self._conn.execute(
            "SELECT user_key FROM bookings WHERE workshop_id = ?", (workshop_id,)
        ) as cur:
            return [UserKey(row["user_key"]) for row in await cur.fetchall()]
