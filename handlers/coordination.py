"""Coordinators run the network from the chat: accesses and referents, places, catalogue and
prices, workshop series, messages to prescribers, figures, and the audit log.

Every ``co:`` button checks that the user is a coordinator (the referents' own queue
excepted) and that its target still exists: a forged or stale button does nothing. Accesses
live in ``coord_access``, places in ``coord_places``, the catalogue in ``coord_catalogue``,
files sent in ``coord_import``, the figures in ``reports``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows import coord_flows as cf
from flows.audit import entry_line
from flows.coordination import series_starts
from flows.csv_import import write_csv
from flows.messages import Attachment, Choice
from flows.ports import Storage, UnitOfWork
from flows.records import PlaceId, User
from flows.text import When, _, _n, verbatim
from flows.workshops import topic_label
from handlers import coord_catalogue as cat
from handlers import coord_places as places
from handlers import reports
from handlers.coord_access import (
    ROLE_FILTERS,
    access_list,
    member_action,
    number_of,
    referent_queue,
)
from handlers.coord_import import import_help, on_file
from handlers.coord_places import CSV, titled
from handlers.referents import is_referent
from handlers.session import Feature, Job, Session

log = logging.getLogger(__name__)

StartFlowWith = Callable[[Session, str, dict[str, Any] | None], Awaitable[None]]

AUDIT_SHOWN = 20
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _refuse(session: Session) -> None:
    log.warning("%s tried a coordination action", session.user.key)
    session.say(_("Cette action est réservée à la coordination du réseau."))


async def coordination_choices(session: Session) -> list[Choice]:
    """The entries of the professional space for coordinators and structure referents."""
    if session.user.is_coordinator:
        return [Choice("co:menu", _("Coordination du réseau"))]
    if await is_referent(session):
        return [Choice("co:ref", _("Demandes d'accès de ma structure"))]
    return []


def menu(session: Session) -> None:
    """The coordination menu."""
    session.say(_("Coordination du réseau. Que voulez-vous faire ?"), choices=[
        Choice("co:acc", _("Accès et comptes")),
        Choice("co:pl", _("Lieux")),
        Choice("co:cat", _("Catalogue, stock et prix")),
        Choice("co:ser", _("Programmer une série d'ateliers")),
        Choice("co:bc", _("Écrire aux accompagnant·es")),
        Choice("co:fig", _("Chiffres d'activité")),
        Choice("co:aud", _("Journal des actions sensibles")),
        Choice("co:imp", _("Importer un fichier CSV")),
    ], action_menu=True)


# --- The audit log -------------------------------------------------------------------------


async def audit_log(session: Session) -> None:
    """The latest sensitive actions."""
    entries = await session.uow.audit.recent(AUDIT_SHOWN)
    session.say(titled(_("Dernières actions sensibles :"),
                       [entry_line(e) for e in entries] or [_("aucune")]),
                choices=[Choice("co:aud:csv", _("Journal complet (CSV)"))], action_menu=True)


async def audit_csv(session: Session, tz: ZoneInfo) -> None:
    """The whole log kept, as CSV."""
    entries = await session.uow.audit.since(EPOCH)
    t = session.ctx.translate
    data = write_csv([t(_("Date")), t(_("Par")), t(_("Action")), t(_("Objet")), t(_("Détail"))],
                     ((e.at.astimezone(tz).isoformat(timespec="minutes"), e.actor or "",
                       e.action.value, e.subject, e.detail) for e in entries))
    session.send(session.user.key, [_n("Journal : {n} action.", "Journal : {n} actions.",
                                       len(entries))],
                 attachment=Attachment("journal.csv", CSV, data))


# --- Series of workshops and messages ------------------------------------------------------


async def on_series(session: Session, effect: cf.AddSeries, tz: ZoneInfo) -> None:
    """One session per topic, at the same local time every week or two."""
    uow = session.uow
    place = await uow.places.get(PlaceId(effect.place_id))
    if place is None:
        session.say(_("Ce lieu n'existe plus."))
        return
    starts = series_starts(date.fromisoformat(effect.first_day), effect.at, effect.rhythm,
                           len(effect.topics), tz)
    items = []
    for topic, start in zip(effect.topics, starts, strict=True):
        await uow.workshops.add(place.id, topic, start, effect.minutes, effect.seats)
        items.append(_("• {when} : {topic}", when=When(start), topic=topic_label(topic)))
    log.info("%s workshop sessions added at place %s by %s", len(starts), place.id,
             session.user.key)
    session.say(titled(_n("{n} séance programmée à {place} :",
                          "{n} séances programmées à {place} :", len(starts),
                          place=verbatim(place.name)), items),
                choices=[Choice("co:menu", _("Coordination du réseau"))], action_menu=True)


async def on_broadcast(session: Session, effect: cf.Broadcast) -> None:
    """The message goes to each prescriber through the outbox, in this transaction."""
    recipients = [key for key in await session.uow.coordination.prescribers(effect.epci)
                  if key != session.user.key]
    for key in recipients:
        session.send(key, [_("Message de la coordination du réseau :"), verbatim(effect.text)])
    log.info("broadcast by %s to %s prescribers", session.user.key, len(recipients))
    if not recipients:
        session.say(_("Aucun·e accompagnant·e validé·e ne correspond : rien n'a été envoyé."))
        return
    session.say(_n("Message envoyé à {n} accompagnant·e.", "Message envoyé à {n} "
                   "accompagnant·es.", len(recipients)),
                choices=[Choice("co:menu", _("Coordination du réseau"))], action_menu=True)


# --- Facts, jobs, composition --------------------------------------------------------------


async def load_facts(uow: UnitOfWork, user: User) -> Mapping[str, Any]:
    """The open places and the kinds, for the coordination steps."""
    managed = await uow.coordination.places()
    return {"coord": cf.CoordFacts([m.place for m in managed if m.active],
                                   await uow.catalogue.kinds())}


async def purge_audit(storage: Storage, now: datetime) -> int:
    """Delete audit entries kept as long as the records they speak of."""
    async with storage.transaction() as uow:
        return await uow.audit.purge(now)


AUDIT_JOB = Job("coordination.audit_purge", timedelta(days=1), purge_audit)

FLOW_STARTS = {"co:pl:add": cf.PLACE_ADD, "co:cat:kind": cf.KIND_ADD,
               "co:cat:stock": cf.STOCK_SET, "co:cat:price": cf.PRICE_SET,
               "co:cat:rule": cf.RULE_SET, "co:ser": cf.SERIES, "co:bc": cf.BROADCAST}


def coordination_feature(start_flow: StartFlowWith, tz: ZoneInfo) -> Feature:
    """The coordination feature; the flow starter and the network's time zone come from
    ``bot/``."""

    async def act(session: Session, choice_id: str) -> None:
        """Every ``co:`` button."""
        if choice_id == "co:ref":
            await referent_queue(session)
            return
        if not session.user.is_coordinator:
            _refuse(session)
            return
        if choice_id in FLOW_STARTS:
            await start_flow(session, FLOW_STARTS[choice_id], None)
            return
        match choice_id.split(":")[1:]:
            case ["menu"]:
                menu(session)
            case ["acc"]:
                await access_list(session, "all")
            case ["al", role_filter] if role_filter in ROLE_FILTERS:
                await access_list(session, role_filter)
            case [verb, number, *rest] if verb in ("m", "mr", "mrr", "mp", "mpp", "mf", "mv",
                                                   "mvy") and number_of(number) is not None:
                member = await session.uow.coordination.member(int(number))
                if member is None:
                    session.say(_("Ce compte n'a plus d'accès professionnel."))
                    return
                await member_action(session, verb, member, rest[0] if rest else "")
            case ["pl"]:
                await places.places_menu(session, tz)
            case ["pl", "csv"]:
                await places.export_places(session)
            case ["pl", "mn"]:
                await places.export_mednum(session)
            case ["pl", "e", number] if number_of(number) is not None:
                if await session.uow.coordination.place(PlaceId(int(number))) is None:
                    session.say(_("Ce lieu n'existe plus."))
                    return
                await start_flow(session, cf.PLACE_EDIT, {cf.PLACE_ID: int(number)})
            case ["pl", number] if number_of(number) is not None:
                await places.place_detail(session, PlaceId(int(number)), tz)
            case ["mn"]:
                await places.directory(session, tz)
            case ["cat"]:
                await cat.catalogue_menu(session)
            case ["cat", "x", what]:
                await cat.export(session, what)
            case ["fig"]:
                await reports.figures(session, tz)
            case ["fig", "csv"]:
                await reports.figures_csv(session, tz)
            case ["aud"]:
                await audit_log(session)
            case ["aud", "csv"]:
                await audit_csv(session, tz)
            case ["imp"]:
                session.say(import_help())
            case _:
                session.say(_("Ce bouton n'est plus valable."))

    async def series(session: Session, effect: cf.AddSeries) -> None:
        await on_series(session, effect, tz)

    def guarded(handler: Callable[[Session, Any], Awaitable[None]]
                ) -> Callable[[Session, Any], Awaitable[None]]:
        """Effects of coordination flows are carried out for coordinators only."""
        async def run(session: Session, effect: Any) -> None:
            if not session.user.is_coordinator:
                _refuse(session)
                return
            await handler(session, effect)
        return run

    async def file(session: Session, attachment: Attachment) -> bool:
        return await on_file(session, attachment)

    async def command(session: Session, text: str) -> None:
        """``/coordination``: the menu, leaving any conversation (as "menu" does)."""
        if not session.user.is_coordinator:
            _refuse(session)
            return
        await session.uow.conversations.clear(session.user.key)
        menu(session)

    return Feature(
        name="coordination",
        flows=cf.FLOWS,
        actions={"co:": act},
        effects={
            cf.SavePlace: guarded(places.on_save_place),
            cf.EditPlace: guarded(places.on_edit_place),
            cf.SaveKind: guarded(cat.on_save_kind),
            cf.SetStock: guarded(cat.on_set_stock),
            cf.SetPrice: guarded(cat.on_set_price),
            cf.SetRule: guarded(cat.on_set_rule),
            cf.AddSeries: guarded(series),
            cf.Broadcast: guarded(on_broadcast),
        },
        facts={name: load_facts for name in (cf.STOCK_SET, cf.PRICE_SET, cf.SERIES)},
        commands={"/coordination": command, "coordination": command},
        jobs=[AUDIT_JOB],
        files=[file],
    )


__all__ = ["coordination_choices", "coordination_feature"]
