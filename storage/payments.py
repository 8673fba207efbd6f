"""Payments and the solidarity fund (see ``flows.payments``): written once, never updated.

Nothing here updates or deletes a payment or a budget: a correction is a new row naming the
one it corrects (at most one each, by a unique index), a new budget is a new row of its year.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flows.messages import UserKey
from flows.payments import (
    Channel,
    FundLine,
    FundState,
    ListedPayment,
    Method,
    Payer,
    PayerTotal,
    Payment,
    receipt_number,
)
from flows.report import Mediation, PaymentSum
from storage.connection import Connection, Row
from storage.db import from_ts, ts

_SELECT = ("SELECT id, request_id, device_id, place_id, epci, profile, channel, cents, payer,"
           " third_party, method, corrects, reason, recorded_by, recorded_at FROM payments")


def _payment(row: Row) -> Payment:
    return Payment(row["id"], row["request_id"], row["device_id"], row["place_id"],
                   row["epci"], row["profile"], Channel(row["channel"]), row["cents"],
                   Payer(row["payer"]), row["third_party"], Method(row["method"]),
                   row["corrects"], row["reason"],
                   UserKey(row["recorded_by"]) if row["recorded_by"] else None,
                   from_ts(row["recorded_at"]))


def year_bounds(year: int) -> tuple[str, str]:
    """A calendar year as stored times (UTC), for ``recorded_at >= ? AND recorded_at < ?``."""
    return ts(datetime(year, 1, 1, tzinfo=UTC)), ts(datetime(year + 1, 1, 1, tzinfo=UTC))


_LISTED = (
    "SELECT p.id, p.request_id, p.device_id, p.place_id, p.epci, p.profile, p.channel,"
    " p.cents, p.payer, p.third_party, p.method, p.corrects, p.reason, p.recorded_by,"
    " p.recorded_at, r.reference AS request_reference, pl.name AS place_name,"
    " c.recorded_at AS corrected_at FROM payments p"
    " LEFT JOIN equipment_requests r ON r.id = p.request_id"
    " LEFT JOIN places pl ON pl.id = p.place_id"
    " LEFT JOIN payments c ON c.id = p.corrects"
    " WHERE p.recorded_at >= ? AND p.recorded_at < ?")


class SqlitePaymentRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def record(self, *, request_id: int | None, device_id: int | None,
                     place_id: int | None, epci: str, profile: str, channel: Channel,
                     cents: int, payer: Payer, third_party: str | None, method: Method,
                     by: UserKey | None, now: datetime, corrects: int | None = None,
                     reason: str | None = None) -> Payment:
        async with self._conn.execute(
            "INSERT INTO payments (request_id, device_id, place_id, epci, profile, channel,"
            " cents, payer, third_party, method, corrects, reason, recorded_by, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (request_id, device_id, place_id, epci, profile, channel.value, cents,
             payer.value, third_party, method.value, corrects, reason, by, ts(now)),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        found = await self.get(row[0])
        assert found is not None
        return found

    async def get(self, payment_id: int) -> Payment | None:
        async with self._conn.execute(_SELECT + " WHERE id = ?", (payment_id,)) as cur:
            row = await cur.fetchone()
        return _payment(row) if row else None

    async def of_request(self, request_id: int) -> list[Payment]:
        async with self._conn.execute(_SELECT + " WHERE request_id = ? ORDER BY id",
                                      (request_id,)) as cur:
            return [_payment(r) for r in await cur.fetchall()]

    async def listed(self, since: datetime, until: datetime) -> list[ListedPayment]:
        """Every payment recorded from ``since`` (included) to ``until`` (excluded), oldest
        first, with its request's reference, its place's name and the receipt it corrects;
        nothing about the person (the list goes to a spreadsheet)."""
        return await self._listed(_LISTED + " ORDER BY p.recorded_at, p.id",
                                  (ts(since), ts(until)))

    async def latest(self, since: datetime, until: datetime, count: int) -> list[ListedPayment]:
        """The ``count`` latest of :meth:`listed`, oldest first (walked down the index on the
        time: as quick in a country's year as in a village's)."""
        newest = await self._listed(_LISTED + " ORDER BY p.recorded_at DESC, p.id DESC LIMIT ?",
                                    (ts(since), ts(until), count))
        return newest[::-1]

    async def _listed(self, sql: str, params: tuple[object, ...]) -> list[ListedPayment]:
        async with self._conn.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [ListedPayment(_payment(row), row["request_reference"], row["place_name"],
                              receipt_number(row["corrects"], from_ts(row["corrected_at"]))
                              if row["corrected_at"] is not None else None)
                for row in rows]

    async def totals(self, since: datetime, until: datetime) -> tuple[int, list[PayerTotal]]:
        """The entries recorded from ``since`` to ``until``: how many, and per payer kind the
        payments (a counter-entry takes one off) and what they add up to."""
        async with self._conn.execute(
            "SELECT payer, count(*) AS entries,"
            " sum(CASE WHEN corrects IS NULL THEN 1 ELSE -1 END) AS n, sum(cents) AS cents"
            " FROM payments WHERE recorded_at >= ? AND recorded_at < ? GROUP BY payer",
            (ts(since), ts(until))) as cur:
            rows = {Payer(r["payer"]): r for r in await cur.fetchall()}
        return (sum(int(r["entries"]) for r in rows.values()),
                [PayerTotal(payer, int(rows[payer]["n"]), int(rows[payer]["cents"]))
                 for payer in Payer if payer in rows])

    async def is_corrected(self, payment_id: int) -> bool:
        async with self._conn.execute("SELECT 1 FROM payments WHERE corrects = ?",
                                      (payment_id,)) as cur:
            return await cur.fetchone() is not None

    async def set_budget(self, year: int, cents: int, by: UserKey | None,
                         now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO fund_budgets (year, cents, set_by, set_at) VALUES (?, ?, ?, ?)",
            (year, cents, by, ts(now)))

    async def fund(self, year: int) -> FundState:
        async with self._conn.execute(
            "SELECT cents FROM fund_budgets WHERE year = ? ORDER BY id DESC LIMIT 1",
            (year,)) as cur:
            row = await cur.fetchone()
        start, end = year_bounds(year)
        async with self._conn.execute(
            "SELECT coalesce(sum(cents), 0) FROM payments WHERE payer = 'fund'"
            " AND recorded_at >= ? AND recorded_at < ?", (start, end)) as cur:
            spent = await cur.fetchone()
        return FundState(year, row[0] if row else 0, int(spent[0]) if spent else 0)

    async def fund_lines(self, year: int) -> list[FundLine]:
        """What the fund paid for in ``year``, by intercommunality and profile; a device
        counts once its payment stands (a corrected payment and its correction cancel)."""
        start, end = year_bounds(year)
        async with self._conn.execute(
            "SELECT epci, profile,"
            " sum(CASE WHEN corrects IS NULL THEN 1 ELSE -1 END) AS devices,"
            " sum(cents) AS cents FROM payments WHERE payer = 'fund'"
            " AND recorded_at >= ? AND recorded_at < ?"
            " GROUP BY epci, profile ORDER BY epci, profile", (start, end)) as cur:
            return [FundLine(r["epci"], r["profile"], int(r["devices"]), int(r["cents"]))
                    for r in await cur.fetchall() if r["devices"] or r["cents"]]

    async def warn_once(self, year: int, now: datetime) -> bool:
        """True the first time it is asked for ``year``: the low-fund warning goes once."""
        async with self._conn.execute(
            "INSERT INTO fund_alerts (year, warned_at) VALUES (?, ?)"
            " ON CONFLICT (year) DO NOTHING RETURNING year", (year, ts(now))) as cur:
            return await cur.fetchone() is not None

    async def sums(self, since: datetime, until: datetime) -> list[PaymentSum]:
        """Payments from ``since`` to ``until`` added up by hour, intercommunality, payer and
        channel (the figures cut months at local midnight, whole hours from UTC)."""
        async with self._conn.execute(
            "SELECT substr(recorded_at, 1, 13) AS hour, epci, payer, channel,"
            " sum(cents) AS cents, sum(CASE WHEN corrects IS NULL THEN 1 ELSE -1 END) AS n"
            " FROM payments WHERE recorded_at >= ? AND recorded_at <= ?"
            " GROUP BY substr(recorded_at, 1, 13), epci, payer, channel",
            (ts(since), ts(until))) as cur:
            return [PaymentSum(from_ts(r["hour"] + ":00:00+00:00"), r["epci"], r["payer"],
                               r["channel"], int(r["cents"]), int(r["n"]))
                    for r in await cur.fetchall()]

    async def mediation(self, since: datetime, until: datetime) -> list[Mediation]:
        """People who came to the sessions held from ``since`` to ``until`` (as the places
        recorded it), and the minutes of those sessions, one per person who came."""
        async with self._conn.execute(
            "SELECT substr(w.starts_at, 1, 13) AS hour, c.epci AS epci, count(*) AS n,"
            " sum(w.minutes) AS minutes FROM bookings b"
            " JOIN workshops w ON w.id = b.workshop_id JOIN places p ON p.id = w.place_id"
            " JOIN communes c ON c.insee = p.commune"
            " WHERE b.attended = 1 AND w.starts_at >= ? AND w.starts_at <= ?"
            " GROUP BY substr(w.starts_at, 1, 13), c.epci", (ts(since), ts(until))) as cur:
            return [Mediation(from_ts(r["hour"] + ":00:00+00:00"), r["epci"], int(r["n"]),
                              int(r["minutes"])) for r in await cur.fetchall()]
