"""The life of a transfer: a device carried from one place to another, as a table
(``flows/lifecycle.py``).

Planned by the place that needs the device (or the coordination), taken by a volunteer
driver, picked up, delivered; cancelled while nobody carries it. The device moves with it
(``flows/device_lifecycle.py``: sent at the pick-up, arrived at the delivery). Stored in the
``transfers`` table (migration 0014); the conversations come with the transfers feature.
"""

from __future__ import annotations

from enum import StrEnum

from flows.action_codec import Who
from flows.lifecycle import Lifecycle, Transition, rows


class TransferStatus(StrEnum):
    """Where a transfer stands (the values of ``transfers.status``: never rename one)."""

    PLANNED = "planned"
    TAKEN = "taken"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


S = TransferStatus


class Event(StrEnum):
    """What happens to a transfer."""

    TAKE = "take"
    """A driver says they will carry it."""
    GIVE_UP = "give_up"
    """The driver cannot after all: open to the others again."""
    PICK_UP = "pick_up"
    DELIVER = "deliver"
    CANCEL = "cancel"


PLANNERS = {Who.PLACE_STAFF, Who.COORDINATOR}

TRANSFER = Lifecycle[S, Event]("transfer", S.PLANNED, [
    Transition(S.PLANNED, Event.TAKE, frozenset({Who.DRIVER}), S.TAKEN),
    Transition(S.TAKEN, Event.GIVE_UP, frozenset({Who.DRIVER, Who.COORDINATOR}), S.PLANNED),
    Transition(S.TAKEN, Event.PICK_UP, frozenset({Who.DRIVER}), S.PICKED_UP),
    Transition(S.PICKED_UP, Event.DELIVER, frozenset({Who.DRIVER, Who.PLACE_STAFF}),
               S.DELIVERED),
    *rows([S.PLANNED, S.TAKEN], Event.CANCEL, PLANNERS, S.CANCELLED),
])

OPEN = frozenset({S.PLANNED, S.TAKEN, S.PICKED_UP})


__all__ = ["OPEN", "TRANSFER", "Event", "TransferStatus"]
