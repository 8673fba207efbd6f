"""The price grid: a beneficiary's declared profile gives a price tier, the tier and the kind
of device give an amount.

Solidarity purchase is preferred to a pure gift ("un don signale une dépendance"): even 1 EUR
restores an exchange, and the Fonds de solidarité numérique pays for the most precarious. The
profile is the prescriber's word, without documents (trust principle). The grid is data, kept
in the database and editable by coordinators; these functions only read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

ANY = "*"
"""In a grid row, matches any income bracket (rules) or any kind of device (prices)."""


class Situation(StrEnum):
    """The priority publics of the network, as a prescriber declares them (stored)."""

    YOUNG_ADULT = "young_adult"
    CHILD_WELFARE = "ase"
    STUDENT = "student"
    MINIMUM_INCOME = "min_income"
    ISOLATED = "isolated"
    DISABILITY = "disability"
    RETIREE = "retiree"
    FORCED_ONLINE = "forced_online"
    MICRO_BUSINESS = "micro_business"
    GENERAL = "general"


class Income(StrEnum):
    """Optional income bracket, declared without proof (stored)."""

    NONE_OR_MINIMUM = "none_min"
    MODEST = "modest"
    MIDDLE_OR_MORE = "middle"


class Tier(StrEnum):
    """Price tiers, from the fund-paid gift to the full solidarity price (stored)."""

    FREE = "free"
    SYMBOLIC = "symbolic"
    REDUCED = "reduced"
    FULL = "full"


@dataclass(frozen=True)
class PriceRule:
    """One row of the grid: this situation (and income bracket, or any) gives this tier."""

    situation: str
    income: str
    tier: Tier


@dataclass(frozen=True)
class TierPrice:
    """What a tier costs for a kind of device (or for any kind), in euro cents."""

    tier: Tier
    kind: str
    cents: int


@dataclass(frozen=True)
class PriceGrid:
    """The whole grid as the coordinators left it."""

    rules: Sequence[PriceRule]
    prices: Sequence[TierPrice]


@dataclass(frozen=True)
class Quote:
    """The price a beneficiary pays for one device, with the tier that explains it."""

    tier: Tier
    cents: int


DEFAULT_TIER = Tier.FULL
"""A profile the grid does not know pays the full solidarity price (still far below market)."""


def tier_for(grid: PriceGrid, situation: str, income: str | None) -> Tier:
    """The tier of a profile: the row for its exact income bracket, else the row for any."""
    wanted = [(situation, income)] if income else []
    wanted.append((situation, ANY))
    for key in wanted:
        for rule in grid.rules:
            if (rule.situation, rule.income) == key:
                return rule.tier
    return DEFAULT_TIER


def price_for(grid: PriceGrid, tier: Tier, kind: str) -> int:
    """What ``tier`` costs for ``kind``: its own row, else the tier's row for any kind."""
    if tier is Tier.FREE:
        return 0
    for wanted in (kind, ANY):
        for row in grid.prices:
            if row.tier is tier and row.kind == wanted:
                return row.cents
    raise LookupError(f"the price grid has no amount for tier {tier.value!r}")


def quote(grid: PriceGrid, situation: str, income: str | None, kind: str) -> Quote:
    """Tier then amount, the two questions a prescriber asks about price."""
    tier = tier_for(grid, situation, income)
    return Quote(tier, price_for(grid, tier, kind))
