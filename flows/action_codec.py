"""Buttons as typed actions: packed into a button's data, parsed back, never split by hand.

A button's data (Telegram's callback data: at most 64 bytes) is ``prefix:field:field``. Each
kind of button is a frozen dataclass deriving from :class:`Action`, declared with its prefix
and who may press it, on what (``allow``: role -> scope), as aiogram's ``CallbackData``
factories are::

    @dataclass(frozen=True)
    class CancelRequest(Action, prefix="rq:cx", allow={Who.PRESCRIBER: Scope.OWN},
                        on=Target.REQUEST):
        request: int

``CancelRequest(12).pack()`` is ``"rq:cx:12"``; ``parse("rq:cx:12")`` gives the instance back
and ``parse`` of anything forged or malformed gives None. Fields are ``int`` (1 to 9 digits),
``str`` (a short token), ``date`` (``YYYYMMDD``) or a ``StrEnum`` (one of its values). The
router authorises a parsed action against its declaration before any feature code runs
(``handlers/authorize.py``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Self, get_type_hints

MAX_BYTES = 64
"""Telegram's limit on callback data, the strictest of the platforms."""

_INT = re.compile(r"[0-9]{1,9}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DATE = re.compile(r"[0-9]{8}")


class Who(StrEnum):
    """Who presses a button, as the router resolves the person who wrote."""

    ANYONE = "anyone"
    BENEFICIARY = "beneficiary"
    """Joined the after-donation service with a code."""
    PRESCRIBER = "prescriber"
    PLACE_STAFF = "place_staff"
    RECONDITIONER = "reconditioner"
    REFERENT = "referent"
    """The referent of a prescribers' structure (named, or its first approved member)."""
    COORDINATOR = "coordinator"
    DRIVER = "driver"
    """A volunteer driver who carries devices between places (``flows/transfer_lifecycle``):
    a capability a coordinator grants to an account, beside its role (``drivers`` table)."""
    SYSTEM = "system"
    """The bot itself (routing, the waiting list, a migration): never presses a button, but
    lifecycles say which changes it makes on its own (``flows/lifecycle.py``)."""


class Scope(StrEnum):
    """What a role may act on, for an action that names a target."""

    NONE = "none"
    """The action names no record (a menu, a list of one's own things, a new conversation)."""
    OWN = "own"
    """The person's own record: their request, lot, booking, help ticket they answer."""
    PLACE = "place"
    """A record of the place the person is attached to."""
    STRUCTURE = "structure"
    """An access request of the prescribers' structure the person is referent of."""
    LOT = "lot"
    """A lot dropped at, or assigned to, the person's place or workshop."""
    NETWORK = "network"
    """Any record of the network (the coordination; public things such as workshops)."""


class Target(StrEnum):
    """The kind of record an action's first field names."""

    REQUEST = "request"
    LOT = "lot"
    ACCESS = "access"
    WORKSHOP = "workshop"
    TICKET = "ticket"
    PLACE = "place"
    MEMBER = "member"
    """A professional account, by the number of its approved access request."""
    DEVICE = "device"
    """A device of the chain, by its number (its label is for people: ``HA-7K3P``)."""
    REPAIR = "repair"
    """A repair ticket under warranty (``flows/warranty.py``)."""
    TRANSFER = "transfer"
    """A device carried between places by a volunteer driver (``flows/transfers.py``)."""


class CodecError(ValueError):
    """A declaration that cannot work (a clash of prefixes, data over 64 bytes)."""


_REGISTRY: dict[str, type[Action]] = {}
_FIELD_TYPES: dict[type[Action], list[tuple[str, type]]] = {}
"""Each action's fields and their types, by class (see ``Action.field_types``)."""


@dataclasses.dataclass(frozen=True)
class Action:
    """Base of every button; see the module's docstring."""

    prefix: ClassVar[str]
    allow: ClassVar[Mapping[Who, Scope]]
    on: ClassVar[Target | None]

    def __init_subclass__(cls, *, prefix: str, allow: Mapping[Who, Scope],
                          on: Target | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix in _REGISTRY:
            raise CodecError(f"prefix {prefix!r} declared twice")
        if not allow:
            raise CodecError(f"{cls.__name__}: nobody may press it")
        targeted = {s for s in allow.values() if s is not Scope.NONE}
        if on is None and targeted:
            raise CodecError(f"{cls.__name__}: a scope without a target")
        if on is not None and Scope.NONE in allow.values():
            raise CodecError(f"{cls.__name__}: a target needs a scope for each role")
        cls.prefix, cls.allow, cls.on = prefix, dict(allow), on
        _REGISTRY[prefix] = cls

    @classmethod
    def field_types(cls) -> list[tuple[str, type]]:
        # Resolved once per class: get_type_hints evaluates the annotations anew at each
        # call (a quarter of a millisecond), and every button shown or pressed asks.
        found = _FIELD_TYPES.get(cls)
        if found is None:
            hints = get_type_hints(cls)
            found = _FIELD_TYPES[cls] = [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
        return found

    @property
    def target(self) -> int | None:
        """The id of the record the action acts on (its first field), if it names one."""
        if self.on is None:
            return None
        value = getattr(self, dataclasses.fields(self)[0].name)
        assert isinstance(value, int)
        return value

    def pack(self) -> str:
        parts = [self.prefix]
        for name, kind in self.field_types():
            parts.append(_pack_value(getattr(self, name), kind))
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise CodecError(f"{data!r} is over {MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, values: list[str]) -> Self | None:
        types = cls.field_types()
        if len(values) != len(types):
            return None
        parsed: dict[str, Any] = {}
        for value, (name, kind) in zip(values, types, strict=True):
            read = _read_value(value, kind)
            if read is None:
                return None
            parsed[name] = read
        return cls(**parsed)


def _pack_value(value: object, kind: type) -> str:
    if kind is date:
        assert isinstance(value, date)
        return value.strftime("%Y%m%d")
    text = str(value.value if isinstance(value, StrEnum) else value)
    if (kind is int and not _INT.fullmatch(text)) or (kind is str and not _TOKEN.fullmatch(text)):
        raise CodecError(f"{text!r} cannot be a {kind.__name__} field")
    return text


def _read_value(text: str, kind: type) -> object | None:
    if kind is int:
        return int(text) if _INT.fullmatch(text) else None
    if kind is str:
        return text if _TOKEN.fullmatch(text) else None
    if kind is date:
        if not _DATE.fullmatch(text):
            return None
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(text)
        except ValueError:
            return None
    raise CodecError(f"unsupported field type {kind!r}")


def parse(data: str) -> Action | None:
    """The action a button's data names, or None if it is forged, stale or malformed."""
    if len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    for cut in range(len(parts), 0, -1):
        cls = _REGISTRY.get(":".join(parts[:cut]))
        if cls is not None:
            found = cls.unpack(parts[cut:])
            if found is not None:
                return found
    return None


def declared() -> dict[str, type[Action]]:
    """Every declared action by prefix (the access-table test is generated from it)."""
    return dict(_REGISTRY)


@dataclasses.dataclass(frozen=True)
class Command:
    """A word or slash command that works anywhere, with who may use it; ``whole`` also
    recognises a whole message of that shape (a join code typed in one piece)."""

    name: str
    words: tuple[str, ...]
    allow: frozenset[Who]
    whole: re.Pattern[str] | None = None


__all__ = ["Action", "CodecError", "Command", "Scope", "Target", "Who", "declared", "parse"]
