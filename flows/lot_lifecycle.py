"""The life of a donated lot, as a table (``flows/lifecycle.py``).

Declared by the donor, received by the place it is dropped at (or its workshop), its devices
registered, erased by its workshop, then certified. ``handlers/donations.py`` and
``handlers/devices.py`` read this table.
"""

from __future__ import annotations

from enum import StrEnum

from flows.action_codec import Who
from flows.lifecycle import Lifecycle, Transition, rows
from flows.records import LotStatus as S


class Event(StrEnum):
    """What happens to a lot."""

    RECEIVE = "receive"
    ASSIGN = "assign"
    """Sent to a reconditioning workshop (before its certificate)."""
    REGISTER = "register"
    """Its devices registered, each with a label."""
    ERASE = "erase"
    """An erasure recorded for one of its media."""
    CERTIFY = "certify"


HANDLERS = {Who.PLACE_STAFF, Who.RECONDITIONER, Who.COORDINATOR}

LOT = Lifecycle[S, Event]("lot", S.DECLARED, [
    Transition(S.DECLARED, Event.RECEIVE, frozenset(HANDLERS), S.RECEIVED),
    *rows([S.DECLARED, S.RECEIVED], Event.ASSIGN, {Who.PLACE_STAFF, Who.COORDINATOR}),
    *rows([S.RECEIVED, S.CERTIFIED], Event.REGISTER, HANDLERS),
    *rows([S.RECEIVED], Event.ERASE, {Who.RECONDITIONER}),
    Transition(S.RECEIVED, Event.CERTIFY, frozenset({Who.RECONDITIONER}), S.CERTIFIED),
])


def expected(event: Event) -> list[S]:
    """The states ``event`` may start from."""
    return list(LOT.sources(event))


__all__ = ["LOT", "Event", "expected"]
