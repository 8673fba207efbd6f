"""What a handler works with while one incoming message is handled, and how features plug in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flows.action_codec import Action
from flows.beneficiary import BeneficiaryConfig
from flows.engine import Conversation, Ctx, Effect, Flow
from flows.messages import Attachment, Choice, Outgoing, Pressed, Priority, Reply, UserKey
from flows.payments import MoneyConfig
from flows.ports import Storage, UnitOfWork
from flows.records import User
from flows.sms_text import SmsConfig
from flows.territory import Territory
from flows.text import Msg, verbatim


class Unknown(Enum):
    """The type of :data:`UNKNOWN`."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


@dataclass
class Session:
    """One incoming message being handled: the transaction, the user, what will be sent.

    Messages are collected here and written to the outbox in the same transaction as the
    changes that caused them, so they are sent if and only if the changes are committed.
    """

    uow: UnitOfWork
    user: User
    now: datetime
    ctx: Ctx
    coordinators: Sequence[UserKey]
    flow_starter: FlowStarter
    outgoing: list[Outgoing] = field(default_factory=list)
    asking: Conversation | Unknown | None = UNKNOWN
    """The conversation as it stands after this message, when the router knows it (it binds
    the buttons of the question to it); :data:`UNKNOWN` makes it read it again."""

    async def start_flow(self, name: str, answers: dict[str, Any] | None = None) -> None:
        """Begin the conversation ``name``, optionally with answers already given."""
        await self.flow_starter(self, name, answers)

    def reply(self, reply: Reply, *, action_menu: bool = False) -> None:
        """Answer the user who spoke."""
        self.send(self.user.key, reply.texts, reply.choices, action_menu=action_menu)

    def replace(self, pressed: Pressed, reply: Reply) -> None:
        """Show ``reply`` in place of the message ``pressed`` (a question updated)."""
        self.outgoing.append(Outgoing(self.user.key, tuple(reply.texts), tuple(reply.choices),
                                      replaces=pressed.message))

    def mark_pressed(self, pressed: Pressed, *, taken: bool) -> None:
        """Before anything else said now: the pressed message loses its buttons and, when
        the press was ``taken``, shows the pick under its text ("✓ label")."""
        texts: tuple[Msg, ...] = ()
        if taken and pressed.text:
            texts = (verbatim(f"{pressed.text}\n\n✓ {pressed.label}"),)
        self.outgoing.insert(0, Outgoing(self.user.key, texts, replaces=pressed.message))

    def say(self, *texts: Msg, choices: Sequence[Choice] = (), action_menu: bool = False) -> None:
        """Answer the user who spoke with texts and optional choices."""
        self.send(self.user.key, list(texts), choices, action_menu=action_menu)

    def send(
        self,
        to: UserKey,
        texts: Sequence[Msg],
        choices: Sequence[Choice] = (),
        *,
        attachment: Attachment | None = None,
        action_menu: bool = False,
        priority: Priority | None = None,
    ) -> None:
        """Queue a message to anyone (a coordinator, a place's staff, a donor).

        It goes out as a reply when it is for the person who wrote, else as a notice, unless
        ``priority`` says otherwise (a broadcast to many).
        """
        if priority is None:
            priority = Priority.REPLY if to == self.user.key else Priority.NOTICE
        self.outgoing.append(
            Outgoing(to, tuple(texts), tuple(choices), attachment, is_action_menu=action_menu,
                     priority=priority)
        )


FlowStarter = Callable[["Session", str, "dict[str, Any] | None"], Awaitable[None]]

ActionHandler = Callable[[Session, Any], Awaitable[None]]
"""Carries out a button (a ``flows.action_codec.Action``) the router already authorised."""

CommandHandler = Callable[[Session, str], Awaitable[None]]
"""Carries out a typed command (the whole text is passed)."""

EffectHandler = Callable[[Session, Any], Awaitable[None]]
"""Carries out one effect returned by a finished flow."""

FactsLoader = Callable[[UnitOfWork, User], Awaitable[Mapping[str, Any]]]
"""Reads from storage what a flow's steps need, since steps themselves do no I/O."""

MoreFacts = Callable[[UnitOfWork, User, Mapping[str, Any], Conversation],
                     Awaitable[Mapping[str, Any] | None]]
"""What the question ``conversation`` is at reads beyond the loader's facts, when it depends
on an answer the loader could not know (the commune just given, whose places a request
shows): the facts to ask it with, or None when the given ones serve. Steps being pure, the
router then handles the message again with them."""

HomeHandler = Callable[[Session, bool], Awaitable[Reply | None]]
"""The home menu of the people a feature serves (a joined beneficiary's), or None for
someone else; ``bool``: their very first message."""

FileHandler = Callable[[Session, Attachment], Awaitable[bool]]
"""Reads a file someone sent (a CSV to import); False when it is not for this feature."""


class Sender(Protocol):
    """Queues a message for anyone: a :class:`Session`, or a job's mailbag
    (``handlers.requests.Mailbag``)."""

    def send(self, to: UserKey, texts: Sequence[Msg], choices: Sequence[Choice] = (), *,
             action_menu: bool = False) -> None: ...


@dataclass(frozen=True)
class Job:
    """A periodic job (reminders due, retention purges); the database is its only record.

    ``run`` opens its own transactions on ``storage`` and returns how many things it did;
    messages it queues in the outbox go out on the dispatcher's next round.
    """

    name: str
    every: timedelta
    run: Callable[[Storage, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Env:
    """What the composition root (``bot/app.py``) hands every feature module's
    ``feature(env)``: read once at start, the same for every message and job."""

    territory: Territory
    coordinators: tuple[UserKey, ...]
    timezone: ZoneInfo
    access_requests_kept: timedelta
    """Refused or withdrawn access requests keep who asked this long."""
    conversation_ttl: timedelta
    beneficiaries: BeneficiaryConfig
    public_url: str | None = None
    """The network's public pages (``FILIERE_WEB_BASE_URL``); certificates link to their
    check there. ``None``: no pages."""
    mail: bool = False
    """E-mail is on (an SMTP relay is configured): donors who gave an address and
    professionals who asked get e-mails too. Off: nothing is queued for e-mail."""
    sms: SmsConfig | None = None
    """The SMS gateway, when the network has one (``SMS_GATEWAY_URL``)."""
    warranty_months: int = 6
    """The warranty of a device handed over (``FILIERE_WARRANTY_MONTHS``)."""
    money: MoneyConfig = field(default_factory=MoneyConfig)
    """Receipts, the solidarity fund and the mediation rate (``flows.payments``)."""
    transfer_days: int = 7
    """What bringing a device to another place takes, as prescribers are told
    (``FILIERE_TRANSFER_DAYS``)."""


@dataclass(frozen=True)
class Feature:
    """What one feature module contributes; ``bot/`` composes the features in one place."""

    name: str
    flows: Sequence[Flow] = ()
    actions: Mapping[type[Action], ActionHandler] = field(default_factory=dict)
    """The buttons this feature carries out (declared in ``flows/actions.py``)."""
    effects: Mapping[type[Effect], EffectHandler] = field(default_factory=dict)
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    """By command name (``flows.actions.COMMANDS``): words that start something anywhere."""
    facts: Mapping[str, FactsLoader] = field(default_factory=dict)
    """Per flow name: loads what its steps read (catalogue, stock...) into ``Ctx.facts``."""
    more_facts: Mapping[str, MoreFacts] = field(default_factory=dict)
    """Per flow name: what one question reads besides, read only when it is asked."""
    jobs: Sequence[Job] = ()
    files: Sequence[FileHandler] = ()
    """Tried in turn on a message that carries a file, before anything else is routed."""
    home: HomeHandler | None = None
    """The home menu of the people this feature serves (``menu``, anything not understood)."""
