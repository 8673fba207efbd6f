"""The kinds of answer a step can expect, each with its validator.

A validator never raises on what a person types: it returns :class:`Accepted` with the value to
store, :class:`Rejected` with a short message saying what is expected, or :class:`Clarify` when
the answer is understood but needs one more pick (a postal code shared by several communes).
Values stored are JSON-compatible, because conversations are saved after every answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from flows import yes_no
from flows.messages import Choice
from flows.normalize import fold
from flows.text import Day, Msg, _, by_gesture, verbatim

if TYPE_CHECKING:
    from flows.engine import Ctx

MAX_TEXT = 500
"""Longest free text any step accepts, whatever its own bound (a safety net)."""

SKIP_ID = "skip"
DONE_ID = "done"


@dataclass(frozen=True)
class Accepted:
    """The answer is valid; ``value`` is stored under the step's key."""

    value: Any


@dataclass(frozen=True)
class Rejected:
    """The answer is not valid; ``reason`` says what is expected."""

    reason: Msg


@dataclass(frozen=True)
class Clarify:
    """Understood, but one more pick is needed among ``choices`` (kept in ``pending``)."""

    question: Msg
    choices: tuple[Choice, ...]
    pending: dict[str, Any] = field(default_factory=dict)
    in_place: bool = False
    """The same question, updated (a multi-select's ticks): asked with its own text first,
    and shown in place of the message pressed where the platform can edit it."""


Verdict = Accepted | Rejected | Clarify


@dataclass(frozen=True)
class Input:
    """What the user gave for the current step: a picked choice id, or typed text."""

    text: str
    choice: str | None = None


class Answer(Protocol):
    """One kind of answer: the choices to offer, how to read an input, how to show a value."""

    @property
    def optional(self) -> bool: ...

    def choices(self, ctx: Ctx) -> Sequence[Choice]: ...

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict: ...

    def show(self, value: Any, ctx: Ctx) -> Msg: ...


def clean_text(text: str) -> str:
    """Drop control and invisible format characters, turn any whitespace into one space."""
    kept = [
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    ]
    return re.sub(r" +", " ", "".join(kept)).strip()


def match_choice(given: Input, options: Sequence[Choice], ctx: Ctx) -> Choice | None:
    """Find the option the user meant: a button id, its number in the list, or its label."""
    if given.choice is not None:
        return next((c for c in options if c.id == given.choice), None)
    typed = given.text.strip()
    if re.fullmatch(r"[0-9]{1,3}", typed) and 1 <= int(typed) <= len(options):
        return options[int(typed) - 1]
    folded = _label_key(typed)
    if not folded:
        return None
    for option in options:
        if _label_key(ctx.translate(option.label)) == folded or option.id == typed:
            return option
    return yes_no.pick(typed, options, lambda option: ctx.translate(option.label))


def _label_key(text: str) -> str:
    """A label as typed or shown, folded, without the end punctuation people add or leave
    out ("Je viens !", "je viens")."""
    return fold(text).rstrip(" .!?…")


def skip_choice() -> Choice:
    """The "skip" option of an optional question."""
    return Choice(SKIP_ID, _("Passer"))


def is_skip(given: Input, ctx: Ctx) -> bool:
    """True when the user skipped an optional question (button, label or a skip word)."""
    return match_choice(given, [skip_choice()], ctx) is not None or fold(given.text) in {
        "-",
        "passer",
        "skip",
        "aucun",
        "none",
    }


def options(labels: Mapping[Any, Msg]) -> list[Choice]:
    """Choices from a table of labels keyed by stored values (enum members or strings)."""
    return [Choice(str(key), label) for key, label in labels.items()]


def _choices_or_fn(
    options: Sequence[Choice] | Callable[[Ctx], Sequence[Choice]], ctx: Ctx
) -> Sequence[Choice]:
    return options(ctx) if callable(options) else options


@dataclass(frozen=True)
class OneOf:
    """Exactly one option; answered by button, number or label."""

    options: Sequence[Choice] | Callable[[Ctx], Sequence[Choice]]
    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        options = list(_choices_or_fn(self.options, ctx))
        return [*options, skip_choice()] if self.optional else options

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        picked = match_choice(given, self.choices(ctx), ctx)
        if picked is None:
            return Rejected(_("Choisissez une des propositions (son numéro ou son texte)."))
        if picked.id == SKIP_ID:
            return Accepted(None)
        return Accepted(picked.id)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        for option in _choices_or_fn(self.options, ctx):
            if option.id == value:
                return option.label
        return _("(non renseigné)")


@dataclass(frozen=True)
class SomeOf:
    """One or several options: typed as "1, 3" or labels, or toggled by buttons then "done"."""

    options: Sequence[Choice] | Callable[[Ctx], Sequence[Choice]]
    optional: bool = False
    exclusive: frozenset[str] = frozenset()
    """Options that cannot be combined with others (e.g. "none")."""

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [*_choices_or_fn(self.options, ctx), Choice(DONE_ID, _("Valider"))]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        options = list(_choices_or_fn(self.options, ctx))
        selected: list[str] = list(pending.get("selected", []))
        if given.choice is not None:
            return self._toggle(given.choice, options, selected)
        typed = given.text.strip()
        if fold(typed) in {fold(ctx.translate(_("Valider"))), "ok", "done"}:
            return self._finish(selected)
        parts = [p for p in re.split(r"[,;/]|\s+et\s+|\s+and\s+|\s+", typed) if p.strip()]
        if not all(re.fullmatch(r"[0-9]{1,3}", p.strip()) for p in parts):
            parts = [p for p in re.split(r"[,;/]", typed) if p.strip()]
        if not parts:
            return Rejected(_("Choisissez au moins une proposition (par exemple : 1, 3)."))
        picked: list[str] = []
        for part in parts:
            option = match_choice(Input(part), options, ctx)
            if option is None:
                return Rejected(
                    _("Je ne trouve pas « {part} » dans la liste.", part=verbatim(part[:40]))
                )
            if option.id not in picked:
                picked.append(option.id)
        return self._finish(picked)

    def _toggle(self, choice_id: str, options: list[Choice], selected: list[str]) -> Verdict:
        if choice_id == DONE_ID:
            return self._finish(selected)
        if choice_id not in {o.id for o in options}:
            return Rejected(_("Choisissez une des propositions (son numéro ou son texte)."))
        if choice_id in selected:
            selected.remove(choice_id)
        elif choice_id in self.exclusive:
            selected = [choice_id]
        else:
            selected = [s for s in selected if s not in self.exclusive] + [choice_id]
        marks = [o for o in options if o.id in selected]
        return Clarify(
            by_gesture(
                _("Choisi : {items}. Ajoutez-en ou touchez « Valider ».", items=_list(marks)),
                _("Choisi : {items}. Ajoutez-en ou répondez « Valider ».", items=_list(marks)),
            ),
            tuple(self._marked(options, selected)),
            {"selected": selected},
            in_place=True,
        )

    def _marked(self, options: list[Choice], selected: list[str]) -> list[Choice]:
        marked = [
            Choice(o.id, _("✓ {label}", label=o.label)) if o.id in selected else o
            for o in options
        ]
        return [*marked, Choice(DONE_ID, _("Valider"))]

    def _finish(self, picked: list[str]) -> Verdict:
        if not picked and not self.optional:
            return Rejected(_("Choisissez au moins une proposition (par exemple : 1, 3)."))
        if len(picked) > 1 and any(p in self.exclusive for p in picked):
            return Rejected(_("« Aucun » ne peut pas être combiné avec un autre choix."))
        return Accepted(picked)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        options = [o for o in _choices_or_fn(self.options, ctx) if o.id in (value or [])]
        return _list(options) if options else _("(non renseigné)")


@dataclass(frozen=True)
class Group:
    """One line of a :class:`OneOfEach`: a key, its options, and what it is called when
    still missing ("l'état")."""

    key: str
    options: Sequence[Choice]
    name: Msg


@dataclass(frozen=True)
class OneOfEach:
    """One option in each of a few groups, in one question (age, state, chargers of a lot).

    Buttons tick in place, one per group, and the answer is taken as soon as every group has
    one: as many taps as separate questions, in one message. Typed, it is one answer: numbers
    ("2, 5, 7") or labels ("de 5 à 8 ans, à tester, chargeurs fournis"); what a partial answer
    gave is kept while the rest is asked. The value stored maps each group's key to its
    option's id.
    """

    groups: Sequence[Group]
    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [Choice(f"{g.key}.{o.id}", o.label) for g in self.groups for o in g.options]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        options = list(self.choices(ctx))
        picked: dict[str, str] = dict(pending.get("picked", {}))
        if given.choice is not None:
            found = [o for o in options if o.id == given.choice]
            if not found:
                return Rejected(_("Choisissez une des propositions (son numéro ou son texte)."))
            parts = [found[0]]
        else:
            typed = given.text.strip()
            words = [p for p in re.split(r"[,;/]|\s+", typed) if p.strip()]
            if words and all(re.fullmatch(r"[0-9]{1,3}", p) for p in words):
                texts = words
            else:
                texts = [p for p in re.split(r"[,;/]|\s+et\s+|\s+and\s+", typed) if p.strip()]
            parts = []
            for text in texts:
                option = match_choice(Input(text.strip()), options, ctx)
                if option is None:
                    return Rejected(_("Je ne trouve pas « {part} » dans la liste.",
                                      part=verbatim(text.strip()[:40])))
                parts.append(option)
        for option in parts:
            key, _sep, value = option.id.partition(".")
            picked[key] = value
        missing = [g for g in self.groups if g.key not in picked]
        if not missing:
            return Accepted({g.key: picked[g.key] for g in self.groups})
        marked = [Choice(o.id, _("✓ {label}", label=o.label))
                  if picked.get(o.id.partition(".")[0]) == o.id.partition(".")[2] else o
                  for o in options]
        return Clarify(
            _("Choisi : {items}. Reste : {missing}.",
              items=_list([o for o in options if picked.get(o.id.partition(".")[0])
                           == o.id.partition(".")[2]]),
              missing=_list([Choice(g.key, g.name) for g in missing])),
            tuple(marked), {"picked": picked}, in_place=given.choice is not None)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        if not value:
            return _("(non renseigné)")
        ids = {f"{k}.{v}" for k, v in value.items()}
        return _list([o for o in self.choices(ctx) if o.id in ids])


def _list(options: Sequence[Choice]) -> Msg:
    """Join labels with commas; each label stays a message translated on its own."""
    params = {f"i{i}": o.label for i, o in enumerate(options)}
    return Msg(", ".join("{" + k + "}" for k in params) or "-", params)



class TypedAnswer:
    """An answer typed by the user, optionally skippable: the skip is handled once, here.

    A mixin, not a dataclass, so each kind keeps its own field order (``FreeText(2, 120)``).
    """

    optional: bool

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [skip_choice()] if self.optional else []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if self.optional and is_skip(given, ctx):
            return Accepted(None)
        return self.read(given, ctx, pending)

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        raise NotImplementedError

@dataclass(frozen=True)
class FreeText(TypedAnswer):
    """Free text between ``min_len`` and ``max_len`` characters, control characters removed."""

    min_len: int = 1
    max_len: int = 120
    optional: bool = False

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        if given.choice is not None:
            return Rejected(_("Écrivez votre réponse."))
        text = clean_text(given.text[: MAX_TEXT * 4])
        if not any(ch.isalnum() for ch in text):
            return Rejected(_("Écrivez votre réponse avec des lettres ou des chiffres."))
        if len(text) < self.min_len:
            return Rejected(_("Trop court : au moins {n} caractères.", n=self.min_len))
        if len(text) > min(self.max_len, MAX_TEXT):
            return Rejected(_("Trop long : {n} caractères au plus.", n=self.max_len))
        return Accepted(text)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


@dataclass(frozen=True)
class Integer(TypedAnswer):
    """A whole number between ``low`` and ``high``."""

    low: int = 0
    high: int = 999
    optional: bool = False

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        typed = clean_text(given.text).replace(" ", "")
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", typed):
            return Rejected(_("Écrivez un nombre entier, par exemple 3."))
        value = int(typed)
        if not self.low <= value <= self.high:
            return Rejected(
                _("Écrivez un nombre entre {low} et {high}.", low=self.low, high=self.high)
            )
        return Accepted(value)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(str(value)) if value is not None else _("(non renseigné)")


@dataclass(frozen=True)
class CommuneAnswer:
    """A commune of the territory, by name or postal code; asks which one when ambiguous."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        from flows.territory import Ambiguous, Found, NotFound, OutsideTerritory

        candidates = pending.get("communes")
        if candidates:
            options = [self._choice(ctx, insee) for insee in candidates]
            picked = match_choice(given, options, ctx)
            if picked is not None:
                return Accepted(picked.id)
        if given.choice is not None:
            return Rejected(_("Écrivez le nom de la commune ou son code postal."))
        match ctx.territory.resolve(given.text[:MAX_TEXT]):
            case Found(commune):
                return Accepted(commune.insee)
            case Ambiguous(found, total):
                insees = [c.insee for c in found]
                if total > len(found):
                    question = _(
                        "{total} communes correspondent. Voici les {shown} plus peuplées. "
                        "Si la vôtre n'y est pas, écrivez son nom. Laquelle ?",
                        total=total, shown=len(found))
                else:
                    question = _("Plusieurs communes correspondent. Vous pouvez aussi écrire "
                                 "son nom. Laquelle ?")
                return Clarify(
                    question,
                    tuple(self._choice(ctx, insee) for insee in insees),
                    {"communes": insees},
                )
            case OutsideTerritory(code):
                return Rejected(
                    _(
                        "Le code postal {code} n'est pas sur le territoire du réseau. "
                        "Écrivez une commune des Hautes-Alpes ou de l'intercommunalité voisine.",
                        code=verbatim(code),
                    )
                )
            case NotFound():
                # No national list of communes is shipped (only the territory's): a name we
                # do not find is outside the territory, or misspelt. Say both, plainly.
                return Rejected(
                    _("Cette commune n'est pas sur le territoire du réseau, ou son nom est mal "
                      "écrit. Vérifiez-le, ou écrivez son code postal.")
                )
        return Rejected(_("Je ne connais pas cette commune. Écrivez son nom ou son code postal."))

    def _choice(self, ctx: Ctx, insee: str) -> Choice:
        commune = ctx.territory.commune(insee)
        assert commune is not None
        codes = "/".join(commune.postal_codes[:2])
        return Choice(insee, verbatim(f"{commune.name} ({codes})"))

    def show(self, value: Any, ctx: Ctx) -> Msg:
        commune = ctx.territory.commune(value) if value else None
        return verbatim(commune.name) if commune else _("(non renseigné)")


_DATE_FORMATS = (
    re.compile(r"(?P<d>[0-9]{1,2})[/. ](?P<m>[0-9]{1,2})[/. ](?P<y>[0-9]{2}|[0-9]{4})"),
    re.compile(r"(?P<y>[0-9]{4})[/. ](?P<m>[0-9]{1,2})[/. ](?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<d>[0-9]{1,2})[/. ](?P<m>[0-9]{1,2})"),
)


@dataclass(frozen=True)
class DateAnswer(TypedAnswer):
    """A calendar date (day/month[/year], ISO, "today", "tomorrow") within a window."""

    not_before_days: int | None = 0
    not_after_days: int | None = 365
    optional: bool = False

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        today = ctx.today
        typed = fold(clean_text(given.text))
        day = self._read(typed, today)
        if day is None:
            return Rejected(_("Écrivez une date comme 25/12/2026."))
        if self.not_before_days is not None and day < today + timedelta(self.not_before_days):
            return Rejected(_("Cette date est passée. Écrivez une date à venir."))
        if self.not_after_days is not None and day > today + timedelta(self.not_after_days):
            return Rejected(_("Cette date est trop loin. Écrivez une date plus proche."))
        return Accepted(day.isoformat())

    @staticmethod
    def _read(typed: str, today: date) -> date | None:
        words = {"aujourd hui": 0, "today": 0, "demain": 1, "tomorrow": 1}
        if typed in words:
            return today + timedelta(words[typed])
        for pattern in _DATE_FORMATS:
            found = pattern.fullmatch(typed)
            if not found:
                continue
            parts = found.groupdict()
            year = int(parts.get("y") or today.year)
            year = year + 2000 if year < 100 else year
            try:
                day = date(year, int(parts["m"]), int(parts["d"]))
            except ValueError:
                return None
            if parts.get("y") is None and day < today:
                day = day.replace(year=year + 1)
            return day
        return None

    def show(self, value: Any, ctx: Ctx) -> Msg:
        if not value:
            return _("(non renseigné)")
        return Msg("{d}", {"d": Day(date.fromisoformat(value))})


@dataclass(frozen=True)
class PhoneAnswer(TypedAnswer):
    """A French phone number, stored in E.164 form (checked by ``ctx.check_phone``)."""

    optional: bool = False

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        number = ctx.check_phone(clean_text(given.text)[:40])
        if number is None:
            return Rejected(_("Ce numéro n'est pas valide. Écrivez un numéro français, "
                              "par exemple 06 12 34 56 78."))
        return Accepted(number)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


def now_is_aware(now: datetime) -> bool:
    """Flows only accept time-zone-aware clocks."""
    return now.tzinfo is not None
