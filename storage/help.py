"""Remote help: each place's procedure, its mediators, and beneficiaries' help tickets."""

from __future__ import annotations

from datetime import datetime

from flows.messages import UserKey
from flows.records import HelpTicket, PlaceId, RemoteHelp, TicketStatus
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts

_SELECT = (
    "SELECT id, user_key, place_id, status, mediator, opened_at FROM help_tickets"
)


def _ticket(row: Row) -> HelpTicket:
    return HelpTicket(
        row["id"], UserKey(row["user_key"]),
        PlaceId(row["place_id"]) if row["place_id"] is not None else None,
        TicketStatus(row["status"]),
        UserKey(row["mediator"]) if row["mediator"] else None,
        from_ts(row["opened_at"]),
    )


class SqliteHelpRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def remote_help(self, place_id: PlaceId) -> RemoteHelp | None:
        async with self._conn.execute(
            "SELECT place_id, instructions, link FROM place_remote_help WHERE place_id = ?",
            (place_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return RemoteHelp(PlaceId(row["place_id"]), row["instructions"], row["link"])

    async def set_remote_help(self, place_id: PlaceId, instructions: str, link: str) -> None:
        await self._conn.execute(
            "INSERT INTO place_remote_help (place_id, instructions, link) VALUES (?, ?, ?)"
            " ON CONFLICT (place_id) DO UPDATE SET instructions = excluded.instructions,"
            " link = excluded.link",
            (place_id, instructions, link),
        )

    async def mediators(self, place_id: PlaceId) -> list[UserKey]:
        """The staff of a place, who answer its beneficiaries' calls for help."""
        async with self._conn.execute(
            "SELECT key FROM users WHERE place_id = ? AND role = 'place_staff' ORDER BY key",
            (place_id,),
        ) as cur:
            return [UserKey(row["key"]) for row in await cur.fetchall()]

    async def open(self, user: UserKey, place_id: PlaceId | None, now: datetime) -> HelpTicket:
        cur = await self._conn.execute(
            "INSERT INTO help_tickets (user_key, place_id, opened_at) VALUES (?, ?, ?)"
            " RETURNING id",
            (user, place_id, ts(now)),
        )
        new_id = await inserted_id(cur)
        return HelpTicket(new_id, user, place_id, TicketStatus.OPEN, None, now)

    async def get(self, ticket_id: int) -> HelpTicket | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (ticket_id,)) as cur:
            row = await cur.fetchone()
        return _ticket(row) if row else None

    async def current(self, user: UserKey) -> HelpTicket | None:
        """The beneficiary's ticket still open or taken, if any."""
        async with self._conn.execute(
            _SELECT + " WHERE user_key = ? AND status != 'closed' ORDER BY id DESC LIMIT 1",
            (user,),
        ) as cur:
            row = await cur.fetchone()
        return _ticket(row) if row else None

    async def take(self, ticket_id: int, mediator: UserKey, now: datetime) -> bool:
        """A mediator takes an *open* ticket; False if a colleague was first."""
        cur = await self._conn.execute(
            "UPDATE help_tickets SET status = 'taken', mediator = ?, active_at = ?"
            " WHERE id = ? AND status = 'open'",
            (mediator, ts(now), ticket_id),
        )
        return cur.rowcount == 1

    async def touch(self, ticket_id: int, now: datetime) -> None:
        """The mediator opened this ticket to answer: it is the one their messages go to."""
        await self._conn.execute(
            "UPDATE help_tickets SET active_at = ? WHERE id = ?", (ts(now), ticket_id)
        )

    async def answering(self, mediator: UserKey) -> HelpTicket | None:
        """The taken ticket a mediator last opened to answer, if any."""
        async with self._conn.execute(
            _SELECT + " WHERE mediator = ? AND status = 'taken'"
            " ORDER BY active_at DESC, id DESC LIMIT 1",
            (mediator,),
        ) as cur:
            row = await cur.fetchone()
        return _ticket(row) if row else None

    async def close(self, ticket_id: int, now: datetime) -> bool:
        cur = await self._conn.execute(
            "UPDATE help_tickets SET status = 'closed', closed_at = ?"
            " WHERE id = ? AND status != 'closed'",
            (ts(now), ticket_id),
        )
        return cur.rowcount == 1
