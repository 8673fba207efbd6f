"""The door for everyone: "Acheter un ordinateur reconditionné".

The network sells refurbished devices to anyone at a solidarity price, besides prescription:
the catalogue by usage with the public price (the grid's full tier, as coordinators set it),
where each kind is available now (by intercommunality, from the counted stock), and the
places that have some, with their opening hours. No account approval, nothing asked.
"""

from __future__ import annotations

from collections import defaultdict

from flows import actions as act
from flows.pricing import Tier, price_for
from flows.text import Lines, Money, Msg, _, verbatim
from handlers.coord_places import place_hours
from handlers.session import Env, Feature, Session


async def buy_door(session: Session, action: act.BuyDoor) -> None:
    """The public catalogue: price and where each kind is available now."""
    uow, territory = session.uow, session.ctx.territory
    kinds = await uow.catalogue.kinds()
    grid = await uow.catalogue.price_grid()
    stock = await uow.catalogue.stock()
    places = {p.id: p for p in await uow.places.all()}
    lines: list[Msg] = []
    selling: set[int] = set()
    for kind in kinds:
        by_epci: dict[str, int] = defaultdict(int)
        for (place_id, code), n in stock.items():
            place = places.get(place_id)
            if code != kind.code or place is None:
                continue
            commune = territory.commune(place.commune)
            epci = territory.epci(commune.epci) if commune else None
            by_epci[epci.name if epci else place.commune] += n
            selling.add(place_id)
        try:
            price: Msg = Msg("{m}", {"m": Money(price_for(grid, Tier.FULL, kind.code))})
        except LookupError:
            price = _("prix à demander au lieu")
        where = ", ".join(f"{name} ({n})" for name, n in sorted(by_epci.items()))
        lines.append(_("• {kind} : {price}. {where}", kind=verbatim(kind.name), price=price,
                       where=_("Disponible maintenant : {where}.", where=verbatim(where))
                       if where else _("Pas disponible en ce moment.")))
    shops = []
    for place_id in sorted(selling):
        place = places[place_id]
        commune = territory.commune(place.commune)
        shops.append(_("• {name}, {address}, {commune}. Horaires : {hours}",
                       name=verbatim(place.name), address=verbatim(place.address),
                       commune=verbatim(commune.name if commune else place.commune),
                       hours=place_hours(place, session.now, session.ctx.tz)))
    session.say(
        _("Le réseau vend des ordinateurs reconditionnés à tout le monde, à prix solidaire. "
          "Ils sont effacés, vérifiés et garantis."),
        Msg("{lines}", {"lines": Lines(tuple(lines))}) if lines
        else _("Le catalogue est vide pour le moment."),
        _("Où les acheter :"),
        Msg("{lines}", {"lines": Lines(tuple(shops))}) if shops
        else _("Aucun lieu n'a d'appareil en ce moment. Revenez bientôt !"),
        _("Vous payez sur place : espèces, chèque ou carte."))


def feature(env: Env) -> Feature:
    return Feature(name="public_sale", actions={act.BuyDoor: buy_door})


__all__ = ["feature"]
