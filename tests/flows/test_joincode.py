"""Join codes: random, short, unambiguous, readable however they are typed, used once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.joincode import (
    ALPHABET,
    LENGTH,
    PREFIX,
    CodeState,
    Verdict,
    check,
    new_code,
    printed,
    read,
    telegram_link,
)
from flows.records import PlaceId

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_code_is_the_prefix_and_six_unambiguous_characters():
    code = new_code()
    assert code.startswith(PREFIX) and len(code) == len(PREFIX) + LENGTH
    assert all(ch in ALPHABET for ch in code[len(PREFIX):])


def test_the_alphabet_has_no_look_alikes():
    assert not set("0O1IL2Z5S8B") & set(ALPHABET)


def test_codes_are_random():
    assert len({new_code() for _ in range(500)}) == 500


def test_a_code_is_printed_in_three_groups_for_people():
    assert printed("REJ7K3M9P") == "REJ 7K3 M9P"


def test_a_code_is_read_back_whatever_the_spelling():
    for typed in ("REJ 7K3 M9P", "rej 7k3 m9p", "REJ-7K3-M9P", "REJ7K3M9P", "7K3M9P",
                  "/start REJ7K3M9P", "  7k3 m9p  "):
        assert read(typed) == "REJ7K3M9P", typed


def test_what_cannot_be_a_code_is_refused():
    for typed in ("", "bonjour", "REJ 7K3", "REJ 0O1 IL5", "REJ 7K3 M9P Q", "/start"):
        assert read(typed) is None, typed


def test_a_code_works_once_and_until_it_expires():
    fresh = CodeState(PlaceId(1), NOW + timedelta(days=30), used=False)
    assert check(fresh, NOW) is Verdict.OK
    assert check(CodeState(PlaceId(1), NOW + timedelta(days=30), used=True), NOW) is Verdict.USED
    assert check(fresh, NOW + timedelta(days=30)) is Verdict.EXPIRED
    assert check(None, NOW) is Verdict.UNKNOWN


def test_the_telegram_link_starts_the_bot_with_the_code():
    assert telegram_link("filiere05_bot", "REJ7K3M9P") == (
        "https://t.me/filiere05_bot?start=REJ7K3M9P"
    )
