"""Places of the network and the intercommunalities they cover."""

from __future__ import annotations

from flows.records import Place, PlaceId, PlaceKind
from flows.routing import Reach
from storage.connection import Connection, Row, inserted_id

_SELECT = (
    "SELECT p.id, p.name, p.kind, p.commune, p.address, p.opening_hours, p.osm_hours,"
    " (SELECT group_concat(epci) FROM place_coverage c WHERE c.place_id = p.id) AS covers"
    " FROM places p WHERE p.active = 1"
)


def _place(row: Row) -> Place:
    covers = tuple(sorted(row["covers"].split(","))) if row["covers"] else ()
    return Place(
        id=PlaceId(row["id"]),
        name=row["name"],
        kind=PlaceKind(row["kind"]),
        commune=row["commune"],
        address=row["address"],
        opening_hours=row["opening_hours"],
        covers_epci=covers,
        osm_hours=row["osm_hours"],
    )


class SqlitePlaceRepo:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def all(self) -> list[Place]:
        async with self._conn.execute(_SELECT + " ORDER BY p.name") as cur:
            return [_place(row) for row in await cur.fetchall()]

    async def get(self, place_id: PlaceId) -> Place | None:
        async with self._conn.execute(_SELECT + " AND p.id = ?", (place_id,)) as cur:
            row = await cur.fetchone()
        return _place(row) if row else None

    async def in_reach(self, reach: Reach) -> list[Place]:
        """The open places a request for someone of ``reach.commune`` may be routed to."""
        async with self._conn.execute(  # index searches, each a few rows
            "SELECT p.id, p.name, p.kind, p.commune, p.address, p.opening_hours, p.osm_hours,"
            " (SELECT group_concat(epci) FROM place_coverage c WHERE c.place_id = p.id)"
            " AS covers FROM places p WHERE p.active = 1 AND (p.id = ? OR p.commune = ?"
            " OR p.commune IN (SELECT insee FROM communes WHERE epci = ?)"
            " OR p.id IN (SELECT place_id FROM place_coverage WHERE epci = ?))"
            " ORDER BY p.name",
            (reach.own_place, reach.commune, reach.epci, reach.epci),
        ) as cur:
            return [_place(row) for row in await cur.fetchall()]

    async def add(
        self,
        name: str,
        kind: PlaceKind,
        commune: str,
        address: str,
        opening_hours: str,
        covers_epci: tuple[str, ...] = (),
    ) -> PlaceId:
        cur = await self._conn.execute(
            "INSERT INTO places (name, kind, commune, address, opening_hours)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, kind.value, commune, address, opening_hours),
        )
        new_id = await inserted_id(cur)
        await self._conn.executemany(
            "INSERT INTO place_coverage (place_id, epci) VALUES (?, ?)",
            [(new_id, epci) for epci in covers_epci],
        )
        return PlaceId(new_id)
