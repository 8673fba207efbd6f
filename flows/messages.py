"""The two value objects every platform is reduced to: what came in, what goes out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, NewType

from flows.text import Msg, from_json, to_json

UserKey = NewType("UserKey", str)
"""A user namespaced by platform: ``tg:123456``, ``mx:@ana:example.org``, ``cli:ana``,
``sms:<random token>`` (never the number: keys are logged)."""

PLATFORMS = ("tg", "mx", "cli", "sms")


def platform_of(user: UserKey) -> str:
    """The platform prefix of a user key (``tg``, ``mx``, ``cli`` or ``sms``)."""
    return user.split(":", 1)[0]


def is_user_key(value: str) -> bool:
    """True when ``value`` looks like ``<platform>:<id>`` with a known platform."""
    prefix, sep, rest = value.partition(":")
    return bool(sep) and prefix in PLATFORMS and bool(rest.strip()) and rest == rest.strip()


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a PDF receipt, a QR code image)."""

    filename: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class Pressed:
    """The bot's message whose button was pressed, on a platform that can edit it (Telegram):
    once the press is taken, the router has it marked answered ("✓ label", its buttons gone),
    or its buttons replaced in place (a multi-select toggle)."""

    message: str
    """The platform's id of that message."""
    text: str
    """Its text as the person sees it (empty for a photo or a file: its buttons only go)."""
    label: str
    """The label of the button pressed, as shown."""


class Reach(StrEnum):
    """What a platform says about a person's chat with the bot, without their writing."""

    BLOCKED = "blocked"
    """They blocked the bot (Telegram ``my_chat_member``: kicked)."""
    BACK = "back"
    """They unblocked it, or started it again (Telegram ``my_chat_member``: member)."""


@dataclass(frozen=True)
class Incoming:
    """One platform event: a typed text or a picked choice, with the platform's event id."""

    user: UserKey
    text: str = ""
    choice: str | None = None
    event_id: str | None = None
    lang_hint: str | None = None
    display_name: str | None = None
    attachment: Attachment | None = None
    """A file the user sent (a CSV of places, for instance); adapters fill it when they can."""
    pressed: Pressed | None = None
    """The message whose button gave ``choice``, when the platform can edit it."""
    reach: Reach | None = None
    """Set for an event that only says the chat was blocked or opened again (no text)."""


Handle = Callable[[Sequence[Incoming]], Awaitable[bool]]
"""The router as the adapters call it: the events received together (a Telegram
``getUpdates`` batch), in order; they are committed together. False when they could not be
(the database refused the write; each person was told to try again)."""


@dataclass(frozen=True)
class Choice:
    """One option offered to the user; ``id`` is short (Telegram callback data is 64 bytes)."""

    id: str
    label: Msg


class Priority(IntEnum):
    """Which queued message goes out first, lowest value first (stored in the outbox: never
    renumber). One person's messages still go in the order they were queued: a message
    raises that person's earlier ones to its own priority."""

    REPLY = 0
    """To the person who just wrote: they are looking at the chat, waiting."""
    NOTICE = 1
    """To someone else, because of what one person did (a request routed, an access
    approved, a session cancelled)."""
    BULK = 2
    """Many people at once, on nobody's message: reminders, a coordinator's broadcast."""


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient: texts shown one after the other, then the choices."""

    to: UserKey
    texts: tuple[Msg, ...]
    choices: tuple[Choice, ...] = ()
    attachment: Attachment | None = None
    # Action menus (e.g. "approve / reject" sent to a coordinator) stay answerable by number
    # after the conversation moves on; question menus belong to the current step.
    is_action_menu: bool = False
    priority: Priority = Priority.NOTICE
    replaces: str | None = None
    """The platform's id of one of the bot's messages to edit instead of sending a new one:
    its text becomes ``texts`` (left as it is when there are none) and its buttons
    ``choices`` (none: taken away)."""

    def payload(self) -> dict[str, Any]:
        """JSON payload kept in the outbox (the attachment is stored beside it)."""
        payload: dict[str, Any] = {
            "texts": [to_json(t) for t in self.texts],
            "choices": [[c.id, to_json(c.label)] for c in self.choices],
            "action": self.is_action_menu,
        }
        if self.replaces is not None:
            payload["replaces"] = self.replaces
        return payload

    @classmethod
    def from_payload(
        cls, to: UserKey, payload: dict[str, Any], attachment: Attachment | None = None,
        priority: Priority = Priority.NOTICE,
    ) -> Outgoing:
        """Rebuild a message read back from the outbox."""
        return cls(
            to=to,
            texts=tuple(from_json(t) for t in payload["texts"]),
            choices=tuple(Choice(cid, from_json(label)) for cid, label in payload["choices"]),
            attachment=attachment,
            is_action_menu=bool(payload.get("action")),
            priority=priority,
            replaces=payload.get("replaces"),
        )


@dataclass
class Reply:
    """What a step says back to the user who spoke: texts and optional choices."""

    texts: list[Msg] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    in_place: bool = False
    """The same question again, updated (a multi-select's ticks): on a platform that can,
    it replaces the message whose button was pressed rather than coming as a new one."""
