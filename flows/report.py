"""The network's activity figures, per month and per intercommunality, for chat and funders.

What the field publishes (DOMAIN.md quotes Ordi Grand Ouest and the Banque du Numérique): lots
and items collected with their estimated weight, devices erased and reconditioned, requests,
devices handed over, beneficiaries, workshop seats, the waiting list, and the CO2e avoided.

Storage hands over anonymous dated events (a count, an intercommunality, a kind of device):
never who. Months are months of the network's local time. A cell counting 1 to 4 is shown as
"< 5" (primary statistical secrecy, as INSEE does: 0 is shown as it is, it reveals nobody);
a weight or CO2e computed from such a cell is masked too.

CO2e avoided counts one device handed over as one new device not manufactured (the usual
convention of reuse reports); the factors and weights below are data with their source, and
those that are estimates say so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from flows.csv_import import write_csv
from flows.text import Msg, _

MONTHS = 12
SMALL = 5
"""Counts from 1 to ``SMALL - 1`` are masked."""
MASK = "< 5"


class Indicator(StrEnum):
    """What is counted (also the column codes of the funders' CSV)."""

    LOTS = "lots"
    ITEMS = "items"
    ERASED = "erased"
    RECONDITIONED = "reconditioned"
    REQUESTS = "requests"
    HANDED_OVER = "handed_over"
    BENEFICIARIES = "beneficiaries"
    SEATS_BOOKED = "seats_booked"
    ATTENDED = "attended"
    """Seats taken by someone who came, as the place recorded it."""


LABELS: dict[Indicator, Msg] = {
    Indicator.LOTS: _("Lots collectés"),
    Indicator.ITEMS: _("Objets collectés"),
    Indicator.ERASED: _("Appareils effacés"),
    Indicator.RECONDITIONED: _("Appareils reconditionnés (mis en stock)"),
    Indicator.REQUESTS: _("Demandes de matériel"),
    Indicator.HANDED_OVER: _("Appareils remis"),
    Indicator.BENEFICIARIES: _("Bénéficiaires inscrits au service après don"),
    Indicator.SEATS_BOOKED: _("Places d'ateliers réservées"),
    Indicator.ATTENDED: _("Présences aux ateliers (notées par les lieux)"),
}


@dataclass(frozen=True)
class Event:
    """Something that happened, counted: when, in which intercommunality, how many, of what."""

    indicator: Indicator
    at: datetime
    epci: str
    count: int = 1
    kind: str = ""
    """A device category (items collected) or a catalogue kind (devices handed over)."""


# --- Factors: data, with their source ------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """A per-device figure and where it comes from (``assumed``: an estimate to confirm)."""

    value: float
    source: str
    assumed: bool = False


CO2E_AVOIDED_KG: dict[str, Factor] = {
    "laptop": Factor(156, "ADEME 2018, « Modélisation et évaluation du poids carbone de "
                          "produits de consommation et biens d'équipement » (ordinateur "
                          "portable, de la fabrication à la distribution)"),
    "desktop": Factor(250, "DINUM, MiNumEco « Allonger la durée de vie du matériel » : 212 à "
                           "296 kg CO2e pour fabriquer un ordinateur ; milieu de la fourchette "
                           "pour un poste fixe complet avec écran", assumed=True),
    "tablet": Factor(62, "ADEME, impactco2.fr (tablette classique, 61,9 kg CO2e)"),
}
"""Kilograms of CO2e avoided per device of a catalogue kind handed over."""

DEFAULT_CO2E = Factor(156, "type d'appareil sans facteur propre : compté comme un ordinateur "
                           "portable", assumed=True)

WEIGHT_KG: dict[str, float] = {
    "laptop": 2.0, "desktop": 7.0, "screen": 4.5, "tablet": 0.5, "smartphone": 0.2,
    "printer": 6.0, "server": 15.0, "peripheral": 0.5, "other": 2.0,
}
"""Estimated mass of one collected item per device category (lots are not weighed)."""

WEIGHT_SOURCE = Factor(0, "masses courantes des fiches techniques des constructeurs ; "
                          "estimation, à remplacer par la pesée des lots", assumed=True)

CHECK = ("Ordre de grandeur cohérent avec Ordi Grand Ouest 2025 : environ 1 000 t CO2e "
         "évitées pour 7 000 appareils redistribués, soit environ 143 kg par appareil.")


def co2e_factor(kind: str) -> Factor:
    """The CO2e avoided by handing over one device of ``kind``."""
    return CO2E_AVOIDED_KG.get(kind, DEFAULT_CO2E)


# --- Building the report -----------------------------------------------------------------


def month_of(moment: datetime, tz: ZoneInfo) -> str:
    """The local month of a moment, ``YYYY-MM``."""
    return moment.astimezone(tz).strftime("%Y-%m")


def last_months(now: datetime, tz: ZoneInfo, n: int = MONTHS) -> tuple[str, ...]:
    """The ``n`` months ending with the current one, oldest first."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    found = []
    for _i in range(n):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return tuple(reversed(found))


def first_day(month: str) -> date:
    """The first day of a ``YYYY-MM`` month."""
    return date(int(month[:4]), int(month[5:7]), 1)


@dataclass(frozen=True)
class Report:
    """Counts per indicator, month and intercommunality; weight and CO2e; waiting list now."""

    months: tuple[str, ...]
    epcis: tuple[str, ...]
    counts: Mapping[tuple[Indicator, str, str], int]
    weight_kg: Mapping[tuple[str, str], float]
    co2e_kg: Mapping[tuple[str, str], float]
    waiting: Mapping[str, int]

    def count(self, indicator: Indicator, month: str | None = None,
              epci: str | None = None) -> int:
        """A count over one month (or all) and one intercommunality (or all)."""
        return sum(n for (i, m, e), n in self.counts.items()
                   if i is indicator and month in (None, m) and epci in (None, e))

    def weight(self, month: str | None = None, epci: str | None = None) -> float:
        """Estimated kilograms of items collected."""
        return sum(w for (m, e), w in self.weight_kg.items()
                   if month in (None, m) and epci in (None, e))

    def co2e(self, month: str | None = None, epci: str | None = None) -> float:
        """Kilograms of CO2e avoided by the devices handed over."""
        return sum(w for (m, e), w in self.co2e_kg.items()
                   if month in (None, m) and epci in (None, e))

    def waiting_now(self, epci: str | None = None) -> int:
        """Requests on the waiting list now."""
        return sum(n for e, n in self.waiting.items() if epci in (None, e))


def build(events: Iterable[Event], waiting: Mapping[str, int], now: datetime, tz: ZoneInfo,
          months: int = MONTHS) -> Report:
    """Add up the events of the last ``months`` months (local time) per month and EPCI."""
    window = last_months(now, tz, months)
    inside = set(window)
    counts: dict[tuple[Indicator, str, str], int] = defaultdict(int)
    weight: dict[tuple[str, str], float] = defaultdict(float)
    co2e: dict[tuple[str, str], float] = defaultdict(float)
    epcis: set[str] = set(waiting)
    for event in events:
        month = month_of(event.at, tz)
        if month not in inside or event.count <= 0:
            continue
        epcis.add(event.epci)
        counts[(event.indicator, month, event.epci)] += event.count
        if event.indicator is Indicator.ITEMS:
            weight[(month, event.epci)] += event.count * WEIGHT_KG.get(event.kind,
                                                                         WEIGHT_KG["other"])
        elif event.indicator is Indicator.HANDED_OVER:
            co2e[(month, event.epci)] += event.count * co2e_factor(event.kind).value
    return Report(window, tuple(sorted(epcis)), dict(counts), dict(weight), dict(co2e),
                  dict(waiting))


# --- Small-count masking -------------------------------------------------------------------


def is_masked(n: int) -> bool:
    """A count from 1 to 4 could point at someone: it is not shown."""
    return 0 < n < SMALL


def shown(n: int) -> str:
    """A count as shown in any figure: "< 5" when small, the number otherwise."""
    return MASK if is_masked(n) else str(n)


def shown_derived(value: float, base: int) -> str | None:
    """A weight or CO2e in whole kilograms; None when its base count is masked."""
    return None if is_masked(base) else str(round(value))


# --- For funders: one CSV ----------------------------------------------------------------


COLUMNS: tuple[str, ...] = (
    "month", "epci", *[i.value for i in Indicator], "weight_kg", "co2e_kg", "waiting_now",
)


def report_csv(report: Report, *, header: Mapping[str, str], epci_name: Callable[[str], str],
               total: str, masked: str, notes: Sequence[str]) -> bytes:
    """Per month, one line per intercommunality then the network's total; notes at the end.

    ``header`` names the columns in the reader's language; ``masked`` is what a masked
    weight or CO2e cell reads.
    """
    rows: list[list[object]] = []

    def line(month: str, label: str, epci: str | None) -> list[object]:
        counts = [shown(report.count(i, month, epci)) for i in Indicator]
        weight = shown_derived(report.weight(month, epci), report.count(Indicator.ITEMS, month,
                                                                        epci))
        co2e = shown_derived(report.co2e(month, epci),
                             report.count(Indicator.HANDED_OVER, month, epci))
        waiting = shown(report.waiting_now(epci)) if month == report.months[-1] else ""
        return [month, label, *counts, masked if weight is None else weight,
                masked if co2e is None else co2e, waiting]

    for month in report.months:
        for epci in report.epcis:
            if any(report.count(i, month, epci) for i in Indicator) or (
                    month == report.months[-1] and report.waiting_now(epci)):
                rows.append(line(month, epci_name(epci), epci))
        rows.append(line(month, total, None))
    rows.append([])
    rows.extend([note] for note in notes)
    return write_csv([header.get(c, c) for c in COLUMNS], rows)
