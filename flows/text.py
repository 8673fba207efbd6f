"""Translatable texts as values: flows say *what* to tell, ``bot/`` renders it.

A :class:`Msg` is a gettext message id (French, the source language) with its parameters.
It is formatted after translation, never before, so the catalogs see stable ids. Parameters
that depend on the reader's language (amounts, dates, nested messages) are typed values that
the renderer formats with babel in the recipient's language.

Everything here serialises to plain JSON so an outgoing message can wait in the outbox and be
rendered at delivery time, in the recipient's language of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

Param: TypeAlias = "str | int | Money | When | Day | Msg | Lines | ByGesture"


@dataclass(frozen=True)
class Msg:
    """A message id with its parameters; ``plural`` and ``n`` select a plural form."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None

    def __hash__(self) -> int:
        return hash((self.msgid, self.plural, self.n, tuple(sorted(self.params))))


@dataclass(frozen=True)
class Money:
    """An amount in euro cents, formatted by babel in the reader's locale."""

    cents: int


@dataclass(frozen=True)
class When:
    """An aware date and time, formatted in the network's time zone and the reader's locale;
    ``spoken``: the time in words, as a beneficiary reads it ("jeudi 26 novembre à 14
    heures", not "14 h 00")."""

    at: datetime
    spoken: bool = False


@dataclass(frozen=True)
class Clock:
    """A time of day as it is said, in the reader's language: "9 heures", "14 heures 30",
    "midi" in French; "9 am", "2:30 pm", "noon" in English (no "14 h-17 h" for someone who
    reads little). ``minutes`` after midnight."""

    minutes: int


@dataclass(frozen=True)
class Day:
    """A calendar date, formatted in the reader's locale."""

    day: date


@dataclass(frozen=True)
class Lines:
    """Several texts shown one per line (a summary, a list)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class ByGesture:
    """A text that names a gesture, in two wordings: for a platform whose choices are buttons
    (Telegram: "touchez « Passer »"), and for one where they are a numbered list answered by
    writing (Matrix, the console: "répondez « Passer »"). The renderer picks by the reader's
    platform; a flow uses :func:`by_gesture`."""

    buttons: Msg
    typed: Msg


def by_gesture(buttons: Msg, typed: Msg) -> Msg:
    """One message worded for buttons or for typed answers, chosen where it is read."""
    return Msg("{text}", {"text": ByGesture(buttons, typed)})


def _(msgid: str, **params: Any) -> Msg:
    """Mark ``msgid`` for extraction and wrap it with its parameters."""
    return Msg(msgid, dict(params))


def _n(singular: str, plural: str, n: int, **params: Any) -> Msg:
    """Mark a message with a plural form; ``n`` is also available as ``{n}``."""
    return Msg(singular, {"n": n, **params}, plural=plural, n=n)


def verbatim(text: str) -> Msg:
    """Wrap a text that must not be translated (a name the user typed, a reference)."""
    return Msg("{text}", {"text": text})


# --- JSON round trip -----------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """Turn a text value into JSON-compatible data, tagging the typed parameters."""
    match value:
        case Msg():
            data: dict[str, Any] = {"$": "msg", "id": value.msgid}
            if value.params:
                data["p"] = {k: to_json(v) for k, v in value.params.items()}
            if value.plural is not None:
                data["pl"] = value.plural
                data["n"] = value.n
            return data
        case Money():
            return {"$": "money", "c": value.cents}
        case When():
            if value.spoken:
                return {"$": "when", "at": value.at.isoformat(), "s": True}
            return {"$": "when", "at": value.at.isoformat()}
        case Clock():
            return {"$": "clock", "m": value.minutes}
        case Day():
            return {"$": "day", "d": value.day.isoformat()}
        case Lines():
            return {"$": "lines", "items": [to_json(v) for v in value.items]}
        case ByGesture():
            return {"$": "gesture", "b": to_json(value.buttons), "t": to_json(value.typed)}
        case bool() | int() | str() | None:
            return value
        case _:
            raise TypeError(f"cannot serialise text parameter of type {type(value).__name__}")


def from_json(data: Any) -> Any:
    """Inverse of :func:`to_json`."""
    if not isinstance(data, dict):
        return data
    match data.get("$"):
        case "msg":
            params = {k: from_json(v) for k, v in data.get("p", {}).items()}
            return Msg(data["id"], params, plural=data.get("pl"), n=data.get("n"))
        case "money":
            return Money(data["c"])
        case "when":
            return When(datetime.fromisoformat(data["at"]), bool(data.get("s", False)))
        case "clock":
            return Clock(int(data["m"]))
        case "day":
            return Day(date.fromisoformat(data["d"]))
        case "lines":
            return Lines(tuple(from_json(v) for v in data["items"]))
        case "gesture":
            return ByGesture(from_json(data["b"]), from_json(data["t"]))
    raise ValueError(f"unknown text value: {data!r}")
