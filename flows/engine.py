"""The conversation engine: flows declared as data, advanced one answer at a time.

A :class:`Flow` is a set of named :class:`Step`\\ s. The engine is a pure function of the saved
:class:`Conversation`, the user's input and a :class:`Ctx`; it returns the new conversation (or
``None`` when it ended), the replies, and the effects for ``handlers/`` to carry out. Because
the conversation is plain data saved after every accepted answer, a process killed between two
messages resumes at the same step. Coroutine-style flows could not do that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flows.action_codec import parse as parse_action
from flows.answers import Accepted, Answer, Clarify, Input, Rejected, match_choice
from flows.messages import Choice, Reply, UserKey
from flows.normalize import fold
from flows.records import User
from flows.territory import Territory
from flows.text import Lines, Msg, _

Answers = dict[str, Any]

CONFIRM = "_confirm"
"""Pseudo-step where the summary is shown and any answer can be corrected."""

CANCEL_WORDS = frozenset({"annuler", "cancel", "stop", "/annuler", "/cancel", "/stop"})
BACK_WORDS = frozenset({"retour", "back", "/retour", "/back", "precedent"})
HELP_WORDS = frozenset({"aide", "help", "/aide", "/help", "?"})
KEEP_WORDS = frozenset({"garder", "keep"})

KEEP = "keep"
"""Choice id of "keep this answer", offered while a part of the summary is asked again."""
PART = "part:"
"""Prefix of the summary's choices that ask a part again (``part:<name>``)."""


class Translator(Protocol):
    """Renders a message in the current user's language (used to match typed labels)."""

    def __call__(self, msg: Msg) -> str: ...


@dataclass(frozen=True)
class Ctx:
    """Everything a step may read: the clock, the user, the territory, loaded facts."""

    now: datetime
    user: User
    territory: Territory
    translate: Translator
    check_phone: Callable[[str], str | None]
    """A French phone number in E.164 form, or None (``handlers.phones``)."""
    check_email: Callable[[str], str | None]
    """An e-mail address in normalised form, or None (``handlers.emails``)."""
    facts: Mapping[str, Any] = field(default_factory=dict)
    tz: ZoneInfo = field(kw_only=True)
    """The network's time zone (the ``FILIERE_TIMEZONE`` setting): what "today" means."""

    def local(self, moment: datetime) -> datetime:
        """``moment`` on the network's clocks and calendar."""
        return moment.astimezone(self.tz)

    @property
    def today(self) -> date:
        """The network's calendar day now, not UTC's (at 00:30 in Paris it is already
        tomorrow there while UTC is still on yesterday)."""
        return self.local(self.now).date()


@dataclass(frozen=True)
class Step:
    """One question: what to ask, what answer it expects, where to go next."""

    ask: Msg | Callable[[Ctx, Answers], Msg]
    answer: Answer
    label: Msg | None = None
    """How the answer is introduced in the summary; ``None`` keeps it out of the summary."""
    next: str | Callable[[Answers], str | None] | None = None
    """Name of the next step (or a function of the answers); ``None`` ends the questions."""
    help: Msg | None = None


class Effect:
    """Base of the effects a finished flow asks ``handlers/`` to carry out."""


@dataclass(frozen=True)
class Outcome:
    """What finishing a flow produces: replies to the user and effects to carry out."""

    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


@dataclass(frozen=True)
class Part:
    """A few questions the summary offers to change together ("Modifier : Matériel"): a long
    flow's summary then offers a handful of parts rather than one correction per answer."""

    name: str
    """Stable and short: it is part of a button's data (``part:<name>``) and saved."""
    label: Msg
    steps: tuple[str, ...]
    """The part's questions, in the order the flow asks them."""


@dataclass(frozen=True)
class Flow:
    """A conversation declared as data."""

    name: str
    first: str
    steps: Mapping[str, Step]
    finish: Callable[[Ctx, Answers], Outcome]
    intro: Msg | None = None
    confirm: bool = False
    """Show a summary before finishing, with "confirm" and "correct <answer>"."""
    parts: tuple[Part, ...] = ()
    """With parts, the summary offers "change <part>" for each, instead of one correction
    per answer."""
    recap: Callable[[Ctx, Answers], Msg] | None = None
    """What the answers lead to, shown under the summary (a protocol, a price)."""

    def step(self, name: str) -> Step:
        return self.steps[name]

    def part(self, name: str | None) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)


@dataclass(frozen=True)
class Conversation:
    """A user's position in a flow: what the engine saves after every accepted answer."""

    flow: str
    step: str
    answers: Answers = field(default_factory=dict)
    history: tuple[str, ...] = ()
    pending: Mapping[str, Any] = field(default_factory=dict)
    returning: bool = False
    """True while correcting one answer from the summary: go back to it afterwards."""
    revision: int = 0
    """Counts the questions asked: one more at every accepted answer (or correction, or
    "back"). A button carries the revision of its question (:func:`bind`), so a press on an
    older question's keyboard is told apart from an answer to this one."""
    part: str | None = None
    """The part of the summary being asked again (:class:`Part`), while ``returning``."""

    def to_json(self) -> dict[str, Any]:
        data = {
            "flow": self.flow,
            "step": self.step,
            "answers": self.answers,
            "history": list(self.history),
            "pending": dict(self.pending),
            "returning": self.returning,
            "revision": self.revision,
        }
        if self.part is not None:
            data["part"] = self.part
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conversation:
        return cls(
            flow=data["flow"],
            step=data["step"],
            answers=dict(data.get("answers", {})),
            history=tuple(data.get("history", ())),
            pending=dict(data.get("pending", {})),
            returning=bool(data.get("returning", False)),
            revision=int(data.get("revision", 0)),
            part=data.get("part"),
        )


# --- buttons bound to their question ----------------------------------------------------------

BOUND = "~"
"""First character of a conversation button's data: ``~<question>~<choice id>``."""


def question_token(conv: Conversation) -> str:
    """What names the question ``conv`` asks now: its flow and step (digested to a few
    characters, for Telegram's 64 bytes) and its revision."""
    digest = hashlib.blake2s(f"{conv.flow}\x00{conv.step}".encode(), digest_size=3).hexdigest()
    return f"{digest}{conv.revision:x}"


def bind(choice_id: str, conv: Conversation) -> str:
    """The button data of ``choice_id`` offered by the question ``conv`` asks now."""
    return f"{BOUND}{question_token(conv)}{BOUND}{choice_id}"


@dataclass(frozen=True)
class BoundChoice:
    """A conversation button as pressed: the question it belongs to, the choice picked."""

    question: str
    choice: str


def unbind(data: str) -> BoundChoice | None:
    """The question and choice of a conversation button's data; ``None`` for anything else
    (a typed action's data, an unbound id)."""
    if not data.startswith(BOUND):
        return None
    question, sep, choice = data[1:].partition(BOUND)
    if not sep or not question or not choice:
        return None
    return BoundChoice(question, choice)


def bind_reply(reply: Reply, conv: Conversation) -> Reply:
    """``reply`` with every plain choice bound to the question ``conv`` asks now (typed
    actions' data, already checked by the router wherever they are pressed, are left)."""
    if not reply.choices:
        return reply
    choices = [c if c.id.startswith(BOUND) or parse_action(c.id) is not None
               else Choice(bind(c.id, conv), c.label) for c in reply.choices]
    return replace(reply, choices=choices)


@dataclass(frozen=True)
class Cancelled(Effect):
    """The user cancelled a flow (nothing was written)."""

    flow: str


@dataclass(frozen=True)
class Turn:
    """The result of one input: the conversation to save (``None``: ended), replies, effects."""

    conversation: Conversation | None
    replies: list[Reply]
    effects: list[Effect] = field(default_factory=list)
    accepted: bool = False


def start(flow: Flow, ctx: Ctx, answers: Answers | None = None) -> Turn:
    """Begin ``flow``: its introduction then its first question."""
    conv = Conversation(flow.name, flow.first, dict(answers or {}))
    reply = ask(flow, conv, ctx)
    if flow.intro is not None:
        reply.texts.insert(0, flow.intro)
    return Turn(conv, [reply], accepted=True)


def ask(flow: Flow, conv: Conversation, ctx: Ctx) -> Reply:
    """The question of the current step, with its choices."""
    conv = resume(flow, conv)
    if conv.step == CONFIRM:
        return summary(flow, conv, ctx)
    step = flow.step(conv.step)
    text = step.ask(ctx, conv.answers) if callable(step.ask) else step.ask
    choices = list(step.answer.choices(ctx))
    if _keeps(conv):
        shown = step.answer.show(conv.answers[conv.step], ctx)
        return Reply([text, _("Réponse actuelle : {value}", value=shown)],
                     [*choices, Choice(KEEP, _("Garder cette réponse"))])
    return Reply([text], choices)


def _keeps(conv: Conversation) -> bool:
    """Whether the question offers to keep its answer: asked again with its part (and not
    in the middle of a pick of its own, whose choices are others)."""
    return conv.part is not None and conv.step in conv.answers and not conv.pending


def resume(flow: Flow, conv: Conversation) -> Conversation:
    """Where a saved conversation really stands: a step a newer release of the flow no longer
    has, or a summary with a question left unanswered, resumes at the first question of the
    current branch still unanswered (the answers kept)."""
    if conv.step in flow.steps:
        return conv
    history, missing = _path(flow, conv.answers)
    if conv.step == CONFIRM and (missing is None or not flow.confirm):
        return conv
    target = missing or (CONFIRM if flow.confirm else flow.first)
    if target == conv.step:
        return conv
    return replace(conv, step=target, history=history, pending={}, returning=False, part=None)


def summary(flow: Flow, conv: Conversation, ctx: Ctx) -> Reply:
    """The answers so far, with a choice to confirm and one to correct each answer (or each
    part of the flow, when it has parts)."""
    lines: list[Msg] = []
    corrections: list[Choice] = []
    for name in conv.history:
        step = flow.steps.get(name)
        if step is None or step.label is None:
            continue
        shown = step.answer.show(conv.answers.get(name), ctx)
        lines.append(_("{label} : {value}", label=step.label, value=shown))
        if not flow.parts:
            corrections.append(Choice(f"edit:{name}", _("Corriger : {label}",
                                                         label=step.label)))
    texts: list[Msg] = [Msg("{title}\n{lines}", {"title": _("Vérifiez avant d'envoyer :"),
                                                  "lines": Lines(tuple(lines))})]
    if flow.recap is not None:
        texts.append(flow.recap(ctx, conv.answers))
    if flow.parts:
        corrections = [Choice(f"{PART}{p.name}", _("Modifier : {part}", part=p.label))
                       for p in flow.parts if set(p.steps) & set(conv.history)]
        texts.append(_("Tout est juste ? Confirmez, ou choisissez ce que vous voulez "
                       "modifier."))
    return Reply(texts, [Choice("ok", _("Confirmer")), *corrections])


def handle(flow: Flow, conv: Conversation, given: Input, ctx: Ctx) -> Turn:
    """Advance ``conv`` with one input: global words first, then the step's validator."""
    conv = resume(flow, conv)
    word = fold(given.text) if given.choice is None else ""
    if given.choice == "cancel" or word in CANCEL_WORDS:
        return Turn(None, [Reply([_("C'est annulé. Rien n'a été enregistré.")])],
                    [Cancelled(flow.name)], accepted=True)
    if given.choice == "back" or word in BACK_WORDS:
        return _back(flow, conv, ctx)
    if given.choice == "help" or word in HELP_WORDS:
        return _help(flow, conv, ctx)
    if conv.step == CONFIRM:
        return _confirm(flow, conv, given, ctx)

    step = flow.step(conv.step)
    if _keeps(conv) and (word in KEEP_WORDS or _picked(given, ask(flow, conv, ctx), ctx) == KEEP):
        return _advance(flow, conv, step, conv.answers[conv.step], ctx)
    verdict = step.answer.parse(given, ctx, dict(conv.pending))
    match verdict:
        case Rejected(reason):
            again = ask(flow, replace(conv, pending={}), ctx)
            return Turn(replace(conv, pending={}), [Reply([reason, *again.texts], again.choices)])
        case Clarify(question, choices, pending, in_place):
            kept = replace(conv, pending=pending)
            if in_place:  # the question itself, updated: its text, then where it stands
                again = ask(flow, kept, ctx)
                return Turn(kept, [Reply([*again.texts, question], list(choices),
                                         in_place=True)], accepted=True)
            return Turn(kept, [Reply([question], list(choices))])
        case Accepted(value):
            return _advance(flow, conv, step, value, ctx)
    raise AssertionError(f"unknown verdict {verdict!r}")


def _picked(given: Input, question: Reply, ctx: Ctx) -> str | None:
    """The id of the choice of ``question`` the input picks, if any."""
    picked = match_choice(given, question.choices, ctx)
    return picked.id if picked is not None else None


def _path(flow: Flow, answers: Answers) -> tuple[tuple[str, ...], str | None]:
    """Replay the flow over ``answers``: the steps on the current branch, and the first step
    of that branch still unanswered (``None`` when all are answered)."""
    path: list[str] = []
    name: str | None = flow.first
    while name is not None and name in answers and name not in path:
        path.append(name)
        step = flow.step(name)
        name = step.next(answers) if callable(step.next) else step.next
    return tuple(path), name


def _live(flow: Flow, answers: Answers, path: tuple[str, ...]) -> Answers:
    """The answers a flow finishes with: those on the current branch, plus values preset at
    start that are not steps (a join code, a request being acted on)."""
    return {k: v for k, v in answers.items() if k in path or k not in flow.steps}


def _advance(flow: Flow, conv: Conversation, step: Step, value: Any, ctx: Ctx) -> Turn:
    answers = {**conv.answers, conv.step: value}
    history, nxt = _path(flow, answers)
    part = flow.part(conv.part) if conv.returning else None
    if part is not None:
        follow = step.next(answers) if callable(step.next) else step.next
        if follow in part.steps:
            nxt = follow  # the part's next question, asked again even if answered
    if conv.returning and nxt is None:
        nxt = CONFIRM  # a correction that opens no new branch goes back to the summary
    if nxt is None and flow.confirm:
        nxt = CONFIRM
    if nxt is None:
        outcome = flow.finish(ctx, _live(flow, answers, history))
        return Turn(None, outcome.replies, outcome.effects, accepted=True)
    moved = Conversation(flow.name, nxt, answers, history, {}, conv.returning,
                         conv.revision + 1,
                         part.name if part is not None and nxt != CONFIRM else None)
    return Turn(moved, [ask(flow, moved, ctx)], accepted=True)


def _confirm(flow: Flow, conv: Conversation, given: Input, ctx: Ctx) -> Turn:
    options = summary(flow, conv, ctx).choices
    picked = match_choice(given, options, ctx)
    if picked is None:
        again = summary(flow, conv, ctx)
        reason = _("Choisissez « Confirmer » ou ce qu'il faut corriger.")
        return Turn(conv, [Reply([reason, *again.texts], again.choices)])
    if picked.id == "ok":
        history, _missing = _path(flow, conv.answers)
        outcome = flow.finish(ctx, _live(flow, conv.answers, history))
        return Turn(None, outcome.replies, outcome.effects, accepted=True)
    part = flow.part(picked.id.removeprefix(PART))
    if part is not None:
        target = next(name for name in part.steps if name in conv.history)
    else:
        target = picked.id.removeprefix("edit:")
    moved = replace(conv, step=target, pending={}, returning=True, revision=conv.revision + 1,
                    part=part.name if part is not None else None)
    return Turn(moved, [ask(flow, moved, ctx)], accepted=True)


def _back(flow: Flow, conv: Conversation, ctx: Ctx) -> Turn:
    if conv.returning and conv.step != CONFIRM:
        # "back" while correcting one answer abandons the correction: summary again.
        moved = replace(conv, step=CONFIRM, pending={}, returning=False,
                        revision=conv.revision + 1, part=None)
    elif conv.history:
        moved = Conversation(flow.name, conv.history[-1], conv.answers, conv.history[:-1],
                             revision=conv.revision + 1)
    else:
        again = ask(flow, conv, ctx)
        return Turn(conv, [Reply([_("C'est la première question."), *again.texts],
                                 again.choices)])
    return Turn(moved, [ask(flow, moved, ctx)], accepted=True)


def _help(flow: Flow, conv: Conversation, ctx: Ctx) -> Turn:
    step_help = flow.step(conv.step).help if conv.step != CONFIRM else None
    texts: list[Msg] = [step_help] if step_help else []
    texts.append(_("À tout moment : « retour » revient à la question précédente, "
                   "« annuler » abandonne sans rien enregistrer."))
    again = ask(flow, conv, ctx)
    return Turn(conv, [Reply([*texts, *again.texts], again.choices)])


def registry(flows: Sequence[Flow]) -> dict[str, Flow]:
    """Index flows by name, refusing duplicates and dangling step names."""
    index: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in index:
            raise ValueError(f"two flows named {flow.name!r}")
        if flow.first not in flow.steps:
            raise ValueError(f"flow {flow.name!r} starts at unknown step {flow.first!r}")
        for name, step in flow.steps.items():
            if isinstance(step.next, str) and step.next not in flow.steps:
                raise ValueError(f"{flow.name}.{name} goes to unknown step {step.next!r}")
        for part in flow.parts:
            if not part.steps or any(name not in flow.steps for name in part.steps):
                raise ValueError(f"{flow.name}: part {part.name!r} names an unknown step")
        index[flow.name] = flow
    return index


__all__ = [
    "Answers", "BoundChoice", "Cancelled", "Conversation", "Ctx", "Effect", "Flow", "Outcome",
    "Part", "Step", "Translator", "Turn", "UserKey", "ask", "bind", "bind_reply", "handle",
    "question_token", "registry", "resume", "start", "unbind",
]
