"""Warranty and return: a problem reported with a device handed over, as a repair ticket.

The person (from their menu) or their prescriber (from "Mes demandes") says what is wrong by
choosing a problem, never by typing it: a ticket reaches the place that handed the device over
and the workshop that reconditioned its lot. The staff close it as repaired (the device goes
back to the person) or replace the device: the replacement is another ready device of the
place, handed over for the same request; the first goes back to the workshop's bench
(``flows/device_lifecycle.py``: returned). After the warranty (``FILIERE_WARRANTY_MONTHS``),
nothing is opened: the person is told plainly and pointed to the place, which may still help.

The ticket's life, as a table (``flows/lifecycle.py``), stored in ``repair_tickets``
(migration 0014).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flows.action_codec import Who
from flows.lifecycle import Lifecycle, Transition
from flows.messages import UserKey
from flows.records import DeviceId, PlaceId, RequestId
from flows.text import Msg, _


class Problem(StrEnum):
    """What is wrong, as the person picks it (``repair_tickets.problem``: never rename)."""

    START = "start"
    SCREEN = "screen"
    KEYBOARD = "keyboard"
    BATTERY = "battery"
    INTERNET = "internet"
    OTHER = "other"


PROBLEM_LABELS: dict[Problem, Msg] = {
    Problem.START: _("Il ne s'allume pas"),
    Problem.SCREEN: _("L'écran ne marche pas bien"),
    Problem.KEYBOARD: _("Le clavier ou la souris ne marche pas bien"),
    Problem.BATTERY: _("La batterie ne tient pas"),
    Problem.INTERNET: _("Internet ne marche pas"),
    Problem.OTHER: _("Autre problème"),
}


class TicketStatus(StrEnum):
    """Where a repair ticket stands (``repair_tickets.status``: never rename a value)."""

    OPEN = "open"
    REPAIRED = "repaired"
    REPLACED = "replaced"


class Event(StrEnum):
    REPAIRED = "repaired"
    REPLACED = "replaced"


TICKET = Lifecycle[TicketStatus, Event]("repair ticket", TicketStatus.OPEN, [
    Transition(TicketStatus.OPEN, Event.REPAIRED,
               frozenset({Who.PLACE_STAFF, Who.RECONDITIONER}), TicketStatus.REPAIRED),
    Transition(TicketStatus.OPEN, Event.REPLACED, frozenset({Who.PLACE_STAFF}),
               TicketStatus.REPLACED),
])


@dataclass(frozen=True)
class RepairTicket:
    """A problem reported with a device handed over."""

    id: int
    device_id: DeviceId
    request_id: RequestId | None
    place_id: PlaceId | None
    workshop_id: PlaceId | None
    reported_by: UserKey | None
    problem: Problem
    status: TicketStatus
    replacement_id: DeviceId | None
    warranty_until: date
    opened_at: datetime
    closed_at: datetime | None = None


def warranty_end(start: date, months: int) -> date:
    """The same day ``months`` months later (the month's last day when it has no such): the
    last day of the warranty of a device handed over on ``start``."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def under_warranty(handed: date, months: int, today: date) -> bool:
    """Whether a device handed over on ``handed`` is still under warranty ``today``."""
    return today <= warranty_end(handed, months)


__all__ = ["PROBLEM_LABELS", "TICKET", "Event", "Problem", "RepairTicket", "TicketStatus",
           "under_warranty", "warranty_end"]
