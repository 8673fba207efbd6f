"""The catalogue by usage, the stock of each place, and the price grid.

Stock is counted, never typed: the ready devices of a place (``devices``), less the requests
that hold one of their kind there until the handover picks a device, and less the public's
reservations held there (``handlers/public_sale.py``).
"""

from __future__ import annotations

import json

from flows.pricing import PriceGrid, PriceRule, Tier, TierPrice
from flows.records import CatalogueKind, PlaceId
from flows.routing import Reach
from storage.connection import Connection

_COUNTED = (
    "SELECT d.place_id, d.kind, count(*) AS ready,"
    " (SELECT count(*) FROM equipment_requests r WHERE r.place_id = d.place_id"
    "   AND r.kind = d.kind AND r.status IN ('sent', 'accepted', 'ready'))"
    " + (SELECT count(*) FROM reservations s WHERE s.place_id = d.place_id"
    "   AND s.kind = d.kind AND s.status = 'held') AS held"
    " FROM devices d JOIN places p ON p.id = d.place_id"
    " WHERE d.state = 'ready' AND d.kind IS NOT NULL AND p.active = 1"
)
_GROUPED = " GROUP BY d.place_id, d.kind"
_COUNT_ALL = _COUNTED + _GROUPED
_IN_REACH = (
    " AND (p.id = ? OR p.commune = ?"
    " OR p.commune IN (SELECT insee FROM communes WHERE epci = ?)"
    " OR p.id IN (SELECT place_id FROM place_coverage WHERE epci = ?))"
)
_COUNT_IN_REACH = _COUNTED + _IN_REACH + _GROUPED
_COUNT_ONE = _COUNTED + " AND p.id = ? AND d.kind = ?" + _GROUPED


class SqliteCatalogueRepo:
    """Kinds of device, devices available per place, and what each profile pays."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def kinds(self) -> list[CatalogueKind]:
        async with self._conn.execute(
            "SELECT code, name, description, uses FROM catalogue_kinds ORDER BY position, code"
        ) as cur:
            rows = await cur.fetchall()
        return [
            CatalogueKind(row["code"], row["name"], row["description"],
                          tuple(json.loads(row["uses"])))
            for row in rows
        ]

    async def stock(self) -> dict[tuple[PlaceId, str], int]:
        """Devices available now, by (place, kind): ready there, less the requests that
        hold one there; only active places count."""
        return await self._counted(_COUNT_ALL, ())

    async def stock_in_reach(self, reach: Reach) -> dict[tuple[PlaceId, str], int]:
        """Devices available now at the open places in ``reach``."""
        return await self._counted(_COUNT_IN_REACH, (reach.own_place, reach.commune,
                                                     reach.epci, reach.epci))

    async def available(self, place_id: PlaceId, kind: str) -> int:
        """Devices of ``kind`` a new request may hold at ``place_id`` now."""
        found = await self._counted(_COUNT_ONE, (place_id, kind))
        return found.get((place_id, kind), 0)

    async def held(self, place_id: PlaceId, kind: str) -> int:
        """Requests holding a device of ``kind`` at ``place_id`` (not handed over yet)."""
        async with self._conn.execute(
            "SELECT count(*) FROM equipment_requests WHERE place_id = ? AND kind = ?"
            " AND status IN ('sent', 'accepted', 'ready')", (place_id, kind)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _counted(self, sql: str, params: tuple[object, ...]
                       ) -> dict[tuple[PlaceId, str], int]:
        async with self._conn.execute(sql, params) as cur:
            rows = await cur.fetchall()
        counted = {(PlaceId(row["place_id"]), row["kind"]): int(row["ready"]) - int(row["held"])
                   for row in rows}
        return {key: n for key, n in counted.items() if n > 0}

    async def price_grid(self) -> PriceGrid:
        async with self._conn.execute(
            "SELECT situation, income, tier FROM price_rules ORDER BY situation, income"
        ) as cur:
            rules = [PriceRule(r["situation"], r["income"], Tier(r["tier"]))
                     for r in await cur.fetchall()]
        async with self._conn.execute(
            "SELECT tier, kind, cents FROM tier_prices ORDER BY tier, kind"
        ) as cur:
            prices = [TierPrice(Tier(r["tier"]), r["kind"], r["cents"])
                      for r in await cur.fetchall()]
        return PriceGrid(tuple(rules), tuple(prices))
