"""Repository interfaces: what ``handlers/`` needs from storage, narrow enough for PostgreSQL.

``storage/`` implements them with aiosqlite. Every method runs inside the unit of work that
handed out the repository, so a change and the messages it causes commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flows.engine import Conversation
from flows.messages import Outgoing, UserKey
from flows.records import (
    AccessRequest,
    AccessRequestId,
    AccessStatus,
    Place,
    PlaceId,
    Role,
    User,
    Workshop,
)


class UserRepo(Protocol):
    async def get(self, key: UserKey) -> User | None: ...

    async def create(self, key: UserKey, lang: str | None, now: datetime) -> User: ...

    async def set_lang(self, key: UserKey, lang: str) -> None: ...

    async def set_role(
        self, key: UserKey, role: Role | None, place_id: PlaceId | None
    ) -> None: ...

    async def delete(self, key: UserKey) -> None: ...


@dataclass(frozen=True)
class SavedConversation:
    """A conversation with the time of its last accepted answer."""

    conversation: Conversation
    updated_at: datetime


class ConversationRepo(Protocol):
    async def get(self, key: UserKey) -> SavedConversation | None: ...

    async def save(self, key: UserKey, conversation: Conversation, now: datetime) -> None: ...

    async def clear(self, key: UserKey) -> None: ...


class EventRepo(Protocol):
    async def first_time(self, event_id: str, now: datetime) -> bool:
        """Record ``event_id``; False when it was already handled (a platform's redelivery)."""
        ...

    async def purge_before(self, when: datetime) -> int: ...


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting in the outbox, with its delivery attempts."""

    id: int
    message: Outgoing
    attempts: int
    not_before: datetime


class OutboxRepo(Protocol):
    async def add(self, message: Outgoing, now: datetime) -> int: ...

    async def due(
        self, now: datetime, platforms: Sequence[str], limit: int
    ) -> list[OutboxItem]: ...

    async def delivered(self, item_id: int, now: datetime) -> None: ...

    async def retry_later(self, item_id: int, when: datetime, error: str) -> None: ...

    async def give_up(self, item_id: int, now: datetime, error: str) -> None: ...

    async def pending_count(self) -> int: ...


class MenuRepo(Protocol):
    """The last action menu shown to each user, so "1" can be answered on text platforms."""

    async def set(self, key: UserKey, choices: Sequence[tuple[str, Any]]) -> None: ...

    async def get(self, key: UserKey) -> list[tuple[str, Any]]: ...


class AccessRepo(Protocol):
    async def create(
        self, user: UserKey, answers: dict[str, Any], now: datetime
    ) -> AccessRequest: ...

    async def get(self, request_id: AccessRequestId) -> AccessRequest | None: ...

    async def latest_for(self, user: UserKey) -> AccessRequest | None: ...

    async def decide(
        self, request_id: AccessRequestId, status: AccessStatus, by: UserKey, now: datetime
    ) -> bool:
        """Move a *pending* request to ``status``; False when someone decided it already."""
        ...

    async def pending(self) -> list[AccessRequest]: ...


class PlaceRepo(Protocol):
    async def all(self) -> list[Place]: ...

    async def get(self, place_id: PlaceId) -> Place | None: ...


class WorkshopRepo(Protocol):
    async def upcoming(self, now: datetime, limit: int) -> list[Workshop]: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories bound to it."""

    users: UserRepo
    conversations: ConversationRepo
    events: EventRepo
    outbox: OutboxRepo
    menus: MenuRepo
    access: AccessRepo
    places: PlaceRepo
    workshops: WorkshopRepo


class Storage(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Begin a write transaction; it commits on normal exit, rolls back on an exception."""
        ...
