"""The door for everyone's waiting list: when a device of a kind is in stock again, the
first person waiting for that kind is told where, once, with a button to reserve it there
(the place is not asked again: ``handlers.public_sale.start_reserve_at``).

Called wherever stock appears (``handlers.requests.serve_waiting``), after the prescribers'
waiting requests took what they needed: a prescription comes first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flows import actions as act
from flows.messages import Choice
from flows.ports import UnitOfWork
from flows.records import PlaceId
from flows.text import _, verbatim
from handlers.session import Sender

log = logging.getLogger(__name__)


async def tell_public_waiting(out: Sender, uow: UnitOfWork,
                              stock: Mapping[tuple[PlaceId, str], int],
                              kind: str | None = None) -> int:
    """One person told per device left in stock of their kind; their entry goes at once."""
    places = {p.id: p for p in await uow.places.all()}
    kinds = {k.code: k.name for k in await uow.catalogue.kinds()}
    told = 0
    for (place_id, code), n in sorted(stock.items()):
        if n <= 0 or (kind is not None and code != kind) or place_id not in places:
            continue
        place = places[place_id]
        for _i in range(n):
            waiting = await uow.reservations.first_waiting(code)
            if waiting is None or not await uow.reservations.told(waiting.id):
                break
            log.info("public waiting list %s told for place %s", waiting.id, place_id)
            out.send(waiting.user_key, [
                _("Bonne nouvelle : un appareil de type {kind} est disponible à {place}, "
                  "{address}. Vous pouvez le réserver maintenant.",
                  kind=verbatim(kinds.get(code, code)), place=verbatim(place.name),
                  address=verbatim(place.address)),
                _("Vous n'êtes plus sur la liste d'attente.")],
                [Choice(act.BuyReserveAt(code, int(place_id)).pack(), _("Réserver : {kind}",
                                                       kind=verbatim(kinds.get(code, code))))],
                action_menu=True)
            told += 1
    return told


__all__ = ["tell_public_waiting"]
