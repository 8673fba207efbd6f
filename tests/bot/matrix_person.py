"""A person on Matrix, for the end-to-end tests: a matrix-nio client of their own.

The person opens a direct room with the bot (plain or encrypted), types, and reads what the bot
answers; a background sync keeps their device keys exchanged like a real client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessage,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)

from tests.bot.synapse import Account

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


@dataclass
class Seen:
    """One message the person received from the bot."""

    event_id: str
    msgtype: str
    body: str
    content: dict[str, Any]
    encrypted: bool


@dataclass
class Person:
    """A Matrix user driving a conversation with the bot."""

    homeserver: str
    account: Account
    store: Path
    room_id: str | None = None
    auto_join: bool = False
    """Accept the bot's invitation (someone the bot writes to first, like a coordinator)."""
    seen: list[Seen] = field(default_factory=list)
    undecryptable: int = 0

    def __post_init__(self) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(self.homeserver, self.account.user_id,
                                  store_path=str(self.store),
                                  config=AsyncClientConfig(encryption_enabled=True,
                                                           store_sync_tokens=False))
        self.client.restore_login(self.account.user_id, self.account.device_id,
                                  self.account.access_token)
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._cursor = 0

    async def start(self) -> None:
        """Sync once (keys uploaded), then keep syncing in the background."""
        await self._sync(0)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _loop(self) -> None:
        while True:
            try:
                await self._sync(1000)
            except (OSError, TimeoutError, ClientError):
                await asyncio.sleep(0.5)  # the homeserver is down for a while (outage test)

    async def _sync(self, timeout_ms: int) -> None:
        client = self.client
        response = await client.sync(timeout=timeout_ms, full_state=not client.next_batch)
        if isinstance(response, SyncResponse):
            if self.auto_join:
                for room_id in response.rooms.invite:
                    await client.join(room_id)
                    self.room_id = room_id
            for room_id, info in response.rooms.join.items():
                if room_id != self.room_id:
                    continue
                for event in info.timeline.events:
                    if isinstance(event, RoomMessage) and event.sender != client.user_id:
                        content = event.source.get("content", {})
                        self.seen.append(Seen(event.event_id, content.get("msgtype", ""),
                                              content.get("body", ""), content,
                                              bool(getattr(event, "decrypted", False))))
                    elif isinstance(event, MegolmEvent):
                        self.undecryptable += 1
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
        async with self._changed:
            self._changed.notify_all()

    async def open_direct_room(self, bot: str, encrypted: bool = False) -> str:
        """Create a direct room with the bot, as Element does for "Start chat"."""
        created = await self.client.room_create(
            is_direct=True, invite=[bot], preset=RoomPreset.trusted_private_chat,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        assert isinstance(created, RoomCreateResponse), created
        self.room_id = created.room_id
        return created.room_id

    async def wait(self, predicate: Callable[[], bool], within: float = 20.0) -> None:
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(predicate)

    async def wait_joined(self, bot: str, within: float = 20.0) -> None:
        """Until the bot has accepted the invitation."""
        def joined() -> bool:
            room = self.client.rooms.get(self.room_id or "")
            return room is not None and bot in room.users and bot not in room.invited_users

        await self.wait(joined, within)

    async def wait_knows_device(self, user_id: str, device_id: str,
                                within: float = 20.0) -> None:
        """Until this person's client has fetched ``user_id``'s device ``device_id`` (its
        keys): only then does a message encrypted in their room reach that device too."""
        def known() -> bool:
            return any(device.id == device_id
                       for device in self.client.device_store.active_user_devices(user_id))

        await self.wait(known, within)

    async def say(self, text: str, content: dict[str, Any] | None = None) -> str:
        """Type ``text`` in the direct room; returns the event id."""
        assert self.room_id is not None
        response = await self.client.room_send(
            self.room_id, "m.room.message", content or {"msgtype": "m.text", "body": text},
            ignore_unverified_devices=True,
        )
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def send_file(self, data: bytes, filename: str, mime: str = "text/csv",
                        size: int | None = None) -> str:
        """Upload ``data`` (encrypted in an encrypted room) and send it as an ``m.file``, as
        Element does; ``size`` is the size announced in ``info``. Returns the event id."""
        assert self.room_id is not None
        room = self.client.rooms.get(self.room_id)
        encrypt = bool(room is not None and room.encrypted)
        uploaded, keys = await self.client.upload(
            io.BytesIO(data), content_type=mime, filename=filename, encrypt=encrypt,
            filesize=len(data))
        assert isinstance(uploaded, UploadResponse), uploaded
        content: dict[str, Any] = {
            "msgtype": "m.file", "body": filename, "filename": filename,
            "info": {"mimetype": mime, "size": len(data) if size is None else size}}
        if encrypt:
            assert keys is not None
            content["file"] = {"url": uploaded.content_uri, **keys}
        else:
            content["url"] = uploaded.content_uri
        return await self.say(filename, content)

    async def read(self, count: int = 1, within: float = 20.0) -> list[Seen]:
        """Wait for ``count`` new messages from the bot; return every new one."""
        await self.wait(lambda: len(self.seen) - self._cursor >= count, within)
        new, self._cursor = self.seen[self._cursor:], len(self.seen)
        return new

    async def ask(self, text: str, count: int = 1, within: float = 20.0) -> str:
        """Say ``text`` and return the bodies of the next ``count`` answers, joined."""
        await self.say(text)
        return "\n".join(seen.body for seen in await self.read(count, within))

