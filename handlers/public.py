"""What the network's public pages show, read from storage: a certificate's check, the places,
the figures. Platform-free values (texts are message ids); ``bot/web.py`` renders them as
HTML in the reader's language.

Nothing here names a person: a certificate's check gives the lot's reference, its media,
methods and level, the day and the organisations that did the work, never the donor or an
operator's name; the figures are those of the coordinators, small counts masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flows import report as rp
from flows.coordination import hours_of
from flows.erasure import LEVEL_LABELS, METHOD_LABELS, NIST_LABELS, Result, nist_category
from flows.opening_hours import describe
from flows.ports import UnitOfWork
from flows.records import Place, PlaceKind
from flows.report import Indicator, Report
from flows.territory import Territory
from flows.text import Msg, _, verbatim
from handlers.certificates import latest_per_medium
from handlers.coord_places import mednum_csv, open_text
from handlers.donations import normalize_code
from handlers.reports import load_report

# --- A certificate's check -------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateCheck:
    """A genuine certificate as anyone may read it: nothing personal."""

    code: str
    reference: str
    issued_on: date
    """The day it was issued, in the network's time zone."""
    media: int
    erased: int
    destroyed: int
    withdrawn: int
    """Media that failed and were taken out of reuse."""
    methods: tuple[Msg, ...]
    """Each method used, with its NIST SP 800-88 category."""
    level: Msg
    organisations: tuple[str, ...]
    """The organisations that erased the media (their own names are not shown)."""
    issuer: str
    """The organisation that issued the certificate."""


def certificate_code(text: str) -> str:
    """A code as read in an address, in the stored form; "" when it cannot be one."""
    return normalize_code(text) if len(text) <= 40 else ""


async def check_certificate(uow: UnitOfWork, code: str, tz: ZoneInfo) -> CertificateCheck | None:
    """The check of the certificate ``code`` (stored form), or None when none has it (or its
    proofs were deleted, five years on)."""
    certificate = await uow.lots.certificate_by_code(code)
    if certificate is None:
        return None
    lot = await uow.lots.get(certificate.lot_id)
    if lot is None or lot.proofs_purged_at is not None:
        return None
    media = latest_per_medium(await uow.lots.erasures(lot.id))
    methods = tuple(dict.fromkeys(
        _("{method} — catégorie {nist}", method=METHOD_LABELS[r.method],
          nist=NIST_LABELS[nist_category(r.method)]) for r in media))
    destroyed = sum(1 for r in media if r.result is Result.DESTROYED)
    withdrawn = sum(1 for r in media if r.result is Result.FAILED)
    organisations = tuple(dict.fromkeys(r.signatory.organisation for r in media
                                        if r.signatory.organisation))
    return CertificateCheck(
        code=certificate.code, reference=certificate.reference,
        issued_on=certificate.issued_at.astimezone(tz).date(), media=certificate.media,
        erased=len(media) - destroyed - withdrawn, destroyed=destroyed, withdrawn=withdrawn,
        methods=methods, level=LEVEL_LABELS[lot.level], organisations=organisations,
        issuer=certificate.signatory.organisation)


# --- The places ------------------------------------------------------------------------------


WHAT_THEY_DO: dict[PlaceKind, Msg] = {
    PlaceKind.HUB: _("Reçoit les dons de matériel, remet les ordinateurs reconditionnés aux "
                     "personnes orientées par un·e accompagnant·e et aide à les prendre en "
                     "main."),
    PlaceKind.RELAY: _("Remet les ordinateurs reconditionnés aux personnes orientées par un·e "
                       "accompagnant·e et aide à les prendre en main."),
    PlaceKind.RECONDITIONER: _("Efface les données des appareils donnés, les répare et les "
                               "prépare pour une seconde vie."),
    PlaceKind.COLLECTION: _("Reçoit les dons de matériel informatique."),
}
"""A place's work in plain words, for the public."""


@dataclass(frozen=True)
class PublicPlace:
    """A place as the public page shows it."""

    name: str
    does: Msg
    address: str
    """Street, then postal code and commune."""
    hours: Msg | None
    """The opening hours in words (None: not given)."""
    open_now: bool | None
    """None when the hours are not known in a form the bot reads."""
    status: Msg | None
    """Open now until when, or closed and when it opens next."""
    also_serves: tuple[str, ...]


@dataclass(frozen=True)
class Area:
    """An intercommunality and its places."""

    name: str
    places: tuple[PublicPlace, ...]


def public_place(place: Place, territory: Territory, now: datetime, tz: ZoneInfo
                 ) -> PublicPlace:
    """What the public page says of ``place`` at ``now``."""
    commune = territory.commune(place.commune)
    town = f"{commune.postal_codes[0]} {commune.name}" if commune and commune.postal_codes \
        else commune.name if commune else place.commune
    address = ", ".join(part for part in (place.address.strip(), town) if part)
    hours = hours_of(place.osm_hours)
    described: Msg | None
    if hours is not None:
        described = describe(hours)
    elif place.opening_hours.strip():
        described = verbatim(place.opening_hours.strip())
    else:
        described = None
    own = commune.epci if commune else ""
    return PublicPlace(
        name=place.name, does=WHAT_THEY_DO[place.kind], address=address, hours=described,
        open_now=hours.is_open(now, tz) if hours is not None else None,
        status=open_text(hours, now, tz) if hours is not None else None,
        also_serves=tuple(e.name for code in place.covers_epci if code != own
                          and (e := territory.epci(code)) is not None))


async def places(uow: UnitOfWork, territory: Territory, now: datetime, tz: ZoneInfo
                 ) -> list[Area]:
    """The network's open places by intercommunality (by name), each with what it does."""
    by_area: dict[str, list[PublicPlace]] = {}
    for managed in await uow.coordination.places():
        if not managed.active:
            continue
        commune = territory.commune(managed.place.commune)
        epci = territory.epci(commune.epci) if commune else None
        area = epci.name if epci else ""
        by_area.setdefault(area, []).append(public_place(managed.place, territory, now, tz))
    return [Area(name, tuple(sorted(found, key=lambda p: p.name.casefold())))
            for name, found in sorted(by_area.items(), key=lambda item: item[0].casefold())]


async def places_csv(uow: UnitOfWork, territory: Territory, now: datetime, tz: ZoneInfo
                     ) -> bytes:
    """The open places in the national schema of mediation places (as coordinators export)."""
    return mednum_csv(await uow.coordination.places(), territory, now, tz)


# --- The figures -----------------------------------------------------------------------------


SHOWN: tuple[Indicator, ...] = tuple(Indicator)


@dataclass(frozen=True)
class Row:
    """One line of a figures table: what is counted and the count as shown ("< 5")."""

    label: Msg
    value: str


@dataclass(frozen=True)
class AreaFigures:
    """The twelve months of one intercommunality (or of the network)."""

    name: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Figures:
    """The public figures: the same numbers as the coordinators', small counts masked."""

    since: date
    network: AreaFigures
    areas: tuple[AreaFigures, ...]
    report: Report


def _rows(report: Report, epci: str | None) -> tuple[Row, ...]:
    rows = [Row(rp.LABELS[i], rp.shown(report.count(i, None, epci))) for i in SHOWN]
    rows.append(Row(_("Demandes en liste d'attente aujourd'hui"),
                    rp.shown(report.waiting_now(epci))))
    return tuple(rows)


async def figures(uow: UnitOfWork, territory: Territory, now: datetime, tz: ZoneInfo
                  ) -> Figures:
    """The last twelve months, for the network and per intercommunality that had any
    activity."""
    return figures_of(await load_report(uow, now, tz), territory)


def figures_of(report: Report, territory: Territory) -> Figures:
    """:func:`figures` of a report already read."""
    names = {e.siren: e.name for e in territory.epcis}
    areas = [AreaFigures(names.get(e, e), _rows(report, e)) for e in report.epcis
             if e and (any(report.count(i, None, e) for i in Indicator) or report.waiting_now(e))]
    return Figures(rp.first_day(report.months[0]), AreaFigures("", _rows(report, None)),
                   tuple(sorted(areas, key=lambda a: a.name.casefold())), report)
