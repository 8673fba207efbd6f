"""Lifecycles as data: a transition table (state, event, who may, next state) and the one
function that applies an event to a state or says why not.

A lot, a device, a request and a transfer each have their table in a module of their own
(``flows/lot_lifecycle.py``, ``device_lifecycle.py``, ``request_lifecycle.py``,
``transfer_lifecycle.py``). Handlers ask the table instead of repeating status checks: which
states an event may start from (the ``expected`` states of a conditional ``UPDATE``), whether
an event is possible now (which buttons to show), and what the next state is. A refusal is a
typed exception the handler turns into a plain sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from flows.action_codec import Who

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Transition(Generic[S, E]):
    """One row of a table: ``event`` moves ``state`` to ``next``, done by one of ``who``."""

    state: S
    event: E
    who: frozenset[Who]
    next: S


class Refused(Exception):
    """An event a lifecycle does not allow; ``state`` and ``event`` say which."""

    def __init__(self, lifecycle: str, state: StrEnum, event: StrEnum) -> None:
        super().__init__(f"{lifecycle}: {event.value} from {state.value}")
        self.lifecycle = lifecycle
        self.state = state
        self.event = event


class NotNow(Refused):
    """The event cannot happen in this state (already done, or too early)."""


class NotYours(Refused):
    """The event can happen in this state, but not by this person."""


class Lifecycle(Generic[S, E]):
    """A transition table and what handlers ask of it."""

    def __init__(self, name: str, initial: S, rows: Sequence[Transition[S, E]]) -> None:
        self.name = name
        self.initial = initial
        self.rows = tuple(rows)
        self._next: dict[tuple[S, E], Transition[S, E]] = {}
        for row in self.rows:
            if (row.state, row.event) in self._next:
                raise ValueError(f"{name}: {row.event} from {row.state} declared twice")
            self._next[(row.state, row.event)] = row

    def apply(self, state: S, event: E, who: Who | Iterable[Who]) -> S:
        """The state after ``event``, or :class:`NotNow` / :class:`NotYours`."""
        row = self._next.get((state, event))
        if row is None:
            raise NotNow(self.name, state, event)
        actors = {who} if isinstance(who, Who) else set(who)
        if not actors & row.who:
            raise NotYours(self.name, state, event)
        return row.next

    def can(self, state: S, event: E) -> bool:
        """Whether ``event`` may happen in ``state`` (by whoever the table names)."""
        return (state, event) in self._next

    def sources(self, event: E) -> tuple[S, ...]:
        """The states ``event`` may start from, in the table's order (the ``expected``
        states of a conditional update)."""
        return tuple(dict.fromkeys(row.state for row in self.rows if row.event is event))

    def events(self, state: S) -> tuple[E, ...]:
        """The events possible in ``state``, in the table's order."""
        return tuple(row.event for row in self.rows if row.state is state)

    def states(self) -> frozenset[S]:
        """Every state the table names."""
        return frozenset({self.initial, *(r.state for r in self.rows),
                          *(r.next for r in self.rows)})


def rows(states: Iterable[S], event: E, who: Iterable[Who], next_state: S | None = None
         ) -> list[Transition[S, E]]:
    """One row per state of ``states`` for ``event`` (``next_state`` None: stays where it
    is), to write a table without repeating itself."""
    actors = frozenset(who)
    return [Transition(state, event, actors, next_state if next_state is not None else state)
            for state in states]


__all__ = ["Lifecycle", "NotNow", "NotYours", "Refused", "Transition", "rows"]
