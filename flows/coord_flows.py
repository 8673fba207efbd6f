"""The coordinators' conversations, declared as data: places, catalogue, prices, a series of
workshops, a message to prescribers. Each finishes with one effect the handlers carry out.

Steps read the places and kinds from ``ctx.facts["coord"]`` (loaded by the handlers), so they
do no I/O. Step names are stored in conversations: never rename one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.answers import (
    Accepted,
    CommuneAnswer,
    DateAnswer,
    FreeText,
    Input,
    Integer,
    OneOf,
    Rejected,
    SomeOf,
    TypedAnswer,
    Verdict,
    clean_text,
    options,
)
from flows.catalogue import USAGE_LABELS, kind_name
from flows.coordination import Rhythm
from flows.csv_import import parse_euros
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice
from flows.opening_hours import HoursError, describe, parse_hours
from flows.plain import problems as plain_problems
from flows.pricing import ANY, Tier
from flows.records import CatalogueKind, Place, PlaceKind
from flows.request import INCOME_LABELS, SITUATION_LABELS, TIER_LABELS
from flows.text import Lines, Money, Msg, _, verbatim
from flows.workshops import DURATIONS, TOPIC_LABELS, TimeAnswer

PLACE_KIND_LABELS: dict[PlaceKind, Msg] = {
    PlaceKind.HUB: _("Hub (stocke, remet, accompagne)"),
    PlaceKind.RELAY: _("Point relais (remet et accompagne)"),
    PlaceKind.RECONDITIONER: _("Reconditionneur (efface, répare, installe)"),
    PlaceKind.COLLECTION: _("Point de collecte"),
}

PLACE_KIND_SHORT: dict[PlaceKind, Msg] = {
    PlaceKind.HUB: _("hub"),
    PlaceKind.RELAY: _("point relais"),
    PlaceKind.RECONDITIONER: _("reconditionneur"),
    PlaceKind.COLLECTION: _("point de collecte"),
}

HOURS_EXAMPLE = "Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00; PH off"


@dataclass(frozen=True)
class CoordFacts:
    """What the coordination steps read: the places (closed ones too) and the kinds."""

    places: Sequence[Place] = ()
    kinds: Sequence[CatalogueKind] = ()


def facts_of(ctx: Ctx) -> CoordFacts:
    """The loaded facts, or empty ones (a flow tested without storage)."""
    found = ctx.facts.get("coord")
    return found if isinstance(found, CoordFacts) else CoordFacts()


def _place_options(ctx: Ctx) -> list[Choice]:
    return [Choice(str(p.id), verbatim(p.name)) for p in facts_of(ctx).places]


def _kind_options(ctx: Ctx) -> list[Choice]:
    kinds = facts_of(ctx).kinds
    return [Choice(k.code, kind_name(k.code, kinds)) for k in kinds]


def _epci_options(ctx: Ctx) -> list[Choice]:
    return [Choice(e.siren, verbatim(e.name)) for e in ctx.territory.epcis]



@dataclass(frozen=True)
class HoursAnswer(TypedAnswer):
    """Opening hours in OSM syntax, checked and stored normalised; "passer" leaves none."""

    optional: bool = True

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        parsed = parse_hours(clean_text(given.text))
        if isinstance(parsed, HoursError):
            return Rejected(parsed.reason)
        return Accepted(parsed.text)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        if not value:
            return _("(non renseigné)")
        parsed = parse_hours(value)
        return verbatim(value) if isinstance(parsed, HoursError) else describe(parsed)


@dataclass(frozen=True)
class EurosAnswer:
    """An amount in euros ("40", "40,50"), stored in cents."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        cents = parse_euros(clean_text(given.text))
        if cents is None:
            return Rejected(_("Écrivez un montant en euros, par exemple 40 ou 40,50."))
        return Accepted(cents)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return Msg("{m}", {"m": Money(int(value))}) if value is not None else _("(non renseigné)")


# --- Add a place ----------------------------------------------------------------------------

PLACE_ADD = "coord.place_add"


class PA(StrEnum):
    """Steps of adding a place (stored: never rename a value)."""

    NAME = "coord.place.name"
    KIND = "coord.place.kind"
    COMMUNE = "coord.place.commune"
    ADDRESS = "coord.place.address"
    HOURS = "coord.place.hours"
    COVERS = "coord.place.covers"


@dataclass(frozen=True)
class SavePlace(Effect):
    """Create a place from the answers."""

    name: str
    kind: PlaceKind
    commune: str
    address: str
    osm_hours: str
    covers: tuple[str, ...]


def _finish_add(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[SavePlace(
        answers[PA.NAME], PlaceKind(answers[PA.KIND]), answers[PA.COMMUNE], answers[PA.ADDRESS],
        answers.get(PA.HOURS) or "", tuple(answers.get(PA.COVERS) or ()))])


def _hours_step(label: Msg | None, nxt: str | None) -> Step:
    return Step(
        ask=_("Horaires d'ouverture, au format OpenStreetMap ? Par exemple :\n{example}",
              example=HOURS_EXAMPLE),
        answer=HoursAnswer(),
        label=label,
        next=nxt,
        help=_("Jours Mo Tu We Th Fr Sa Su, plages HH:MM-HH:MM séparées par des virgules, "
               "règles séparées par « ; », PH pour les jours fériés, off pour fermé."),
    )


PLACE_ADD_FLOW = Flow(
    name=PLACE_ADD,
    first=PA.NAME,
    confirm=True,
    finish=_finish_add,
    intro=_("Nouveau lieu du réseau."),
    steps={
        PA.NAME: Step(ask=_("Nom du lieu ?"), answer=FreeText(3, 120), label=_("Nom"),
                      next=PA.KIND),
        PA.KIND: Step(ask=_("Quel type de lieu ?"), answer=OneOf(options(PLACE_KIND_LABELS)),
                      label=_("Type"), next=PA.COMMUNE),
        PA.COMMUNE: Step(ask=_("Commune ou code postal ?"), answer=CommuneAnswer(),
                         label=_("Commune"), next=PA.ADDRESS),
        PA.ADDRESS: Step(ask=_("Adresse (numéro et rue) ?"), answer=FreeText(3, 200),
                         label=_("Adresse"), next=PA.HOURS),
        PA.HOURS: _hours_step(_("Horaires"), PA.COVERS),
        PA.COVERS: Step(ask=_("Quelles intercommunalités ce lieu dessert-il en plus de la "
                              "sienne ? (« Valider » sans rien choisir : aucune)"),
                        answer=SomeOf(_epci_options, optional=True),
                        label=_("Dessert aussi"), next=None),
    },
)


# --- Edit a place ---------------------------------------------------------------------------

PLACE_EDIT = "coord.place_edit"
PLACE_ID = "place"
"""Preset answer: the id of the place being edited."""


@dataclass(frozen=True)
class PlainText(TypedAnswer):
    """Free text that beneficiaries will read: refused, with what to shorten, unless it
    follows the plain-language rules (``flows/plain.py``)."""

    shortest: int = 1
    longest: int = 400
    optional: bool = False

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        # One step a line; "• a. • b." typed on one line (a terminal) is the same list.
        lines = given.text.replace(" • ", "\n• ").splitlines()
        text = "\n".join(cleaned for line in lines if (cleaned := clean_text(line)))
        if not self.shortest <= len(text) <= self.longest:
            return Rejected(_("Écrivez entre {a} et {b} caractères.", a=self.shortest,
                              b=self.longest))
        found = plain_problems(text)
        if found:
            return Rejected(Msg("{head}\n{lines}", {
                "head": _("Les bénéficiaires lisent ce texte : il doit être simple. "
                          "À changer :"),
                "lines": Lines(tuple(p.say() for p in found))}))
        return Accepted(text)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


class PE(StrEnum):
    """Steps of editing a place (stored: never rename a value)."""

    FIELD = "coord.edit.field"
    NAME = "coord.edit.name"
    KIND = "coord.edit.kind"
    COMMUNE = "coord.edit.commune"
    ADDRESS = "coord.edit.address"
    HOURS = "coord.edit.hours"
    COVERS = "coord.edit.covers"
    HELP_TEXT = "coord.edit.help_text"
    HELP_LINK = "coord.edit.help_link"
    ACTIVE = "coord.edit.active"


FIELD_LABELS: dict[PE, Msg] = {
    PE.NAME: _("Nom"),
    PE.KIND: _("Type"),
    PE.COMMUNE: _("Commune"),
    PE.ADDRESS: _("Adresse"),
    PE.HOURS: _("Horaires"),
    PE.COVERS: _("Intercommunalités desservies"),
    PE.HELP_TEXT: _("Procédure d'aide à distance"),
    PE.ACTIVE: _("Fermer ou rouvrir le lieu"),
}


@dataclass(frozen=True)
class EditPlace(Effect):
    """Change one thing of a place; ``value`` is what the field's step stored."""

    place_id: int
    field: PE
    value: Any
    extra: Any = None


def _finish_edit(ctx: Ctx, answers: Answers) -> Outcome:
    chosen = PE(answers[PE.FIELD])
    return Outcome(effects=[EditPlace(int(answers[PLACE_ID]), chosen, answers.get(chosen),
                                      answers.get(PE.HELP_LINK))])


PLACE_EDIT_FLOW = Flow(
    name=PLACE_EDIT,
    first=PE.FIELD,
    finish=_finish_edit,
    steps={
        PE.FIELD: Step(ask=_("Que voulez-vous modifier ?"),
                       answer=OneOf(options(FIELD_LABELS)),
                       next=lambda a: str(a[PE.FIELD])),
        PE.NAME: Step(ask=_("Nouveau nom ?"), answer=FreeText(3, 120)),
        PE.KIND: Step(ask=_("Quel type de lieu ?"), answer=OneOf(options(PLACE_KIND_LABELS))),
        PE.COMMUNE: Step(ask=_("Commune ou code postal ?"), answer=CommuneAnswer()),
        PE.ADDRESS: Step(ask=_("Adresse (numéro et rue) ?"), answer=FreeText(3, 200)),
        PE.HOURS: _hours_step(None, None),
        PE.COVERS: Step(ask=_("Quelles intercommunalités ce lieu dessert-il en plus de la "
                              "sienne ? (« Valider » sans rien choisir : aucune)"),
                        answer=SomeOf(_epci_options, optional=True)),
        PE.HELP_TEXT: Step(ask=_("Comment ce lieu aide-t-il à distance ? Les bénéficiaires le "
                                 "lisent : une étape par ligne, commençant par « • », 15 mots "
                                 "au plus par phrase, sans abréviation."),
                           answer=PlainText(10, 400), next=PE.HELP_LINK),
        PE.HELP_LINK: Step(ask=_("Lien à ouvrir (https://…), ou « passer » ?"),
                           answer=FreeText(8, 200, optional=True)),
        PE.ACTIVE: Step(ask=_("Fermer ce lieu (il ne reçoit plus de demandes) ou le rouvrir ?"),
                        answer=OneOf([Choice("close", _("Fermer le lieu")),
                                      Choice("open", _("Rouvrir le lieu"))])),
    },
)


# --- Catalogue and prices -------------------------------------------------------------------

KIND_ADD = "coord.kind_add"
PRICE_SET = "coord.price"
RULE_SET = "coord.rule"


@dataclass(frozen=True)
class SaveKind(Effect):
    """Add a kind of device (its code is made from its name)."""

    name: str
    description: str
    uses: tuple[str, ...]


@dataclass(frozen=True)
class SetPrice(Effect):
    """Set what a tier costs for a kind (or any kind)."""

    tier: Tier
    kind: str
    cents: int


@dataclass(frozen=True)
class SetRule(Effect):
    """Set the tier of a profile."""

    situation: str
    income: str
    tier: Tier


KIND_ADD_FLOW = Flow(
    name=KIND_ADD,
    first="name",
    confirm=True,
    intro=_("Nouveau type de matériel au catalogue."),
    finish=lambda ctx, a: Outcome(effects=[SaveKind(a["name"], a["description"],
                                                    tuple(a["uses"]))]),
    steps={
        "name": Step(ask=_("Nom du type de matériel ? (par exemple : Écran seul)"),
                     answer=FreeText(2, 60), label=_("Nom"), next="description"),
        "description": Step(ask=_("Une phrase simple qui dit à quoi il sert ?"),
                            answer=FreeText(3, 200), label=_("Description"), next="uses"),
        "uses": Step(ask=_("Pour quels usages ?"), answer=SomeOf(options(USAGE_LABELS)),
                     label=_("Usages"), next=None),
    },
)


PAYING_TIERS = {t: TIER_LABELS[t] for t in (Tier.SYMBOLIC, Tier.REDUCED, Tier.FULL)}


def _price_kinds(ctx: Ctx) -> list[Choice]:
    return [Choice(ANY, _("Tous les types sans prix propre")), *_kind_options(ctx)]


PRICE_FLOW = Flow(
    name=PRICE_SET,
    first="tier",
    confirm=True,
    finish=lambda ctx, a: Outcome(effects=[SetPrice(Tier(a["tier"]), a["kind"],
                                                    int(a["cents"]))]),
    steps={
        "tier": Step(ask=_("Quel palier de prix ?"), answer=OneOf(options(PAYING_TIERS)),
                     label=_("Palier"), next="kind"),
        "kind": Step(ask=_("Pour quel matériel ?"), answer=OneOf(_price_kinds),
                     label=_("Matériel"), next="cents"),
        "cents": Step(ask=_("Quel prix, en euros ?"), answer=EurosAnswer(), label=_("Prix"),
                      next=None),
    },
)

RULE_FLOW = Flow(
    name=RULE_SET,
    first="situation",
    confirm=True,
    finish=lambda ctx, a: Outcome(effects=[SetRule(a["situation"], a["income"],
                                                   Tier(a["tier"]))]),
    steps={
        "situation": Step(ask=_("Pour quelle situation ?"),
                          answer=OneOf(options(SITUATION_LABELS)), label=_("Situation"),
                          next="income"),
        "income": Step(ask=_("Pour quels revenus ?"),
                       answer=OneOf([Choice(ANY, _("Tous revenus")),
                                     *options(INCOME_LABELS)]),
                       label=_("Revenus"), next="tier"),
        "tier": Step(ask=_("Quel palier de prix ?"), answer=OneOf(options(TIER_LABELS)),
                     label=_("Palier"), next=None),
    },
)


# --- A series of workshop sessions ----------------------------------------------------------

SERIES = "coord.series"

RHYTHM_LABELS: dict[Rhythm, Msg] = {
    Rhythm.WEEKLY: _("Chaque semaine"),
    Rhythm.FORTNIGHTLY: _("Toutes les deux semaines"),
}


@dataclass(frozen=True)
class AddSeries(Effect):
    """Add one session per topic at a place, from the first day, at the same local time."""

    place_id: int
    topics: tuple[str, ...]
    first_day: str
    at: str
    rhythm: Rhythm
    minutes: int
    seats: int


def _finish_series(ctx: Ctx, a: Answers) -> Outcome:
    return Outcome(effects=[AddSeries(int(a["place"]), tuple(a["topics"]), a["day"], a["at"],
                                      Rhythm(a["rhythm"]), int(a["minutes"]), int(a["seats"]))])


SERIES_FLOW = Flow(
    name=SERIES,
    first="place",
    confirm=True,
    finish=_finish_series,
    intro=_("Une série d'ateliers : une séance par thème, à la même heure."),
    steps={
        "place": Step(ask=_("Dans quel lieu ?"), answer=OneOf(_place_options), label=_("Lieu"),
                      next="topics"),
        "topics": Step(ask=_("Quels thèmes, dans l'ordre des séances ? (par exemple : 1, 2, 3)"),
                       answer=SomeOf(options(TOPIC_LABELS)), label=_("Thèmes"), next="day"),
        "day": Step(ask=_("Date de la première séance ? (par exemple 25/12)"),
                    answer=DateAnswer(not_before_days=1, not_after_days=365),
                    label=_("Première séance"), next="at"),
        "at": Step(ask=_("À quelle heure ? (par exemple 14 h 30)"), answer=TimeAnswer(),
                   label=_("Heure"), next="rhythm"),
        "rhythm": Step(ask=_("À quel rythme ?"), answer=OneOf(options(RHYTHM_LABELS)),
                       label=_("Rythme"), next="minutes"),
        "minutes": Step(ask=_("Quelle durée ?"),
                        answer=OneOf([Choice(k, v) for k, v in DURATIONS.items()]),
                        label=_("Durée"), next="seats"),
        "seats": Step(ask=_("Combien de places par séance ?"), answer=Integer(1, 30),
                      label=_("Places"), next=None),
    },
)


# --- A message to prescribers ---------------------------------------------------------------

BROADCAST = "coord.broadcast"


@dataclass(frozen=True)
class Broadcast(Effect):
    """Send ``text`` to every approved prescriber, or to those of one intercommunality."""

    text: str
    epci: str | None = None


def _finish_broadcast(ctx: Ctx, a: Answers) -> Outcome:
    epci = a.get("epci") if a.get("audience") == "epci" else None
    return Outcome(effects=[Broadcast(a["text"], epci)])


def _audience_next(answers: Answers) -> str:
    return "epci" if answers.get("audience") == "epci" else "text"


BROADCAST_FLOW = Flow(
    name=BROADCAST,
    first="audience",
    confirm=True,
    finish=_finish_broadcast,
    steps={
        "audience": Step(ask=_("À qui envoyer le message ?"),
                         answer=OneOf([Choice("all", _("Tous les accompagnant·es")),
                                       Choice("epci", _("Ceux d'une intercommunalité"))]),
                         label=_("Destinataires"), next=_audience_next),
        "epci": Step(ask=_("Quelle intercommunalité ?"), answer=OneOf(_epci_options),
                     label=_("Intercommunalité"), next="text"),
        "text": Step(ask=_("Votre message ? (500 caractères au plus)"),
                     answer=FreeText(5, 500), label=_("Message"), next=None),
    },
)


FLOWS: tuple[Flow, ...] = (PLACE_ADD_FLOW, PLACE_EDIT_FLOW, KIND_ADD_FLOW,
                           PRICE_FLOW, RULE_FLOW, SERIES_FLOW, BROADCAST_FLOW)
