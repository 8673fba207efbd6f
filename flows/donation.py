"""Donors declare a lot: who they are, what they give, what data it holds, how it reaches us.

The single entry point the field asked for (DOMAIN.md, "Donors"): anyone may give, no approval.
A company giving 12 laptops and 3 screens answers 12 times, home menu and confirmation
included (issue 19; ``tests/handlers/test_declaration_length.py``): the whole content of the
lot in one line ("12 portables, 3 écrans", :mod:`flows.lot_items`), its age, state and
chargers in one question, the data-sensitivity questionnaire in two (what the devices still
hold; what else to know), the structure's name and SIRET in one answer. The answers go through
:func:`flows.erasure.assess` as before, and the donor reads the resulting level and protocol
in plain words before choosing a drop-off point or a pickup. The summary offers five parts to
change, each asking its few questions again. Contact data is kept minimal: a name, a commune,
an optional phone or e-mail.

```mermaid
flowchart TD
  kind -->|organisation| structure["structure (name and SIRET)"] --> contact
  kind -->|private person| contact
  contact --> reach --> items["items (12 portables, 3 écrans)"] --> state["age, state, chargers"]
  state --> data --> options --> commune["commune (the protocol shown)"] --> where
  where -->|drop-off or later| summary
  where -->|pickup| pickup_commune --> availability --> summary
```
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.answers import (
    DONE_ID,
    Accepted,
    Clarify,
    CommuneAnswer,
    FreeText,
    Group,
    Input,
    OneOf,
    OneOfEach,
    Rejected,
    SomeOf,
    Verdict,
    clean_text,
    is_skip,
    match_choice,
    options,
    skip_choice,
)
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Part, Step
from flows.erasure import (
    LEVEL_LABELS,
    MEASURE_LABELS,
    REASON_LABELS,
    Assessment,
    DataKind,
    Encrypted,
    HoldsData,
    Level,
    Questionnaire,
    Witness,
    assess,
)
from flows.lot_items import MAX_PER_CATEGORY, read_items, read_number, words_of
from flows.messages import Choice, Reply
from flows.normalize import fold
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
from flows.text import Lines, Msg, _, _n, by_gesture, verbatim

FLOW_NAME = "donation"

NO_PLACE_YET = "later"
"""Choice id of "I don't know yet where to drop it off"."""
PICKUP = "pickup"
"""Choice id of "I ask for a pickup", beside the drop-off points."""


class S(StrEnum):
    """Steps of the declaration (stored in conversations: never rename a value).

    Values of steps retired by the shorter declaration (issue 19), never to be given to
    another step: ``donation.organisation``, ``.siret``, ``.categories``, ``.qty.<category>``,
    ``.age``, ``.condition``, ``.chargers``, ``.holds``, ``.data_kinds``, ``.encrypted``,
    ``.certificates``, ``.witness``, ``.protocol``, ``.logistics``, ``.place``. A conversation
    saved at one of them resumes at its first unanswered question (:func:`flows.engine.resume`).
    """

    KIND = "donation.kind"
    STRUCTURE = "donation.structure"
    CONTACT = "donation.contact"
    REACH = "donation.reach"
    ITEMS = "donation.items"
    STATE = "donation.state"
    DATA = "donation.data"
    OPTIONS = "donation.options"
    COMMUNE = "donation.commune"
    WHERE = "donation.where"
    PICKUP_COMMUNE = "donation.pickup_commune"
    AVAILABILITY = "donation.availability"


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


def count_text(category: DeviceCategory, n: int) -> Msg:
    """``n`` items of ``category`` as said in a sentence: "12 ordinateurs portables"."""
    match category:
        case DeviceCategory.LAPTOP:
            return _n("{n} ordinateur portable", "{n} ordinateurs portables", n)
        case DeviceCategory.DESKTOP:
            return _n("{n} unité centrale", "{n} unités centrales", n)
        case DeviceCategory.SCREEN:
            return _n("{n} écran", "{n} écrans", n)
        case DeviceCategory.TABLET:
            return _n("{n} tablette", "{n} tablettes", n)
        case DeviceCategory.SMARTPHONE:
            return _n("{n} smartphone", "{n} smartphones", n)
        case DeviceCategory.PRINTER:
            return _n("{n} imprimante", "{n} imprimantes", n)
        case DeviceCategory.SERVER:
            return _n("{n} serveur", "{n} serveurs", n)
        case DeviceCategory.PERIPHERAL:
            return _n("{n} périphérique ou câble", "{n} périphériques et câbles", n)
    return _n("{n} autre appareil", "{n} autres appareils", n)


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
    Chargers.YES: _("Chargeurs fournis"),
    Chargers.PARTLY: _("Chargeurs en partie"),
    Chargers.NO: _("Sans chargeurs"),
}

AGE, CONDITION, CHARGERS = "age", "condition", "chargers"
"""Keys of the answer to the state question (``OneOfEach``)."""

DATA_LABELS: dict[str, Msg] = {
    DataKind.PERSONAL: _("Fichiers et photos personnels"),
    DataKind.THIRD_PARTY: _("Données de clients ou d'usagers"),
    DataKind.HEALTH: _("Données de santé"),
    DataKind.FINANCIAL: _("Données bancaires ou financières"),
    DataKind.HR: _("Ressources humaines et paie"),
    DataKind.LEGAL: _("Documents juridiques ou confidentiels"),
    DataKind.NONE: _("Aucune donnée à protéger"),
    HoldsData.ERASED: _("Rien : ils sont déjà effacés"),
    HoldsData.UNKNOWN: _("Je ne sais pas"),
}
"""The data question: the kinds of data (the devices still hold data), "none of these", or
the two answers that say no kind ("already erased", "don't know")."""

ALONE = frozenset({DataKind.NONE.value, HoldsData.ERASED.value, HoldsData.UNKNOWN.value})
"""Answers to the data question that cannot be combined with another."""

ENCRYPTED, DEVICE_CERTIFICATES, SEE_ERASURE, SEE_DESTRUCTION, NOTHING_MORE = (
    "encrypted", "certificates", "see_erasure", "see_destruction", "nothing")

OPTION_LABELS: dict[str, Msg] = {
    ENCRYPTED: _("Les disques sont chiffrés (BitLocker…)"),
    DEVICE_CERTIFICATES: _("Je veux un certificat détaillé par appareil"),
    SEE_ERASURE: _("Je veux assister à l'effacement"),
    SEE_DESTRUCTION: _("Je veux assister à la destruction des disques défaillants"),
    NOTHING_MORE: _("Rien de plus"),
}

NO_WORDS = frozenset({"non", "no", "rien", "aucun", "aucune", "none", "nothing", "passer", "-"})

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

_SIRET_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){8,}(?![0-9])")
"""Nine digits or more in a row, spaces, dots and dashes allowed: a SIRET being typed."""
_SIRET_LABEL = re.compile(r"(?:(?:\b(?:siret|siren|no|num[eé]ro)\b|\bn°)\.?\s*:?\s*)+$",
                          re.IGNORECASE)
"""What may introduce the SIRET ("SIRET :", "n°"), taken away with it, and only there."""
_AROUND = " ,;:-–()"


@dataclass(frozen=True)
class StructureAnswer:
    """The structure's name with, if the donor has it, its SIRET in the same answer
    ("ACME Informatique 732 829 320 00074"), the SIRET checked with its Luhn key."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if given.choice is not None:
            return Rejected(_("Écrivez le nom de votre structure."))
        typed = clean_text(given.text)[:200]
        found = _SIRET_LIKE.search(typed)
        siret: str | None = None
        if found is not None:
            match parse_siret(found.group(0)):
                case Siret(digits):
                    siret = digits
                case SiretProblem.LENGTH:
                    return Rejected(_("Un SIRET compte 14 chiffres, par exemple 732 829 320 "
                                      "00074. Sans SIRET, écrivez seulement le nom."))
                case _:
                    return Rejected(_("Ce SIRET n'est pas valide (la clé de contrôle ne "
                                      "correspond pas) : vérifiez les chiffres, ou écrivez "
                                      "seulement le nom."))
            before = _SIRET_LABEL.sub("", typed[:found.start()]).rstrip(_AROUND)
            typed = f"{before} {typed[found.end():].lstrip(_AROUND)}"
        name = clean_text(typed)
        if sum(ch.isalnum() for ch in name) < 2 or not any(ch.isalpha() for ch in name):
            return Rejected(_("Écrivez aussi le nom de la structure, par exemple : ACME "
                              "Informatique 732 829 320 00074."))
        if len(name) > 120:
            return Rejected(_("Trop long : {n} caractères au plus.", n=120))
        return Accepted({"name": name, "siret": siret})

    def show(self, value: Any, ctx: Ctx) -> Msg:
        if not value:
            return _("(non renseigné)")
        if value.get("siret"):
            return _("{name} (SIRET {siret})", name=verbatim(value["name"]),
                     siret=verbatim(Siret(value["siret"]).spaced()))
        return _("{name} (sans SIRET)", name=verbatim(value["name"]))


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


DONE_WORDS = frozenset({"valider", "ok", "done", "c est tout", "fini", "termine", "c est bon"})


@dataclass(frozen=True)
class ItemsAnswer:
    """What the lot holds, in one line ("12 portables, 3 écrans"), or type by type.

    Typed, the whole line is read at once (:func:`flows.lot_items.read_items`); a type named
    without a number is asked its number, and what is not understood is named back while what
    was understood is kept (``pending``). With buttons, a type is picked, its number typed,
    and so on until "Valider". The value stored maps each category to its count.
    """

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [*options(CATEGORY_LABELS), Choice(DONE_ID, _("Valider"))]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        items: dict[str, int] = dict(pending.get("items", {}))
        asking: list[str] = list(pending.get("asking", []))
        more = bool(pending.get("more", False))
        if given.choice is not None:
            return self._picked([given.choice], items, ctx)
        return self._typed(clean_text(given.text)[:500], items, asking, more, ctx)

    def _typed(self, typed: str, items: dict[str, int], asking: list[str], more: bool,
               ctx: Ctx) -> Verdict:
        if fold(typed) in DONE_WORDS:
            return self._done(items)
        tokens = words_of(typed)
        if asking and tokens and all(t.isdigit() or read_number([t]) is not None
                                     for t in tokens):
            count = read_number(tokens)
            if count is None or count > MAX_PER_CATEGORY:
                return Clarify(_("Écrivez un nombre entre 0 et {high}.", high=MAX_PER_CATEGORY),
                               (), {"items": items, "asking": asking, "more": more})
            self._count(items, asking.pop(0), count)
            return self._next(items, asking, more, ctx)
        numbers = [p.strip() for p in re.split(r"[,;/]|\s+", typed) if p.strip()]
        if numbers and all(re.fullmatch(r"[0-9]{1,2}", n) for n in numbers):
            listed = list(self.choices(ctx))  # "1, 3": the types by their number in the list
            if all(1 <= int(n) <= len(listed) for n in numbers):
                # Several types: all of them, so no "another type?" after their numbers.
                return self._picked([listed[int(n) - 1].id for n in numbers], items, ctx,
                                    more=len(numbers) == 1)
        labels = {" ".join(words_of(ctx.translate(label))): category
                  for category, label in CATEGORY_LABELS.items()}
        reading = read_items(typed, labels)
        for category, count in reading.counts.items():
            self._count(items, category, count)
        not_understood = [_("Je n'ai pas compris : {parts}.", parts=_quoted(reading.unknown))
                          ] if reading.unknown else []
        not_understood += [_("Pas plus de {high} par type : {category}.", high=MAX_PER_CATEGORY,
                             category=CATEGORY_LABELS[c]) for c in reading.too_many]
        if not_understood:
            if not items:
                return Rejected(_("{problems} Écrivez le nombre et le type, par exemple : "
                                  "12 portables, 3 écrans.", problems=_lines(not_understood)))
            return Clarify(_("{problems} Noté : {items}. Écrivez ce qui manque (par exemple : "
                             "3 écrans), ou « Valider » si c'est tout.",
                             problems=_lines(not_understood), items=self.show(items, ctx)),
                           tuple(self.choices(ctx)), {"items": items, "more": True})
        if reading.uncounted:
            return self._next(items, [c.value for c in reading.uncounted], more, ctx)
        return self._done(items)

    def _picked(self, ids: list[str], items: dict[str, int], ctx: Ctx, *,
                more: bool = True) -> Verdict:
        """Types picked by button or by number: ask each one's number."""
        if DONE_ID in ids:
            return self._done(items)
        if not set(ids) <= {c.value for c in DeviceCategory}:
            return Rejected(_("Choisissez une des propositions (son numéro ou son texte)."))
        return self._next(items, list(dict.fromkeys(ids)), more, ctx)

    @staticmethod
    def _count(items: dict[str, int], category: str, count: int) -> None:
        if count:
            items[category] = count
        else:
            items.pop(category, None)  # "0 écran": none after all

    def _next(self, items: dict[str, int], asking: list[str], more: bool,
              ctx: Ctx) -> Verdict:
        """Ask the next type's number, or what else the donor gives, or take the answer."""
        kept = {"items": items, "asking": asking, "more": more}
        if asking:
            return Clarify(QTY_QUESTIONS[DeviceCategory(asking[0])], (), kept)
        if more:
            return Clarify(_("Noté : {items}. Choisissez un autre type, ou « Valider ».",
                             items=_items_msg(items) if items else _("rien pour l'instant")),
                           tuple(self.choices(ctx)), {"items": items, "more": True})
        return self._done(items)

    @staticmethod
    def _done(items: dict[str, int]) -> Verdict:
        if not items:
            return Rejected(_("Un don compte au moins un appareil. Écrivez le nombre et le "
                              "type, par exemple : 12 portables, 3 écrans."))
        return Accepted({c.value: items[c.value] for c in DeviceCategory if c.value in items})

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return _items_msg(value) if value else _("(non renseigné)")


def _items_msg(items: dict[str, int]) -> Msg:
    """"12 ordinateurs portables, 3 écrans"."""
    counts = [count_text(c, items[c.value]) for c in DeviceCategory if c.value in items]
    params = {f"i{i}": m for i, m in enumerate(counts)}
    return Msg(", ".join("{" + k + "}" for k in params) or "-", params)


def _quoted(parts: list[str]) -> Msg:
    params = {f"p{i}": verbatim(p[:40]) for i, p in enumerate(parts)}
    return Msg(", ".join("« {" + k + "} »" for k in params), params)


def _lines(msgs: list[Msg]) -> Msg:
    params = {f"l{i}": m for i, m in enumerate(msgs)}
    return Msg(" ".join("{" + k + "}" for k in params), params)


@dataclass(frozen=True)
class DataAnswer(SomeOf):
    """The data question: kinds of data, or one answer that stands alone ("don't know")."""

    def _finish(self, picked: list[str]) -> Verdict:
        alone = [p for p in picked if p in self.exclusive]
        if len(picked) > 1 and alone:
            return Rejected(_("« {answer} » ne se combine pas avec un autre choix.",
                              answer=DATA_LABELS[alone[0]]))
        return super()._finish(picked)


@dataclass(frozen=True)
class OptionsAnswer(SomeOf):
    """What else the network should know or do; "no" (typed or "Rien de plus") is none."""

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if given.choice is None and fold(given.text) in NO_WORDS:
            return Accepted([NOTHING_MORE])
        return super().parse(given, ctx, pending)

    def _finish(self, picked: list[str]) -> Verdict:
        if not picked:
            return Accepted([NOTHING_MORE])  # "Valider" with nothing ticked
        if len(picked) > 1 and NOTHING_MORE in picked:
            return Rejected(_("« {answer} » ne se combine pas avec un autre choix.",
                              answer=OPTION_LABELS[NOTHING_MORE]))
        return super()._finish(picked)


@dataclass(frozen=True)
class PickupCommune(CommuneAnswer):
    """The pickup's commune: the commune the donor gave is one tap away."""

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        commune = ctx.territory.commune(ctx.facts.get("commune") or "")
        return [Choice(commune.insee, _("À {commune}", commune=commune.name))] if commune else []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if not pending:
            same = match_choice(given, self.choices(ctx), ctx)
            if same is not None:
                return Accepted(same.id)
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


def _where_options(ctx: Ctx) -> list[Choice]:
    places = nearby_places(ctx.facts.get("places", ()), ctx.territory, ctx.facts.get("commune"))
    return [
        *(Choice(str(p.id), place_label(p, ctx.territory)) for p in places),
        Choice(NO_PLACE_YET, _("Je ne sais pas encore : contactez-moi")),
        Choice(PICKUP, _("Je demande un enlèvement")),
    ]


# --- From answers to a lot -------------------------------------------------------------------


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


def questionnaire(answers: Answers) -> Questionnaire:
    """The data-sensitivity answers, as the erasure rules read them.

    The same facts give the same questionnaire as the one-question-per-fact declaration did
    (``tests/flows/test_donation_protocol.py``): "already erased" says nothing of encryption.
    """
    data = set(answers.get(S.DATA) or ())
    more = set(answers.get(S.OPTIONS) or ())
    if HoldsData.ERASED in data:
        holds = HoldsData.ERASED
    elif HoldsData.UNKNOWN in data or not data:
        holds = HoldsData.UNKNOWN
    else:
        holds = HoldsData.YES
    see_erasure, see_destruction = SEE_ERASURE in more, SEE_DESTRUCTION in more
    return Questionnaire(
        holds=holds,
        kinds=frozenset(DataKind(k) for k in data) if holds is HoldsData.YES else frozenset(),
        encrypted=(Encrypted.YES if ENCRYPTED in more and holds is not HoldsData.ERASED
                   else Encrypted.UNKNOWN),
        wants_device_certificates=DEVICE_CERTIFICATES in more,
        witness=(Witness.BOTH if see_erasure and see_destruction else
                 Witness.ERASURE if see_erasure else
                 Witness.DESTRUCTION if see_destruction else Witness.NONE),
        donor_is_person=answers.get(S.KIND) == DonorKind.PRIVATE,
    )


def draft(answers: Answers) -> LotDraft:
    """The lot a finished declaration describes (answers of abandoned branches left out)."""
    live = live_answers(FLOW, answers)
    kind = DonorKind(live[S.KIND])
    structure = live.get(S.STRUCTURE) if kind is not DonorKind.PRIVATE else None
    counts = live.get(S.ITEMS) or {}
    state = live[S.STATE]
    where = live[S.WHERE]
    logistics = Logistics.PICKUP if where == PICKUP else Logistics.DROP_OFF
    assessment = assess(questionnaire(live))
    return LotDraft(
        donor_kind=kind,
        organisation=structure["name"] if structure else None,
        siret=structure["siret"] if structure else None,
        contact_name=live[S.CONTACT],
        commune=live[S.COMMUNE],
        reach=live.get(S.REACH),
        items=tuple((c, int(counts[c.value])) for c in DeviceCategory if counts.get(c.value)),
        age=AgeBand(state[AGE]),
        condition=Condition(state[CONDITION]),
        chargers=Chargers(state[CHARGERS]),
        questionnaire=questionnaire(live),
        level=assessment.level,
        measures=assessment.measures,
        logistics=logistics,
        place_id=PlaceId(int(where)) if where.isdigit() else None,
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


def _assessment(answers: Answers) -> Assessment:
    return assess(questionnaire(live_answers(FLOW, answers)))


def _recap(ctx: Ctx, answers: Answers) -> Msg:
    """Under the summary: the protection level the answers set, and why."""
    found = _assessment(answers)
    return _("Protection de vos données : {level}, parce que {reason}",
             level=LEVEL_LABELS[found.level], reason=REASON_LABELS[found.reason])


def items_text(items: Sequence[tuple[DeviceCategory, int]]) -> Lines:
    """The lot's content, one category per line."""
    return Lines(tuple(_("{category} : {n}", category=CATEGORY_LABELS[c], n=n)
                       for c, n in items))


def _ask_contact(ctx: Ctx, answers: Answers) -> Msg:
    if answers.get(S.KIND) == DonorKind.PRIVATE:
        return _("Vos prénom et nom ?")
    return _("Nom de la personne à contacter pour ce don ?")


def _ask_options(ctx: Ctx, answers: Answers) -> Msg:
    if _assessment(answers).level is Level.STANDARD:
        return _("Autre chose à savoir ? Plusieurs choix possibles (par exemple : 1, 3).")
    return _("Autre chose à savoir ? Plusieurs choix possibles (par exemple : 1, 3). Avec ces "
             "données, le certificat détaille déjà chaque appareil.")


def _ask_commune(ctx: Ctx, answers: Answers) -> Msg:
    return _("{protocol}\n\nDans quelle commune se trouve le matériel ? (nom ou code postal)",
             protocol=protocol_text(_assessment(answers)))


FLOW = Flow(
    name=FLOW_NAME,
    first=S.KIND,
    intro=_("Merci de donner du matériel ! Une dizaine de questions pour préparer votre don "
            "et vous dire comment vos données seront effacées. « retour » revient en arrière, "
            "« annuler » abandonne."),
    confirm=True,
    finish=_finish,
    recap=_recap,
    parts=(
        Part("donor", _("Donateur"), (S.KIND, S.STRUCTURE)),
        Part("contact", _("Contact"), (S.CONTACT, S.REACH)),
        Part("items", _("Matériel"), (S.ITEMS, S.STATE)),
        Part("data", _("Données"), (S.DATA, S.OPTIONS)),
        Part("where", _("Remise"), (S.COMMUNE, S.WHERE, S.PICKUP_COMMUNE, S.AVAILABILITY)),
    ),
    steps={
        S.KIND: Step(
            ask=_("Vous donnez en tant que :"),
            answer=OneOf(options(DONOR_KIND_LABELS)),
            label=_("Donateur"),
            next=lambda a: S.CONTACT if a[S.KIND] == DonorKind.PRIVATE else S.STRUCTURE,
        ),
        S.STRUCTURE: Step(
            ask=_("Nom de votre structure ? Ajoutez son SIRET si vous l'avez (par exemple : "
                  "ACME Informatique 732 829 320 00074)."),
            answer=StructureAnswer(),
            label=_("Structure"),
            next=S.CONTACT,
            help=_("Le SIRET figure sur vos factures et sur annuaire-entreprises.data.gouv.fr. "
                   "Il est facultatif."),
        ),
        S.CONTACT: Step(
            ask=_ask_contact,
            answer=FreeText(2, 80),
            label=_("Contact"),
            next=S.REACH,
        ),
        S.REACH: Step(
            ask=_("Un téléphone ou un e-mail pour organiser le dépôt ou l'enlèvement ? "
                  "C'est facultatif."),
            answer=ReachAnswer(),
            label=_("Téléphone ou e-mail"),
            next=S.ITEMS,
            help=_("Il sert seulement à organiser ce don. Vous pouvez l'effacer à tout moment "
                   "depuis « Mes dons / certificats »."),
        ),
        S.ITEMS: Step(
            ask=by_gesture(
                _("Quel matériel donnez-vous, et combien ? Écrivez-le en une fois, par "
                  "exemple : 12 portables, 3 écrans. Ou touchez un type."),
                _("Quel matériel donnez-vous, et combien ? Écrivez-le en une fois, par "
                  "exemple : 12 portables, 3 écrans.")),
            answer=ItemsAnswer(),
            label=_("Matériel"),
            next=S.STATE,
            help=_("Un nombre et un type par appareil donné, séparés par des virgules : "
                   "« 12 portables, 3 écrans, 1 imprimante ». Pour les câbles et "
                   "périphériques, un nombre à peu près suffit."),
        ),
        S.STATE: Step(
            ask=by_gesture(
                _("Le matériel : son âge, son état, ses chargeurs. Touchez une réponse pour "
                  "chacun. Si c'est mélangé, choisissez « À tester »."),
                _("Le matériel : son âge, son état, ses chargeurs. Une réponse pour chacun "
                  "(par exemple : 2, 5, 7). Si c'est mélangé, choisissez « À tester ».")),
            answer=OneOfEach([
                Group(AGE, options(AGE_LABELS), _("l'âge")),
                Group(CONDITION, options(CONDITION_LABELS), _("l'état")),
                Group(CHARGERS, options(CHARGER_LABELS), _("les chargeurs")),
            ]),
            label=_("Âge, état, chargeurs"),
            next=S.DATA,
            help=_("Les chargeurs et câbles d'alimentation : fournis, en partie, ou pas."),
        ),
        S.DATA: Step(
            ask=_("Que contiennent encore les appareils ? Plusieurs choix possibles (par "
                  "exemple : 1, 3)."),
            answer=DataAnswer(options(DATA_LABELS), exclusive=ALONE),
            label=_("Données"),
            next=S.OPTIONS,
            help=_("Ce qui se trouvait sur les disques : fichiers, comptes, photos, bases de "
                   "données. « Je ne sais pas » est une bonne réponse : nous effaçons alors "
                   "avec le niveau renforcé."),
        ),
        S.OPTIONS: Step(
            ask=_ask_options,
            answer=OptionsAnswer(options(OPTION_LABELS), exclusive=frozenset({NOTHING_MORE})),
            label=_("Précisions"),
            next=S.COMMUNE,
        ),
        S.COMMUNE: Step(
            ask=_ask_commune,
            answer=CommuneAnswer(),
            label=_("Commune"),
            next=S.WHERE,
        ),
        S.WHERE: Step(
            ask=_("Comment le matériel nous parvient-il ? Déposez-le dans un point de collecte "
                  "(horaires indiqués), ou demandez un enlèvement.\n{warning}",
                  warning=SKIP_WARNING),
            answer=OneOf(_where_options),
            label=_("Remise"),
            next=lambda a: S.PICKUP_COMMUNE if a[S.WHERE] == PICKUP else None,
        ),
        S.PICKUP_COMMUNE: Step(
            ask=_("Dans quelle commune faut-il venir chercher le matériel ?"),
            answer=PickupCommune(),
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
