""""Où trouver de l'aide près de chez moi": the help places of the national directory of
digital-mediation places (imported by the coordination, ``flows/mednum.py``) nearest to the
beneficiary, each said open now or when it next opens, in plain words.

"Near" is what the network knows without asking where the person lives: the commune of the
place that handed the computer over, then its intercommunality and those the place also
serves (no address is kept).
"""

from __future__ import annotations

from flows import actions as act
from flows import beneficiary as ui
from flows.coordination import hours_of
from flows.mednum import MediationPlace
from flows.territory import Territory
from handlers.beneficiary_common import commune_name, joined
from handlers.session import Env, Feature, Session

SHOWN = 5
"""Places listed at most: a short list a person can read on a phone."""


def nearest(places: list[MediationPlace], territory: Territory, commune: str | None,
            covers: tuple[str, ...] = ()) -> list[MediationPlace]:
    """The places of ``commune``, then of its intercommunality, then of those ``covers``
    names; none when the commune is unknown."""
    home = territory.commune(commune) if commune else None
    if home is None:
        return []
    rank = {home.epci: 1, **{epci: 2 for epci in covers if epci != home.epci}}

    def distance(place: MediationPlace) -> int | None:
        if place.commune == home.insee:
            return 0
        other = territory.commune(place.commune)
        return rank.get(other.epci) if other is not None else None

    ranked = [(d, p.name, p) for p in places if (d := distance(p)) is not None]
    return [p for _d, _name, p in sorted(ranked, key=lambda r: (r[0], r[1]))][:SHOWN]


async def help_nearby(session: Session, action: act.HelpNearby) -> None:
    """The nearest help places, each open now or when it next opens, then the menu."""
    beneficiary = await joined(session)
    uow, territory, now, tz = session.uow, session.ctx.territory, session.now, session.ctx.tz
    place = await uow.places.get(beneficiary.place_id) if beneficiary.place_id else None
    found = nearest(await uow.coordination.mediation_places(), territory,
                    place.commune if place else None, place.covers_epci if place else ())
    lines = []
    for found_place in found:
        hours = hours_of(found_place.osm_hours) if found_place.osm_hours else None
        lines.append(ui.help_place(found_place.name, found_place.address,
                                   commune_name(territory, found_place.commune),
                                   ui.open_status(hours, now, tz) if hours else None))
    texts = ui.help_places(lines, place.name if place else None)
    session.reply(ui.menu(beneficiary, texts), action_menu=True)


def feature(env: Env) -> Feature:
    """The help places near a beneficiary."""
    return Feature(name="beneficiary_nearby",
                   actions={act.HelpNearby: help_nearby})
