"""SMS as the person's phone sees it: what a text costs, how it is worded, what a reply means.

**Segments.** An SMS carries 160 characters of the GSM 7-bit alphabet (3GPP TS 23.038: the
basic table, plus an extension table whose characters, such as ``€`` or ``[``, take two of the
160), or 70 UTF-16 code units (UCS-2) as soon as one character is outside it: one "ê", one
"«" or one "·" in a message turns 160 into 70. A longer message is sent in parts that carry a
header, 153 GSM characters or 67 UCS-2 units each. The texts sent by SMS are worded to stay in
the GSM alphabet (French "é", "è", "à", "ù" are in it; "ê", "ç", "«", "’" are not), and
:func:`for_sms` puts the usual French typography back into it (``ê`` → ``e``, ``«`` → ``"``)
when nothing else forces UCS-2 and it saves an SMS, so a date in "août" does not triple a
reminder's cost.

**Replies.** People answer from a basic phone: "1", "2.", "OUI", "Non merci", "STOP".
:func:`keyword` tells the words that stop or restart every SMS at once; :func:`tidy` turns
"2." or " 1 )" into the number the router reads against the last choices shown.

Pure rules, standard library only; ``bot/sms.py`` sends and receives.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from flows import actions as act
from flows.answers import clean_text
from flows.messages import Choice, Reply, UserKey
from flows.normalize import fold
from flows.records import Workshop
from flows.text import Msg, When, _, verbatim
from flows.workshops import topic_label

PLATFORM = "sms"
"""The user-key prefix of people reached by SMS: ``sms:<token>``. The token is random and
says nothing: the number itself lives in one table, never in a key (keys are logged)."""

# --- Segments --------------------------------------------------------------------------------

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 7-bit default alphabet (3GPP TS 23.038), one septet each."""
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters of the extension table: an escape and a septet, two of the 160."""

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Encoding(StrEnum):
    GSM7 = "gsm-7"
    UCS2 = "ucs-2"


@dataclass(frozen=True)
class Cost:
    """What a text costs to send: its encoding, its length in that encoding, its parts."""

    encoding: Encoding
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
    segments: int


def is_gsm(text: str) -> bool:
    """Whether every character of ``text`` is in the GSM 7-bit alphabet (or its extension)."""
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def _units(text: str, encoding: Encoding) -> list[int]:
    """The cost of each character: septets, or UTF-16 code units."""
    if encoding is Encoding.GSM7:
        return [2 if ch in GSM_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def cost(text: str) -> Cost:
    """How many SMS ``text`` takes. A character is never split between two parts (an
    extension character's escape stays with it; a surrogate pair too), as phones cut."""
    encoding = Encoding.GSM7 if is_gsm(text) else Encoding.UCS2
    units = _units(text, encoding)
    total = sum(units)
    single, part = ((GSM_SINGLE, GSM_PART) if encoding is Encoding.GSM7
                    else (UCS2_SINGLE, UCS2_PART))
    if total <= single:
        return Cost(encoding, total, 1 if text else 0)
    segments, room = 1, part
    for unit in units:
        if unit > room:
            segments, room = segments + 1, part
        room -= unit
    return Cost(encoding, total, segments)


def segments(text: str) -> int:
    """The number of SMS (segments) ``text`` is sent in."""
    return cost(text).segments


# --- Putting French typography into the GSM alphabet -------------------------------------

_NEAREST = {
    "ê": "e", "ë": "e", "â": "a", "á": "a", "ã": "a", "î": "i", "ï": "i", "í": "i",
    "ô": "o", "ó": "o", "õ": "o", "û": "u", "ú": "u", "ÿ": "y", "ç": "c", "œ": "oe",
    "Œ": "OE", "À": "A", "Â": "A", "Á": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I",
    "Ï": "I", "Ô": "O", "Û": "U", "Ù": "U", "Ÿ": "Y",
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "ʼ": "'",
    "–": "-", "—": "-", "‑": "-", "…": "...", "•": "-", "✓": "[x]",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
    "·": "",  # inclusive writing: "inscrit·es" reads "inscrites"
}
"""Characters outside the GSM alphabet and what stands for them in a French SMS."""
_NEAREST_TABLE = str.maketrans(_NEAREST)
_GUILLEMETS = re.compile("«[\\s\u00a0\u202f]*|[\\s\u00a0\u202f]*»")
"""French guillemets and the spaces inside them: « Menu » is "Menu"."""


def for_sms(text: str) -> str:
    """``text`` as it is sent: in the GSM alphabet when typography alone kept it out (a
    guillemet, an "ê", a narrow no-break space) and that saves an SMS; otherwise unchanged
    (a short text keeps its accents for free; a name in another script is worth the UCS-2
    it costs)."""
    text = unicodedata.normalize("NFC", text)
    if is_gsm(text):
        return text
    nearest = _GUILLEMETS.sub('"', text).translate(_NEAREST_TABLE)
    if is_gsm(nearest) and segments(nearest) < segments(text):
        return nearest
    return text


# --- What a reply means ------------------------------------------------------------------


class Keyword(StrEnum):
    """Words that act on every SMS at once, whatever was asked last."""

    STOP = "stop"
    START = "start"


STOP_WORDS = frozenset({"stop", "arret", "arrete", "arreter", "arretez", "stopper", "stopsms",
                        "desinscription", "desabonner", "desinscrire"})
START_WORDS = frozenset({"start", "demarrer", "reprendre", "reprise", "startsms"})
STOP_PHRASES = frozenset({"plus de sms", "plus de messages", "ne plus recevoir de sms",
                          "je ne veux plus de sms"})
_NOT_WORD = re.compile(r"[^\w\s]")


def _words(text: str) -> list[str]:
    return _NOT_WORD.sub(" ", fold(text)).split()


def keyword(text: str) -> Keyword | None:
    """STOP (or ARRET, "Stop merci", "plus de SMS") or START (or DEMARRER), in any case,
    with or without accents; None for anything else. A keyword is a short message that
    starts with it: "stop" in the middle of a sentence is not one."""
    words = _words(text)
    if " ".join(words) in STOP_PHRASES:
        return Keyword.STOP
    if not words or len(words) > 4:
        return None
    if words[0] in STOP_WORDS or "".join(words[:2]) in STOP_WORDS:
        return Keyword.STOP
    if words[0] in START_WORDS or "".join(words[:2]) in START_WORDS:
        return Keyword.START
    return None


MAX_INCOMING = 1000
"""Characters of an incoming SMS read at most (a concatenated SMS is rarely longer)."""
_NUMBER = re.compile(r"\s*[(\[]?\s*(\d{1,3})\s*[.)\]!,;:-]*\s*")


def tidy(text: str) -> str:
    """What someone texted, as the router reads it: "2." or "(1)" is the choice's number;
    anything else is kept, its control characters dropped."""
    cleaned = clean_text(text[:MAX_INCOMING * 2])[:MAX_INCOMING]
    found = _NUMBER.fullmatch(cleaned)
    return found[1] if found else cleaned


# --- Mobile numbers ----------------------------------------------------------------------

MOBILE_PREFIXES = ("+336", "+337", "+590690", "+590691", "+594694", "+596696", "+596697",
                   "+262692", "+262693", "+262639")
"""French mobile numbers, E.164 (ARCEP's plan: 06 and 07 in mainland France; 0690-0691
Guadeloupe, 0694 Guyane, 0696-0697 Martinique, 0692-0693 La Réunion, 0639 Mayotte)."""


def is_mobile(e164: str) -> bool:
    """Whether a French number (E.164) can receive SMS: a mobile number."""
    return e164.startswith(MOBILE_PREFIXES)


def national(e164: str) -> str:
    """A French number as people write it: ``+33612345678`` is ``06 12 34 56 78``."""
    if e164.startswith("+33") and len(e164) == 12:
        digits = "0" + e164[3:]
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    return e164


@dataclass(frozen=True)
class SmsConfig:
    """What the features know of the SMS gateway, read once by ``bot/``."""

    sender: str | None = None
    """The network's SMS number (E.164), shown to staff so the person can save it."""


def new_key(token: str) -> UserKey:
    """The user key of someone reached by SMS, from a random token."""
    return UserKey(f"{PLATFORM}:{token}")


# --- Texts sent by SMS (plain language, GSM alphabet, each reminder in two SMS) ----------

REMINDER_SEGMENTS = 2
"""A reminder fits this many SMS, whatever the session, the place and the language."""
PLACE_NAME_MAX, ADDRESS_MAX, COMMUNE_MAX = 50, 50, 30
"""Characters of a place's name, address and commune kept in a reminder (the coordination
types them; the budget of two SMS holds with the longest)."""


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at most, between two words when it can."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit + 1]
    last = max(head.rfind(" "), head.rfind("-"))
    return (head[:last] if last > 0 else text[:limit]).rstrip(" ,;.-")


def reminder(workshop: Workshop, place: str | None, address: str | None,
             commune: str | None) -> Reply:
    """A workshop reminder by SMS: the session, where, and one question answered 1 or 2
    (the same choices as in a chat: "Je viens", "Je ne peux pas venir")."""
    where = ", ".join(shortened(part, limit) for part, limit in
                      ((place, PLACE_NAME_MAX), (address, ADDRESS_MAX),
                       (commune, COMMUNE_MAX)) if part)
    texts = [_("Rappel : atelier {topic}, {when}.", topic=topic_label(workshop.topic),
               when=When(workshop.starts_at, spoken=True))]
    if where:
        texts.append(_("Lieu : {where}.", where=verbatim(where.rstrip("."))))
    texts.append(_("Vous venez ? Répondez 1 ou 2."))
    return Reply(texts, [
        Choice(act.Coming(workshop.id).pack(), _("Je viens")),
        Choice(act.NotComing(workshop.id).pack(), _("Je ne peux pas venir")),
    ])


def welcome(place: str) -> list[Msg]:
    """The first SMS of someone staff registered: who writes, and how to stop."""
    return [_("Bonjour ! Ici {place}. Vous recevrez ici les rappels de vos ateliers.",
              place=verbatim(shortened(place, PLACE_NAME_MAX))),
            _("Pour ne plus recevoir de SMS, répondez STOP.")]


def stopped() -> Msg:
    """The confirmation of STOP: the last SMS the person gets until they say START."""
    return _("C'est noté : vous ne recevrez plus de SMS. Pour les recevoir de nouveau, "
             "répondez START.")


def started() -> Msg:
    return _("C'est noté : vous recevrez de nouveau nos SMS. Pour ne plus en recevoir, "
             "répondez STOP.")


def already_started() -> Msg:
    return _("Vous recevez déjà nos SMS. Pour ne plus en recevoir, répondez STOP.")


def number_kept(phone: str) -> Msg:
    """Said with what is kept about someone reached by SMS ("Mes données")."""
    return _("Nous gardons aussi votre numéro de portable, le {phone}, pour les SMS.",
             phone=verbatim(national(phone)))


SMS_TEXTS = (reminder, welcome, stopped, started, already_started, number_kept)
"""The texts written for SMS (their budget and wording are tested)."""
