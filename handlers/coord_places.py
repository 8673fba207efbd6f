"""Coordinators run the places: list, add and edit in chat, import and export as CSV, in the
network's own columns or in the national schema of digital-mediation places; opening hours
say whether a place is open now and when it next opens."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flows import actions as act
from flows import mednum
from flows.coord_flows import PE, PLACE_KIND_LABELS, PLACE_KIND_SHORT, EditPlace, SavePlace
from flows.coordination import ManagedPlace, PlaceChange, hours_of
from flows.csv_import import PlaceExport, PlaceRow, places_csv
from flows.mednum import MednumImport
from flows.messages import Attachment, Choice
from flows.opening_hours import OpeningHours, describe
from flows.plain import problems as plain_problems
from flows.records import Place, PlaceId, PlaceKind
from flows.territory import Territory
from flows.text import Lines, Msg, When, _, verbatim
from handlers.session import Session

log = logging.getLogger(__name__)

CSV = "text/csv"
NETWORK_SOURCE = "Filière de réemploi solidaire du numérique des Hautes-Alpes"
"""The ``source`` and ``structure_parente`` of the network's places in the national schema."""
ID_PREFIX = "reemploi-numerique-05-lieu"
DIRECTORY_SHOWN = 10
PLACES_SHOWN = 20
"""Buttons for at most this many places (a chat list); the CSV export has them all."""


def lines(items: Sequence[Msg]) -> Msg:
    """Several messages, one per line."""
    return Msg("{lines}", {"lines": Lines(tuple(items))})


def titled(head: Msg, items: Sequence[Msg]) -> Msg:
    """A heading and its lines, in one paragraph."""
    return Msg("{head}\n{lines}", {"head": head, "lines": Lines(tuple(items))})


def open_text(hours: OpeningHours, now: datetime, tz: ZoneInfo) -> Msg:
    """Open now (until when), or closed and when it next opens."""
    if hours.is_open(now, tz):
        closes = hours.closes_at(now, tz)
        if closes is not None:
            return _("ouvert maintenant, jusqu'à {time}", time=When(closes))
        return _("ouvert maintenant")
    opens = hours.next_opening(now, tz)
    if opens is None:
        return _("fermé")
    return _("fermé, ouvre {when}", when=When(opens))


def hours_text(osm: str, plain: str, now: datetime, tz: ZoneInfo) -> Msg:
    """A place's hours in the reader's words, with whether it is open now."""
    hours = hours_of(osm)
    if hours is None:
        return verbatim(plain) if plain else _("horaires non renseignés")
    return _("{hours} ({status})", hours=describe(hours), status=open_text(hours, now, tz))


def place_hours(place: Place, now: datetime, tz: ZoneInfo) -> Msg:
    """The hours of a network place (OSM if it has them, else its free text)."""
    return hours_text(place.osm_hours, place.opening_hours, now, tz)


def _commune(territory: Territory, insee: str) -> str:
    commune = territory.commune(insee)
    return commune.name if commune else insee


def _epcis(territory: Territory, codes: Sequence[str]) -> str:
    names = [e.name for c in codes if (e := territory.epci(c)) is not None]
    return ", ".join(names) or "-"


# --- Seeing the places ---------------------------------------------------------------------


async def places_menu(session: Session, tz: ZoneInfo) -> None:
    """Every place with its kind, commune and whether it is open now; what can be done."""
    managed = await session.uow.coordination.places()
    territory = session.ctx.territory
    items = []
    for m in managed:
        line = _("• {name} ({kind}, {commune}) : {hours}", name=verbatim(m.place.name),
                 kind=PLACE_KIND_SHORT[m.place.kind],
                 commune=_commune(territory, m.place.commune),
                 hours=place_hours(m.place, session.now, tz))
        items.append(line if m.active else _("{line} [fermé]", line=line))
    choices = [Choice(act.AddPlace().pack(), _("Ajouter un lieu"))]
    choices += [Choice(act.PlaceDetail(m.place.id).pack(),
                       _("Voir : {name}", name=verbatim(m.place.name)))
                for m in managed[:PLACES_SHOWN]]
    choices += [Choice(act.ExportPlaces().pack(), _("Exporter les lieux (CSV)")),
                Choice(act.ExportMednum().pack(), _("Exporter au format national MedNum")),
                Choice(act.Directory().pack(), _("Annuaire national des lieux de médiation"))]
    texts = [titled(_("Lieux du réseau :"), items) if items
             else _("Aucun lieu n'est encore enregistré.")]
    texts.append(_("Pour en ajouter ou modifier plusieurs, envoyez le fichier CSV exporté "
                   "après l'avoir complété."))
    session.say(*texts, choices=choices, action_menu=True)


async def place_detail(session: Session, place_id: PlaceId, tz: ZoneInfo) -> None:
    """Everything about one place, its staff and its remote-help procedure."""
    uow = session.uow
    managed = await uow.coordination.place(place_id)
    if managed is None:
        session.say(_("Ce lieu n'existe plus."))
        return
    place, territory = managed.place, session.ctx.territory
    staff = [m for m in await uow.coordination.members() if m.place_id == place.id]
    names = [m.request.contact_name if m.request else m.user for m in staff]
    remote = await uow.help.remote_help(place.id)
    texts = [_("{name}\nType : {kind}\nAdresse : {address}, {commune}\nHoraires : {hours}\n"
               "Dessert aussi : {covers}\nSIRET : {siret}\nÉtat : {state}",
               name=verbatim(place.name), kind=PLACE_KIND_LABELS[place.kind],
               address=verbatim(place.address or "-"),
               commune=_commune(territory, place.commune),
               hours=place_hours(place, session.now, tz),
               covers=_epcis(territory, place.covers_epci),
               siret=managed.siret or "-",
               state=_("ouvert au réseau") if managed.active else _("fermé"))]
    texts.append(_("Personnel rattaché ({n}) : {names}", n=len(names),
                   names=", ".join(names) or "-"))
    texts.append(_("Aide à distance : {text}", text=verbatim(
        f"{remote.instructions} {remote.link}".strip() if remote else "-")))
    unclear = plain_problems(remote.instructions) if remote else []
    if unclear:  # written before the editor checked it, or imported from a file
        texts.append(titled(_("Aide à distance, à simplifier pour les bénéficiaires :"),
                            [p.say() for p in unclear]))
    session.say(*texts, choices=[Choice(act.EditPlace(place.id).pack(), _("Modifier ce lieu")),
                                 Choice(act.PlacesMenu().pack(), _("Tous les lieux"))],
                                     action_menu=True)


# --- Adding and editing ---------------------------------------------------------------------


async def on_save_place(session: Session, effect: SavePlace) -> None:
    """A new place, from the add conversation."""
    change = PlaceChange(None, effect.name, effect.kind, effect.commune, effect.address,
                         effect.osm_hours, effect.covers)
    place_id = await session.uow.coordination.save_place(change, session.now)
    log.info("place %s added by %s", place_id, session.user.key)
    session.say(_("Lieu ajouté : {name}.", name=verbatim(effect.name)),
                choices=[Choice(act.PlaceDetail(place_id).pack(), _("Voir ce lieu")),
                         Choice(act.PlacesMenu().pack(), _("Tous les lieux"))], action_menu=True)


async def on_edit_place(session: Session, effect: EditPlace) -> None:
    """One change to a place, from the edit conversation."""
    uow = session.uow
    managed = await uow.coordination.place(PlaceId(effect.place_id))
    if managed is None:
        session.say(_("Ce lieu n'existe plus."))
        return
    change = PlaceChange.of(managed)
    match effect.field:
        case PE.NAME:
            change = replace(change, name=effect.value)
        case PE.KIND:
            change = replace(change, kind=PlaceKind(effect.value))
        case PE.COMMUNE:
            change = replace(change, commune=effect.value)
        case PE.ADDRESS:
            change = replace(change, address=effect.value)
        case PE.HOURS:
            change = replace(change, osm_hours=effect.value or "")
        case PE.COVERS:
            change = replace(change, covers=tuple(effect.value or ()))
        case PE.ACTIVE:
            change = replace(change, active=effect.value == "open")
        case PE.HELP_TEXT:
            await uow.help.set_remote_help(managed.place.id, effect.value, effect.extra or "")
    await uow.coordination.save_place(change, session.now)
    log.info("place %s edited by %s (%s)", managed.place.id, session.user.key,
             effect.field.value)
    texts = [_("C'est enregistré pour {name}.", name=verbatim(change.name))]
    if effect.field is PE.ACTIVE and not change.active:
        texts.append(_("Le lieu ne reçoit plus de nouvelles demandes ; celles en cours restent "
                       "à traiter."))
    session.say(*texts, choices=[Choice(act.PlaceDetail(managed.place.id).pack(),
                                        _("Voir ce lieu")),
                                 Choice(act.PlacesMenu().pack(), _("Tous les lieux"))],
                                     action_menu=True)


async def apply_place_rows(session: Session, rows: Sequence[PlaceRow]) -> tuple[int, int]:
    """Save the checked rows of a places file; returns (created, updated)."""
    uow = session.uow
    existing = {m.place.id: m for m in await uow.coordination.places()}
    created = updated = 0
    for row in rows:
        legacy = existing[PlaceId(row.id)].place.opening_hours if row.id is not None else ""
        change = PlaceChange(PlaceId(row.id) if row.id is not None else None, row.name, row.kind,
                             row.commune, row.address, row.osm_hours, row.covers, row.siret,
                             row.active, legacy)
        place_id = await uow.coordination.save_place(change, session.now)
        if row.help_text:
            await uow.help.set_remote_help(place_id, row.help_text, row.help_link)
        created, updated = (created + 1, updated) if row.id is None else (created, updated + 1)
    return created, updated


# --- Exports --------------------------------------------------------------------------------


async def export_places(session: Session) -> None:
    """The places as the network's CSV, to edit and send back."""
    uow = session.uow
    managed = await uow.coordination.places()
    exports = []
    for m in managed:
        remote = await uow.help.remote_help(m.place.id)
        exports.append(PlaceExport(m.place, m.active, m.siret,
                                   remote.instructions if remote else "",
                                   remote.link if remote else ""))
    data = places_csv(exports)
    session.send(session.user.key, [_("Les lieux du réseau ({n}). Modifiez le fichier puis "
                                      "renvoyez-le : une ligne sans id crée un lieu.",
                                      n=len(exports))],
                 attachment=Attachment("lieux.csv", CSV, data))


def mednum_csv(managed: Sequence[ManagedPlace], territory: Territory, now: datetime,
               tz: ZoneInfo) -> bytes:
    """The open ones of ``managed`` in the national schema of mediation places."""
    return mednum.export(((m.place, m.siret, (m.updated_at or now).astimezone(tz).date())
                          for m in managed if m.active),
                         territory, source=NETWORK_SOURCE, id_prefix=ID_PREFIX)


async def export_mednum(session: Session) -> None:
    """The network's open places in the national schema, to join the national cartography."""
    managed = [m for m in await session.uow.coordination.places() if m.active]
    ctx = session.ctx
    data = mednum_csv(managed, ctx.territory, ctx.now, ctx.tz)
    session.send(session.user.key, [_(
        "Les {n} lieux ouverts du réseau au format national des lieux de médiation "
        "numérique (standard-mediation-num {version}). Les lieux sans SIRET portent le pivot "
        "00000000000000 : complétez-le avant de publier.", n=len(managed),
        version=mednum.VERSION)], attachment=Attachment("lieux-mednum.csv", CSV, data))


# --- The national directory of mediation places --------------------------------------------


async def apply_mednum(session: Session, result: MednumImport) -> Msg:
    """Save the territory's places of a national file; says what was done."""
    new = await session.uow.coordination.save_mediation(result.places, session.now)
    log.info("%s mediation places imported by %s", len(result.places), session.user.key)
    return _("Annuaire national : {n} lieux du territoire enregistrés ({new} nouveaux), {out} "
             "lignes hors du territoire ignorées.", n=len(result.places), new=new,
             out=result.outside)


async def directory(session: Session, tz: ZoneInfo) -> None:
    """The mediation places of the territory, partners selling equipment first."""
    places = await session.uow.coordination.mediation_places()
    if not places:
        session.say(_("L'annuaire est vide. Envoyez le fichier CSV des lieux de médiation "
                      "numérique (cartographie nationale, schéma MedNum) pour le remplir."),
                    choices=[Choice(act.PlacesMenu().pack(), _("Tous les lieux"))],
                    action_menu=True)
        return
    territory = session.ctx.territory
    partners = [p for p in places if p.sells_equipment]
    shown = (partners + [p for p in places if not p.sells_equipment])[:DIRECTORY_SHOWN]
    items = [_("• {name}, {commune} : {hours}", name=verbatim(p.name),
               commune=_commune(territory, p.commune),
               hours=hours_text(p.osm_hours, p.osm_hours, session.now, tz)) for p in shown]
    session.say(titled(_("Annuaire national : {n} lieux de médiation sur le territoire, dont "
                         "{m} qui vendent du matériel à prix solidaire.", n=len(places),
                         m=len(partners)), items),
                choices=[Choice(act.PlacesMenu().pack(), _("Tous les lieux"))], action_menu=True)
