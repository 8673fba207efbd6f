"""Every answer kind against what people really type, good and bad."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.answers import (
    Accepted,
    Clarify,
    CommuneAnswer,
    DateAnswer,
    FreeText,
    Group,
    Input,
    Integer,
    OneOf,
    OneOfEach,
    PhoneAnswer,
    Rejected,
    SomeOf,
)
from flows.donation import ItemsAnswer, ReachAnswer, StructureAnswer
from flows.engine import Ctx
from flows.messages import Choice, UserKey
from flows.records import User
from flows.territory import Territory
from flows.text import Msg, _
from handlers.emails import check_email
from handlers.phones import check_french_phone
from storage.territory import shipped_territory

TERRITORY = Territory.from_dict(shipped_territory())
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def render(msg: Msg) -> str:
    return msg.msgid.format_map({k: render(v) if isinstance(v, Msg) else v
                                 for k, v in msg.params.items()})


PARIS = ZoneInfo("Europe/Paris")
CTX = Ctx(NOW, User(UserKey("cli:t"), "fr", NOW), TERRITORY, render, check_french_phone,
          check_email, tz=PARIS)

HOSTILE = [
    "",
    "   ",
    "x" * 10_000,
    "😀🎉💻",
    "مرحبا بالعالم",
    "\u202eevil\u202c",
    "'; DROP TABLE users; --",
    "Robert'); DELETE FROM conversations;--",
    "\x00\x01\x02",
    "38000",
]
COLOURS = [Choice("r", _("Rouge")), Choice("v", _("Vert")), Choice("b", _("Bleu"))]
KINDS = [
    OneOf(COLOURS),
    SomeOf(COLOURS),
    FreeText(2, 50),
    Integer(0, 20),
    CommuneAnswer(),
    DateAnswer(),
    PhoneAnswer(),
    ReachAnswer(optional=False),
    ItemsAnswer(),
    StructureAnswer(),
    OneOfEach([Group("c", COLOURS, _("la couleur")), Group("s", [Choice("p", _("Petit"))],
                                                           _("la taille"))]),
]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: type(k).__name__)
@pytest.mark.parametrize("typed", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_refused_with_a_message_never_accepted_silently(kind, typed):
    verdict = kind.parse(Input(typed), CTX, {})
    if isinstance(verdict, Accepted):
        # Only plain text fields may take odd text, and then cleaned and bounded.
        assert isinstance(kind, FreeText | StructureAnswer)
        value = verdict.value if isinstance(kind, FreeText) else verdict.value["name"]
        assert 2 <= len(value) <= 120 and "\u202e" not in value
    else:
        assert isinstance(verdict, Rejected | Clarify)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_no_answer_kind_ever_raises(typed):
    for kind in KINDS:
        kind.parse(Input(typed), CTX, {})


def test_one_of_reads_number_label_and_button():
    kind = OneOf(COLOURS)
    assert kind.parse(Input("2"), CTX, {}) == Accepted("v")
    assert kind.parse(Input("vert"), CTX, {}) == Accepted("v")
    assert kind.parse(Input("", "b"), CTX, {}) == Accepted("b")
    assert isinstance(kind.parse(Input("4"), CTX, {}), Rejected)
    assert isinstance(kind.parse(Input("", "forged"), CTX, {}), Rejected)


def test_some_of_reads_lists_and_toggles_buttons():
    kind = SomeOf(COLOURS)
    assert kind.parse(Input("1, 3"), CTX, {}) == Accepted(["r", "b"])
    assert kind.parse(Input("rouge, bleu"), CTX, {}) == Accepted(["r", "b"])
    toggled = kind.parse(Input("", "v"), CTX, {})
    assert isinstance(toggled, Clarify) and toggled.pending == {"selected": ["v"]}
    assert kind.parse(Input("", "done"), CTX, toggled.pending) == Accepted(["v"])
    assert isinstance(kind.parse(Input("", "done"), CTX, {}), Rejected)  # nothing chosen
    assert isinstance(kind.parse(Input("1, 9"), CTX, {}), Rejected)


def test_free_text_is_bounded_and_cleaned():
    kind = FreeText(2, 10)
    assert kind.parse(Input("  Zoé  "), CTX, {}) == Accepted("Zoé")
    assert isinstance(kind.parse(Input("Z"), CTX, {}), Rejected)
    assert isinstance(kind.parse(Input("Zoé" * 5), CTX, {}), Rejected)
    assert kind.parse(Input("a\u200bb\tc"), CTX, {}) == Accepted("ab c")


def test_integer_is_bounded():
    kind = Integer(0, 20)
    assert kind.parse(Input(" 12 "), CTX, {}) == Accepted(12)
    for bad in ("-1", "21", "3.5", "douze", "1e3", "99999999999999"):
        assert isinstance(kind.parse(Input(bad), CTX, {}), Rejected), bad


@pytest.mark.parametrize("typed", ["veynes", "Veynes", "VEYNES", " veynes ", "05400 Veynes"])
def test_commune_by_name_tolerant_of_case_and_accents(typed):
    assert CommuneAnswer().parse(Input(typed), CTX, {}) == Accepted("05179")


def test_a_postal_code_of_a_single_commune_is_enough():
    assert CommuneAnswer().parse(Input("05320"), CTX, {}) == Accepted("05063")  # La Grave


def test_05400_covers_eleven_communes_and_veynes_comes_first():
    verdict = CommuneAnswer().parse(Input("05400"), CTX, {})
    assert isinstance(verdict, Clarify)
    assert verdict.choices[0].id == "05179" and len(verdict.choices) == 11


def test_a_postal_code_shared_by_several_communes_asks_which_one():
    verdict = CommuneAnswer().parse(Input("05000"), CTX, {})
    assert isinstance(verdict, Clarify)
    labels = [render(c.label) for c in verdict.choices]
    assert any(label.startswith("Gap") for label in labels)
    gap = next(c for c in verdict.choices if render(c.label).startswith("Gap"))
    assert CommuneAnswer().parse(Input("", gap.id), CTX, verdict.pending) == Accepted("05061")
    number = str(verdict.choices.index(gap) + 1)
    assert CommuneAnswer().parse(Input(number), CTX, verdict.pending) == Accepted("05061")


def test_a_postal_code_of_another_departement_says_so():
    verdict = CommuneAnswer().parse(Input("75011"), CTX, {})
    assert isinstance(verdict, Rejected)
    assert "n'est pas sur le territoire" in verdict.reason.msgid


def test_dates_in_the_forms_people_type():
    kind = DateAnswer()
    assert kind.parse(Input("25/12/2026"), CTX, {}) == Accepted("2026-12-25")
    assert kind.parse(Input("25.12.26"), CTX, {}) == Accepted("2026-12-25")
    assert kind.parse(Input("2026-12-25"), CTX, {}) == Accepted("2026-12-25")
    assert kind.parse(Input("demain"), CTX, {}) == Accepted("2026-11-24")
    assert kind.parse(Input("5/1"), CTX, {}) == Accepted("2027-01-05")  # next 5 January
    for bad in ("31/02/2027", "01/01/2020", "32/13", "01/01/2099", "bientôt"):
        assert isinstance(kind.parse(Input(bad), CTX, {}), Rejected), bad


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("Europe/Paris", (2026, 11, 23, 23, 30)),  # 22:30 UTC, the same day
        ("Europe/Paris", (2026, 11, 24, 0, 30)),  # 23:30 UTC on the day before
        ("Europe/Paris", (2027, 3, 28, 0, 30)),  # clocks go forward that night: 23:30 UTC
        ("Europe/Paris", (2027, 3, 28, 23, 30)),  # then 21:30 UTC
        ("Europe/Paris", (2027, 3, 29, 0, 30)),  # summer time: 22:30 UTC on the day before
        ("Europe/Paris", (2026, 10, 25, 0, 30)),  # clocks go back that night: 22:30 UTC
        ("Europe/Paris", (2026, 10, 26, 0, 30)),  # winter time: 23:30 UTC on the day before
        ("Pacific/Noumea", (2026, 11, 24, 0, 30)),  # UTC+11: 13:30 UTC on the day before
        ("America/Cayenne", (2026, 11, 23, 23, 30)),  # UTC-3: 02:30 UTC on the day after
    ],
)
def test_today_and_tomorrow_are_days_of_the_networks_time_zone(
    zone: str, local: tuple[int, ...]
):
    here = datetime(*local, tzinfo=ZoneInfo(zone))
    ctx = replace(CTX, now=here.astimezone(UTC), tz=ZoneInfo(zone))
    day = here.date()
    assert ctx.today == day
    kind = DateAnswer()
    assert kind.parse(Input("aujourd'hui"), ctx, {}) == Accepted(day.isoformat())
    assert kind.parse(Input("demain"), ctx, {}) == Accepted((day + timedelta(1)).isoformat())
    yesterday = day - timedelta(1)
    typed = f"{yesterday.day}/{yesterday.month}/{yesterday.year}"
    assert isinstance(kind.parse(Input(typed), ctx, {}), Rejected)  # already past here
    assert DateAnswer(not_before_days=1).parse(Input("demain"), ctx, {}) == Accepted(
        (day + timedelta(1)).isoformat())


def test_phone_numbers_are_french_and_normalised():
    kind = PhoneAnswer()
    for typed in ("06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "04.92.51.00.00"):
        verdict = kind.parse(Input(typed), CTX, {})
        assert isinstance(verdict, Accepted) and verdict.value.startswith("+33"), typed
    for bad in ("12345", "+1 202 555 0147", "06 12 34", "0000000000"):
        assert isinstance(kind.parse(Input(bad), CTX, {}), Rejected), bad


@pytest.mark.parametrize(("typed", "stored"), [
    ("marie@exemple.fr", "marie@exemple.fr"),
    ("Élodie.Dupré@Exemple.FR", "Élodie.Dupré@exemple.fr"),  # the domain is lower-cased
    ("  jean@münchen.de ", "jean@münchen.de"),
    ("06 12 34 56 78", "+33612345678"),
])
def test_a_phone_or_an_address_is_checked_and_stored_normalised(typed: str, stored: str):
    assert ReachAnswer().parse(Input(typed), CTX, {}) == Accepted(stored)


@pytest.mark.parametrize("typed", [
    "<script>alert(1)</script>@evil.fr",
    "marie@exemple",
    "marie@@exemple.fr",
    "marie @exemple.fr",
    "\"x\"@exemple.fr\nBcc: y@exemple.fr",
    "a" * 110 + "@exemple.fr",
])
def test_a_malformed_address_is_refused_with_an_example(typed: str):
    verdict = ReachAnswer().parse(Input(typed), CTX, {})
    assert isinstance(verdict, Rejected)
    assert verdict.reason.msgid.startswith("Cette adresse e-mail n'est pas valide")


def test_optional_answers_can_be_skipped():
    assert FreeText(optional=True).parse(Input("passer"), CTX, {}) == Accepted(None)
    assert OneOf(COLOURS, optional=True).parse(Input("", "skip"), CTX, {}) == Accepted(None)
    assert isinstance(FreeText().parse(Input("passer"), CTX, {}), Accepted)  # a real text


def test_one_of_each_takes_one_option_a_group_typed_at_once_or_in_parts():
    sizes = [Choice("p", _("Petit")), Choice("g", _("Grand"))]
    kind = OneOfEach([Group("c", COLOURS, _("la couleur")), Group("s", sizes, _("la taille"))])
    assert kind.parse(Input("2, 5"), CTX, {}) == Accepted({"c": "v", "s": "g"})
    assert kind.parse(Input("grand, bleu"), CTX, {}) == Accepted({"c": "b", "s": "g"})
    part = kind.parse(Input("rouge"), CTX, {})
    assert isinstance(part, Clarify) and not part.in_place
    assert render(part.question) == "Choisi : Rouge. Reste : la taille."
    assert kind.parse(Input("4"), CTX, part.pending) == Accepted({"c": "r", "s": "p"})
    assert isinstance(kind.parse(Input("violet"), CTX, {}), Rejected)


def test_one_of_each_ticks_a_button_in_place_and_a_second_in_its_group_replaces_it():
    kind = OneOfEach([Group("c", COLOURS, _("la couleur")),
                      Group("s", [Choice("p", _("Petit"))], _("la taille"))])
    first = kind.parse(Input("", "c.r"), CTX, {})
    assert isinstance(first, Clarify) and first.in_place
    again = kind.parse(Input("", "c.b"), CTX, first.pending)
    assert isinstance(again, Clarify)
    assert [render(c.label) for c in again.choices if "✓" in render(c.label)] == ["✓ Bleu"]
    assert kind.parse(Input("", "s.p"), CTX, again.pending) == Accepted({"c": "b", "s": "p"})
    assert isinstance(kind.parse(Input("", "forged"), CTX, {}), Rejected)
