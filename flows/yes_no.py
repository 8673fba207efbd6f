""""Oui" and "non" typed to a question whose choices say yes and no in other words.

A reminder asks "Vous venez ?" with "Je viens" and "Je ne peux pas venir"; someone answering
from a basic phone writes "OUI", "non.", "je peux pas". The choice meant is the one option
whose label says yes (or no): a label starting with "Oui" or "Non", or one of the usual
phrasings. When the options hold no such single one (a list of dates), nothing is picked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flows.messages import Choice
from flows.normalize import fold

YES = frozenset({"oui", "ouais", "ouaip", "yes", "yep", "ok", "okay", "d accord", "daccord",
                 "je viens", "oui je viens", "je serai la", "j y serai", "present", "presente",
                 "i m coming", "i am coming", "i will come"})
NO = frozenset({"non", "no", "nope", "non merci", "no thanks", "je ne peux pas",
                "je ne peux pas venir", "je peux pas", "je peux pas venir", "je ne viens pas",
                "je viens pas", "pas possible", "impossible", "empeche", "empechee", "absent",
                "absente", "i can t come", "i cannot come", "i can t"})
_NOT_WORD = re.compile(r"[^\w\s]")


def _folded(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


def meaning(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else."""
    folded = _folded(text)
    if folded in YES:
        return True
    if folded in NO:
        return False
    return None


def polarity(label: str) -> bool | None:
    """Whether a choice's label says yes ("Oui, tout effacer", "Je viens"), no ("Non
    merci", "Je ne peux pas venir") or neither."""
    folded = _folded(label)
    first = folded.split(" ", 1)[0] if folded else ""
    if folded in YES or first in ("oui", "yes"):
        return True
    if folded in NO or first in ("non", "no"):
        return False
    return None


def pick(typed: str, options: Sequence[Choice],
         label_of: Callable[[Choice], str]) -> Choice | None:
    """The one option a typed yes or no stands for, or None."""
    wanted = meaning(typed)
    if wanted is None:
        return None
    found = [option for option in options if polarity(label_of(option)) is wanted]
    return found[0] if len(found) == 1 else None
