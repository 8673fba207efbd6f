"""Settings of the after-donation service: defaults, and one clear line when malformed."""

from __future__ import annotations

from datetime import time

import pytest

from bot.settings import SettingsError, load
from flows.workshops import Offset, QuietHours


def settings(**env: str):
    return load({"FILIERE_DEMO": "no", **env}, dotenv=None)


def test_defaults():
    s = settings()
    assert s.reminder_offsets == (Offset(days=2), Offset(days=0, at=time(8)))
    assert s.quiet_hours == QuietHours(time(21), time(8))
    assert s.join_code_days == 30 and s.beneficiary_retention_days == 183
    assert s.telegram_bot_username is None and s.booklet_url is None
    assert s.reminders_every_seconds == 300
    assert s.access_request_retention_days == 90


def test_values_are_read():
    s = settings(FILIERE_REMINDER_OFFSETS="1d@18:00,2h", FILIERE_QUIET_HOURS="22:00-07:30",
                 FILIERE_JOIN_CODE_DAYS="14", TELEGRAM_BOT_USERNAME="@filiere05_bot",
                 FILIERE_BOOKLET_URL="https://example.org/livret.pdf",
                 FILIERE_BENEFICIARY_RETENTION_DAYS="90", FILIERE_REMINDERS_EVERY_SECONDS="1",
                 FILIERE_ACCESS_REQUEST_RETENTION_DAYS="30")
    assert s.reminder_offsets == (Offset(days=1, at=time(18)), Offset(minutes=120))
    assert s.quiet_hours == QuietHours(time(22), time(7, 30))
    assert s.join_code_days == 14 and s.beneficiary_retention_days == 90
    assert s.telegram_bot_username == "filiere05_bot"
    assert s.booklet_url == "https://example.org/livret.pdf"
    assert s.reminders_every_seconds == 1
    assert s.access_request_retention_days == 30


@pytest.mark.parametrize(("name", "value"), [
    ("FILIERE_REMINDER_OFFSETS", "deux jours"),
    ("FILIERE_QUIET_HOURS", "21h-8h"),
    ("FILIERE_JOIN_CODE_DAYS", "0"),
    ("FILIERE_JOIN_CODE_DAYS", "soon"),
    ("TELEGRAM_BOT_USERNAME", "t.me/bot"),
    ("FILIERE_BOOKLET_URL", "livret.pdf"),
    ("FILIERE_BENEFICIARY_RETENTION_DAYS", "-1"),
    ("FILIERE_REMINDERS_EVERY_SECONDS", "0"),
    ("FILIERE_ACCESS_REQUEST_RETENTION_DAYS", "trois mois"),
])
def test_a_malformed_value_names_its_variable(name: str, value: str):
    with pytest.raises(SettingsError, match=name):
        settings(**{name: value})
