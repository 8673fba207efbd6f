"""The anonymous dated events the activity report adds up (``flows.report``).

Each query selects a moment, an intercommunality, a count and a kind of device: never who.
Devices reconditioned and handed over are counted from the devices' own events
(``device_events``): a device is reconditioned the first time it is ready, handed over when
its handover is recorded (migration 0014 gave the requests handed over before it one
device each, at the time of their handover).

A year of a country's network is a hundred thousand events and more (measured: 101,000 in
0.44 s). They are read on a worker thread through a read-only connection of their own, not
on the bot's connection, whose one thread every message and delivery also needs. The thread
sees what is committed, which is all a report counts.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime

from flows.report import Event, Indicator
from storage.connection import Connection
from storage.db import from_ts, ts

_QUERIES: tuple[tuple[Indicator, str], ...] = (
    (Indicator.LOTS,
     "SELECT l.received_at AS at, c.epci AS epci, 1 AS n, '' AS kind FROM lots l"
     " JOIN communes c ON c.insee = l.commune"
     " WHERE l.received_at IS NOT NULL AND l.received_at >= ?"),
    (Indicator.ITEMS,
     "SELECT l.received_at AS at, c.epci AS epci, i.quantity AS n, i.category AS kind"
     " FROM lot_items i JOIN lots l ON l.id = i.lot_id JOIN communes c ON c.insee = l.commune"
     " WHERE l.received_at IS NOT NULL AND l.received_at >= ?"),
    (Indicator.ERASED,
     "SELECT min(e.ended_at) AS at, c.epci AS epci, 1 AS n, d.category AS kind"
     " FROM erasure_records e JOIN lot_devices d ON d.id = e.device_id"
     " JOIN lots l ON l.id = d.lot_id JOIN communes c ON c.insee = l.commune"
     " WHERE e.result IN ('verified', 'destroyed') GROUP BY d.id, c.epci, d.category"
     " HAVING min(e.ended_at) >= ?"),
    (Indicator.RECONDITIONED,  # counted units of the former stock counters, before 0014
     "SELECT a.at AS at, c.epci AS epci, a.units AS n, a.kind AS kind FROM stock_arrivals a"
     " JOIN places p ON p.id = a.place_id JOIN communes c ON c.insee = p.commune"
     " WHERE a.at >= ?"),
    (Indicator.RECONDITIONED,  # a device's first time ready after its diagnosis or erasure
     "SELECT e.at AS at, c.epci AS epci, 1 AS n, d.kind AS kind FROM device_events e"
     " JOIN devices d ON d.id = e.device_id JOIN places p ON p.id = e.place_id"
     " JOIN communes c ON c.insee = p.commune"
     " WHERE e.event IN ('passed', 'wiped') AND e.state = 'ready' AND e.at >= ?"
     " AND e.id = (SELECT min(f.id) FROM device_events f WHERE f.device_id = e.device_id"
     "  AND f.event IN ('passed', 'wiped') AND f.state = 'ready')"),
    (Indicator.REQUESTS,
     "SELECT created_at AS at, epci, 1 AS n, kind FROM equipment_requests"
     " WHERE created_at >= ?"),
    (Indicator.HANDED_OVER,  # devices, by the intercommunality of the person's commune
     "SELECT e.at AS at, r.epci AS epci, 1 AS n, coalesce(d.kind, r.kind) AS kind"
     " FROM device_events e JOIN devices d ON d.id = e.device_id"
     " JOIN equipment_requests r ON r.id = e.request_id"
     " WHERE e.event = 'handed_over' AND e.at >= ?"),
    (Indicator.BENEFICIARIES,
     "SELECT b.joined_at AS at, COALESCE(c.epci, '') AS epci, 1 AS n, '' AS kind"
     " FROM beneficiaries b LEFT JOIN places p ON p.id = b.place_id"
     " LEFT JOIN communes c ON c.insee = p.commune WHERE b.joined_at >= ?"),
    (Indicator.SEATS_BOOKED,
     "SELECT w.starts_at AS at, c.epci AS epci, w.booked AS n, '' AS kind FROM workshops w"
     " JOIN places p ON p.id = w.place_id JOIN communes c ON c.insee = p.commune"
     " WHERE w.starts_at >= ? AND w.booked > 0"),
    (Indicator.ATTENDED,  # recorded by the place, not the "I'm coming" answer
     "SELECT w.starts_at AS at, c.epci AS epci, count(*) AS n, '' AS kind"
     " FROM bookings b JOIN workshops w ON w.id = b.workshop_id"
     " JOIN places p ON p.id = w.place_id JOIN communes c ON c.insee = p.commune"
     " WHERE b.attended = 1 AND w.starts_at >= ? GROUP BY w.id, w.starts_at, c.epci"),
)


def hourly(sql: str) -> str:
    """One of the queries, added up per hour, intercommunality and kind (the database does the
    sums: a year of a country's events is then a few thousand rows, not a hundred thousand,
    and a month is still cut at the network's local midnight, whole hours from UTC)."""
    return ("SELECT substr(at, 1, 13) AS hour, epci, sum(n) AS n, kind FROM ("  # noqa: S608
            + sql + ") AS events WHERE at <= ? GROUP BY substr(at, 1, 13), epci, kind")


def event(indicator: Indicator, hour: str, epci: str | None, n: object, kind: str | None
          ) -> Event:
    return Event(indicator, from_ts(hour + ":00:00+00:00"), epci or "", int(str(n)), kind or "")


def read_events(conn: sqlite3.Connection, since: datetime, until: datetime) -> list[Event]:
    """Every counted event from ``since`` up to ``until`` (sessions not held yet excluded),
    by the hour."""
    return [event(indicator, *row) for indicator, sql in _QUERIES
            for row in conn.execute(hourly(sql), (ts(since), ts(until)))]


def read_events_from(path: str, since: datetime, until: datetime) -> list[Event]:
    """:func:`read_events` through a read-only connection of its own (for a thread)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return read_events(conn, since, until)
    finally:
        conn.close()


class SqliteReportRepo:
    """Reads the events of the report; writes nothing."""

    def __init__(self, conn: Connection, path: str) -> None:
        self._conn = conn
        self._path = path

    async def events(self, since: datetime, until: datetime) -> list[Event]:
        """Every counted event from ``since`` up to ``until`` (sessions not held yet
        excluded), added up by the hour."""
        if self._path == ":memory:" or "://" in self._path:
            # No other connection sees an in-memory database; PostgreSQL does the work in
            # its own process and asyncpg waits for it without holding the loop. The tens of
            # thousands of rows are turned into events on a worker thread all the same.
            fetched = [(indicator, await self._conn.execute_fetchall(
                hourly(sql), (ts(since), ts(until)))) for indicator, sql in _QUERIES]
            return await asyncio.to_thread(
                lambda: [event(indicator, *row) for indicator, rows in fetched for row in rows])
        return await asyncio.to_thread(read_events_from, self._path, since, until)

    async def waiting(self) -> dict[str, int]:
        """Requests on the waiting list now, per intercommunality."""
        async with self._conn.execute(
            "SELECT epci, count(*) AS n FROM request_waiting GROUP BY epci"
        ) as cur:
            return {row["epci"]: int(row["n"]) for row in await cur.fetchall()}
