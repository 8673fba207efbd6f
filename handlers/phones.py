"""Phone numbers: French numbers checked and normalised with Google's libphonenumber data."""

from __future__ import annotations

import phonenumbers


def check_french_phone(text: str) -> str | None:
    """The E.164 form of a valid French number (mainland or overseas), else ``None``."""
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    region = phonenumbers.region_code_for_number(number)
    if region not in {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"}:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
