"""Who may delete their professional data from their space, and when (``flows.privacy``)."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.messages import UserKey
from flows.privacy import Refusal, refusal, refusal_text
from flows.records import Role, User

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def user(role: Role | None, coordinator: bool = False) -> User:
    return User(UserKey("cli:ana"), "fr", NOW, role, None, coordinator)


def test_every_professional_role_may_delete_their_data():
    assert [refusal(user(role), []) for role in Role] == [None, None, None]


def test_a_coordinator_may_not_even_with_a_role_since_the_settings_name_them():
    assert refusal(user(Role.PRESCRIBER, coordinator=True), []) is Refusal.COORDINATOR
    assert refusal(user(None, coordinator=True), []) is Refusal.COORDINATOR


def test_someone_without_a_role_has_no_professional_data_to_delete_here():
    assert refusal(user(None), []) is Refusal.NOT_PROFESSIONAL


def test_a_prescriber_with_requests_open_is_told_which_ones():
    assert refusal(user(Role.PRESCRIBER), ["DEM-2026-0001"]) is Refusal.OPEN_REQUESTS
    text = refusal_text(Refusal.OPEN_REQUESTS, ["DEM-2026-0001", "DEM-2026-0004"])
    assert text.n == 2 and "DEM-2026-0004" in str(text.params["refs"].params["text"])
