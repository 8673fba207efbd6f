"""Payments at the handover, their receipts and corrections, and the solidarity fund.

Staff record who paid for a request's device (the person, the fund, a named third party),
how and how much, at the handover or before it; the person gets a receipt PDF with the
network's legal mentions. Nothing is ever edited: a mistake is cancelled by a counter-entry
with a reason, and every record is in the audit log. Coordinators set the fund's yearly
budget and see what it paid for; they are warned once a year when it runs low.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from flows import actions as act
from flows import payments as pay
from flows.action_codec import Scope, Target, Who
from flows.audit import AuditAction
from flows.csv_import import euros, write_csv
from flows.devices import device_name
from flows.messages import Attachment, Choice
from flows.payments import MoneyConfig, Payer, Payment
from flows.pricing import Situation, Tier, price_for
from flows.records import EquipmentRequest, RequestId, RequestStatus
from flows.request import SITUATION_LABELS
from flows.text import Day, Msg, _, _n, verbatim
from handlers.authorize import in_scope
from handlers.certificates import Document
from handlers.coord_places import CSV, titled
from handlers.requests import serve_waiting
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

CLOSED = frozenset({RequestStatus.CANCELLED})
"""A request nobody will pay for any more."""


async def _at_desk(session: Session, request_id: int) -> EquipmentRequest | None:
    """The request, when the person is staff of its place (checked again for an effect:
    the conversation may outlive their access)."""
    request = await session.uow.requests.get(RequestId(request_id))
    if request is None or not await in_scope(session, Who.PLACE_STAFF, Scope.PLACE,
                                             Target.REQUEST, request.id):
        return None
    return request


async def _reviewer(session: Session, request_id: int) -> EquipmentRequest | None:
    """The request, for its place's staff or a coordinator."""
    if session.user.is_coordinator:
        return await session.uow.requests.get(RequestId(request_id))
    return await _at_desk(session, request_id)


def _gone(session: Session) -> None:
    session.say(_("Cette demande n'est pas (ou plus) suivie par votre lieu : rien n'a été "
                  "enregistré."))


async def start_payment(session: Session, action: act.PayRequest) -> None:
    request = await _at_desk(session, action.request)
    if request is None:
        _gone(session)
        return
    if request.status in CLOSED:
        session.say(_("La demande {ref} est close : aucun paiement ne peut y être "
                      "enregistré.", ref=verbatim(request.reference)))
        return
    grid = await session.uow.catalogue.price_grid()
    try:
        full = price_for(grid, Tier.FULL, request.kind)
    except LookupError:
        full = 0
    await session.start_flow(pay.PAY_FLOW, pay.pay_prefill(request.id, request.reference,
                                                           request.price_cents, full))


async def on_record(session: Session, effect: pay.RecordPayment, money: MoneyConfig,
                    env: Env) -> None:
    """Write the payment, audit it, send the receipt; warn coordinators if the fund runs
    low."""
    request = await _at_desk(session, effect.request_id)
    if request is None or request.status in CLOSED:
        _gone(session)
        return
    uow = session.uow
    devices = await uow.devices.of_request(request.id)
    device = devices[-1] if devices else None
    payment = await uow.payments.record(
        request_id=request.id, device_id=device.id if device else None,
        place_id=request.place_id, epci=request.epci, profile=request.situation,
        channel=pay.Channel.PRESCRIPTION, cents=effect.cents, payer=effect.payer,
        third_party=effect.third_party if effect.payer is Payer.THIRD_PARTY else None,
        method=effect.method, by=session.user.key, now=session.now)
    await uow.audit.record(session.user.key, AuditAction.PAYMENT_RECORDED,
                           payment.receipt_number, session.now,
                           f"{request.reference} {payment.cents} {payment.payer.value} "
                           f"{payment.method.value}")
    log.info("payment %s recorded for %s", payment.receipt_number, request.reference)
    pdf = receipt_pdf(session, payment, request.reference, device_name(device) if device else None,
                      device.label if device else None, money, env)
    session.send(session.user.key, [
        _("Paiement enregistré : {line}.", line=pay.payment_line(payment)),
        _("Imprimez le reçu et donnez-le à qui a payé.")],
        [Choice(act.RequestPayments(request.id).pack(), _("Paiements de {ref}",
                                                          ref=verbatim(request.reference)))],
        attachment=receipt_attachment(payment, pdf), action_menu=True)
    if payment.payer is Payer.FUND:
        await _maybe_warn(session, money, env)


def receipt_attachment(payment: Payment, pdf: bytes) -> Attachment:
    return Attachment(f"recu-{payment.receipt_number}.pdf", "application/pdf", pdf)


async def _maybe_warn(session: Session, money: MoneyConfig, env: Env) -> None:
    year = session.now.astimezone(env.timezone).year
    state = await session.uow.payments.fund(year)
    if not state.low(money.fund_low_cents):
        return
    if not await session.uow.payments.warn_once(year, session.now):
        return
    for coordinator in session.coordinators:
        session.send(coordinator, [
            _("Le fonds de solidarité numérique arrive au bout : {summary}",
              summary=pay.fund_summary(state)),
            _("Quand il sera vide, les accompagnant·es seront prévenu·es : {notice}",
              notice=pay.empty_fund_notice(money.when_empty))],
            [Choice(act.FundView().pack(), _("Fonds de solidarité"))], action_menu=True)


async def request_payments(session: Session, action: act.RequestPayments) -> None:
    request = await _reviewer(session, action.request)
    if request is None:
        _gone(session)
        return
    payments = await session.uow.payments.of_request(request.id)
    corrected = {p.corrects for p in payments if p.corrects is not None}
    choices = [Choice(act.CorrectPayment(request.id, p.id).pack(),
                      _("Annuler {number}", number=verbatim(p.receipt_number)))
               for p in payments if p.corrects is None and p.id not in corrected]
    if session.user.place_id == request.place_id and request.status not in CLOSED:
        choices.append(Choice(act.PayRequest(request.id).pack(),
                              _("Enregistrer un paiement")))
    session.say(titled(_("Paiements de {ref} :", ref=verbatim(request.reference)),
                       [pay.payment_line(p) for p in payments] or [_("aucun")]),
                choices=choices, action_menu=True)


async def start_correction(session: Session, action: act.CorrectPayment) -> None:
    request = await _reviewer(session, action.request)
    payment = await session.uow.payments.get(action.payment)
    if request is None or payment is None or payment.request_id != request.id:
        session.say(_("Ce paiement n'existe pas pour cette demande."))
        return
    if payment.corrects is not None or await session.uow.payments.is_corrected(payment.id):
        session.say(_("Ce paiement est déjà annulé par une contre-écriture."))
        return
    await session.start_flow(pay.CORRECT_FLOW, {pay.REQUEST_ID: request.id,
                                                pay.PAYMENT_ID: payment.id})


def _may_correct_sale(session: Session, payment: Payment | None) -> bool:
    """A sale (no request) is corrected by its place's staff or a coordinator."""
    return (payment is not None and payment.request_id is None
            and payment.channel is pay.Channel.SALE
            and (session.user.is_coordinator
                 or (session.user.place_id is not None
                     and session.user.place_id == payment.place_id)))


async def start_sale_correction(session: Session, action: act.CorrectSale) -> None:
    payment = await session.uow.payments.get(action.payment)
    if payment is None or not _may_correct_sale(session, payment):
        session.say(_("Ce paiement n'existe pas pour cette demande."))
        return
    if payment.corrects is not None or await session.uow.payments.is_corrected(payment.id):
        session.say(_("Ce paiement est déjà annulé par une contre-écriture."))
        return
    await session.start_flow(pay.CORRECT_FLOW, {pay.REQUEST_ID: 0,
                                                pay.PAYMENT_ID: payment.id})


async def on_correct(session: Session, effect: pay.CorrectPayment) -> None:
    """A counter-entry: the opposite amount, naming the payment, with the reason. A sale
    (request 0) is checked as a sale, a request's payment as its request's."""
    uow = session.uow
    payment = await uow.payments.get(effect.payment_id)
    request = (await _reviewer(session, effect.request_id) if effect.request_id
               else None)
    allowed = (_may_correct_sale(session, payment) if not effect.request_id else
               request is not None and payment is not None
               and payment.request_id == request.id)
    if payment is None or not allowed:
        session.say(_("Ce paiement n'existe pas pour cette demande."))
        return
    if payment.corrects is not None or await uow.payments.is_corrected(payment.id):
        session.say(_("Ce paiement est déjà annulé par une contre-écriture."))
        return
    counter = await uow.payments.record(
        request_id=payment.request_id, device_id=payment.device_id,
        place_id=payment.place_id, epci=payment.epci, profile=payment.profile,
        channel=payment.channel, cents=-payment.cents, payer=payment.payer,
        third_party=payment.third_party, method=payment.method, by=session.user.key,
        now=session.now, corrects=payment.id, reason=effect.reason)
    await uow.audit.record(session.user.key, AuditAction.PAYMENT_CORRECTED,
                           payment.receipt_number, session.now,
                           f"{counter.receipt_number} {counter.cents}")
    choices = [] if request is None else [Choice(
        act.RequestPayments(request.id).pack(),
        _("Paiements de {ref}", ref=verbatim(request.reference)))]
    session.say(_("Contre-écriture enregistrée : {line}.", line=pay.payment_line(counter)),
                choices=choices, action_menu=True)


def payment_line_msg(payment: Payment) -> Msg:
    """One payment as staff read it (``flows.payments.payment_line``)."""
    return pay.payment_line(payment)


# --- The receipt -----------------------------------------------------------------------------


def receipt_pdf(session: Session, payment: Payment, reference: str,
                device: Msg | None, label: str | None, money: MoneyConfig,
                env: Env) -> bytes:
    """A sale receipt with the network's legal mentions (settings)."""
    doc = Document(session.ctx.translate, payment.recorded_at)
    doc.title(_("Reçu {number}", number=verbatim(payment.receipt_number)))
    doc.para(verbatim(money.legal_name))
    if money.legal_address:
        doc.para(verbatim(money.legal_address))
    if money.legal_id:
        doc.para(_("SIRET ou RNA : {id}", id=verbatim(money.legal_id)))
    doc.para(_("Date : {day}", day=Day(payment.recorded_at.astimezone(env.timezone).date())))
    if device is not None and label is not None:
        doc.para(_("Objet : {name}, reconditionné (étiquette {label}), demande {ref}.",
                   name=device, label=verbatim(label), ref=verbatim(reference)))
    else:
        doc.para(_("Objet : un appareil reconditionné, demande {ref}.",
                   ref=verbatim(reference)))
    doc.heading(_("Montant : {amount}", amount=pay.money(payment.cents)))
    who = (verbatim(payment.third_party) if payment.third_party
           else pay.PAYER_LABELS[payment.payer])
    doc.para(_("Payé par : {who}", who=who))
    doc.para(_("Moyen de paiement : {method}", method=pay.METHOD_LABELS[payment.method]))
    doc.small(verbatim(money.vat_mention))
    return doc.output()


# --- The solidarity fund ---------------------------------------------------------------------


async def fund_view(session: Session, env: Env) -> None:
    year = session.now.astimezone(env.timezone).year
    state = await session.uow.payments.fund(year)
    lines = await session.uow.payments.fund_lines(year)
    territory = session.ctx.territory
    shown: list[Msg] = []
    for line in lines:
        epci = territory.epci(line.epci)
        try:
            profile: Msg = SITUATION_LABELS[Situation(line.profile)]
        except ValueError:
            profile = verbatim(line.profile)
        shown.append(_("• {epci}, {profile} : {n} appareil(s), {amount}",
                       epci=verbatim(epci.name if epci else line.epci or "?"),
                       profile=profile, n=line.devices, amount=pay.money(line.cents)))
    session.say(pay.fund_summary(state),
                titled(_("Ce qu'il a payé, par intercommunalité et profil :"),
                       shown or [_("rien encore")]),
                *await payments_summary(session, env),
                choices=[Choice(act.FundBudget().pack(), _("Fixer le budget de l'année")),
                         Choice(act.PaymentsCsv().pack(),
                                _("Exporter les paiements (CSV)"))],
                action_menu=True)


RECENT_SHOWN = 5
"""How many of the latest payments the fund's view lists above the export button."""


def _year(session: Session, env: Env) -> tuple[int, datetime, datetime]:
    """This year in the network's time zone, and its bounds (local midnights)."""
    year = session.now.astimezone(env.timezone).year
    return (year, datetime(year, 1, 1, tzinfo=env.timezone),
            datetime(year + 1, 1, 1, tzinfo=env.timezone))


async def payments_summary(session: Session, env: Env) -> list[Msg]:
    """The year's payments of the whole network in a few lines: how many and how much by
    payer kind, then the latest few."""
    year, since, until = _year(session, env)
    entries, by_payer = await session.uow.payments.totals(since, until)
    if not entries:
        return [_("Paiements {year} du réseau : aucun pour le moment.", year=year)]
    totals = [_("• {who} : {n} paiement(s), {amount}", who=pay.PAYER_LABELS[t.payer],
                n=t.payments, amount=pay.money(t.cents)) for t in by_payer]
    latest = [Msg("• {line}", {"line": pay.payment_line(item.payment)}) for item in
              reversed(await session.uow.payments.latest(since, until, RECENT_SHOWN))]
    return [titled(_n("Paiements {year} du réseau : {n} écriture.",
                      "Paiements {year} du réseau : {n} écritures.", entries,
                      year=year), totals),
            titled(_("Les derniers :"), latest)]


async def payments_csv(session: Session, env: Env) -> None:
    """The year's payments of the whole network as a spreadsheet: no beneficiary's name or
    contact, only references, places and amounts to the cent."""
    year, since, until = _year(session, env)
    listed = await session.uow.payments.listed(since, until)
    t = session.ctx.translate
    territory = session.ctx.territory

    def row(item: pay.ListedPayment) -> list[object]:
        p = item.payment
        epci = territory.epci(p.epci) if p.epci else None
        return [p.recorded_at.astimezone(env.timezone).strftime("%Y-%m-%d %H:%M"),
                p.receipt_number,
                item.request_reference or t(_("vente publique")),
                item.place_name or "", epci.name if epci else p.epci,
                t(pay.CHANNEL_LABELS[p.channel]), t(pay.PAYER_KINDS[p.payer]),
                p.third_party or "", t(pay.METHOD_LABELS[p.method]),
                euros(p.cents), item.corrected_receipt or "", p.reason or ""]

    header = [_("Date"), _("Reçu"), _("Demande"), _("Lieu"), _("Intercommunalité"),
              _("Canal"), _("Payé par"), _("Tiers payeur"), _("Moyen de paiement"),
              _("Montant (€)"), _("Corrige le reçu"), _("Raison de la correction")]
    # A country's year is tens of thousands of lines: written on a worker thread.
    data = await asyncio.to_thread(write_csv, [t(h) for h in header],
                                   [row(item) for item in listed])
    session.send(session.user.key, [_n("Paiements {year} : {n} écriture.",
                                       "Paiements {year} : {n} écritures.", len(listed),
                                       year=year)],
                 attachment=Attachment(f"paiements-{year}.csv", CSV, data))


async def on_budget(session: Session, effect: pay.SetFundBudget, env: Env) -> None:
    if not session.user.is_coordinator:
        session.say(_("Ce bouton n'est pas (ou plus) valable pour vous."))
        return
    year = session.now.astimezone(env.timezone).year
    await session.uow.payments.set_budget(year, effect.cents, session.user.key, session.now)
    await session.uow.audit.record(session.user.key, AuditAction.FUND_BUDGET_SET,
                                   f"fonds-{year}", session.now, str(effect.cents))
    await fund_view(session, env)
    # The requests that waited for a budget go out now, where stock allows.
    served = await serve_waiting(session, session.uow, session.ctx.territory, session.now,
                                 session.coordinators)
    if served:
        session.say(_n("{n} demande en attente part vers un lieu.",
                       "{n} demandes en attente partent vers un lieu.", served))


def feature(env: Env) -> Feature:
    money = env.money

    async def record(session: Session, effect: pay.RecordPayment) -> None:
        await on_record(session, effect, money, env)

    async def budget(session: Session, effect: pay.SetFundBudget) -> None:
        await on_budget(session, effect, env)

    async def view(session: Session, action: act.FundView) -> None:
        await fund_view(session, env)

    async def export(session: Session, action: act.PaymentsCsv) -> None:
        await payments_csv(session, env)

    async def start_budget(session: Session, action: act.FundBudget) -> None:
        await session.start_flow(pay.BUDGET_FLOW)

    return Feature(
        name="payments",
        flows=pay.FLOWS,
        actions={act.PayRequest: start_payment, act.RequestPayments: request_payments,
                 act.CorrectPayment: start_correction, act.CorrectSale: start_sale_correction,
                 act.FundView: view,
                 act.FundBudget: start_budget, act.PaymentsCsv: export},
        effects={pay.RecordPayment: record, pay.CorrectPayment: on_correct,
                 pay.SetFundBudget: budget},
    )


async def fund_empty(session: Session, env: Env) -> bool:
    """Whether this year's fund is spent (a budget of zero counts as none set: not empty)."""
    state = await session.uow.payments.fund(session.now.astimezone(env.timezone).year)
    return state.budget > 0 and state.empty


__all__ = ["feature", "fund_empty", "receipt_attachment", "receipt_pdf"]
