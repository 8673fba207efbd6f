"""Coordinators run the network from the chat: accesses and referents, places, catalogue and
prices, workshop series, messages to prescribers, figures, and the audit log.

Who may press each button is declared in ``flows/actions.py`` and checked by the router
before these handlers run. Accesses
live in ``coord_access``, places in ``coord_places``, the catalogue in ``coord_catalogue``,
files sent in ``coord_import``, the figures in ``reports``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows import actions as act
from flows import coord_flows as cf
from flows.action_codec import Action
from flows.audit import entry_line
from flows.coordination import series_starts
from flows.csv_import import write_csv
from flows.messages import Attachment, Choice, Priority
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
    referent_queue,
)
from handlers.coord_import import import_help, on_file
from handlers.coord_places import CSV, titled
from handlers.referents import is_referent
from handlers.session import Env, Feature, Job, Session

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
        return [Choice(act.CoordinationMenu().pack(), _("Coordination du réseau"))]
    if await is_referent(session):
        return [Choice(act.StructureQueue().pack(), _("Demandes d'accès de ma structure"))]
    return []


def menu(session: Session) -> None:
    """The coordination menu."""
    session.say(_("Coordination du réseau. Que voulez-vous faire ?"), choices=[
        Choice(act.Accounts().pack(), _("Accès et comptes")),
        Choice(act.PlacesMenu().pack(), _("Lieux")),
        Choice(act.CatalogueMenu().pack(), _("Catalogue, stock et prix")),
        Choice(act.Series().pack(), _("Programmer une série d'ateliers")),
        Choice(act.Broadcast().pack(), _("Écrire aux accompagnant·es")),
        Choice(act.Figures().pack(), _("Chiffres d'activité")),
        Choice(act.FundView().pack(), _("Fonds de solidarité")),
        Choice(act.AuditLog().pack(), _("Journal des actions sensibles")),
        Choice(act.ImportHelp().pack(), _("Importer un fichier CSV")),
    ], action_menu=True)


# --- The audit log -------------------------------------------------------------------------


async def audit_log(session: Session) -> None:
    """The latest sensitive actions."""
    entries = await session.uow.audit.recent(AUDIT_SHOWN)
    session.say(titled(_("Dernières actions sensibles :"),
                       [entry_line(e) for e in entries] or [_("aucune")]),
                choices=[Choice(act.AuditCsv().pack(), _("Journal complet (CSV)"))],
                action_menu=True)


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
                choices=[Choice(act.CoordinationMenu().pack(), _("Coordination du réseau"))],
                action_menu=True)


async def on_broadcast(session: Session, effect: cf.Broadcast) -> None:
    """The message goes to each prescriber through the outbox, in this transaction; those
    who blocked the bot are left out, and the sender told how many."""
    matching = [key for key in await session.uow.coordination.prescribers(effect.epci)
                if key != session.user.key]
    blocked = await session.uow.reach.blocked_among(matching)
    recipients = [key for key in matching if key not in blocked]
    for key in recipients:
        session.send(key, [_("Message de la coordination du réseau :"), verbatim(effect.text)],
                     priority=Priority.BULK)  # after everyone's replies and notices
    log.info("broadcast by %s to %s prescribers (%s blocked the bot)", session.user.key,
             len(recipients), len(blocked))
    menu = [Choice(act.CoordinationMenu().pack(), _("Coordination du réseau"))]
    if not matching:
        session.say(_("Aucun·e accompagnant·e validé·e ne correspond : rien n'a été envoyé."))
        return
    texts = [_n("Message envoyé à {n} accompagnant·e.", "Message envoyé à {n} "
                "accompagnant·es.", len(recipients))]
    if blocked:
        texts.append(_n("{n} autre a bloqué le bot et ne le recevra pas.",
                        "{n} autres ont bloqué le bot et ne le recevront pas.", len(blocked)))
    session.say(*texts, choices=menu, action_menu=True)


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

FLOW_STARTS: dict[type[Action], str] = {
    act.AddPlace: cf.PLACE_ADD, act.AddKind: cf.KIND_ADD,
    act.SetPrice: cf.PRICE_SET, act.SetRule: cf.RULE_SET, act.Series: cf.SERIES,
    act.Broadcast: cf.BROADCAST}


def feature(env: Env) -> Feature:
    """The coordination's menu, accounts, places, catalogue, figures and audit log."""
    tz = env.timezone

    async def start(session: Session, action: Action) -> None:
        await session.start_flow(FLOW_STARTS[type(action)])

    async def on_member(session: Session, action: Any) -> None:
        member = await session.uow.coordination.member(action.member)
        assert member is not None  # the router checked it exists
        match action:
            case act.MemberRoleSet(role=role):
                await member_action(session, "mrr", member, role.value)
            case act.MemberPlaceSet(place=place):
                await member_action(session, "mpp", member, str(place))
            case _:
                await member_action(session, MEMBER_VERBS[type(action)], member, "")

    async def on_place(session: Session, action: act.PlaceDetail | act.EditPlace) -> None:
        if isinstance(action, act.EditPlace):
            await session.start_flow(cf.PLACE_EDIT, {cf.PLACE_ID: action.place})
            return
        await places.place_detail(session, PlaceId(action.place), tz)

    async def act_on(session: Session, action: Action) -> None:
        """The coordination's buttons that name no record."""
        match action:
            case act.StructureQueue():
                await referent_queue(session)
            case act.CoordinationMenu():
                menu(session)
            case act.Accounts():
                await access_list(session, "all")
            case act.AccountsOf(role=role_filter) if role_filter in ROLE_FILTERS:
                await access_list(session, role_filter)
            case act.PlacesMenu():
                await places.places_menu(session, tz)
            case act.ExportPlaces():
                await places.export_places(session)
            case act.ExportMednum():
                await places.export_mednum(session)
            case act.Directory():
                await places.directory(session, tz)
            case act.CatalogueMenu():
                await cat.catalogue_menu(session)
            case act.ExportCatalogue(what=what):
                await cat.export(session, what)
            case act.Figures():
                await reports.figures(session, tz, env.money.mediation_cents_per_hour)
            case act.FiguresCsv():
                await reports.figures_csv(session, tz, env.money.mediation_cents_per_hour)
            case act.AuditLog():
                await audit_log(session)
            case act.AuditCsv():
                await audit_csv(session, tz)
            case act.ImportHelp():
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
        await session.uow.conversations.clear(session.user.key)
        menu(session)

    plain = (act.StructureQueue, act.CoordinationMenu, act.Accounts, act.AccountsOf,
             act.PlacesMenu, act.ExportPlaces, act.ExportMednum, act.Directory,
             act.CatalogueMenu, act.ExportCatalogue, act.Figures, act.FiguresCsv, act.AuditLog,
             act.AuditCsv, act.ImportHelp)
    return Feature(
        name="coordination",
        flows=cf.FLOWS,
        actions={**{kind: act_on for kind in plain}, **{kind: start for kind in FLOW_STARTS},
                 **{kind: on_member for kind in (*MEMBER_VERBS, act.MemberRoleSet,
                                                 act.MemberPlaceSet)},
                 act.PlaceDetail: on_place, act.EditPlace: on_place},
        effects={
            cf.SavePlace: guarded(places.on_save_place),
            cf.EditPlace: guarded(places.on_edit_place),
            cf.SaveKind: guarded(cat.on_save_kind),
            cf.SetPrice: guarded(cat.on_set_price),
            cf.SetRule: guarded(cat.on_set_rule),
            cf.AddSeries: guarded(series),
            cf.Broadcast: guarded(on_broadcast),
        },
        facts={name: load_facts for name in (cf.PRICE_SET, cf.SERIES)},
        commands={"coordination": command},
        jobs=[AUDIT_JOB],
        files=[file],
    )


MEMBER_VERBS: dict[type[Action], str] = {
    act.Member: "m", act.MemberRole: "mr", act.MemberPlace: "mp", act.NameReferent: "mf",
    act.Revoke: "mv", act.RevokeYes: "mvy"}
"""The account buttons without a value, by the verb ``member_action`` reads."""


__all__ = ["coordination_choices", "feature"]
