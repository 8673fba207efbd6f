"""The price grid: a declared profile gives a tier, the tier and the device give an amount."""

from __future__ import annotations

import pytest

from flows.pricing import (
    ANY,
    DEFAULT_TIER,
    PriceGrid,
    PriceRule,
    Tier,
    TierPrice,
    price_for,
    quote,
    tier_for,
)

GRID = PriceGrid(
    rules=(
        PriceRule("ase", ANY, Tier.FREE),
        PriceRule("min_income", ANY, Tier.SYMBOLIC),
        PriceRule("min_income", "none_min", Tier.FREE),
        PriceRule("retiree", ANY, Tier.REDUCED),
        PriceRule("general", ANY, Tier.FULL),
        PriceRule("general", "modest", Tier.REDUCED),
    ),
    prices=(
        TierPrice(Tier.FREE, ANY, 0),
        TierPrice(Tier.SYMBOLIC, ANY, 100),
        TierPrice(Tier.REDUCED, ANY, 3000),
        TierPrice(Tier.REDUCED, "laptop", 4000),
        TierPrice(Tier.FULL, ANY, 7000),
        TierPrice(Tier.FULL, "laptop", 9000),
    ),
)


@pytest.mark.parametrize(
    ("situation", "income", "tier"),
    [
        ("ase", None, Tier.FREE),  # young people leaving child welfare: the fund pays
        ("ase", "middle", Tier.FREE),  # a bracket without its own row falls back to "any"
        ("min_income", None, Tier.SYMBOLIC),  # 1 EUR restores an exchange
        ("min_income", "none_min", Tier.FREE),  # the exact bracket row wins over "any"
        ("min_income", "modest", Tier.SYMBOLIC),
        ("retiree", None, Tier.REDUCED),
        ("general", None, Tier.FULL),  # free-software activists pay the solidarity price
        ("general", "modest", Tier.REDUCED),
        ("unknown_situation", None, DEFAULT_TIER),  # a profile the grid does not know
    ],
)
def test_the_profile_gives_the_tier(situation: str, income: str | None, tier: Tier) -> None:
    assert tier_for(GRID, situation, income) is tier


@pytest.mark.parametrize(
    ("tier", "kind", "cents"),
    [
        (Tier.FREE, "laptop", 0),
        (Tier.SYMBOLIC, "laptop", 100),
        (Tier.SYMBOLIC, "tablet", 100),
        (Tier.REDUCED, "laptop", 4000),  # the kind's own row
        (Tier.REDUCED, "tablet", 3000),  # else the tier's row for any kind
        (Tier.FULL, "laptop", 9000),
        (Tier.FULL, "desktop", 7000),
    ],
)
def test_the_tier_and_the_kind_give_the_amount(tier: Tier, kind: str, cents: int) -> None:
    assert price_for(GRID, tier, kind) == cents


def test_free_costs_nothing_even_without_a_row() -> None:
    assert price_for(PriceGrid((), ()), Tier.FREE, "laptop") == 0


def test_a_grid_without_an_amount_for_a_tier_is_an_error_not_a_free_device() -> None:
    with pytest.raises(LookupError):
        price_for(PriceGrid((), ()), Tier.FULL, "laptop")


def test_quote_gives_tier_and_amount_together() -> None:
    q = quote(GRID, "general", "modest", "laptop")
    assert (q.tier, q.cents) == (Tier.REDUCED, 4000)


async def test_the_seeded_grid_prices_every_situation_and_kind(chat) -> None:
    """The defaults shipped by the migration cover every profile the flow offers."""
    from flows.pricing import Income, Situation

    async with chat.app.storage.transaction() as uow:
        grid = await uow.catalogue.price_grid()
        kinds = [k.code for k in await uow.catalogue.kinds()]
    assert {r.situation for r in grid.rules} == {s.value for s in Situation}
    for situation in Situation:
        for income in [None, *Income]:
            for kind in kinds:
                q = quote(grid, situation, income, kind)
                assert q.cents >= 0
    assert quote(grid, Situation.CHILD_WELFARE, None, "laptop").tier is Tier.FREE
    assert quote(grid, Situation.MINIMUM_INCOME, None, "laptop").cents == 100
    assert quote(grid, Situation.GENERAL, Income.MIDDLE_OR_MORE, "laptop").tier is Tier.FULL
