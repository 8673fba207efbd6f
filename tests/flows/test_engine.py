"""The flow engine: one answer at a time, bad answers asked again, back, cancel, help, summary."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows import engine
from flows.answers import FreeText, Input, Integer, OneOf
from flows.engine import CONFIRM, Cancelled, Conversation, Ctx, Flow, Outcome, Step
from flows.messages import Choice, UserKey
from flows.records import User
from flows.territory import Territory
from flows.text import Msg, _
from storage.territory import shipped_territory

TERRITORY = Territory.from_dict(shipped_territory())
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def render(msg: Msg) -> str:
    return msg.msgid.format_map({k: render(v) if isinstance(v, Msg) else v
                                 for k, v in msg.params.items()})


CTX = Ctx(NOW, User(UserKey("cli:t"), "fr", NOW), TERRITORY, render, lambda s: None,
          lambda s: None, tz=ZoneInfo("Europe/Paris"))
DONE: list[dict] = []


def finish(ctx: Ctx, answers: dict) -> Outcome:
    return Outcome(effects=[Cancelled("noop")], replies=[])


FLOW = Flow(
    name="t",
    first="kind",
    confirm=True,
    finish=finish,
    steps={
        "kind": Step(_("Kind?"), OneOf([Choice("a", _("Alpha")), Choice("b", _("Beta"))]),
                     label=_("Kind"), next=lambda a: "count" if a["kind"] == "a" else "name"),
        "count": Step(_("How many?"), Integer(1, 9), label=_("Count"), next="name"),
        "name": Step(_("Name?"), FreeText(2, 20), label=_("Name"), help=_("Your name")),
    },
)


def say(conv: Conversation, text: str = "", choice: str | None = None) -> engine.Turn:
    return engine.handle(FLOW, conv, Input(text, choice), CTX)


def test_start_asks_the_first_question_with_its_choices():
    turn = engine.start(FLOW, CTX)
    assert turn.conversation is not None and turn.conversation.step == "kind"
    assert [c.id for c in turn.replies[0].choices] == ["a", "b"]


def test_a_bad_answer_explains_and_asks_the_same_question_again():
    conv = engine.start(FLOW, CTX).conversation
    assert conv is not None
    turn = say(conv, "gamma")
    assert turn.conversation == conv and not turn.accepted
    assert turn.replies[0].texts[0].msgid.startswith("Choisissez une des propositions")
    assert turn.replies[0].texts[1].msgid == "Kind?"


def test_answers_by_number_label_or_button_are_the_same():
    conv = engine.start(FLOW, CTX).conversation
    assert conv is not None
    for given in (Input("1"), Input("alpha"), Input("ALPHA "), Input("", "a")):
        turn = engine.handle(FLOW, conv, given, CTX)
        assert turn.conversation is not None and turn.conversation.answers["kind"] == "a"


def test_next_step_depends_on_the_answers():
    conv = engine.start(FLOW, CTX).conversation
    assert conv is not None
    assert say(conv, "2").conversation.step == "name"  # type: ignore[union-attr]
    assert say(conv, "1").conversation.step == "count"  # type: ignore[union-attr]


def test_back_returns_to_the_previous_question_and_cancel_ends_without_effect():
    conv = say(engine.start(FLOW, CTX).conversation, "1").conversation  # type: ignore[arg-type]
    assert conv is not None and conv.step == "count"
    back = say(conv, "retour")
    assert back.conversation is not None and back.conversation.step == "kind"
    first = say(back.conversation, "back")
    assert first.conversation is not None and first.conversation.step == "kind"
    cancelled = say(conv, "Annuler")
    assert cancelled.conversation is None
    assert cancelled.effects == [Cancelled("t")]


def test_help_shows_the_step_help_and_keeps_the_position():
    conv = say(engine.start(FLOW, CTX).conversation, "2").conversation  # type: ignore[arg-type]
    turn = say(conv, "aide")  # type: ignore[arg-type]
    assert turn.conversation == conv
    assert turn.replies[0].texts[0].msgid == "Your name"


def test_summary_lets_the_user_correct_one_answer_then_returns_to_it():
    conv = engine.start(FLOW, CTX).conversation
    for text in ("1", "3", "Zoé"):
        conv = say(conv, text).conversation  # type: ignore[arg-type]
    assert conv is not None and conv.step == CONFIRM
    edit = say(conv, "", "edit:count")
    assert edit.conversation is not None and edit.conversation.step == "count"
    back_to_summary = say(edit.conversation, "5")
    assert back_to_summary.conversation is not None
    assert back_to_summary.conversation.step == CONFIRM
    assert back_to_summary.conversation.answers["count"] == 5


def test_changing_a_branching_answer_drops_answers_of_the_abandoned_branch():
    seen: list[dict] = []
    flow = Flow(FLOW.name, FLOW.first, FLOW.steps, lambda ctx, a: seen.append(a) or Outcome(),
                confirm=True)
    conv = engine.start(flow, CTX).conversation
    for text in ("1", "3", "Zoé"):
        conv = engine.handle(flow, conv, Input(text), CTX).conversation  # type: ignore[arg-type]
    conv = engine.handle(flow, conv, Input("", "edit:kind"), CTX).conversation  # type: ignore
    conv = engine.handle(flow, conv, Input("2"), CTX).conversation  # type: ignore[arg-type]
    assert conv is not None and conv.step == CONFIRM
    engine.handle(flow, conv, Input("", "ok"), CTX)
    assert seen == [{"kind": "b", "name": "Zoé"}]


def test_a_conversation_survives_a_round_trip_through_json():
    conv = say(engine.start(FLOW, CTX).conversation, "1").conversation  # type: ignore[arg-type]
    assert conv is not None
    assert Conversation.from_json(conv.to_json()) == conv


def test_registry_refuses_a_step_pointing_nowhere():
    broken = Flow("x", "a", {"a": Step(_("?"), FreeText(), next="missing")}, finish)
    with pytest.raises(ValueError, match="unknown step"):
        engine.registry([broken])


def test_values_preset_at_start_reach_the_finish():
    seen: list[dict] = []
    flow = Flow(FLOW.name, FLOW.first, FLOW.steps, lambda ctx, a: seen.append(a) or Outcome())
    conv = engine.start(flow, CTX, {"request": 42}).conversation
    for text in ("2", "Zoé"):
        turn = engine.handle(flow, conv, Input(text), CTX)  # type: ignore[arg-type]
        conv = turn.conversation
    assert seen == [{"request": 42, "kind": "b", "name": "Zoé"}]
