"""What coordinators change: members and referents, places, catalogue, price grid, the
directory of mediation places, and the audiences of a message to prescribers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import date, datetime

from flows.coordination import ManagedPlace, Member, PlaceChange
from flows.csv_import import KindRow, PriceRow, RuleRow
from flows.mednum import MediationPlace
from flows.messages import UserKey
from flows.pricing import Tier
from flows.records import PlaceId, Role
from storage.access import _request
from storage.connection import Connection, Row, inserted_id
from storage.db import from_ts, ts
from storage.places import _place

_PLACES = (
    "SELECT p.id, p.name, p.kind, p.commune, p.address, p.opening_hours, p.osm_hours,"
    " p.active, p.siret, p.updated_at,"
    " (SELECT group_concat(epci) FROM place_coverage c WHERE c.place_id = p.id) AS covers"
    " FROM places p"
)

_MEMBERS = (
    "SELECT u.number, u.key, u.role AS member_role, u.place_id, a.id, a.user_key,"
    " a.role, a.structure, a.address, a.commune, a.contact_name, a.function, a.phone,"
    " a.status, a.created_at, a.decided_by, a.decided_at"
    " FROM users u LEFT JOIN access_requests a ON a.id = (SELECT max(x.id)"
    " FROM access_requests x WHERE x.user_key = u.key AND x.status = 'approved')"
    " WHERE u.role IS NOT NULL"
)
"""Approved professionals and their latest approved request (an index search each:
access_requests_user_status)."""


def _member(row: Row) -> Member:
    return Member(row["number"], UserKey(row["key"]), Role(row["member_role"]),
                  PlaceId(row["place_id"]) if row["place_id"] is not None else None,
                  _request(row) if row["id"] is not None else None)


_MEDIATION = (
    "SELECT source_id, pivot, name, commune, postal_code, address, osm_hours, services,"
    " updated_on, latitude, longitude, phone, website, parent, source FROM mediation_places"
)
_NEAR = (" WHERE commune = ? OR commune IN (SELECT insee FROM communes WHERE epci = ?)"
         " ORDER BY CASE WHEN commune = ? THEN 0 ELSE 1 END, name LIMIT ?")
_MEDIATION_NEAR = _MEDIATION + _NEAR


DIRECTORY_BATCH = 1000
_SAVE_MEDIATION = (
    "INSERT INTO mediation_places (source_id, pivot, name, commune, postal_code,"
    " address, osm_hours, services, updated_on, latitude, longitude, phone, website,"
    " parent, source, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (source_id) DO UPDATE SET pivot = excluded.pivot,"
    " name = excluded.name, commune = excluded.commune,"
    " postal_code = excluded.postal_code, address = excluded.address,"
    " osm_hours = excluded.osm_hours, services = excluded.services,"
    " updated_on = excluded.updated_on, latitude = excluded.latitude,"
    " longitude = excluded.longitude, phone = excluded.phone,"
    " website = excluded.website, parent = excluded.parent, source = excluded.source,"
    " imported_at = excluded.imported_at"
)


class SqliteCoordinationRepo:
    """Every write of the coordination, each a literal SQL statement with ``?`` parameters."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- Members, roles, referents ---------------------------------------------------------

    async def members(self) -> list[Member]:
        """Approved professionals, with their latest approved access request if any."""
        async with self._conn.execute(_MEMBERS + " ORDER BY u.number") as cur:
            return [_member(row) for row in await cur.fetchall()]

    async def member(self, number: int) -> Member | None:
        async with self._conn.execute(_MEMBERS + " AND u.number = ?", (number,)) as cur:
            row = await cur.fetchone()
        return _member(row) if row else None

    async def member_of(self, user: UserKey) -> Member | None:
        """The professional ``user``, if approved."""
        async with self._conn.execute(_MEMBERS + " AND u.key = ?", (user,)) as cur:
            row = await cur.fetchone()
        return _member(row) if row else None

    async def members_at(self, commune: str) -> list[Member]:
        """Approved professionals whose latest approved request names a structure of
        ``commune``: the members of that commune's structures, found by their requests."""
        async with self._conn.execute(
            "SELECT u.number, u.key, u.role AS member_role, u.place_id, a.id,"
            " a.user_key, a.role, a.structure, a.address, a.commune, a.contact_name,"
            " a.function, a.phone, a.status, a.created_at, a.decided_by, a.decided_at"
            " FROM access_requests a JOIN users u ON u.key = a.user_key"
            " WHERE a.commune = ? AND a.status = 'approved' AND u.role IS NOT NULL"
            " AND a.id = (SELECT max(x.id) FROM access_requests x"
            " WHERE x.user_key = a.user_key AND x.status = 'approved')"
            " ORDER BY u.number",
            (commune,),
        ) as cur:
            return [_member(row) for row in await cur.fetchall()]

    async def revoke(self, user: UserKey, by: UserKey, now: datetime) -> bool:
        """Withdraw a professional access: no role, no place, requests marked revoked."""
        cur = await self._conn.execute(
            "UPDATE users SET role = NULL, place_id = NULL WHERE key = ? AND role IS NOT NULL",
            (user,),
        )
        if cur.rowcount == 0:
            return False
        await self._conn.execute(
            "UPDATE access_requests SET status = 'revoked', decided_by = ?, decided_at = ?"
            " WHERE user_key = ? AND status = 'approved'",
            (by, ts(now), user),
        )
        await self._conn.execute("DELETE FROM structure_referents WHERE user_key = ?", (user,))
        # Notices by e-mail end with the access (the address goes, and what waits for it).
        await self._conn.execute("DELETE FROM mail_addresses WHERE user_key = ?", (user,))
        await self._conn.execute(
            "DELETE FROM mail_outbox WHERE owner = ? AND lot_id IS NULL", (user,))
        return True

    async def set_member(self, user: UserKey, role: Role, place_id: PlaceId | None) -> None:
        """Change a member's role or place (their approved request follows the role)."""
        await self._conn.execute(
            "UPDATE users SET role = ?, place_id = ? WHERE key = ?", (role.value, place_id, user)
        )
        await self._conn.execute(
            "UPDATE access_requests SET role = ? WHERE user_key = ? AND status = 'approved'",
            (role.value, user),
        )

    async def referents(self) -> dict[str, UserKey]:
        """Referents named by a coordinator, by structure key."""
        async with self._conn.execute(
            "SELECT structure, user_key FROM structure_referents"
        ) as cur:
            return {row["structure"]: UserKey(row["user_key"]) for row in await cur.fetchall()}

    async def named_referent(self, structure: str) -> UserKey | None:
        """The referent a coordinator named for one structure, if any."""
        async with self._conn.execute(
            "SELECT user_key FROM structure_referents WHERE structure = ?", (structure,)
        ) as cur:
            row = await cur.fetchone()
        return UserKey(row["user_key"]) if row else None

    async def name_referent(self, structure: str, user: UserKey, by: UserKey,
                            now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO structure_referents (structure, user_key, named_by, named_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (structure) DO UPDATE"
            " SET user_key = excluded.user_key, named_by = excluded.named_by,"
            " named_at = excluded.named_at",
            (structure, user, by, ts(now)),
        )

    # --- Places ----------------------------------------------------------------------------

    async def places(self) -> list[ManagedPlace]:
        """Every place, closed ones included, by name."""
        async with self._conn.execute(_PLACES + " ORDER BY p.active DESC, p.name") as cur:
            rows = await cur.fetchall()
        return [ManagedPlace(_place(row), bool(row["active"]), row["siret"],
                             from_ts(row["updated_at"]) if row["updated_at"] else None)
                for row in rows]

    async def place(self, place_id: PlaceId) -> ManagedPlace | None:
        return next((p for p in await self.places() if p.place.id == place_id), None)

    async def save_place(self, change: PlaceChange, now: datetime) -> PlaceId:
        """Create or update a place and the intercommunalities it covers."""
        values = (change.name, change.kind.value, change.commune, change.address,
                  change.plain_hours, change.osm_hours, change.siret, int(change.active), ts(now))
        if change.id is None:
            cur = await self._conn.execute(
                "INSERT INTO places (name, kind, commune, address, opening_hours, osm_hours,"
                " siret, active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                values,
            )
            new_id = await inserted_id(cur)
            place_id = PlaceId(new_id)
        else:
            place_id = change.id
            await self._conn.execute(
                "UPDATE places SET name = ?, kind = ?, commune = ?, address = ?,"
                " opening_hours = ?, osm_hours = ?, siret = ?, active = ?, updated_at = ?"
                " WHERE id = ?",
                (*values, place_id),
            )
        await self._conn.execute("DELETE FROM place_coverage WHERE place_id = ?", (place_id,))
        await self._conn.executemany(
            "INSERT INTO place_coverage (place_id, epci) VALUES (?, ?)",
            [(place_id, epci) for epci in sorted(set(change.covers))],
        )
        return place_id

    # --- Catalogue, stock, price grid ------------------------------------------------------

    async def save_kind(self, row: KindRow) -> None:
        await self._conn.execute(
            "INSERT INTO catalogue_kinds (code, name, description, uses, position) VALUES"
            " (?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM catalogue_kinds))"
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " description = excluded.description, uses = excluded.uses",
            (row.code, row.name, row.description, json.dumps(list(row.uses))),
        )

    async def set_rule(self, situation: str, income: str, tier: Tier) -> None:
        await self._conn.execute(
            "INSERT INTO price_rules (situation, income, tier) VALUES (?, ?, ?)"
            " ON CONFLICT (situation, income) DO UPDATE SET tier = excluded.tier",
            (situation, income, tier.value),
        )

    async def set_price(self, tier: Tier, kind: str, cents: int) -> None:
        await self._conn.execute(
            "INSERT INTO tier_prices (tier, kind, cents) VALUES (?, ?, ?)"
            " ON CONFLICT (tier, kind) DO UPDATE SET cents = excluded.cents",
            (tier.value, kind, cents),
        )

    async def replace_rules(self, rows: Sequence[RuleRow]) -> None:
        """The file is the grid: rows it does not hold are removed."""
        await self._conn.execute("DELETE FROM price_rules")
        await self._conn.executemany(
            "INSERT INTO price_rules (situation, income, tier) VALUES (?, ?, ?)",
            [(r.situation, r.income, r.tier.value) for r in rows],
        )

    async def replace_prices(self, rows: Sequence[PriceRow]) -> None:
        """The file is the grid: rows it does not hold are removed."""
        await self._conn.execute("DELETE FROM tier_prices")
        await self._conn.executemany(
            "INSERT INTO tier_prices (tier, kind, cents) VALUES (?, ?, ?)",
            [(r.tier.value, r.kind, r.cents) for r in rows],
        )

    # --- The directory of mediation places -------------------------------------------------

    async def save_mediation(self, places: Sequence[MediationPlace], now: datetime) -> int:
        """Add or update places by their national id; returns how many were new."""
        async with self._conn.execute("SELECT count(*) AS n FROM mediation_places") as cur:
            row = await cur.fetchone()
        before = int(row["n"]) if row else 0
        for first in range(0, len(places), DIRECTORY_BATCH):
            # In batches, the loop free between two: a national file is 40,000 places.
            await self._conn.executemany(
                _SAVE_MEDIATION,
                [(p.source_id, p.pivot, p.name, p.commune, p.postal_code, p.address,
                  p.osm_hours, json.dumps(list(p.services), ensure_ascii=False),
                  p.updated_on.isoformat(), p.latitude, p.longitude, p.phone, p.website,
                  p.parent, p.source, ts(now))
                 for p in places[first:first + DIRECTORY_BATCH]],
            )
            await asyncio.sleep(0)
        async with self._conn.execute("SELECT count(*) AS n FROM mediation_places") as cur:
            row = await cur.fetchone()
        return (int(row["n"]) if row else 0) - before

    async def mediation_places(self) -> list[MediationPlace]:
        async with self._conn.execute(_MEDIATION + " ORDER BY commune, name") as cur:
            rows = await cur.fetchall()
        return [_mediation(row) for row in rows]

    async def mediation_near(self, commune: str, epci: str | None,
                             limit: int) -> list[MediationPlace]:
        """The directory's places of ``commune`` first, then of its intercommunality (found
        through the index on the commune, whatever the size of the directory)."""
        async with self._conn.execute(_MEDIATION_NEAR, (commune, epci, commune, limit)) as cur:
            rows = await cur.fetchall()
        return [_mediation(row) for row in rows]

    # --- Audiences -------------------------------------------------------------------------

    async def prescribers(self, epci: str | None = None) -> list[UserKey]:
        """Approved prescribers (of one intercommunality: their structure's, else their
        place's)."""
        async with self._conn.execute(
            "SELECT u.key, COALESCE(ca.epci, cp.epci) AS epci FROM users u"
            " LEFT JOIN access_requests a ON a.id = (SELECT max(x.id) FROM access_requests x"
            " WHERE x.user_key = u.key AND x.status = 'approved')"
            " LEFT JOIN communes ca ON ca.insee = a.commune"
            " LEFT JOIN places p ON p.id = u.place_id"
            " LEFT JOIN communes cp ON cp.insee = p.commune"
            " WHERE u.role = 'prescriber' ORDER BY u.number"
        ) as cur:
            rows = await cur.fetchall()
        return [UserKey(row["key"]) for row in rows if epci is None or row["epci"] == epci]


def _mediation(row: Row) -> MediationPlace:
    return MediationPlace(
        source_id=row["source_id"], pivot=row["pivot"], name=row["name"],
        commune=row["commune"], postal_code=row["postal_code"],
        address=row["address"], osm_hours=row["osm_hours"],
        services=tuple(json.loads(row["services"])),
        updated_on=date.fromisoformat(row["updated_on"]),
        latitude=row["latitude"], longitude=row["longitude"], phone=row["phone"],
        website=row["website"], parent=row["parent"], source=row["source"],
    )
