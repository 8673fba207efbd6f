"""The adapters' settings: sensible defaults, and one clear line when a value is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load

TELEGRAM = {"TELEGRAM_BOT_TOKEN": "123456789:AAEfiliereTestTokenForTheFakeBotApi0"}
MATRIX = {"MATRIX_HOMESERVER": "https://matrix.example.org",
          "MATRIX_USER_ID": "@filiere:example.org", "MATRIX_PASSWORD": "secret"}


def test_defaults_pace_under_the_platforms_limits_and_keep_the_matrix_store_in_var():
    settings = load({**TELEGRAM, **MATRIX}, dotenv=None)
    assert settings.telegram is not None and settings.matrix is not None
    assert settings.telegram.messages_per_second == 30
    assert settings.telegram.chat_messages_per_second == 1
    assert (settings.telegram.webhook_listen, settings.telegram.webhook_port) == \
        ("127.0.0.1", 8443)
    assert settings.matrix.store_path == Path("var/matrix")
    assert settings.matrix.messages_per_second == 5


@pytest.mark.parametrize(("name", "value"), [
    ("TELEGRAM_CHAT_MESSAGES_PER_SECOND", "fast"),
    ("TELEGRAM_MESSAGES_PER_SECOND", "-1"),
    ("TELEGRAM_WEBHOOK_PORT", "99999"),
    ("MATRIX_MESSAGES_PER_SECOND", "lots"),
])
def test_a_wrong_value_names_its_variable(name: str, value: str):
    with pytest.raises(SettingsError, match=name):
        load({**TELEGRAM, **MATRIX, name: value}, dotenv=None)
