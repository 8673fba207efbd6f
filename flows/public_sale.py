"""The door for everyone: reserve a refurbished device for a few days, then buy it at the
place. Nothing is asked but a first name or initials and, if the person wants, a phone
number; the reservation lapses by itself and the device goes back to the stock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flows.answers import Accepted, FreeText, Input, OneOf, PhoneAnswer, Rejected, Verdict
from flows.coord_flows import EurosAnswer
from flows.devices import GRADE_MEANINGS, LabelQuestion, read_label
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice, UserKey
from flows.payments import METHOD_LABELS, Method, money
from flows.records import Grade
from flows.text import Msg, _, verbatim

RESERVE_FLOW = "sale.reserve"
SELL_FLOW = "sale.sell"
KIND = "kind"
RESERVATION = "reservation"
PRICE = "price"


class ReservationStatus(StrEnum):
    HELD = "held"
    SOLD = "sold"
    LAPSED = "lapsed"


@dataclass(frozen=True)
class Reservation:
    id: int
    kind: str
    place_id: int
    first_name: str | None
    contact: str | None
    user_key: UserKey | None
    status: ReservationStatus
    created_at: datetime
    expires_at: datetime

    @property
    def reference(self) -> str:
        return f"RES-{self.id:04d}"


def audit_detail(reservation: Reservation, place: str, *more: str) -> str:
    """What the audit log says of a reservation: the kind, the place, and for a sale the
    device's label and the receipt; never the person's first name or phone."""
    return ", ".join((reservation.kind, place, *more))


class R(StrEnum):
    """Steps (stored in conversations: never rename a value)."""

    PLACE = "sale.reserve.place"
    NAME = "sale.reserve.name"
    PHONE = "sale.reserve.phone"


class S(StrEnum):
    DEVICE = "sale.sell.device"
    METHOD = "sale.sell.method"
    AMOUNT = "sale.sell.amount"


@dataclass(frozen=True)
class Reserve(Effect):
    kind: str
    place_id: int
    first_name: str
    phone: str | None


@dataclass(frozen=True)
class Waiting:
    """Someone on the door's waiting list for a device of ``kind``."""

    id: int
    kind: str
    first_name: str
    contact: str | None
    user_key: UserKey
    created_at: datetime


WAIT_FLOW = "sale.wait"
WAIT_DAYS = 183
"""How long someone stays on the waiting list without being told (about six months)."""


class W(StrEnum):
    NAME = "sale.wait.name"
    PHONE = "sale.wait.phone"


@dataclass(frozen=True)
class JoinWaitlist(Effect):
    kind: str
    first_name: str
    phone: str | None


@dataclass(frozen=True)
class Sell(Effect):
    reservation_id: int
    label: str
    method: Method
    cents: int


def _places(ctx: Ctx) -> Sequence[Choice]:
    return [Choice(str(pid), verbatim(name)) for pid, name in ctx.facts.get("places", ())]


@dataclass(frozen=True)
class LabelAnswer(LabelQuestion):
    """A device's label, typed or scanned (HA-7K3P)."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        label = read_label(given.text) if given.choice is None else None
        if label is None:
            return Rejected(_("Écrivez l'étiquette de l'appareil (comme HA-7K3P)."))
        return Accepted(label)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(str(value))


RESERVE = Flow(
    name=RESERVE_FLOW,
    first=R.PLACE,
    confirm=True,
    finish=lambda ctx, a: Outcome(effects=[Reserve(str(a[KIND]), int(a[R.PLACE]), a[R.NAME],
                                                   a.get(R.PHONE))]),
    steps={
        R.PLACE: Step(ask=_("Dans quel lieu voulez-vous le chercher ?"),
                      answer=OneOf(_places), label=_("Lieu"), next=R.NAME),
        R.NAME: Step(ask=_("Votre prénom ou vos initiales ? Le lieu vous reconnaîtra ainsi."),
                     answer=FreeText(1, 40), label=_("Prénom ou initiales"), next=R.PHONE),
        R.PHONE: Step(ask=_("Un numéro de téléphone pour vous joindre ? Vous pouvez passer : "
                            "nous vous écrirons ici."),
                      answer=PhoneAnswer(optional=True), label=_("Téléphone")),
    },
)


RESERVE_AT_FLOW = "sale.reserve_at"
PLACE_NAME = "place_name"
"""The place's name, kept with the answers when the place was known before asking."""


def _place_recap(ctx: Ctx, answers: Answers) -> Msg:
    return _("{label} : {value}", label=_("Lieu"),
             value=verbatim(str(answers.get(PLACE_NAME, ""))))


RESERVE_AT = Flow(
    name=RESERVE_AT_FLOW,
    first=R.NAME,
    confirm=True,
    finish=RESERVE.finish,
    steps={R.NAME: RESERVE.steps[R.NAME], R.PHONE: RESERVE.steps[R.PHONE]},
    recap=_place_recap,
)
"""The reservation at a place already known (the waiting list's message said where): the
same questions but the place, which comes with the answers (``R.PLACE``, ``PLACE_NAME``)."""


WAIT = Flow(
    name=WAIT_FLOW,
    first=W.NAME,
    confirm=True,
    finish=lambda ctx, a: Outcome(effects=[JoinWaitlist(str(a[KIND]), a[W.NAME],
                                                        a.get(W.PHONE))]),
    steps={
        W.NAME: Step(ask=_("Votre prénom ou vos initiales ?"),
                     answer=FreeText(1, 40), label=_("Prénom ou initiales"), next=W.PHONE),
        W.PHONE: Step(ask=_("Un numéro de téléphone pour vous joindre ? Vous pouvez passer : "
                            "nous vous écrirons ici."),
                      answer=PhoneAnswer(optional=True), label=_("Téléphone")),
    },
)


def _ask_amount(ctx: Ctx, answers: Answers) -> Msg:
    price = ctx.facts.get("grade_price")
    return _("Quel montant a été payé, en euros ? Le prix public est {amount}.",
             amount=money(int(price if price is not None else answers.get(PRICE, 0))))


SELL = Flow(
    name=SELL_FLOW,
    first=S.DEVICE,
    confirm=True,
    finish=lambda ctx, a: Outcome(effects=[Sell(int(a[RESERVATION]), a[S.DEVICE],
                                                Method(a[S.METHOD]), int(a[S.AMOUNT]))]),
    steps={
        S.DEVICE: Step(ask=_("Quel appareil est vendu ? Scannez ou écrivez son étiquette."),
                       answer=LabelAnswer(), label=_("Appareil"), next=S.METHOD),
        S.METHOD: Step(ask=_("Comment a-t-il été payé ?"),
                       answer=OneOf([Choice(m.value, METHOD_LABELS[m]) for m in Method
                                     if m is not Method.FUND]),
                       label=_("Moyen de paiement"), next=S.AMOUNT),
        S.AMOUNT: Step(ask=_ask_amount, answer=EurosAnswer(), label=_("Montant")),
    },
)

# --- Public prices by kind and grade (coordinators) -----------------------------------------

GRADE_PRICE_FLOW = "sale.grade_price"


class G(StrEnum):
    KIND = "sale.grade_price.kind"
    GRADE = "sale.grade_price.grade"
    CENTS = "sale.grade_price.cents"


@dataclass(frozen=True)
class SetGradePrice(Effect):
    kind: str
    grade: str
    cents: int


def _kinds(ctx: Ctx) -> Sequence[Choice]:
    return [Choice(code, verbatim(name)) for code, name in ctx.facts.get("kinds", ())]


GRADE_PRICE = Flow(
    name=GRADE_PRICE_FLOW,
    first=G.KIND,
    confirm=True,
    finish=lambda ctx, a: Outcome(effects=[SetGradePrice(a[G.KIND], a[G.GRADE],
                                                         int(a[G.CENTS]))]),
    steps={
        G.KIND: Step(ask=_("Pour quel type de matériel ?"), answer=OneOf(_kinds),
                     label=_("Matériel"), next=G.GRADE),
        G.GRADE: Step(ask=_("Pour quel état ?"),
                      answer=OneOf([Choice(g.value, GRADE_MEANINGS[g]) for g in Grade]),
                      label=_("État"), next=G.CENTS),
        G.CENTS: Step(ask=_("Quel prix public, en euros ?"), answer=EurosAnswer(),
                      label=_("Prix")),
    },
)

FLOWS = (RESERVE, RESERVE_AT, SELL, GRADE_PRICE, WAIT)
