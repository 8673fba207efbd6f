"""Money made visible: who paid for a device, how much and how, and the solidarity fund.

At the handover (or before it, when a third party pays for a prescribed request) staff say
who paid (the person, the Fonds de solidarité numérique, or a named third party such as an
association or a CCAS), how (cash, cheque, card, transfer) and how much. Amounts are integer
euro cents. A payment is never edited: a mistake is corrected by a counter-entry of the
opposite amount with a reason, and both are in the audit log.

The fund has a yearly budget set by coordinators; what it pays for draws on it. When its
balance falls under a threshold, coordinators are warned once a year; when it is empty,
prescribers are told what happens to requests it would pay for (a setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flows.answers import Accepted, FreeText, Input, OneOf, Rejected, Verdict, options
from flows.coord_flows import EurosAnswer
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import UserKey
from flows.text import Money, Msg, _, verbatim


class Payer(StrEnum):
    """Who paid (stored)."""

    PERSON = "person"
    FUND = "fund"
    THIRD_PARTY = "third_party"


class Method(StrEnum):
    """How it was paid (stored); the fund pays by its own accounts, not at the desk."""

    CASH = "cash"
    CHEQUE = "cheque"
    CARD = "card"
    TRANSFER = "transfer"
    FUND = "fund"


class Channel(StrEnum):
    """The two ways to a device the network agreed on (stored)."""

    PRESCRIPTION = "prescription"
    SALE = "sale"


class WhenEmpty(StrEnum):
    """What happens to a request the fund would pay for once it is empty (a setting)."""

    WAITING_LIST = "waiting"
    NEXT_TIER = "next_tier"


PAYER_LABELS: dict[Payer, Msg] = {
    Payer.PERSON: _("La personne"),
    Payer.FUND: _("Le fonds de solidarité numérique"),
    Payer.THIRD_PARTY: _("Un tiers (association, CCAS…)"),
}

PAYER_KINDS: dict[Payer, Msg] = {
    Payer.PERSON: _("personne"),
    Payer.FUND: _("fonds de solidarité"),
    Payer.THIRD_PARTY: _("tiers"),
}
"""Who paid, as a spreadsheet's column says it (the third party's name has its own)."""

METHOD_LABELS: dict[Method, Msg] = {
    Method.CASH: _("Espèces"),
    Method.CHEQUE: _("Chèque"),
    Method.CARD: _("Carte bancaire"),
    Method.TRANSFER: _("Virement"),
    Method.FUND: _("Fonds de solidarité"),
}

MAX_CENTS = 500_000
"""No single device costs more than 5,000 EUR here: a bigger amount is a typing mistake."""


@dataclass(frozen=True)
class Payment:
    """One money record, as written: never changed afterwards."""

    id: int
    request_id: int | None
    device_id: int | None
    place_id: int | None
    epci: str
    profile: str
    channel: Channel
    cents: int
    payer: Payer
    third_party: str | None
    method: Method
    corrects: int | None
    reason: str | None
    recorded_by: UserKey | None
    recorded_at: datetime

    @property
    def receipt_number(self) -> str:
        """What the receipt is numbered (REC-2026-0042): the year and the record."""
        return receipt_number(self.id, self.recorded_at)


def receipt_number(payment_id: int, recorded_at: datetime) -> str:
    """A receipt's number from its record and when it was written (REC-2026-0042)."""
    return f"REC-{recorded_at.year}-{payment_id:04d}"


@dataclass(frozen=True)
class FundState:
    """The fund's year: its budget, what it paid (counter-entries deducted), what is left."""

    year: int
    budget: int
    spent: int

    @property
    def balance(self) -> int:
        return self.budget - self.spent

    def low(self, threshold: int) -> bool:
        return self.budget > 0 and self.balance < threshold

    @property
    def empty(self) -> bool:
        return self.balance <= 0


@dataclass(frozen=True)
class FundLine:
    """What the fund paid for, grouped: by intercommunality and profile."""

    epci: str
    profile: str
    devices: int
    cents: int


@dataclass(frozen=True)
class ListedPayment:
    """A payment as the network-wide list shows it: with the reference of its request (none
    for a public sale), the name of its place and the receipt it corrects. No beneficiary's
    name or contact is read: the list goes to a spreadsheet."""

    payment: Payment
    request_reference: str | None
    place_name: str | None
    corrected_receipt: str | None


CHANNEL_LABELS: dict[Channel, Msg] = {
    Channel.PRESCRIPTION: _("prescription"),
    Channel.SALE: _("vente publique"),
}


@dataclass(frozen=True)
class PayerTotal:
    """The payments of one payer kind: how many (a counter-entry takes one off), how much."""

    payer: Payer
    payments: int
    cents: int


def money(cents: int) -> Msg:
    """An amount as the user's language writes it (babel, through ``flows.text``)."""
    return Msg("{m}", {"m": Money(cents)})


def payment_line(payment: Payment) -> Msg:
    """One payment as staff and coordinators read it."""
    who = PAYER_LABELS[payment.payer]
    if payment.payer is Payer.THIRD_PARTY and payment.third_party:
        who = verbatim(payment.third_party)
    if payment.corrects is not None:
        return _("{number} : {amount}, annule l'écriture n° {of} ({reason})",
                 number=verbatim(payment.receipt_number), amount=Money(payment.cents),
                 of=payment.corrects, reason=verbatim(payment.reason or ""))
    return _("{number} : {amount} payé par {who} ({method})",
             number=verbatim(payment.receipt_number), amount=Money(payment.cents), who=who,
             method=METHOD_LABELS[payment.method])


def fund_summary(state: FundState) -> Msg:
    return _("Fonds de solidarité {year} : budget {budget}, dépensé {spent}, reste {left}.",
             year=state.year, budget=Money(state.budget), spent=Money(state.spent),
             left=Money(state.balance))


def empty_fund_notice(when_empty: WhenEmpty) -> Msg:
    """What prescribers are told, plainly, once the fund is empty."""
    if when_empty is WhenEmpty.NEXT_TIER:
        return _("Le fonds de solidarité numérique est épuisé pour cette année. Une demande "
                 "qu'il aurait payée passe au tarif suivant : la personne paie le prix "
                 "symbolique. Vous pouvez aussi chercher un tiers qui paie pour elle "
                 "(association, CCAS).")
    return _("Le fonds de solidarité numérique est épuisé pour cette année. Une demande qu'il "
             "aurait payée est enregistrée sur liste d'attente : elle sera servie quand les "
             "coordinateurs auront un nouveau budget. Un tiers (association, CCAS) peut aussi "
             "payer pour la personne.")


# --- Recording a payment --------------------------------------------------------------------

PAY_FLOW = "payment.record"
REQUEST_ID = "request"
REFERENCE = "reference"
SUGGESTED = "suggested"
FULL_PRICE = "full_price"
"""Prefilled answers: the request paid for, the amount its quote says, and the full
solidarity price of its kind (what the fund may pay)."""


class P(StrEnum):
    """Steps (stored in conversations: never rename a value)."""

    PAYER = "payment.payer"
    THIRD_PARTY = "payment.third_party"
    METHOD = "payment.method"
    AMOUNT = "payment.amount"


@dataclass(frozen=True)
class RecordPayment(Effect):
    """Record this payment for the request (checked by the handler)."""

    request_id: int
    payer: Payer
    third_party: str | None
    method: Method
    cents: int


@dataclass(frozen=True)
class AmountAnswer(EurosAnswer):
    """An amount in euros, refused when no single device could cost it (a typing slip)."""

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        verdict = super().parse(given, ctx, pending)
        if isinstance(verdict, Accepted) and verdict.value > MAX_CENTS:
            return Rejected(_("Ce montant est trop élevé pour un appareil : vérifiez-le."))
        return verdict


def _after_payer(answers: Answers) -> str | None:
    payer = answers.get(P.PAYER)
    if payer == Payer.THIRD_PARTY.value:
        return P.THIRD_PARTY
    if payer == Payer.FUND.value:
        return P.AMOUNT
    return P.METHOD


def _ask_amount(ctx: Ctx, answers: Answers) -> Msg:
    if answers.get(P.PAYER) == Payer.FUND.value:
        return _("Quel montant le fonds paie-t-il, en euros ? Le prix solidaire complet de "
                 "cet appareil est {full} ; la personne paie {amount}.",
                 full=Money(int(answers.get(FULL_PRICE, 0))),
                 amount=Money(int(answers.get(SUGGESTED, 0))))
    return _("Quel montant a été payé, en euros ? Le tarif de la demande {ref} est {amount}.",
             ref=verbatim(str(answers.get(REFERENCE, ""))),
             amount=Money(int(answers.get(SUGGESTED, 0))))


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    payer = Payer(answers[P.PAYER])
    method = Method.FUND if payer is Payer.FUND else Method(answers[P.METHOD])
    return Outcome(effects=[RecordPayment(int(answers[REQUEST_ID]), payer,
                                          answers.get(P.THIRD_PARTY), method,
                                          int(answers[P.AMOUNT]))])


PAY = Flow(
    name=PAY_FLOW,
    first=P.PAYER,
    confirm=True,
    finish=_finish,
    steps={
        P.PAYER: Step(ask=_("Qui a payé l'appareil ?"), answer=OneOf(options(PAYER_LABELS)),
                      label=_("Payé par"), next=_after_payer),
        P.THIRD_PARTY: Step(ask=_("Quel organisme a payé (son nom, par exemple Secours "
                                  "populaire de Gap ou CCAS de Veynes) ?"),
                            answer=FreeText(2, 80), label=_("Organisme"), next=P.METHOD),
        P.METHOD: Step(ask=_("Comment a-t-il été payé ?"),
                       answer=OneOf(options({m: METHOD_LABELS[m] for m in Method
                                             if m is not Method.FUND})),
                       label=_("Moyen de paiement"), next=P.AMOUNT),
        P.AMOUNT: Step(ask=_ask_amount, answer=AmountAnswer(), label=_("Montant")),
    },
)


def pay_prefill(request_id: int, reference: str, suggested: int,
                full_price: int = 0) -> dict[str, Any]:
    return {REQUEST_ID: int(request_id), REFERENCE: reference, SUGGESTED: int(suggested),
            FULL_PRICE: int(full_price)}


# --- Correcting one (a counter-entry) --------------------------------------------------------

CORRECT_FLOW = "payment.correct"
PAYMENT_ID = "payment"


class C(StrEnum):
    REASON = "payment.correct.reason"


@dataclass(frozen=True)
class CorrectPayment(Effect):
    """Cancel payment ``payment_id`` by a counter-entry with ``reason``."""

    request_id: int
    payment_id: int
    reason: str


CORRECT = Flow(
    name=CORRECT_FLOW,
    first=C.REASON,
    finish=lambda ctx, answers: Outcome(effects=[CorrectPayment(
        int(answers[REQUEST_ID]), int(answers[PAYMENT_ID]), answers[C.REASON])]),
    steps={C.REASON: Step(ask=_("Pourquoi annuler ce paiement ? Il reste dans les comptes, "
                                "avec une contre-écriture qui l'annule et votre raison."),
                          answer=FreeText(3, 200))},
)


# --- The fund's budget ----------------------------------------------------------------------

BUDGET_FLOW = "payment.fund_budget"


class B(StrEnum):
    AMOUNT = "payment.fund_budget.amount"


@dataclass(frozen=True)
class SetFundBudget(Effect):
    cents: int


BUDGET = Flow(
    name=BUDGET_FLOW,
    first=B.AMOUNT,
    finish=lambda ctx, answers: Outcome(effects=[SetFundBudget(int(answers[B.AMOUNT]))]),
    steps={B.AMOUNT: Step(ask=_("Quel est le budget du fonds de solidarité pour cette année, "
                                "en euros ?"), answer=EurosAnswer())},
)

FLOWS = (PAY, CORRECT, BUDGET)


VAT_MENTION = "TVA non applicable, art. 293 B du CGI"
"""The default VAT mention of a receipt: an association under the VAT franchise."""


@dataclass(frozen=True)
class MoneyConfig:
    """The money settings (``FILIERE_LEGAL_*``, ``FILIERE_FUND_*``, mediation rate)."""

    legal_name: str = "Réseau de réemploi solidaire du numérique des Hautes-Alpes"
    legal_address: str = ""
    legal_id: str = ""
    """SIRET or RNA number, printed on receipts."""
    vat_mention: str = VAT_MENTION
    fund_low_cents: int = 50_000
    """Under this balance, coordinators are warned (once a year)."""
    when_empty: WhenEmpty = WhenEmpty.WAITING_LIST
    mediation_cents_per_hour: int = 6_000
    """What an hour of mediation costs, for the figures (about 60 EUR)."""
    reservation_days: int = 3
    """How long the public's reservation of a device holds it."""
