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

from flows.csv_import import euros, write_csv
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
    month_at: dict[datetime, str] = {}  # events are hourly sums: many share their hour
    for event in events:
        month = month_at.get(event.at)
        if month is None:
            month = month_at[event.at] = month_of(event.at, tz)
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


# --- Money: what the network costs and earns ------------------------------------------------


class Amount(StrEnum):
    """Money received for devices, by who paid (also the funders' CSV column codes)."""

    SALES = "sales_income_eur"
    """Paid by the people themselves, at either door."""
    FUND = "fund_spending_eur"
    THIRD_PARTY = "third_party_eur"


AMOUNT_OF_PAYER = {"person": Amount.SALES, "fund": Amount.FUND,
                   "third_party": Amount.THIRD_PARTY}

MONEY_COLUMNS: tuple[str, ...] = (
    *[a.value for a in Amount], "devices_sold", "mediation_hours", "mediation_cost_eur",
    "cost_per_beneficiary_eur")


@dataclass(frozen=True)
class PaymentSum:
    """Payments of one hour, intercommunality, payer and channel, added up (storage); a
    counter-entry counts -1 payment and its negative amount."""

    at: datetime
    epci: str
    payer: str
    channel: str
    cents: int
    payments: int


@dataclass(frozen=True)
class Mediation:
    """People who came to the sessions of one hour and intercommunality, and the minutes
    the sessions lasted in all (attendance × duration)."""

    at: datetime
    epci: str
    attended: int
    minutes: int


@dataclass(frozen=True)
class MoneyFigures:
    """Cents by who paid, payments counted (to mask small ones), mediation given."""

    cents: Mapping[tuple[Amount, str, str], int]
    payments: Mapping[tuple[Amount, str, str], int]
    sold: Mapping[tuple[str, str], int]
    minutes: Mapping[tuple[str, str], int]
    attended: Mapping[tuple[str, str], int]
    cents_per_hour: int

    def amount(self, amount: Amount, month: str | None = None,
               epci: str | None = None) -> int:
        return sum(c for (a, m, e), c in self.cents.items()
                   if a is amount and month in (None, m) and epci in (None, e))

    def count(self, amount: Amount, month: str | None = None, epci: str | None = None) -> int:
        return sum(c for (a, m, e), c in self.payments.items()
                   if a is amount and month in (None, m) and epci in (None, e))

    def devices_sold(self, month: str | None = None, epci: str | None = None) -> int:
        return sum(n for (m, e), n in self.sold.items()
                   if month in (None, m) and epci in (None, e))

    def mediation_minutes(self, month: str | None = None, epci: str | None = None) -> int:
        return sum(n for (m, e), n in self.minutes.items()
                   if month in (None, m) and epci in (None, e))

    def people_attended(self, month: str | None = None, epci: str | None = None) -> int:
        return sum(n for (m, e), n in self.attended.items()
                   if month in (None, m) and epci in (None, e))

    def mediation_cost(self, month: str | None = None, epci: str | None = None) -> int:
        """Cents: the minutes at the hourly rate, rounded to the nearest cent."""
        return (self.mediation_minutes(month, epci) * self.cents_per_hour + 30) // 60

    def cost_per_beneficiary(self, handed: int, month: str | None = None,
                             epci: str | None = None) -> int | None:
        """What a device and its accompaniment cost, per device handed over or sold: what
        was paid for the devices (by anyone) and the mediation given, over their number;
        None without devices."""
        devices = handed + self.devices_sold(month, epci)
        if devices <= 0:
            return None
        paid = sum(self.amount(a, month, epci) for a in Amount)
        return (paid + self.mediation_cost(month, epci) + devices // 2) // devices


def build_money(sums: Iterable[PaymentSum], mediation: Iterable[Mediation], now: datetime,
                tz: ZoneInfo, cents_per_hour: int, months: int = MONTHS) -> MoneyFigures:
    """Add up payments and mediation of the last ``months`` months per month and EPCI."""
    inside = set(last_months(now, tz, months))
    cents: dict[tuple[Amount, str, str], int] = defaultdict(int)
    payments: dict[tuple[Amount, str, str], int] = defaultdict(int)
    sold: dict[tuple[str, str], int] = defaultdict(int)
    minutes: dict[tuple[str, str], int] = defaultdict(int)
    attended: dict[tuple[str, str], int] = defaultdict(int)
    for row in sums:
        month = month_of(row.at, tz)
        if month not in inside or row.payer not in AMOUNT_OF_PAYER:
            continue
        amount = AMOUNT_OF_PAYER[row.payer]
        cents[(amount, month, row.epci)] += row.cents
        payments[(amount, month, row.epci)] += row.payments
        if row.channel == "sale":
            sold[(month, row.epci)] += row.payments
    for row in mediation:
        month = month_of(row.at, tz)
        if month in inside:
            minutes[(month, row.epci)] += row.minutes
            attended[(month, row.epci)] += row.attended
    return MoneyFigures(dict(cents), dict(payments), dict(sold), dict(minutes), dict(attended),
                        cents_per_hour)


def hours_text(minutes: int) -> str:
    """Minutes as hours with one decimal, French style: ``7,5``."""
    tenths = (minutes * 10 + 30) // 60
    return f"{tenths // 10},{tenths % 10}"


def money_cells(report: Report, money: MoneyFigures, month: str | None, epci: str | None,
                masked: str) -> list[object]:
    """The money columns of one line. Amounts are shown: they count euros, not people, and
    never name who paid. What would give away a small count is masked: mediation hours and
    their cost from 1 to 4 people who came, a cost per beneficiary from 1 to 4 devices."""
    cells: list[object] = [euros(money.amount(amount, month, epci)) for amount in Amount]
    cells.append(shown(money.devices_sold(month, epci)))
    people = money.people_attended(month, epci)
    cells.append(masked if is_masked(people)
                 else hours_text(money.mediation_minutes(month, epci)))
    cells.append(masked if is_masked(people)
                 else euros(money.mediation_cost(month, epci)))
    handed = report.count(Indicator.HANDED_OVER, month, epci)
    devices = handed + money.devices_sold(month, epci)
    per = money.cost_per_beneficiary(handed, month, epci)
    cells.append("" if per is None else masked if is_masked(devices) else euros(per))
    return cells


COLUMNS: tuple[str, ...] = (
    "month", "epci", *[i.value for i in Indicator], "weight_kg", "co2e_kg", "waiting_now",
    *MONEY_COLUMNS,
)


def report_csv(report: Report, *, header: Mapping[str, str], epci_name: Callable[[str], str],
               total: str, masked: str, notes: Sequence[str],
               money: MoneyFigures | None = None) -> bytes:
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
        cells = [] if money is None else money_cells(report, money, month, epci, masked)
        return [month, label, *counts, masked if weight is None else weight,
                masked if co2e is None else co2e, waiting, *cells]

    for month in report.months:
        for epci in report.epcis:
            if any(report.count(i, month, epci) for i in Indicator) or (
                    month == report.months[-1] and report.waiting_now(epci)):
                rows.append(line(month, epci_name(epci), epci))
        rows.append(line(month, total, None))
    rows.append([])
    rows.extend([note] for note in notes)
    return write_csv([header.get(c, c) for c in COLUMNS], rows)
