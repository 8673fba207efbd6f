"""What the after-donation service's modules share about a beneficiary.

Joining, bookings and help all end on the beneficiary's menu, say where a place is, offer the
same sessions (their place's first, then nearby) and plan reminders the same way; these rules
live here once so that ``handlers/joining.py``, ``bookings.py``, ``help_relay.py`` and
``beneficiary_jobs.py`` cannot drift apart. Settings come in as arguments (each module's
``feature(env)`` binds them); the territory comes from ``session.ctx`` (a job's from ``env``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flows import beneficiary as ui
from flows.messages import Reply
from flows.ports import UnitOfWork
from flows.records import Beneficiary, Place, PlaceId, Workshop
from flows.territory import Territory
from flows.text import Msg, _
from flows.workshops import LINUX_MINT_SERIES, ReminderPolicy, offer
from handlers.session import Session

UNKNOWN_BUTTON = _("Ce bouton n'est plus valable.")
OFFER_HORIZON = 50
"""How many upcoming sessions are read to choose the few offered."""


def commune_name(territory: Territory, insee: str) -> str:
    """The commune's name, or its INSEE code if the territory does not know it."""
    commune = territory.commune(insee)
    return commune.name if commune else insee


def where(territory: Territory, place: Place | None, tz: ZoneInfo) -> Msg:
    """Where a session takes place, as a beneficiary reads it."""
    return ui.where(place, commune_name(territory, place.commune) if place else "", tz)


def nearby(territory: Territory, places: Sequence[Place],
           home_id: PlaceId | None) -> list[PlaceId]:
    """Places in (or covering) the intercommunality of the beneficiary's place."""
    home_place = next((p for p in places if p.id == home_id), None)
    if home_place is None:
        return []
    commune = territory.commune(home_place.commune)
    epci = commune.epci if commune else None
    found = []
    for place in places:
        other = territory.commune(place.commune)
        if place.id != home_id and epci and (
            (other and other.epci == epci) or epci in place.covers_epci
        ):
            found.append(place.id)
    return found


async def joined(session: Session) -> Beneficiary:
    """The beneficiary who pressed a button of their menu (the router checked they joined)."""
    beneficiary = await session.uow.beneficiaries.get(session.user.key)
    assert beneficiary is not None
    return beneficiary


def show_menu(session: Session, beneficiary: Beneficiary, intro: Msg | None = None) -> None:
    """The beneficiary's menu, optionally after a line saying what just happened."""
    session.reply(ui.menu(beneficiary, intro), action_menu=True)


async def home(session: Session, beneficiary: Beneficiary, path_length: int) -> Reply:
    """A joined beneficiary's home: their path (counted from attendance) and their menu."""
    uow = session.uow
    attended = await uow.workshops.attended(beneficiary.key)
    booked = await uow.workshops.bookings_of(beneficiary.key, session.now)
    done = set(attended)
    to_take = next((t for t in LINUX_MINT_SERIES if t not in done), None)
    return ui.home(beneficiary, ui.path(len(attended), path_length,
                                        booked[0].workshop if booked else None, to_take))


async def offers(
    session: Session, beneficiary: Beneficiary, topic: str | None = None,
    declined: int | None = None,
) -> list[Workshop]:
    """The sessions this beneficiary may book now: their place first, then nearby; never
    the one they just said they cannot come to."""
    uow = session.uow
    places = await uow.places.all()
    near = nearby(session.ctx.territory, places, beneficiary.place_id)
    homes = [beneficiary.place_id] if beneficiary.place_id is not None else []
    upcoming = await uow.workshops.upcoming_at([*homes, *near], session.now, OFFER_HORIZON)
    mine = await uow.workshops.bookings_of(beneficiary.key, session.now)
    upcoming = [w for w in upcoming if w.id != declined]
    return offer(upcoming, session.now, home=beneficiary.place_id, nearby=near,
                 booked_ids=[b.workshop.id for b in mine], topic=topic)


async def plan_reminders(uow: UnitOfWork, beneficiary: Beneficiary, workshop: Workshop,
                         now: datetime, policy: ReminderPolicy) -> None:
    """The reminders of a session just booked, if the beneficiary accepts messages (and
    the bot has not stopped writing after two sessions missed)."""
    if beneficiary.reminders and beneficiary.paused_at is None:
        times = policy.times(workshop.starts_at, now)
        await uow.reminders.add(workshop.id, beneficiary.key, times)


async def set_consent(session: Session, beneficiary: Beneficiary, consent: bool,
                      policy: ReminderPolicy) -> None:
    """Yes/no to messages, changeable any time; reminders follow at once."""
    uow = session.uow
    await uow.beneficiaries.set_reminders(beneficiary.key, consent)
    await uow.reminders.drop_pending(beneficiary.key)
    if consent:
        granted = replace(beneficiary, reminders=True)
        for booking in await uow.workshops.bookings_of(beneficiary.key, session.now):
            await plan_reminders(uow, granted, booking.workshop, session.now, policy)


async def kit_texts(session: Session, beneficiary: Beneficiary,
                    booklet_url: str | None) -> list[Msg]:
    """The handover kit: booklet, places that help nearby, the workshop calendar."""
    territory = session.ctx.territory
    places = await session.uow.places.all()
    near = set(nearby(territory, places, beneficiary.place_id))
    lines = [ui.place_line(p, commune_name(territory, p.commune)) for p in places
             if p.id == beneficiary.place_id or p.id in near]
    return ui.kit(booklet_url, lines, await offers(session, beneficiary))
