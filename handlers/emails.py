"""E-mail addresses: checked and normalised with the maintained ``email-validator`` library."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 120
"""Longer than any address a donor types; what is longer is refused, never cut."""


def check_email(text: str) -> str | None:
    """The normalised form of a well-formed address (domain in lower case), else ``None``.

    Only the syntax is checked (no DNS look-up: the bot makes no network call to decide the
    next step); addresses with accents (``Élodie@exemple.fr``) are accepted.
    """
    if not text or len(text) > MAX_LENGTH:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
