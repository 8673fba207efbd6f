"""The activity figures for coordinators: a short text, a chart of the last twelve months, and
a CSV for funders. Every count from 1 to 4 shows as "< 5"; nothing names a beneficiary."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from flows import actions as act
from flows import report as rp
from flows.catalogue import kind_name
from flows.messages import Attachment, Choice
from flows.ports import UnitOfWork
from flows.report import Amount, Indicator, MoneyFigures, Report
from flows.territory import Territory
from flows.text import Day, Money, Msg, _, verbatim
from handlers import sms_people
from handlers.charts import Series, bar_chart
from handlers.coord_places import CSV, titled
from handlers.session import Session

log = logging.getLogger(__name__)

CHARTED = (Indicator.LOTS, Indicator.REQUESTS, Indicator.HANDED_OVER)


async def load_report(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> Report:
    """The report of the twelve months up to ``now``, from storage."""
    months = rp.last_months(now, tz)
    since = datetime.combine(rp.first_day(months[0]), datetime.min.time(), tzinfo=tz)
    events = await uow.reports.events(since, now)
    waiting = await uow.reports.waiting()
    # A country's year is tens of thousands of hourly sums to sort into months: a tenth of
    # a second and more, on a worker thread so that everyone else's messages go on.
    return await asyncio.to_thread(rp.build, events, waiting, now, tz)


async def load(session: Session, tz: ZoneInfo) -> Report:
    """The report of the last twelve months, from storage."""
    return await load_report(session.uow, session.now, tz)


def _count(n: int) -> str:
    return rp.shown(n)


def _kg(value: float, base: int) -> Msg:
    shown = rp.shown_derived(value, base)
    return _("masqué") if shown is None else _("{n} kg", n=shown)


def factors_text() -> Msg:
    """The CO2e factors and weights used, with their sources: figures that can be checked."""
    items: list[Msg] = [
        _("• {kind} : {kg} kg CO2e évités par appareil remis. Source : {source}{assumed}",
          kind=kind_name(code), kg=f"{factor.value:g}", source=verbatim(factor.source),
          assumed=_(" (hypothèse)") if factor.assumed else "")
        for code, factor in rp.CO2E_AVOIDED_KG.items()
    ]
    items.append(_("• Autres types : comptés comme un ordinateur portable (hypothèse)."))
    items.append(_("• Poids estimés par type d'objet collecté. Source : {source} "
                   "(hypothèse).", source=verbatim(rp.WEIGHT_SOURCE.source)))
    items.append(verbatim(rp.CHECK))
    return titled(_("Facteurs utilisés :"), items)


def summary(report: Report, epci_name: dict[str, str]) -> list[Msg]:
    """The short text: twelve months, this month, then per intercommunality."""
    def block(month: str | None) -> Msg:
        c = {i: report.count(i, month) for i in Indicator}
        return _("• Lots collectés : {lots} ({items} objets, environ {kg})\n"
                 "• Appareils effacés : {erased} ; reconditionnés : {recond}\n"
                 "• Demandes : {requests} ; appareils remis : {handed}\n"
                 "• Bénéficiaires inscrits : {benef} ; places d'ateliers réservées : {booked}, "
                 "présences : {attended}\n"
                 "• CO2e évité : environ {co2}",
                 lots=_count(c[Indicator.LOTS]), items=_count(c[Indicator.ITEMS]),
                 kg=_kg(report.weight(month), c[Indicator.ITEMS]),
                 erased=_count(c[Indicator.ERASED]), recond=_count(c[Indicator.RECONDITIONED]),
                 requests=_count(c[Indicator.REQUESTS]), handed=_count(c[Indicator.HANDED_OVER]),
                 benef=_count(c[Indicator.BENEFICIARIES]),
                 booked=_count(c[Indicator.SEATS_BOOKED]),
                 attended=_count(c[Indicator.ATTENDED]),
                 co2=_kg(report.co2e(month), c[Indicator.HANDED_OVER]))

    per_epci = [
        _("• {epci} : {requests} demandes, {handed} remis, {waiting} en attente",
          epci=verbatim(epci_name.get(e, e) or "?"),
          requests=_count(report.count(Indicator.REQUESTS, None, e)),
          handed=_count(report.count(Indicator.HANDED_OVER, None, e)),
          waiting=_count(report.waiting_now(e)))
        for e in report.epcis if e
    ]
    start = rp.first_day(report.months[0])
    return [
        _("Activité du réseau depuis le {start} (12 mois) :", start=Day(start)), block(None),
        _("Ce mois-ci :"), block(report.months[-1]),
        _("Demandes en liste d'attente aujourd'hui : {n}.", n=_count(report.waiting_now())),
        titled(_("Par intercommunalité (12 mois) :"), per_epci or [_("aucune activité")]),
    ]


def month_label(month: str, lang: str) -> str:
    """A short month name in the reader's language: "nov. 26"."""
    return format_date(rp.first_day(month), "MMM yy", locale=lang)


async def load_money_report(uow: UnitOfWork, now: datetime, tz: ZoneInfo,
                            cents_per_hour: int) -> MoneyFigures:
    """Payments and mediation of the twelve months up to ``now``, from storage (the same
    for the coordinators' figures and the public page's table)."""
    months = rp.last_months(now, tz)
    since = datetime.combine(rp.first_day(months[0]), datetime.min.time(), tzinfo=tz)
    return rp.build_money(await uow.payments.sums(since, now),
                          await uow.payments.mediation(since, now), now, tz, cents_per_hour)


async def load_money(session: Session, tz: ZoneInfo, cents_per_hour: int) -> MoneyFigures:
    """Payments and mediation of the last twelve months, from storage."""
    return await load_money_report(session.uow, session.now, tz, cents_per_hour)


def _euros(money: MoneyFigures, amount: Amount) -> Msg:
    """An amount of the twelve months (euros, not people: shown as it is)."""
    return Msg("{m}", {"m": Money(money.amount(amount))})


def money_text(report: Report, money: MoneyFigures) -> Msg:
    """What the network earned and what its mediation cost, over twelve months."""
    people = money.people_attended()
    handed = report.count(Indicator.HANDED_OVER)
    devices = handed + money.devices_sold()
    per = money.cost_per_beneficiary(handed)
    hidden = rp.is_masked(people)
    return _("Argent (12 mois) :\n"
             "• Ventes payées par les personnes : {sales}\n"
             "• Dépenses du fonds de solidarité : {fund}\n"
             "• Payé par des tiers (associations, CCAS) : {third}\n"
             "• Appareils par canal : {prescribed} sur prescription, {sold} en vente "
             "solidaire\n"
             "• Médiation : {hours} heures, soit {cost} à {rate} de l'heure\n"
             "• Coût « appareil + accompagnement » par bénéficiaire : {per}",
             sales=_euros(money, Amount.SALES), fund=_euros(money, Amount.FUND),
             third=_euros(money, Amount.THIRD_PARTY), prescribed=rp.shown(handed),
             sold=rp.shown(money.devices_sold()),
             hours=_("masqué") if hidden else verbatim(rp.hours_text(
                 money.mediation_minutes())),
             cost=_("masqué") if hidden else Msg("{m}", {"m": Money(money.mediation_cost())}),
             rate=Money(money.cents_per_hour),
             per=(_("sans objet") if per is None else _("masqué") if rp.is_masked(devices)
                  else Msg("{m}", {"m": Money(per)})))


async def figures(session: Session, tz: ZoneInfo, cents_per_hour: int = 6000) -> None:
    """The figures as text, the chart as a PNG image, and the CSV on demand."""
    report = await load(session, tz)
    money = await load_money(session, tz, cents_per_hour)
    territory = session.ctx.territory
    names = {e.siren: e.name for e in territory.epcis}
    lang = session.user.lang or "fr"
    sms = await sms_people.usage_text(session.uow, report.months,
                                      lambda month: month_label(month, lang))
    session.say(*summary(report, names), money_text(report, money), *([sms] if sms else []),
                factors_text(),
                choices=[Choice(act.FiguresCsv().pack(), _("Tableau pour les financeurs (CSV)"))],
                action_menu=True)
    # Drawing takes tens of milliseconds: on a worker thread, the loop goes on meanwhile.
    png = await asyncio.to_thread(chart_png, report, session.ctx.translate, lang)
    session.send(session.user.key, [_("Graphique des 12 derniers mois (les valeurs de 1 à 4 "
                                      "sont indiquées « < 5 »).")],
                 attachment=Attachment("activite-12-mois.png", "image/png", png))
    log.info("figures shown to %s", session.user.key)


def chart_png(report: Report, translate: Callable[[Msg], str], lang: str) -> bytes:
    """The chart of the twelve months, its texts in ``lang``."""
    return bar_chart(
        translate(_("Activité des 12 derniers mois")),
        [month_label(m, lang) for m in report.months],
        [Series(translate(rp.LABELS[i]), [report.count(i, m) for m in report.months])
         for i in CHARTED],
    )


async def figures_csv(session: Session, tz: ZoneInfo, cents_per_hour: int = 6000) -> None:
    """Per month and intercommunality, for funders; the factors are written below."""
    report = await load(session, tz)
    money = await load_money(session, tz, cents_per_hour)
    data = funders_csv(report, session.ctx.translate, session.ctx.territory, money)
    session.send(session.user.key, [_("Le tableau d'activité par mois et par "
                                      "intercommunalité, pour les financeurs.")],
                 attachment=Attachment("activite-reseau.csv", CSV, data))


def funders_csv(report: Report, translate: Callable[[Msg], str], territory: Territory,
                money: MoneyFigures | None = None) -> bytes:
    """The funders' table: per month and intercommunality, the factors written below."""
    names = {e.siren: e.name for e in territory.epcis}
    header = {
        "month": translate(_("Mois")),
        "epci": translate(_("Intercommunalité")),
        **{i.value: translate(rp.LABELS[i]) for i in Indicator},
        "weight_kg": translate(_("Poids estimé collecté (kg)")),
        "co2e_kg": translate(_("CO2e évité (kg)")),
        "waiting_now": translate(_("Liste d'attente aujourd'hui")),
        "sales_income_eur": translate(_("Ventes payées par les personnes (EUR)")),
        "fund_spending_eur": translate(_("Dépenses du fonds de solidarité (EUR)")),
        "third_party_eur": translate(_("Payé par des tiers (EUR)")),
        "devices_sold": translate(_("Appareils en vente solidaire")),
        "mediation_hours": translate(_("Heures de médiation (présences × durée)")),
        "mediation_cost_eur": translate(_("Coût de la médiation (EUR)")),
        "cost_per_beneficiary_eur": translate(_("Coût appareil + accompagnement par "
                                                "bénéficiaire (EUR)")),
    }
    notes = [translate(factors_text()),
             translate(_("Les effectifs de 1 à 4 sont masqués (« < 5 »).")),

             translate(_("Bénéficiaires : personnes inscrites au service après don, qui "
                         "peuvent effacer leurs données ; présences : personnes venues à un "
                         "atelier, notées par le lieu (pas les réponses « je viens »)."))]
    if money is not None:
        notes.append(translate(_(
            "Argent : montants en euros, corrections déduites ; heures de médiation = "
            "présences notées × durée des ateliers, au coût de {rate} de l'heure ; coût par "
            "bénéficiaire = (ce qui a été payé pour les appareils + coût de la médiation) / "
            "appareils remis ou vendus.", rate=Money(money.cents_per_hour))))
    return rp.report_csv(report, header=header, epci_name=lambda e: names.get(e, e),
                         total=translate(_("Total du réseau")), masked=translate(_("masqué")),
                         notes=notes, money=money)
