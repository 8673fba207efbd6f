"""The life of an equipment request, as a table (``flows/lifecycle.py``).

A request is routed to a place that holds a device of its kind for it (sent), or waits for
one; the place accepts it, says when it is ready, and hands the device over after a
getting-started session; a place may refuse it (it goes to the next place, or waits) and the
prescriber may cancel it while it is open. ``handlers/requests.py`` reads this table for the
states each change may start from.
"""

from __future__ import annotations

from enum import StrEnum

from flows.action_codec import Who
from flows.lifecycle import Lifecycle, Transition, rows
from flows.records import RequestStatus as S


class Event(StrEnum):
    """What happens to a request (the values are those of ``request_events.event``)."""

    ROUTE = "sent"
    """The bot sends it to a place that holds a device of its kind."""
    ACCEPT = "accepted"
    REFUSE = "refused"
    """The place cannot serve it: it waits (and is routed again at once if it can be)."""
    READY = "ready"
    HAND_OVER = "handed_over"
    CANCEL = "cancelled"


STAFF = {Who.PLACE_STAFF}
SYSTEM = {Who.SYSTEM}

HOLDING = frozenset({S.SENT, S.ACCEPTED, S.READY})
"""States in which the request holds a device of its kind at its place (the place's
available stock is its ready devices less these)."""

OPEN = frozenset({S.WAITING, *HOLDING})
"""States in which the request can still be cancelled."""

REQUEST = Lifecycle[S, Event]("request", S.WAITING, [
    Transition(S.WAITING, Event.ROUTE, frozenset(SYSTEM), S.SENT),
    Transition(S.SENT, Event.ACCEPT, frozenset(STAFF), S.ACCEPTED),
    *rows([S.SENT, S.ACCEPTED], Event.REFUSE, STAFF, S.WAITING),
    *rows([S.SENT, S.ACCEPTED], Event.READY, STAFF, S.READY),
    *rows([S.SENT, S.ACCEPTED, S.READY], Event.HAND_OVER, STAFF, S.HANDED_OVER),
    *rows([S.WAITING, S.SENT, S.ACCEPTED, S.READY], Event.CANCEL, {Who.PRESCRIBER},
          S.CANCELLED),
])


def expected(event: Event) -> list[S]:
    """The states ``event`` may start from: what a conditional update expects."""
    return list(REQUEST.sources(event))


__all__ = ["HOLDING", "OPEN", "REQUEST", "Event", "expected"]
