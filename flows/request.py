"""A prescriber asks equipment for a person they accompany, in about two minutes on a phone.

Questions, one at a time: needs (by usage), the person's situation and optional income bracket
(the prescriber's word is enough), their commune, then the kinds of device that fit those
needs with their price for that profile and where they are available, home internet access,
and the least we keep about the person (an optional first name or initials, an age bracket).
A summary lets any answer be corrected before the request is sent.

Steps read the catalogue, stock, places and price grid from ``ctx.facts`` (loaded by
``handlers/requests.py``); the flow itself does no I/O and decides nothing it cannot undo: the
routing and the reservation happen in the effect, inside the transaction.

```mermaid
stateDiagram-v2
    [*] --> needs
    needs --> situation
    situation --> income
    income --> commune
    commune --> kind: shows price and where
    kind --> internet
    internet --> first_name
    first_name --> age
    age --> summary
    summary --> [*]: confirm (reference, routing, reservation)
```
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows import actions as act
from flows.answers import (
    Accepted,
    CommuneAnswer,
    FreeText,
    Input,
    OneOf,
    Rejected,
    SomeOf,
    Verdict,
    match_choice,
    options,
)
from flows.catalogue import USAGE_LABELS, fitting, kind_name, kind_sentence
from flows.engine import Answers, Conversation, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice
from flows.pricing import Income, PriceGrid, Quote, Situation, Tier, quote
from flows.records import CatalogueKind, EquipmentRequest, Place, RefuseReason, RequestStatus
from flows.routing import NoStock, Reason, Routed, Stock, route
from flows.text import Day, Lines, Money, Msg, _, verbatim

FLOW_NAME = "request"

FIRST_NAME_KEPT_MONTHS = 6
"""The first name (or initials) is erased this long after the handover or the cancellation."""


class S(StrEnum):
    """Steps of the request (stored in conversations: never rename a value)."""

    NEEDS = "request.needs"
    SITUATION = "request.situation"
    INCOME = "request.income"
    COMMUNE = "request.commune"
    KIND = "request.kind"
    INTERNET = "request.internet"
    FIRST_NAME = "request.first_name"
    AGE = "request.age"


class Internet(StrEnum):
    """Home internet access (stored); "no" flags a connectivity need."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Age(StrEnum):
    """Age brackets (stored): enough to propose suitable workshops, not to identify."""

    UNDER_18 = "u18"
    FROM_18 = "18_25"
    FROM_26 = "26_59"
    FROM_60 = "60_74"
    FROM_75 = "75p"


SITUATION_LABELS: dict[Situation, Msg] = {
    Situation.YOUNG_ADULT: _("Jeune qui quitte le foyer familial"),
    Situation.CHILD_WELFARE: _("Jeune sortant de l'ASE"),
    Situation.STUDENT: _("Étudiant·e en précarité"),
    Situation.MINIMUM_INCOME: _("Au RSA ou en recherche d'emploi"),
    Situation.ISOLATED: _("Personne isolée"),
    Situation.DISABILITY: _("Personne en situation de handicap"),
    Situation.RETIREE: _("Retraité·e"),
    Situation.FORCED_ONLINE: _("Doit désormais faire ses démarches en ligne"),
    Situation.MICRO_BUSINESS: _("Micro-entrepreneur·e"),
    Situation.GENERAL: _("Grand public, logiciel libre"),
}

INCOME_LABELS: dict[Income, Msg] = {
    Income.NONE_OR_MINIMUM: _("Sans revenu ou minima sociaux"),
    Income.MODEST: _("Revenus modestes"),
    Income.MIDDLE_OR_MORE: _("Revenus moyens ou plus"),
}

INTERNET_LABELS: dict[Internet, Msg] = {
    Internet.YES: _("Oui"),
    Internet.NO: _("Non"),
    Internet.UNKNOWN: _("Je ne sais pas"),
}

AGE_LABELS: dict[Age, Msg] = {
    Age.UNDER_18: _("Moins de 18 ans"),
    Age.FROM_18: _("18 à 25 ans"),
    Age.FROM_26: _("26 à 59 ans"),
    Age.FROM_60: _("60 à 74 ans"),
    Age.FROM_75: _("75 ans et plus"),
}

TIER_LABELS: dict[Tier, Msg] = {
    Tier.FREE: _("gratuit, payé par le Fonds de solidarité numérique"),
    Tier.SYMBOLIC: _("prix symbolique"),
    Tier.REDUCED: _("prix solidaire réduit"),
    Tier.FULL: _("prix solidaire"),
}

REASON_SHORT: dict[Reason, Msg] = {
    Reason.OWN_PLACE: _("votre structure"),
    Reason.SAME_COMMUNE: _("dans sa commune"),
    Reason.SAME_EPCI: _("dans son intercommunalité"),
    Reason.COVERING: _("lieu qui dessert son intercommunalité"),
}

REASON_WHY: dict[Reason, Msg] = {
    Reason.OWN_PLACE: _("c'est votre structure : la personne garde un seul interlocuteur"),
    Reason.SAME_COMMUNE: _("c'est un lieu de sa commune qui a ce matériel en stock"),
    Reason.SAME_EPCI: _("c'est le lieu le plus proche, dans son intercommunalité, qui a ce "
                        "matériel en stock"),
    Reason.COVERING: _("c'est le lieu qui dessert son intercommunalité et qui a ce matériel "
                       "en stock"),
}



# --- What steps read from the facts --------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the request flow reads: catalogue, places, stock, grid, answers saved so far."""

    kinds: Sequence[CatalogueKind]
    places: Sequence[Place]
    """The places in reach of the commune ``reach`` (:class:`flows.routing.Reach`): only
    the question of the kinds shows where each is available, so only it needs them."""
    stock: Stock
    """Units available at those places."""
    grid: PriceGrid
    saved: Mapping[str, Any]
    """Answers as saved before this message (steps' choices cannot see the new answer)."""
    reach: str | None = None
    """The commune ``places`` and ``stock`` were read for (None: none read)."""


def reach_needed(conv: Conversation) -> str | None:
    """The commune whose places in reach the question of ``conv`` shows: the kinds step's,
    with where each kind is available; None for every other question."""
    if conv.step != S.KIND:
        return None
    commune = conv.answers.get(S.COMMUNE)
    return commune if isinstance(commune, str) else None


def facts_of(ctx: Ctx) -> Facts:
    """The facts loaded for this flow, or empty ones (a flow test without storage)."""
    found = ctx.facts.get("request")
    if isinstance(found, Facts):
        return found
    return Facts((), (), {}, PriceGrid((), ()), {})


def price_text(q: Quote) -> Msg:
    """An amount with its tier, formatted by babel at render time."""
    if q.tier is Tier.FREE:
        return TIER_LABELS[Tier.FREE]
    return _("{amount} ({tier})", amount=Money(q.cents), tier=TIER_LABELS[q.tier])


def preview(ctx: Ctx, answers: Answers, kind: str) -> tuple[Quote, Routed | NoStock]:
    """Price and place for one kind, from the answers and the facts of this moment."""
    facts = facts_of(ctx)
    q = quote(facts.grid, answers[S.SITUATION], answers.get(S.INCOME), kind)
    where = route(kind, answers[S.COMMUNE], facts.places, facts.stock, _epci_of(ctx),
                  ctx.user.place_id)
    return q, where


def _epci_of(ctx: Ctx) -> Callable[[str], str | None]:
    def epci_of(insee: str) -> str | None:
        commune = ctx.territory.commune(insee)
        return commune.epci if commune else None

    return epci_of


def _shown_kinds(ctx: Ctx, needs: Sequence[str] | None) -> list[CatalogueKind]:
    kinds = list(facts_of(ctx).kinds)
    return (fitting(kinds, needs) if needs else []) or kinds


def _ask_kind(ctx: Ctx, answers: Answers) -> Msg:
    """The catalogue's answer: what fits those needs, at what price, available where."""
    lines: list[Msg] = []
    for kind in _shown_kinds(ctx, answers.get(S.NEEDS)):
        q, where = preview(ctx, answers, kind.code)
        if isinstance(where, Routed):
            place = _("disponible : {place} ({why})", place=verbatim(where.place.name),
                      why=REASON_SHORT[where.reason])
        else:
            place = _("pas en stock près de chez elle : liste d'attente")
        lines.append(_("• {name} : {sentence}\n  {price} · {place}", name=kind_name(kind.code),
                       sentence=kind_sentence(kind), price=price_text(q), place=place))
    if not lines:
        return _("Le catalogue est vide pour le moment. Tapez « annuler » et réessayez plus "
                 "tard.")
    return _("Ce qui convient à ces usages, pour cette personne :\n{lines}\nQuel matériel "
             "choisissez-vous ?", lines=Lines(tuple(lines)))


@dataclass(frozen=True)
class KindAnswer:
    """A kind of the catalogue: those fitting the needs are offered, any kind is accepted."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        # The saved answers: this step is always asked at least one message after the needs.
        shown = _shown_kinds(ctx, facts_of(ctx).saved.get(S.NEEDS))
        return [Choice(k.code, kind_name(k.code)) for k in shown]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        picked = match_choice(given, self.choices(ctx), ctx)
        if picked is None and not given.text.strip().isdigit():
            every = [Choice(k.code, kind_name(k.code)) for k in facts_of(ctx).kinds]
            picked = match_choice(given, every, ctx)
        if picked is None:
            return Rejected(_("Choisissez une des propositions (son numéro ou son texte)."))
        return Accepted(picked.id)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return kind_name(str(value), facts_of(ctx).kinds) if value else _("(non renseigné)")


_INITIAL = re.compile(r"[^\W\d_]{1,2}\.?", re.UNICODE)


@dataclass(frozen=True)
class FirstNameAnswer:
    """One first name or initials, never a surname: the least a place needs to welcome."""

    optional: bool = True

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return FreeText(1, 30, optional=True).choices(ctx)

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        verdict = FreeText(1, 30, optional=True).parse(given, ctx, pending)
        if not isinstance(verdict, Accepted) or verdict.value is None:
            return verdict
        words = verdict.value.split(" ")
        initials = all(_INITIAL.fullmatch(w) for w in words)
        if any(ch.isdigit() for ch in verdict.value) or (len(words) > 1 and not initials):
            return Rejected(_("Seulement un prénom ou des initiales, sans nom de famille : "
                              "par exemple « Léa », « Jean-Marc » ou « L. M. »."))
        return verdict

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


# --- The flow ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestDraft:
    """What the prescriber answered, before routing, reference and reservation."""

    needs: tuple[str, ...]
    situation: str
    income: str | None
    commune: str
    kind: str
    internet: str
    first_name: str | None
    age: str


@dataclass(frozen=True)
class SubmitRequest(Effect):
    """Number the request, route it, reserve the device, tell the prescriber and the place."""

    draft: RequestDraft


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    draft = RequestDraft(
        needs=tuple(answers[S.NEEDS]),
        situation=answers[S.SITUATION],
        income=answers.get(S.INCOME),
        commune=answers[S.COMMUNE],
        kind=answers[S.KIND],
        internet=answers[S.INTERNET],
        first_name=answers.get(S.FIRST_NAME),
        age=answers[S.AGE],
    )
    return Outcome(effects=[SubmitRequest(draft)])


def _ask_first_name(ctx: Ctx, answers: Answers) -> Msg:
    return _(
        "Ce que nous gardons sur la personne : un prénom ou des initiales (facultatif) et une "
        "tranche d'âge, pour que le lieu l'accueille et lui propose une première séance "
        "adaptée. Pas de nom de famille, aucun document. Le prénom est effacé {months} mois "
        "après la remise.\nSon prénom ou ses initiales ?",
        months=FIRST_NAME_KEPT_MONTHS,
    )


FLOW = Flow(
    name=FLOW_NAME,
    first=S.NEEDS,
    intro=_("Demande de matériel pour une personne que vous accompagnez : 8 questions "
            "courtes. « retour » revient en arrière, « annuler » abandonne."),
    confirm=True,
    finish=_finish,
    steps={
        S.NEEDS: Step(
            ask=_("Pour quoi la personne a-t-elle besoin de matériel ? Plusieurs réponses "
                  "possibles (par exemple : 1, 4)."),
            answer=SomeOf(options(USAGE_LABELS)),
            label=_("Usages"),
            next=S.SITUATION,
        ),
        S.SITUATION: Step(
            ask=_("Sa situation ? Votre parole suffit : aucun justificatif n'est demandé."),
            answer=OneOf(options(SITUATION_LABELS)),
            label=_("Situation"),
            next=S.INCOME,
            help=_("La situation fixe le prix : du gratuit (payé par le Fonds de solidarité "
                   "numérique) au prix solidaire."),
        ),
        S.INCOME: Step(
            ask=_("Ses revenus, si vous les connaissez ? (facultatif)"),
            answer=OneOf(options(INCOME_LABELS), optional=True),
            label=_("Revenus"),
            next=S.COMMUNE,
        ),
        S.COMMUNE: Step(
            ask=_("Dans quelle commune vit la personne ? (nom ou code postal)"),
            answer=CommuneAnswer(),
            label=_("Commune"),
            next=S.KIND,
            help=_("Le matériel est envoyé au lieu du réseau le plus proche d'elle."),
        ),
        S.KIND: Step(
            ask=_ask_kind,
            answer=KindAnswer(),
            label=_("Matériel"),
            next=S.INTERNET,
        ),
        S.INTERNET: Step(
            ask=_("A-t-elle internet à la maison ?"),
            answer=OneOf(options(INTERNET_LABELS)),
            label=_("Internet à la maison"),
            next=S.FIRST_NAME,
            help=_("« Non » signale au lieu un besoin de connexion : il l'aidera à trouver "
                   "une solution."),
        ),
        S.FIRST_NAME: Step(
            ask=_ask_first_name,
            answer=FirstNameAnswer(),
            label=_("Prénom ou initiales"),
            next=S.AGE,
        ),
        S.AGE: Step(
            ask=_("Sa tranche d'âge ?"),
            answer=OneOf(options(AGE_LABELS)),
            label=_("Âge"),
            next=None,
        ),
    },
)


# --- What people read about a request ------------------------------------------------------


def label_of(labels: Mapping[Any, Msg], code: str | None) -> Msg:
    """The label of a stored code, or the code itself if the labels do not know it."""
    for key, label in labels.items():
        if str(key) == code:
            return label
    return verbatim(code or "-")


def person(request: EquipmentRequest) -> Msg:
    """How a request names the person: first name or initials if given, and age bracket."""
    age = label_of(AGE_LABELS, request.age)
    if request.first_name:
        return _("{name}, {age}", name=verbatim(request.first_name), age=age)
    return age


def needs_text(needs: Sequence[str]) -> Msg:
    """The needs in plain words, comma separated."""
    params = {f"n{i}": label_of(USAGE_LABELS, code) for i, code in enumerate(needs)}
    return Msg(", ".join("{" + key + "}" for key in params) or "-", params)


def place_line(place: Place, commune_name: str) -> Msg:
    """A place as a prescriber needs it to send someone there."""
    return _("{name}, {address}, {commune} (horaires : {hours})", name=verbatim(place.name),
             address=verbatim(place.address), commune=verbatim(commune_name),
             hours=verbatim(place.opening_hours or "-"))


def status_text(request: EquipmentRequest, place: Place | None, position: int | None) -> Msg:
    """Where a request stands, in plain words."""
    name = verbatim(place.name) if place else _("un lieu du réseau")
    match request.status:
        case RequestStatus.WAITING:
            return _("sur liste d'attente (position {n})", n=position or 1)
        case RequestStatus.SENT:
            return _("envoyée à {place}, en attente de réponse", place=name)
        case RequestStatus.ACCEPTED:
            return _("acceptée par {place}, en préparation", place=name)
        case RequestStatus.READY:
            if request.pickup_on is not None:
                return _("prête à retirer à {place} à partir du {day}", place=name,
                         day=Day(request.pickup_on))
            return _("prête à retirer à {place}", place=name)
        case RequestStatus.HANDED_OVER:
            return _("remise à la personne")
        case RequestStatus.CANCELLED:
            return _("annulée")
    return verbatim(request.status.value)


def request_line(request: EquipmentRequest, place: Place | None, position: int | None) -> Msg:
    """One line of "my requests"."""
    return _("• {ref} : {kind} pour {person} — {status}", ref=verbatim(request.reference),
             kind=kind_name(request.kind), person=person(request),
             status=status_text(request, place, position))


def staff_notice(request: EquipmentRequest, commune_name: str, structure: str | None) -> Msg:
    """What a place's staff read to prepare a request: the device, the person, the price."""
    internet = label_of(INTERNET_LABELS, request.internet)
    if request.needs_connectivity:
        internet = _("non : besoin de connexion à prévoir")
    return _(
        "Demande {ref} pour votre lieu\nMatériel : {kind}\nUsages : {needs}\n"
        "Personne : {person}, habite {commune}\nSituation : {situation} — prix : {price}\n"
        "Internet à la maison : {internet}\nDemandée par : {structure}",
        ref=verbatim(request.reference), kind=kind_name(request.kind),
        needs=needs_text(request.needs), person=person(request),
        commune=verbatim(commune_name), situation=label_of(SITUATION_LABELS, request.situation),
        price=price_text(Quote(Tier(request.tier), request.price_cents)), internet=internet,
        structure=verbatim(structure or "-"),
    )


# --- Actions on a request (buttons of notices and menus) -----------------------------------


REFUSE_LABELS: dict[RefuseReason, Msg] = {
    RefuseReason.NO_STOCK: _("Plus ce matériel en stock"),
    RefuseReason.UNFIT: _("Matériel pas adapté à la demande"),
    RefuseReason.TOO_FAR: _("Trop loin pour la personne"),
    RefuseReason.OTHER: _("Autre raison"),
}


def staff_choices(request: EquipmentRequest) -> list[Choice]:
    """What a place's staff can do next with a request, by its status."""
    ref = verbatim(request.reference)
    accept = Choice(act.AcceptRequest(request.id).pack(), _("Accepter {ref}", ref=ref))
    refuse = Choice(act.RefuseRequest(request.id).pack(), _("Refuser {ref}", ref=ref))
    ready = Choice(act.ReadyRequest(request.id).pack(), _("{ref} : prêt à retirer", ref=ref))
    handover = Choice(act.Handover(request.id).pack(), _("{ref} : remis", ref=ref))
    match request.status:
        case RequestStatus.SENT:
            return [accept, refuse]
        case RequestStatus.ACCEPTED:
            return [ready, handover, refuse]
        case RequestStatus.READY:
            return [handover]
    return []


def reference(year: int, number: int) -> str:
    """The request reference people quote on the phone: ``DEM-2026-0042``."""
    return f"DEM-{year}-{number:04d}"
