"""The life of one device, as a table (``flows/lifecycle.py``).

Registered when its lot is received; its reconditioner erases its storage and diagnoses it
(works, to repair, spare parts, recycling); a device that works and holds no data any more is
ready, in the stock of its place; it travels between places (``flows/transfer_lifecycle.py``),
is handed over for a request, and may come back under warranty. Following it ends at the
handover: nothing records how the person uses it.

A device that works but still holds data is "tested", not ready: ready as soon as its
erasure is recorded (the handler picks ``PASSED`` or ``PASSED_UNWIPED`` by whether it was
erased, or holds no data at all).
"""

from __future__ import annotations

from enum import StrEnum

from flows.action_codec import Who
from flows.lifecycle import Lifecycle, Transition, rows
from flows.records import DeviceState as S
from flows.records import Diagnosis


class Event(StrEnum):
    """What happens to a device (the values of ``device_events.event``)."""

    REGISTERED = "registered"
    """Created at its lot's reception (not a transition: the start of its life)."""
    COUNTED = "counted"
    """Created by the migration from a former stock counter (not a transition)."""
    WIPED = "wiped"
    """The erasure of its storage recorded (verified, or the medium destroyed)."""
    PASSED = "passed"
    """Diagnosed: it works, and holds no data any more."""
    PASSED_UNWIPED = "passed_unwiped"
    """Diagnosed: it works, but its storage is still to erase."""
    REPAIR = "repair"
    PARTS = "parts"
    RECYCLE = "recycle"
    SEND = "sent"
    """Leaves its place for another (a transfer)."""
    ARRIVE = "arrived"
    HAND_OVER = "handed_over"
    RETURN = "returned"
    """Brought back under warranty."""


RECONDITIONER = {Who.RECONDITIONER}
STAFF = {Who.PLACE_STAFF}
MOVERS = {Who.PLACE_STAFF, Who.DRIVER, Who.COORDINATOR}

ON_BENCH = (S.RECEIVED, S.TESTED, S.REPAIR, S.READY, S.RETURNED)
"""States in which a reconditioner may diagnose a device again."""

DEVICE = Lifecycle[S, Event]("device", S.RECEIVED, [
    *rows([S.RECEIVED, S.REPAIR, S.READY, S.RETURNED, S.PARTS], Event.WIPED, RECONDITIONER),
    Transition(S.TESTED, Event.WIPED, frozenset(RECONDITIONER), S.READY),
    *rows([S.RECEIVED, S.TESTED, S.REPAIR, S.READY, S.RETURNED], Event.PASSED, RECONDITIONER,
          S.READY),
    *rows([S.RECEIVED, S.TESTED, S.REPAIR, S.RETURNED], Event.PASSED_UNWIPED, RECONDITIONER,
          S.TESTED),
    *rows([S.RECEIVED, S.TESTED, S.READY, S.RETURNED], Event.REPAIR, RECONDITIONER, S.REPAIR),
    *rows(ON_BENCH, Event.PARTS, RECONDITIONER, S.PARTS),
    *rows([*ON_BENCH, S.PARTS], Event.RECYCLE, RECONDITIONER, S.RECYCLED),
    Transition(S.READY, Event.SEND, frozenset(MOVERS), S.IN_TRANSIT),
    Transition(S.IN_TRANSIT, Event.ARRIVE, frozenset(MOVERS), S.READY),
    Transition(S.READY, Event.HAND_OVER, frozenset(STAFF), S.HANDED_OVER),
    Transition(S.HANDED_OVER, Event.RETURN, frozenset(STAFF), S.RETURNED),
])

SETTLED = frozenset({S.HANDED_OVER, S.PARTS, S.RECYCLED})
"""States in which a device's story, as its donor hears it, is told."""


def diagnosed(diagnosis: Diagnosis, clean: bool) -> Event:
    """The event a diagnosis is: ``clean`` when the device holds no data any more (erased,
    or nothing to erase)."""
    match diagnosis:
        case Diagnosis.WORKS:
            return Event.PASSED if clean else Event.PASSED_UNWIPED
        case Diagnosis.REPAIR:
            return Event.REPAIR
        case Diagnosis.PARTS:
            return Event.PARTS
    return Event.RECYCLE


def expected(event: Event) -> list[S]:
    """The states ``event`` may start from."""
    return list(DEVICE.sources(event))


__all__ = ["DEVICE", "ON_BENCH", "SETTLED", "Event", "diagnosed", "expected"]
