"""The flow engine: one answer at a time, bad answers asked again, back, cancel, help, summary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows import (
    access,
    beneficiary,
    coord_flows,
    donation,
    engine,
    erasure_record,
    home,
    request,
    workshops,
)
from flows.answers import FreeText, Input, Integer, OneOf, SomeOf
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
FLOW_MODULES = (access, beneficiary, coord_flows, donation, erasure_record, home, request,
                workshops)


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


# --- buttons bound to their question ---------------------------------------------------------


def test_each_accepted_answer_asks_a_new_question_revision():
    turn = engine.start(FLOW, CTX)
    assert turn.conversation is not None and turn.conversation.revision == 0
    kept = say(turn.conversation, "x")  # refused: the same question, the same revision
    assert kept.conversation is not None and kept.conversation.revision == 0
    moved = say(turn.conversation, choice="a")
    assert moved.conversation is not None and moved.conversation.revision == 1
    back = say(moved.conversation, "retour")
    assert back.conversation is not None and back.conversation.step == "kind"
    assert back.conversation.revision == 2  # the first question again, asked anew
    assert Conversation.from_json(back.conversation.to_json()) == back.conversation


def test_a_bound_button_names_its_flow_step_and_revision():
    conv = Conversation("t", "kind", revision=3)
    data = engine.bind("yes", conv)
    assert engine.unbind(data) == engine.BoundChoice(engine.question_token(conv), "yes")
    others = [Conversation("t", "kind", revision=4), Conversation("t", "name", revision=3),
              Conversation("u", "kind", revision=3)]
    assert all(engine.question_token(o) != engine.question_token(conv) for o in others)
    assert engine.unbind("yes") is None and engine.unbind("m:pro") is None
    assert engine.unbind("~abc") is None and engine.unbind("~~yes") is None


def test_binding_leaves_typed_actions_alone():
    reply = engine.bind_reply(engine.Reply([], [Choice("yes", _("Oui")),
                                                Choice("m:pro", _("Pro"))]),
                              Conversation("t", "kind"))
    assert [engine.unbind(c.id) is not None for c in reply.choices] == [True, False]


def test_a_multi_select_toggle_is_the_same_question_updated_in_place():
    flow = Flow("m", "uses", finish=finish, steps={"uses": Step(
        _("Uses?"), SomeOf([Choice("a", _("Alpha")), Choice("b", _("Beta"))]))})
    conv = engine.start(flow, CTX).conversation
    assert conv is not None
    turn = engine.handle(flow, conv, Input("", "a"), CTX)
    [reply] = turn.replies
    assert reply.in_place and render(reply.texts[0]) == "Uses?"
    assert turn.conversation is not None and turn.conversation.revision == conv.revision
    assert turn.conversation.pending == {"selected": ["a"]}


def test_every_conversation_button_fits_telegrams_64_bytes_once_bound():
    """The longest revision a conversation may reach (a thousand answers) included."""
    flows = [value for module in FLOW_MODULES for value in vars(module).values()
             if isinstance(value, Flow)]
    assert len(flows) > 10
    for flow in flows:
        conv = Conversation(flow.name, flow.first, revision=0xFFF)
        for name, step in flow.steps.items():
            ids = [f"edit:{name}", engine.KEEP, *(f"{engine.PART}{p.name}" for p in flow.parts)]
            options = getattr(step.answer, "options", None)
            if isinstance(options, list | tuple):
                ids += [c.id for c in options]
            for choice_id in ids:
                bound = engine.bind(choice_id, replace(conv, step=name))
                assert len(bound.encode()) <= 64, (flow.name, name, choice_id)


# --- a summary in parts ----------------------------------------------------------------------

PARTS_FLOW = replace(FLOW, parts=(
    engine.Part("who", _("Who"), ("kind", "count")),
    engine.Part("name", _("Name"), ("name",)),
), recap=lambda ctx, answers: _("Recap"))


def summary_of_parts() -> Conversation:
    conv = engine.start(PARTS_FLOW, CTX).conversation
    for text in ("1", "3", "Zoé"):
        conv = engine.handle(PARTS_FLOW, conv, Input(text), CTX).conversation  # type: ignore
    assert conv is not None and conv.step == CONFIRM
    return conv


def test_a_summary_in_parts_offers_to_change_each_part_not_each_answer():
    reply = engine.ask(PARTS_FLOW, summary_of_parts(), CTX)
    assert [c.id for c in reply.choices] == ["ok", "part:who", "part:name"]
    assert [render(c.label) for c in reply.choices[1:]] == ["Modifier : Who", "Modifier : Name"]
    assert "Recap" in [render(t) for t in reply.texts]


def test_changing_a_part_asks_its_questions_again_then_shows_the_summary():
    turn = engine.handle(PARTS_FLOW, summary_of_parts(), Input("", "part:who"), CTX)
    conv = turn.conversation
    assert conv is not None and conv.step == "kind" and conv.part == "who"
    assert "Réponse actuelle : {value}" in [t.msgid for t in turn.replies[0].texts]
    assert turn.replies[0].choices[-1].id == engine.KEEP
    conv = engine.handle(PARTS_FLOW, conv, Input("garder"), CTX).conversation
    assert conv is not None and conv.step == "count"  # asked again though answered
    numbered = str(len(engine.ask(PARTS_FLOW, conv, CTX).choices))  # "Garder", by number
    conv = engine.handle(PARTS_FLOW, conv, Input(numbered), CTX).conversation
    assert conv is not None and conv.step == CONFIRM and conv.part is None
    assert conv.answers["count"] == 3
    assert Conversation.from_json(conv.to_json()) == conv


def test_a_part_that_opens_a_new_branch_asks_it_and_drops_the_old_one():
    conv = engine.handle(PARTS_FLOW, summary_of_parts(), Input("", "part:who"), CTX).conversation
    conv = engine.handle(PARTS_FLOW, conv, Input("Beta"), CTX).conversation  # type: ignore
    assert conv is not None and conv.step == CONFIRM  # "name" is answered, in another part
    assert "count" not in conv.history


def test_a_step_a_new_release_removed_resumes_at_the_first_unanswered_question():
    saved = Conversation("t", "gone", {"kind": "a", "gone": "x"}, ("kind",), revision=7)
    assert render(engine.ask(FLOW, saved, CTX).texts[0]) == "How many?"
    turn = engine.handle(FLOW, saved, Input("4"), CTX)
    assert turn.conversation is not None and turn.conversation.step == "name"
    assert turn.conversation.answers["count"] == 4


def test_a_summary_with_a_question_unanswered_asks_it_first():
    """Back from a correction that opened a new branch leaves a question unanswered."""
    saved = Conversation("t", CONFIRM, {"kind": "a", "name": "Zoé"}, ("kind",))
    turn = engine.handle(FLOW, saved, Input("1"), CTX)  # not "Confirmer": the question
    assert turn.conversation is not None and turn.conversation.answers["count"] == 1
    assert turn.conversation.step == CONFIRM
