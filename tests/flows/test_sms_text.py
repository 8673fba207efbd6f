"""SMS texts: what they cost in segments, how they are worded, what a reply means.

The reminder's budget is checked as people receive it: rendered in French and in English by
the bot's renderer, with its choices as numbered lines (``bot.sms.body_of``), for every
workshop topic, the longest dates of the year, the demo places and a place whose name,
address and commune are as long as the coordination may type them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Renderer
from bot.sms import body_of
from flows import actions as act
from flows import beneficiary as ui
from flows import sms_text
from flows.messages import Choice, Outgoing, UserKey
from flows.records import PlaceId, Workshop
from flows.sms_text import (
    GSM_PART,
    REMINDER_SEGMENTS,
    Encoding,
    Keyword,
    cost,
    for_sms,
    is_mobile,
    keyword,
    national,
    segments,
    tidy,
)
from flows.text import Msg
from flows.workshops import TOPIC_LABELS
from flows.yes_no import meaning, pick
from storage.demo import PLACES
from tests.flows.test_beneficiary_texts import english, message_ids, problems

TZ = ZoneInfo("Europe/Paris")
SMS_USER = UserKey("sms:abcdefghijkl")
ROOT_SMS_TEXT = sms_text.__file__


def renderer() -> Renderer:
    return Renderer(("fr", "en"), "fr", TZ)


# --- Segments --------------------------------------------------------------------------------


def test_gsm_text_takes_160_characters_then_153_a_part():
    assert segments("") == 0
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 2 * GSM_PART) == 2
    assert segments("a" * (2 * GSM_PART + 1)) == 3
    assert cost("Rappel : atelier à Veynes, été, où, è, ù.").encoding is Encoding.GSM7


def test_one_character_outside_the_gsm_alphabet_turns_160_into_70():
    for odd in ("ê", "·", "«", "’", "ç", "œ"):
        text = "a" * 69 + odd
        assert cost(text).encoding is Encoding.UCS2, odd
        assert segments(text) == 1
        assert segments(text + "a") == 2
        assert segments("a" * 133 + odd) == 2
        assert segments("a" * 134 + odd) == 3
    assert segments("inscrit·e" + "a" * 100) == 2  # 109 characters, yet two SMS


def test_an_extension_character_counts_two_and_is_never_split():
    assert cost("€").units == 2
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    # 152 + 2 + 152 septets: 306 would fit two parts of 153, but "€" cannot be cut.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("😀" * 35) == 1  # a surrogate pair is two UTF-16 units
    assert segments("😀" * 36) == 2


def test_french_typography_is_put_into_the_gsm_alphabet_only_when_it_saves_an_sms():
    long = "Rappel : atelier « Démarches en ligne », le mercredi 12 août à 14 h 00. " * 2
    assert cost(long).encoding is Encoding.UCS2
    sent = for_sms(long)
    assert sent.startswith('Rappel : atelier "Démarches en ligne", le mercredi 12 aout')
    assert cost(sent).encoding is Encoding.GSM7 and segments(sent) < segments(long)
    assert for_sms("Merci ! À bientôt.") == "Merci ! À bientôt."  # one SMS either way
    arabic = "Rappel pour " + "نور" + " : atelier le mercredi. " * 4
    assert for_sms(arabic) == arabic  # a name no other alphabet can write keeps its UCS-2
    assert for_sms("Mme Crêpe\u202fà 14 h" + " x" * 40) == "Mme Crepe à 14 h" + " x" * 40


# --- Replies --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["STOP", "stop", " Stop. ", "ARRET", "Arrêt !", "arrêter",
                                   "stop sms", "STOP merci", "Je ne veux plus de SMS"])
def test_stop_in_any_spelling(typed: str):
    assert keyword(typed) is Keyword.STOP


@pytest.mark.parametrize("typed", ["START", "start", "Démarrer", "reprendre"])
def test_start_in_any_spelling(typed: str):
    assert keyword(typed) is Keyword.START


@pytest.mark.parametrize("typed", ["2", "je viens", "il faut que ça stop un jour vraiment",
                                   "stopper le chauffage de la salle svp", ""])
def test_other_messages_are_not_keywords(typed: str):
    assert keyword(typed) is None


def test_a_number_with_punctuation_reads_as_the_number():
    assert [tidy(t) for t in ("2.", " 1 ", "(3)", "2 !", "1)", "12")] == \
        ["2", "1", "3", "2", "1", "12"]
    assert tidy("2 fois\x07 par semaine") == "2 fois par semaine"


REMINDER_CHOICES = [Choice(act.Coming(7).pack(), Msg("Je viens")),
                    Choice(act.NotComing(7).pack(), Msg("Je ne peux pas venir"))]


@pytest.mark.parametrize(("typed", "picked"), [
    ("OUI", 0), ("oui !", 0), ("Ok", 0), ("je viens", 0), ("NON", 1), ("non.", 1),
    ("Je ne peux pas venir", 1), ("je peux pas", 1), ("Non merci", 1),
])
def test_yes_and_no_answer_a_reminder(typed: str, picked: int):
    assert pick(typed, REMINDER_CHOICES, lambda c: c.label.msgid) is REMINDER_CHOICES[picked]


def test_yes_picks_nothing_among_dates_and_no_picks_no_thanks():
    dates = [Choice("a", Msg("Prise en main, jeudi")), Choice("b", Msg("Appels vidéo, mardi")),
             Choice("c", Msg("Non merci"))]
    assert pick("oui", dates, lambda c: c.label.msgid) is None
    assert pick("non", dates, lambda c: c.label.msgid) is dates[2]
    assert meaning("peut-être") is None


# --- Numbers --------------------------------------------------------------------------------


def test_mobile_numbers_and_how_they_are_written():
    assert is_mobile("+33612345678") and is_mobile("+33768123456")
    assert is_mobile("+262692123456")
    assert not is_mobile("+33492000000") and not is_mobile("+33800123456")
    assert national("+33612345678") == "06 12 34 56 78"


# --- The budget of a reminder ---------------------------------------------------------------

LONGEST_PLACE = ("Point relais numérique de l'Espace France Services du Champsaur-Valgaudemar",
                 "Résidence Les Hauts de Saint-Étienne, 1234 avenue du Général Leclerc",
                 "Saint-Étienne-en-Dévoluy-et-Chorges-les-Bains")


def longest_days() -> list[datetime]:
    """A session on each day of a year: every day name and month name in both languages."""
    start = datetime(2027, 1, 1, 13, 30, tzinfo=UTC)
    return [start + timedelta(days=n) for n in range(365)]


def reminder_sms(lang: str, topic: str, starts: datetime,
                 place: tuple[str, str, str]) -> str:
    workshop = Workshop(1, PlaceId(1), topic, starts, 120, 8, 1)
    reply = sms_text.reminder(workshop, *place)
    message = Outgoing(SMS_USER, tuple(reply.texts), tuple(reply.choices))
    return body_of(renderer().render(message, lang, "outbox:1"))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_reminder_fits_two_sms(lang: str):
    places = [(name, address, "Veynes") for name, _kind, _c, address, *_rest in PLACES]
    places.append(LONGEST_PLACE)
    worst = max((reminder_sms(lang, topic, day, place) for topic in TOPIC_LABELS
                 for day in longest_days()[::7] + longest_days()[200:240] for place in places),
                key=lambda text: (segments(text), len(text)))
    assert segments(worst) <= REMINDER_SEGMENTS, worst
    assert cost(worst).encoding is Encoding.GSM7, worst


def test_a_reminder_in_august_stays_in_the_gsm_alphabet():
    august = datetime(2027, 8, 11, 12, 0, tzinfo=UTC)
    text = reminder_sms("fr", "public_services", august, LONGEST_PLACE)
    assert "11 aout" in text and segments(text) <= REMINDER_SEGMENTS


# --- Wording ----------------------------------------------------------------------------------


def sms_ids() -> list[str]:
    from pathlib import Path

    return sorted(set(message_ids(Path(ROOT_SMS_TEXT))))


@pytest.mark.parametrize("msgid", sms_ids())
def test_sms_texts_are_plain_and_in_the_gsm_alphabet(msgid: str):
    assert problems(msgid) == []
    assert cost(msgid).encoding is Encoding.GSM7, msgid
    translations = english().get(msgid)
    assert translations, f"no English for {msgid!r}"
    for translated in translations:
        assert problems(translated) == [] and cost(translated).encoding is Encoding.GSM7


def test_sms_wording_names_no_gesture():
    """No buttons on SMS: a text worded for buttons or typed answers reads the typed way."""
    r = renderer()
    for lang in ("fr", "en"):
        for text in (ui.JOIN.steps["consent"].ask, ui.JOIN.steps["name"].ask):
            assert isinstance(text, Msg)
            rendered = r.text(text, lang, "sms").lower()
            assert "touch" not in rendered and "tap" not in rendered, rendered
