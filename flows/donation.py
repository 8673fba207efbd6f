"""Donors declare a lot: who they are, what they give, what data it holds, how it reaches us.

The single entry point the field asked for (DOMAIN.md, "Donors"): anyone may give, no approval.
The data-sensitivity questions come one at a time; their answers go through
:func:`flows.erasure.assess`, and the donor reads the resulting level and protocol in plain
words before choosing a drop-off point or a pickup. Contact data is kept minimal: a name, a
commune, an optional phone or e-mail.

```mermaid
flowchart TD
  kind -->|organisation| organisation --> siret --> contact
  kind -->|private person| contact
  contact --> commune --> reach --> categories --> qty["one quantity per category"]
  qty --> age --> condition --> chargers --> holds
  holds -->|yes| data_kinds --> encrypted
  holds -->|don't know| encrypted
  holds -->|already erased| certificates
  encrypted --> certificates --> witness --> protocol --> logistics
  logistics -->|drop-off| place --> summary
  logistics -->|pickup| pickup_commune --> availability --> summary
```
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.answers import (
    Accepted,
    CommuneAnswer,
    FreeText,
    Input,
    Integer,
    OneOf,
    Rejected,
    SomeOf,
    Verdict,
    clean_text,
    is_skip,
    options,
    skip_choice,
)
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.erasure import (
    LEVEL_LABELS,
    MEASURE_LABELS,
    REASON_LABELS,
    Assessment,
    DataKind,
    Encrypted,
    HoldsData,
    Questionnaire,
    Witness,
    assess,
)
from flows.messages import Choice, Reply
from flows.records import (
    AgeBand,
    Chargers,
    Condition,
    DeviceCategory,
    DonorKind,
    Logistics,
    Lot,
    LotDraft,
    Place,
    PlaceId,
    PlaceKind,
)
from flows.siret import Siret, SiretProblem, parse_siret
from flows.territory import Territory
from flows.text import Lines, Msg, _, by_gesture, verbatim

FLOW_NAME = "donation"

MAX_PER_CATEGORY = 1000
"""Largest quantity of one category in one lot (a bounded integer, like every quantity)."""

NO_PLACE_YET = "later"
"""Choice id of "I don't know yet where to drop it off"."""


class S(StrEnum):
    """Steps of the declaration (stored in conversations: never rename a value)."""

    KIND = "donation.kind"
    ORGANISATION = "donation.organisation"
    SIRET = "donation.siret"
    CONTACT = "donation.contact"
    COMMUNE = "donation.commune"
    REACH = "donation.reach"
    CATEGORIES = "donation.categories"
    QTY_LAPTOP = "donation.qty.laptop"
    QTY_DESKTOP = "donation.qty.desktop"
    QTY_SCREEN = "donation.qty.screen"
    QTY_TABLET = "donation.qty.tablet"
    QTY_SMARTPHONE = "donation.qty.smartphone"
    QTY_PRINTER = "donation.qty.printer"
    QTY_SERVER = "donation.qty.server"
    QTY_PERIPHERAL = "donation.qty.peripheral"
    QTY_OTHER = "donation.qty.other"
    AGE = "donation.age"
    CONDITION = "donation.condition"
    CHARGERS = "donation.chargers"
    HOLDS = "donation.holds"
    DATA_KINDS = "donation.data_kinds"
    ENCRYPTED = "donation.encrypted"
    CERTIFICATES = "donation.certificates"
    WITNESS = "donation.witness"
    PROTOCOL = "donation.protocol"
    LOGISTICS = "donation.logistics"
    PLACE = "donation.place"
    PICKUP_COMMUNE = "donation.pickup_commune"
    AVAILABILITY = "donation.availability"


QTY: dict[DeviceCategory, S] = {
    DeviceCategory.LAPTOP: S.QTY_LAPTOP,
    DeviceCategory.DESKTOP: S.QTY_DESKTOP,
    DeviceCategory.SCREEN: S.QTY_SCREEN,
    DeviceCategory.TABLET: S.QTY_TABLET,
    DeviceCategory.SMARTPHONE: S.QTY_SMARTPHONE,
    DeviceCategory.PRINTER: S.QTY_PRINTER,
    DeviceCategory.SERVER: S.QTY_SERVER,
    DeviceCategory.PERIPHERAL: S.QTY_PERIPHERAL,
    DeviceCategory.OTHER: S.QTY_OTHER,
}

DONOR_KIND_LABELS: dict[DonorKind, Msg] = {
    DonorKind.COMPANY: _("Une entreprise"),
    DonorKind.PUBLIC: _("Une collectivité ou un organisme public"),
    DonorKind.ASSOCIATION: _("Une association"),
    DonorKind.PRIVATE: _("Un particulier"),
}

CATEGORY_LABELS: dict[DeviceCategory, Msg] = {
    DeviceCategory.LAPTOP: _("Ordinateurs portables"),
    DeviceCategory.DESKTOP: _("Unités centrales (ordinateurs fixes)"),
    DeviceCategory.SCREEN: _("Écrans"),
    DeviceCategory.TABLET: _("Tablettes"),
    DeviceCategory.SMARTPHONE: _("Smartphones"),
    DeviceCategory.PRINTER: _("Imprimantes"),
    DeviceCategory.SERVER: _("Serveurs"),
    DeviceCategory.PERIPHERAL: _("Périphériques et câbles"),
    DeviceCategory.OTHER: _("Autre matériel"),
}

QTY_QUESTIONS: dict[DeviceCategory, Msg] = {
    DeviceCategory.LAPTOP: _("Combien d'ordinateurs portables ?"),
    DeviceCategory.DESKTOP: _("Combien d'unités centrales ?"),
    DeviceCategory.SCREEN: _("Combien d'écrans ?"),
    DeviceCategory.TABLET: _("Combien de tablettes ?"),
    DeviceCategory.SMARTPHONE: _("Combien de smartphones ?"),
    DeviceCategory.PRINTER: _("Combien d'imprimantes ?"),
    DeviceCategory.SERVER: _("Combien de serveurs ?"),
    DeviceCategory.PERIPHERAL: _("Combien de périphériques et câbles (à peu près) ?"),
    DeviceCategory.OTHER: _("Combien d'autres appareils ?"),
}

AGE_LABELS: dict[AgeBand, Msg] = {
    AgeBand.UNDER_5: _("Moins de 5 ans"),
    AgeBand.FROM_5_TO_8: _("De 5 à 8 ans"),
    AgeBand.OVER_8: _("Plus de 8 ans"),
}

CONDITION_LABELS: dict[Condition, Msg] = {
    Condition.WORKING: _("Il fonctionne"),
    Condition.TO_TEST: _("À tester"),
    Condition.BROKEN: _("En panne"),
}

CHARGER_LABELS: dict[Chargers, Msg] = {
    Chargers.YES: _("Oui"),
    Chargers.PARTLY: _("En partie"),
    Chargers.NO: _("Non"),
}

HOLDS_LABELS: dict[HoldsData, Msg] = {
    HoldsData.YES: _("Oui"),
    HoldsData.ERASED: _("Non, ils sont déjà effacés"),
    HoldsData.UNKNOWN: _("Je ne sais pas"),
}

DATA_KIND_LABELS: dict[DataKind, Msg] = {
    DataKind.PERSONAL: _("Fichiers et photos personnels"),
    DataKind.THIRD_PARTY: _("Données de clients ou d'usagers"),
    DataKind.HEALTH: _("Données de santé"),
    DataKind.FINANCIAL: _("Données bancaires ou financières"),
    DataKind.HR: _("Ressources humaines et paie"),
    DataKind.LEGAL: _("Documents juridiques ou confidentiels"),
    DataKind.NONE: _("Aucune de celles-ci"),
}

ENCRYPTED_LABELS: dict[Encrypted, Msg] = {
    Encrypted.YES: _("Oui"),
    Encrypted.NO: _("Non"),
    Encrypted.UNKNOWN: _("Je ne sais pas"),
}

WITNESS_LABELS: dict[Witness, Msg] = {
    Witness.NONE: _("Non"),
    Witness.ERASURE: _("Oui, l'effacement"),
    Witness.DESTRUCTION: _("Oui, la destruction des disques défaillants"),
    Witness.BOTH: _("Oui, les deux"),
}

LOGISTICS_LABELS: dict[Logistics, Msg] = {
    Logistics.DROP_OFF: _("Je le dépose dans un point de collecte"),
    Logistics.PICKUP: _("Je demande un enlèvement"),
}

TRANSFER_TERMS = _(
    "Convention de cession : en remettant ce matériel, vous en cédez gratuitement la "
    "propriété au réseau de réemploi solidaire des Hautes-Alpes. Le réseau s'engage à effacer "
    "les données selon le protocole ci-dessus, à réemployer le matériel au bénéfice "
    "d'habitants du territoire ou, à défaut, à le confier à une filière de recyclage agréée, "
    "et à conserver les preuves d'effacement 5 ans."
)

SKIP_WARNING = _(
    "Important : du matériel mis en benne devient un déchet et ne peut plus être réemployé. "
    "Gardez-le jusqu'au dépôt ou à l'enlèvement."
)



# --- Answer kinds of this flow ---------------------------------------------------------------


@dataclass(frozen=True)
class SiretAnswer:
    """An optional SIRET, checked with its Luhn key (La Poste's own rule included)."""

    optional: bool = True

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [skip_choice()]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if is_skip(given, ctx):
            return Accepted(None)
        match parse_siret(clean_text(given.text)[:40]):
            case Siret(digits):
                return Accepted(digits)
            case SiretProblem.LENGTH:
                return Rejected(by_gesture(
                    _("Un SIRET compte 14 chiffres, par exemple 732 829 320 00074. "
                      "Touchez « Passer » si vous ne l'avez pas."),
                    _("Un SIRET compte 14 chiffres, par exemple 732 829 320 00074. "
                      "Répondez « Passer » si vous ne l'avez pas.")))
        return Rejected(by_gesture(
            _("Ce SIRET n'est pas valide (la clé de contrôle ne correspond pas) : "
              "vérifiez les chiffres, ou touchez « Passer »."),
            _("Ce SIRET n'est pas valide (la clé de contrôle ne correspond pas) : "
              "vérifiez les chiffres, ou répondez « Passer ».")))

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(Siret(value).spaced()) if value else _("(non renseigné)")


@dataclass(frozen=True)
class ReachAnswer:
    """An optional phone number (stored E.164) or e-mail address (stored normalised).

    Both are checked by libraries injected through ``ctx`` (``check_phone``, ``check_email``).
    """

    optional: bool = True

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [skip_choice()]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if is_skip(given, ctx):
            return Accepted(None)
        typed = clean_text(given.text)
        if "@" in typed:
            address = ctx.check_email(typed)
            if address is not None:
                return Accepted(address)
            return Rejected(_("Cette adresse e-mail n'est pas valide, par exemple "
                              "marie@exemple.fr."))
        number = ctx.check_phone(typed)
        if number is None:
            return Rejected(by_gesture(
                _("Écrivez un numéro de téléphone (06 12 34 56 78) ou une adresse "
                  "e-mail, ou touchez « Passer »."),
                _("Écrivez un numéro de téléphone (06 12 34 56 78) ou une adresse "
                  "e-mail, ou répondez « Passer ».")))
        return Accepted(number)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


@dataclass(frozen=True)
class Quantity(Integer):
    """How many items of one chosen category: at least one, at most ``MAX_PER_CATEGORY``."""

    low: int = 1
    high: int = MAX_PER_CATEGORY

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if re.fullmatch(r"[+-]?0+", clean_text(given.text).replace(" ", "")):
            return Rejected(_("Un don compte au moins un appareil de chaque type choisi. "
                              "Écrivez 1 ou plus, ou « retour » pour changer les types."))
        return super().parse(given, ctx, pending)


# --- Where to drop the lot off ---------------------------------------------------------------


def nearby_places(
    places: Sequence[Place], territory: Territory, commune: str | None
) -> list[Place]:
    """The places of the donor's intercommunality (collection points first), else all."""
    found = territory.commune(commune) if commune else None
    if found is None:
        near = list(places)
    else:

        def serves(place: Place) -> bool:
            where = territory.commune(place.commune)
            return found.epci in place.covers_epci or (
                where is not None and where.epci == found.epci
            )

        near = [p for p in places if serves(p)] or list(places)
    return sorted(near, key=lambda p: (p.kind is not PlaceKind.COLLECTION, p.name))


def place_label(place: Place, territory: Territory) -> Msg:
    """A place as a donor picks it: name, commune, opening hours."""
    commune = territory.commune(place.commune)
    return _("{name}, {commune} ({hours})", name=place.name,
             commune=commune.name if commune else place.commune, hours=place.opening_hours)


def _place_options(ctx: Ctx) -> list[Choice]:
    places = nearby_places(ctx.facts.get("places", ()), ctx.territory, ctx.facts.get("commune"))
    return [
        *(Choice(str(p.id), place_label(p, ctx.territory)) for p in places),
        Choice(NO_PLACE_YET, _("Je ne sais pas encore : contactez-moi")),
    ]


# --- Routing ---------------------------------------------------------------------------------


def _selected(answers: Answers) -> list[DeviceCategory]:
    chosen = set(answers.get(S.CATEGORIES) or ())
    return [c for c in DeviceCategory if c.value in chosen]


def _after_categories(answers: Answers) -> str:
    selected = _selected(answers)
    return QTY[selected[0]] if selected else S.AGE


def _after_quantity(category: DeviceCategory) -> Any:
    def after(answers: Answers) -> str:
        rest = _selected(answers)
        later = rest[rest.index(category) + 1:] if category in rest else []
        return QTY[later[0]] if later else S.AGE

    return after


def _after_holds(answers: Answers) -> str:
    match answers.get(S.HOLDS):
        case HoldsData.YES:
            return S.DATA_KINDS
        case HoldsData.ERASED:
            return S.CERTIFICATES
    return S.ENCRYPTED


def live_answers(flow: Flow, answers: Answers) -> Answers:
    """The answers on the path the conversation really took, from the first step.

    A correction made from the summary can leave answers of an abandoned branch behind (an
    organisation's name after switching to "private person"): they are not part of the lot.
    The engine already gives ``finish`` only these; steps' questions still see them all.
    """
    path: dict[str, Any] = {}
    name: str | None = flow.first
    while name is not None and name in answers and name not in path:
        path[name] = answers[name]
        step = flow.step(name)
        name = step.next(answers) if callable(step.next) else step.next
    return path


# --- From answers to a lot -------------------------------------------------------------------


def questionnaire(answers: Answers) -> Questionnaire:
    """The data-sensitivity answers, as the erasure rules read them."""
    holds = HoldsData(answers.get(S.HOLDS) or HoldsData.UNKNOWN)
    kinds = frozenset(DataKind(k) for k in answers.get(S.DATA_KINDS) or ())
    return Questionnaire(
        holds=holds,
        kinds=kinds if holds is HoldsData.YES else frozenset(),
        encrypted=Encrypted(answers.get(S.ENCRYPTED) or Encrypted.UNKNOWN),
        wants_device_certificates=answers.get(S.CERTIFICATES) == "yes",
        witness=Witness(answers.get(S.WITNESS) or Witness.NONE),
        donor_is_person=answers.get(S.KIND) == DonorKind.PRIVATE,
    )


def draft(answers: Answers) -> LotDraft:
    """The lot a finished declaration describes (answers of abandoned branches left out)."""
    live = live_answers(FLOW, answers)
    kind = DonorKind(live[S.KIND])
    items = tuple((c, int(live[QTY[c]])) for c in _selected(live) if live.get(QTY[c]))
    assessment = assess(questionnaire(live))
    logistics = Logistics(live[S.LOGISTICS])
    place = live.get(S.PLACE)
    return LotDraft(
        donor_kind=kind,
        organisation=live.get(S.ORGANISATION) if kind is not DonorKind.PRIVATE else None,
        siret=live.get(S.SIRET) if kind is not DonorKind.PRIVATE else None,
        contact_name=live[S.CONTACT],
        commune=live[S.COMMUNE],
        reach=live.get(S.REACH),
        items=items,
        age=AgeBand(live[S.AGE]),
        condition=Condition(live[S.CONDITION]),
        chargers=Chargers(live[S.CHARGERS]),
        questionnaire=questionnaire(live),
        level=assessment.level,
        measures=assessment.measures,
        logistics=logistics,
        place_id=PlaceId(int(place)) if place and place.isdigit() else None,
        pickup_commune=live.get(S.PICKUP_COMMUNE) if logistics is Logistics.PICKUP else None,
        availability=live.get(S.AVAILABILITY) if logistics is Logistics.PICKUP else None,
    )


@dataclass(frozen=True)
class DeclareLot(Effect):
    """Store the lot, give its reference and receipt, tell the staff who will receive it."""

    lot: LotDraft


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    lot = draft(answers)
    if lot.total == 0:
        return Outcome([Reply([_("Ce don ne compte aucun appareil : rien n'a été enregistré. "
                                 "Recommencez en indiquant au moins un appareil.")])])
    return Outcome(effects=[DeclareLot(lot)])


# --- Plain words -----------------------------------------------------------------------------


def bullet(item: Msg) -> Msg:
    """One line of a list."""
    return _("• {item}", item=item)


def protocol_text(assessment: Assessment) -> Msg:
    """The level, why, and every step of the protocol, in plain words."""
    return _(
        "Protection de vos données : {level}, parce que {reason}\nCe que nous ferons :\n"
        "{measures}",
        level=LEVEL_LABELS[assessment.level],
        reason=REASON_LABELS[assessment.reason],
        measures=Lines(tuple(bullet(MEASURE_LABELS[m]) for m in assessment.measures)),
    )


def _ask_protocol(ctx: Ctx, answers: Answers) -> Msg:
    return protocol_text(assess(questionnaire(live_answers(FLOW, answers))))


def items_text(items: Sequence[tuple[DeviceCategory, int]]) -> Lines:
    """The lot's content, one category per line."""
    return Lines(tuple(_("{category} : {n}", category=CATEGORY_LABELS[c], n=n)
                       for c, n in items))


def _ask_contact(ctx: Ctx, answers: Answers) -> Msg:
    if answers.get(S.KIND) == DonorKind.PRIVATE:
        return _("Vos prénom et nom ?")
    return _("Nom de la personne à contacter pour ce don ?")


def _ask_place(ctx: Ctx, answers: Answers) -> Msg:
    return _("Où déposez-vous le matériel ? Voici les points de collecte de votre "
             "intercommunalité, avec leurs horaires :")


def _yes_no(yes: Msg, no: Msg) -> list[Choice]:
    return [Choice("yes", yes), Choice("no", no)]


def _quantity_step(category: DeviceCategory) -> Step:
    return Step(
        ask=QTY_QUESTIONS[category],
        answer=Quantity(),
        label=CATEGORY_LABELS[category],
        next=_after_quantity(category),
    )


FLOW = Flow(
    name=FLOW_NAME,
    first=S.KIND,
    intro=_("Merci de donner du matériel ! Quelques questions (5 minutes environ) pour "
            "préparer votre don et vous dire comment vos données seront effacées. "
            "« retour » revient en arrière, « annuler » abandonne."),
    confirm=True,
    finish=_finish,
    steps={
        S.KIND: Step(
            ask=_("Vous donnez en tant que :"),
            answer=OneOf(options(DONOR_KIND_LABELS)),
            label=_("Donateur"),
            next=lambda a: S.CONTACT if a[S.KIND] == DonorKind.PRIVATE else S.ORGANISATION,
        ),
        S.ORGANISATION: Step(
            ask=_("Nom de votre structure ?"),
            answer=FreeText(2, 120),
            label=_("Structure"),
            next=S.SIRET,
        ),
        S.SIRET: Step(
            ask=_("Numéro SIRET de la structure (14 chiffres) ? C'est facultatif."),
            answer=SiretAnswer(),
            label=_("SIRET"),
            next=S.CONTACT,
            help=_("Le SIRET figure sur vos factures et sur annuaire-entreprises.data.gouv.fr."),
        ),
        S.CONTACT: Step(
            ask=_ask_contact,
            answer=FreeText(2, 80),
            label=_("Contact"),
            next=S.COMMUNE,
        ),
        S.COMMUNE: Step(
            ask=_("Dans quelle commune se trouve le matériel ? (nom ou code postal)"),
            answer=CommuneAnswer(),
            label=_("Commune"),
            next=S.REACH,
        ),
        S.REACH: Step(
            ask=_("Un téléphone ou un e-mail pour organiser le dépôt ou l'enlèvement ? "
                  "C'est facultatif."),
            answer=ReachAnswer(),
            label=_("Téléphone ou e-mail"),
            next=S.CATEGORIES,
            help=_("Il sert seulement à organiser ce don. Vous pouvez l'effacer à tout moment "
                   "depuis « Mes dons / certificats »."),
        ),
        S.CATEGORIES: Step(
            ask=_("Quel matériel donnez-vous ? Choisissez un ou plusieurs types "
                  "(par exemple : 1, 3)."),
            answer=SomeOf(options(CATEGORY_LABELS)),
            label=_("Types de matériel"),
            next=_after_categories,
            help=_("Vous indiquerez ensuite le nombre d'appareils de chaque type."),
        ),
        **{QTY[category]: _quantity_step(category) for category in DeviceCategory},
        S.AGE: Step(
            ask=_("Quel âge a le matériel, à peu près ?"),
            answer=OneOf(options(AGE_LABELS)),
            label=_("Âge"),
            next=S.CONDITION,
        ),
        S.CONDITION: Step(
            ask=_("Dans quel état est-il ?"),
            answer=OneOf(options(CONDITION_LABELS)),
            label=_("État"),
            next=S.CHARGERS,
            help=_("Si c'est mélangé, choisissez « À tester »."),
        ),
        S.CHARGERS: Step(
            ask=_("Les chargeurs et câbles d'alimentation sont-ils fournis ?"),
            answer=OneOf(options(CHARGER_LABELS)),
            label=_("Chargeurs"),
            next=S.HOLDS,
        ),
        S.HOLDS: Step(
            ask=_("Les appareils contiennent-ils encore des données (fichiers, comptes, "
                  "photos) ?"),
            answer=OneOf(options(HOLDS_LABELS)),
            label=_("Données présentes"),
            next=_after_holds,
        ),
        S.DATA_KINDS: Step(
            ask=_("Quels types de données ? Plusieurs choix possibles (par exemple : 1, 3)."),
            answer=SomeOf(options(DATA_KIND_LABELS), exclusive=frozenset({DataKind.NONE})),
            label=_("Types de données"),
            next=S.ENCRYPTED,
        ),
        S.ENCRYPTED: Step(
            ask=_("Les disques sont-ils chiffrés (BitLocker, FileVault, LUKS…) ?"),
            answer=OneOf(options(ENCRYPTED_LABELS)),
            label=_("Disques chiffrés"),
            next=S.CERTIFICATES,
        ),
        S.CERTIFICATES: Step(
            ask=_("Voulez-vous un certificat qui détaille chaque appareil (numéro de série, "
                  "méthode, résultat) ?"),
            answer=OneOf(_yes_no(_("Oui"), _("Non, un certificat pour le lot suffit"))),
            label=_("Certificat par appareil"),
            next=S.WITNESS,
        ),
        S.WITNESS: Step(
            ask=_("Souhaitez-vous assister à l'effacement, ou à la destruction des disques "
                  "qui ne s'effacent pas ?"),
            answer=OneOf(options(WITNESS_LABELS)),
            label=_("Présence"),
            next=S.PROTOCOL,
        ),
        S.PROTOCOL: Step(
            ask=_ask_protocol,
            answer=OneOf([Choice("ok", _("J'ai compris, continuer"))]),
            next=S.LOGISTICS,
        ),
        S.LOGISTICS: Step(
            ask=_("Comment le matériel nous parvient-il ?\n{warning}", warning=SKIP_WARNING),
            answer=OneOf(options(LOGISTICS_LABELS)),
            label=_("Remise"),
            next=lambda a: S.PLACE if a[S.LOGISTICS] == Logistics.DROP_OFF else S.PICKUP_COMMUNE,
        ),
        S.PLACE: Step(
            ask=_ask_place,
            answer=OneOf(_place_options),
            label=_("Lieu de dépôt"),
            next=None,
        ),
        S.PICKUP_COMMUNE: Step(
            ask=_("Dans quelle commune faut-il venir chercher le matériel ?"),
            answer=CommuneAnswer(),
            label=_("Commune d'enlèvement"),
            next=S.AVAILABILITY,
        ),
        S.AVAILABILITY: Step(
            ask=_("Quand peut-on passer ? Indiquez vos jours et heures (par exemple : en "
                  "semaine le matin, à partir du 1er décembre)."),
            answer=FreeText(3, 200),
            label=_("Disponibilités"),
            next=None,
        ),
    },
)


# --- What the donor and the staff read -------------------------------------------------------


def receipt_texts(lot: Lot, place: Place | None, territory: Territory) -> list[Msg]:
    """What the donor reads once the lot is stored: reference, lot, protocol, next step."""
    texts = [
        _("Merci ! Votre don est enregistré sous la référence {ref}.", ref=lot.reference),
        _("Matériel :\n{items}", items=items_text(lot.items)),
        protocol_text(Assessment(lot.level, assess(lot.questionnaire).reason, lot.measures)),
        handover_text(lot, place, territory),
        TRANSFER_TERMS,
        _("Votre reçu est joint (PDF). Vous retrouverez vos dons et vos certificats "
          "d'effacement dans « Je veux donner du matériel », puis « Mes dons / certificats »."),
    ]
    return texts


def handover_text(lot: Lot, place: Place | None, territory: Territory) -> Msg:
    """Where and how the lot reaches the network."""
    if lot.logistics is Logistics.PICKUP:
        commune = territory.commune(lot.pickup_commune or lot.commune)
        return _("Votre demande d'enlèvement à {commune} est transmise. Nous vous recontactons "
                 "pour fixer le jour. Disponibilités indiquées : {availability}.",
                 commune=commune.name if commune else "", availability=lot.availability or "")
    if place is None:
        return _("La coordination vous contactera pour choisir le lieu de dépôt.")
    commune = territory.commune(place.commune)
    return _("Déposez le matériel à : {place}, {address}, {commune} ({hours}). Donnez la "
             "référence {ref}.", place=place.name, address=place.address,
             commune=commune.name if commune else "", hours=place.opening_hours,
             ref=lot.reference)


def staff_notice(lot: Lot, place: Place | None, territory: Territory) -> Msg:
    """What the people who will receive the lot read; contact data only where needed."""
    commune = territory.commune(lot.commune)
    if lot.logistics is Logistics.PICKUP:
        pickup = territory.commune(lot.pickup_commune or lot.commune)
        where = _("enlèvement à {commune} ({availability})",
                  commune=pickup.name if pickup else "", availability=lot.availability or "")
    elif place is not None:
        where = _("dépôt à {place}", place=place.name)
    else:
        where = _("lieu de dépôt à convenir")
    return _(
        "Nouveau don {ref} : {donor} ({kind}), {commune}.\nMatériel :\n{items}\n"
        "Protection des données : {level}.\nRemise : {where}.\nContact : {contact} {reach}",
        ref=lot.reference, donor=lot.donor_name, kind=DONOR_KIND_LABELS[lot.donor_kind],
        commune=commune.name if commune else lot.commune, items=items_text(lot.items),
        level=LEVEL_LABELS[lot.level], where=where, contact=lot.contact_name,
        reach=lot.reach or "",
    )
