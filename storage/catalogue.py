"""The catalogue by usage, the stock of each place, and the price grid."""

from __future__ import annotations

import json

from flows.pricing import PriceGrid, PriceRule, Tier, TierPrice
from flows.records import CatalogueKind, PlaceId
from flows.routing import Reach
from storage.connection import Connection


class SqliteCatalogueRepo:
    """Kinds of device, units available per place, and what each profile pays."""

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
        """Units available now, by (place, kind); only active places count."""
        async with self._conn.execute(
            "SELECT s.place_id, s.kind, s.available FROM stock s"
            " JOIN places p ON p.id = s.place_id WHERE p.active = 1 AND s.available > 0"
        ) as cur:
            rows = await cur.fetchall()
        return {(PlaceId(row["place_id"]), row["kind"]): row["available"] for row in rows}

    async def stock_in_reach(self, reach: Reach) -> dict[tuple[PlaceId, str], int]:
        """Units available now at the open places in ``reach``."""
        async with self._conn.execute(
            "SELECT s.place_id, s.kind, s.available FROM stock s"
            " JOIN places p ON p.id = s.place_id WHERE p.active = 1 AND s.available > 0"
            " AND (p.id = ? OR p.commune = ?"
            " OR p.commune IN (SELECT insee FROM communes WHERE epci = ?)"
            " OR p.id IN (SELECT place_id FROM place_coverage WHERE epci = ?))",
            (reach.own_place, reach.commune, reach.epci, reach.epci),
        ) as cur:
            rows = await cur.fetchall()
        return {(PlaceId(row["place_id"]), row["kind"]): row["available"] for row in rows}

    async def available(self, place_id: PlaceId, kind: str) -> int:
        async with self._conn.execute(
            "SELECT available FROM stock WHERE place_id = ? AND kind = ?", (place_id, kind)
        ) as cur:
            row = await cur.fetchone()
        return int(row["available"]) if row else 0

    async def reserve(self, place_id: PlaceId, kind: str) -> bool:
        """Take one unit if there is one left: never below zero, whoever races for it."""
        cur = await self._conn.execute(
            "UPDATE stock SET available = available - 1"
            " WHERE place_id = ? AND kind = ? AND available > 0",
            (place_id, kind),
        )
        return cur.rowcount == 1

    async def release(self, place_id: PlaceId, kind: str) -> None:
        """Give a reserved unit back (a cancelled or refused request)."""
        await self.add_stock(place_id, kind, 1)

    async def add_stock(self, place_id: PlaceId, kind: str, units: int) -> int:
        """Add units to a place's stock; returns what is available now."""
        await self._conn.execute(
            "INSERT INTO stock (place_id, kind, available) VALUES (?, ?, ?)"
            " ON CONFLICT (place_id, kind) DO UPDATE"
            " SET available = max(0, stock.available + excluded.available)",
            (place_id, kind, max(0, units)),
        )
        return await self.available(place_id, kind)

    async def clear_stock(self, place_id: PlaceId, kind: str) -> None:
        """The place says it has none left: trust it over the count."""
        await self._conn.execute(
            "UPDATE stock SET available = 0 WHERE place_id = ? AND kind = ?", (place_id, kind)
        )

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
