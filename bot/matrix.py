"""The Matrix adapter: a matrix-nio client that syncs, feeds the router, and sends the outbox.

Kept across restarts in ``MATRIX_STORE_PATH`` (a directory only the bot reads):

* ``session.json``: the device id and access token (a restart logs in as the same device,
  with the same encryption keys), the sync token (a restart resumes after the last event it
  handled and never handles an old event twice; at the very first start the backlog is skipped),
  and the direct room of each person;
* matrix-nio's key store (``<user>_<device>.db``) when end-to-end encryption is available
  (``matrix-nio[e2e]``, vodozemac wheels): encrypted direct rooms work like plain ones.

The bot accepts invitations to direct rooms only (the inviter marked the room direct) and leaves
a room that is no longer one person and the bot (the person left, or a third joined). Sync
failures (homeserver down, 5xx) are retried with back-off and the bot carries on when the
homeserver is back. Sending honours ``M_LIMIT_EXCEEDED``'s ``retry_after_ms`` by holding every
send for that long, and uses transaction ids derived from the outbox row, so a retry after a lost
answer is not sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteInfo,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    LoginError,
    MegolmEvent,
    MemoryDownloadResponse,
    RoomCreateError,
    RoomEncryptedFile,
    RoomMemberEvent,
    RoomMessageFile,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    RoomVisibility,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)
from nio.crypto import ENCRYPTION_ENABLED
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError, SendRetryError
from nio.responses import JoinedRoomsResponse

from bot.dispatcher import RetryLater, Undeliverable
from bot.i18n import Rendered, Renderer
from bot.matrix_content import (
    PLATFORM,
    file_content,
    received_file,
    text_contents,
    transaction_id,
    typed_text,
    user_id_of,
    user_key,
)
from bot.pacing import Pacer
from bot.settings import MatrixSettings
from flows.messages import Attachment, Handle, Incoming, UserKey
from flows.text import Msg, _

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
RETRY_CAP = 60.0
START_ATTEMPTS = 5
NETWORK_PAUSE = 2.0
BURST = 10
"""Synapse lets a user send a burst of 10 events before its per-second limit applies."""
NETWORK_ERRORS = (ClientError, OSError, TimeoutError)
TOKEN_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})
SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "room": {"timeline": {"limit": 100}, "ephemeral": {"types": []}},
}
FIRST_SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "room": {"timeline": {"limit": 1}, "ephemeral": {"types": []}},
}
ENCRYPTION_STATE = {"type": "m.room.encryption", "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
UNREADABLE = _("Je n'ai pas pu lire votre dernier message (il est chiffré pour un appareil que "
               "je ne connaissais pas encore). Pouvez-vous l'envoyer à nouveau ?")
MAX_FILE = 20 * 1024 * 1024
"""The largest file a person may send the bot (as on Telegram)."""
FILE_TOO_BIG = _("Ce fichier est trop gros (20 Mo au plus).")
FILE_UNREADABLE = _("Je n'ai pas pu recevoir ce fichier. Pouvez-vous le renvoyer ?")

Tell = Callable[[UserKey, Msg], Awaitable[None]]


class MatrixLoginError(Exception):
    """The homeserver refused the credentials: the adapter cannot run (settings to fix)."""


class _Transient(Exception):
    """A failure worth retrying (5xx, rate limit) reported as a response, not raised."""


class SessionFile:
    """``session.json``: written whole to a temporary file then renamed, readable by us only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            log.warning("matrix: %s is unreadable; starting a new session", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(temporary, self.path)


class MatrixAdapter:
    """Receives from and sends to Matrix through one matrix-nio client and device."""

    platform = PLATFORM

    def __init__(self, settings: MatrixSettings, *, sync_timeout_ms: int = SYNC_TIMEOUT_MS,
                 retry_cap: float = RETRY_CAP) -> None:
        self.settings = settings
        self.sync_timeout_ms = sync_timeout_ms
        self.retry_cap = retry_cap
        store = settings.store_path
        store.mkdir(parents=True, exist_ok=True)
        store.chmod(0o700)
        if not ENCRYPTION_ENABLED:
            log.warning("matrix: end-to-end encryption unavailable (install matrix-nio[e2e]); "
                        "encrypted rooms will not be readable")
        config = AsyncClientConfig(
            max_limit_exceeded=0,  # give 429s back to us: the dispatcher decides when to retry
            max_timeouts=0,  # and network errors too: the sync loop backs off on its own
            encryption_enabled=ENCRYPTION_ENABLED,
            store_sync_tokens=False,  # session.json keeps it, with or without encryption
        )
        self.client = AsyncClient(settings.homeserver, settings.user_id,
                                  store_path=str(store), config=config)
        self.session = SessionFile(store / "session.json")
        self.next_batch: str | None = None
        self.rooms: dict[str, str] = {}
        """The direct room of each person we talk to: Matrix user id -> room id."""
        self._created: set[str] = set()
        self._creating = asyncio.Lock()
        self._state: dict[str, Any] = {}
        self._handle: Handle | None = None
        self._tell: Tell | None = None
        self._task: asyncio.Task[None] | None = None
        self._poll: asyncio.Task[Any] | None = None
        self._stopping = False
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()
        self.connected = False
        """Whether the last sync with the homeserver went through."""
        self.pacer = Pacer(settings.messages_per_second, BURST)
        self.transport = MatrixTransport(self)

    # --- life ----------------------------------------------------------------------------------

    async def start(self, handle: Handle, renderer: Renderer, tell: Tell | None = None) -> None:
        """Log in (reusing the kept device), catch up once, then sync in the background."""
        self._handle, self._tell = handle, tell
        await self._retrying("login", self._login)
        await self._retrying("first sync", self._first_sync)
        self._task = asyncio.create_task(self._sync_loop(), name="matrix-sync")

    async def stop_receiving(self) -> None:
        """Stop syncing; the batch of events in hand is finished and its token saved."""
        self._stopping = True
        self._stop.set()
        if self._poll is not None:
            self._poll.cancel()  # only ever the long-poll request, never the handling
        if self._task is not None:
            await self._task
            self._task = None

    async def close(self) -> None:
        await self.stop_receiving()
        await self.client.close()

    async def _retrying(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                await step()
                return
            except (*NETWORK_ERRORS, _Transient) as exc:
                if attempt == START_ATTEMPTS:
                    raise
                wait = min(self.retry_cap, 2.0 ** attempt)
                log.warning("matrix: %s failed (%s); retrying in %.0f s", what, _brief(exc), wait)
                await asyncio.sleep(wait)

    async def _login(self) -> None:
        settings = self.settings
        saved = self.session.load()
        if saved.get("user_id") != settings.user_id or saved.get("homeserver") != \
                settings.homeserver:
            saved = {}
        token: str | None = saved.get("access_token")
        device: str | None = saved.get("device_id")
        if settings.access_token and settings.access_token != token:
            token, device = settings.access_token, None  # a token set by the admin wins
        if token:
            self.client.access_token = token
            who = await self.client.whoami()
            if isinstance(who, WhoamiResponse):
                if who.user_id != settings.user_id:
                    raise MatrixLoginError(f"MATRIX_ACCESS_TOKEN belongs to {who.user_id}, "
                                           f"not MATRIX_USER_ID")
                device = who.device_id or device
                if not device:
                    raise MatrixLoginError("the homeserver gives no device for this token; "
                                           "use MATRIX_PASSWORD")
                self.client.restore_login(settings.user_id, device, token)
            elif getattr(who, "status_code", None) in TOKEN_ERRORS and settings.password:
                log.warning("matrix: the kept access token was refused; logging in again")
                token = None
                self.client.access_token = ""
            elif _is_transient(who):
                raise _Transient(str(who))
            else:
                raise MatrixLoginError(f"access token refused: {who}")
        if not token:
            if not settings.password:
                raise MatrixLoginError("no valid access token and no MATRIX_PASSWORD")
            if device:
                self.client.device_id = device  # log in again as the same device (its keys)
            response = await self.client.login(settings.password,
                                               device_name=settings.device_name)
            if isinstance(response, LoginError):
                if _is_transient(response):
                    raise _Transient(str(response))
                raise MatrixLoginError(f"login refused: {response.status_code}")
            if device is None:
                log.warning("matrix: new device %s; its fingerprint is %s",
                            self.client.device_id, self.fingerprint())
        self._state = {"homeserver": settings.homeserver, "user_id": settings.user_id,
                       "device_id": self.client.device_id,
                       "access_token": self.client.access_token}
        self.next_batch = saved.get("next_batch")
        self.rooms = {str(k): str(v) for k, v in (saved.get("rooms") or {}).items()}
        self._save()
        log.info("matrix: logged in as device %s (fingerprint %s)", self.client.device_id,
                 self.fingerprint())

    def fingerprint(self) -> str | None:
        """The device's ed25519 key, which a person compares to verify the bot's device."""
        olm = self.client.olm
        return str(olm.account.identity_keys["ed25519"]) if olm is not None else None

    def _save(self) -> None:
        self.session.save({**self._state, "next_batch": self.next_batch, "rooms": self.rooms})

    # --- syncing -------------------------------------------------------------------------------

    async def _first_sync(self) -> None:
        """Rebuild room state (full state) and skip the backlog when there is no token yet."""
        backlog = self.next_batch is None
        await self._keys()  # our device keys first, so people can encrypt for us
        response = await self.client.sync(
            timeout=0, since=self.next_batch, full_state=True,
            sync_filter=FIRST_SYNC_FILTER if backlog else SYNC_FILTER,
        )
        _check_sync(response)
        assert isinstance(response, SyncResponse)
        await self._rebuild_rooms()
        await self._process(response, backlog=backlog)
        await self._keys()
        self.next_batch = response.next_batch
        self._save()
        if backlog:
            log.info("matrix: first start, earlier messages skipped")
        self.connected = True
        self.ready.set()

    async def _sync_loop(self) -> None:
        failures = 0
        while not self._stopping:
            self._poll = asyncio.create_task(self.client.sync(
                timeout=self.sync_timeout_ms, since=self.next_batch, sync_filter=SYNC_FILTER,
            ))
            try:
                response = await self._poll
                _check_sync(response)
            except asyncio.CancelledError:
                if self._stopping:
                    break
                raise
            except (*NETWORK_ERRORS, _Transient) as exc:
                self.connected = False
                failures += 1
                wait = min(self.retry_cap, 0.5 * 2 ** failures)
                log.warning("matrix: sync failed (%s); next try in %.1f s", _brief(exc), wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), wait)
                continue
            except MatrixLoginError as exc:
                self.connected = False
                log.error("matrix: %s; no more messages are received from Matrix", exc)
                break
            finally:
                self._poll = None
            self.connected = True
            if failures:
                log.warning("matrix: homeserver reachable again after %s failed syncs", failures)
                failures = 0
            assert isinstance(response, SyncResponse)
            try:
                await self._process(response, backlog=False)
                await self._keys()
            except Exception:
                log.exception("matrix: handling a sync batch failed; carrying on")
            self.next_batch = response.next_batch
            self._save()

    async def _keys(self) -> None:
        """What matrix-nio's sync_forever does for encryption after each sync."""
        client = self.client
        if client.olm is None:
            return
        try:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
        except (*NETWORK_ERRORS, LocalProtocolError) as exc:
            log.warning("matrix: key exchange failed (%s); retried after the next sync",
                        _brief(exc))

    async def _rebuild_rooms(self) -> None:
        """Direct rooms from the full state, for people whose room we had not kept."""
        me = self.client.user_id
        for room_id, room in self.client.rooms.items():
            others = [user for user in room.users if user != me]
            if len(others) == 1 and self._room_of(others[0]) is None:
                self.rooms[others[0]] = room_id
        joined = await self.client.joined_rooms()
        if isinstance(joined, JoinedRoomsResponse):
            for user, room_id in list(self.rooms.items()):
                if room_id not in joined.rooms and room_id not in self._created:
                    del self.rooms[user]

    def _room_of(self, user_id: str) -> str | None:
        room_id = self.rooms.get(user_id)
        return room_id if room_id in self.client.rooms else None

    async def _process(self, response: SyncResponse, *, backlog: bool) -> None:
        for room_id, invite in response.rooms.invite.items():
            await self._on_invite(room_id, invite)
        told: set[str] = set()
        for room_id, info in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            me = self.client.user_id
            others = [user for user in room.users if user != me]
            someone_left = any(
                isinstance(event, RoomMemberEvent) and event.state_key != me
                and event.membership in ("leave", "ban")
                for event in (*info.state, *info.timeline.events)
            )
            if len(others) > 1 or (not others and someone_left):
                await self._leave(room_id, "no longer one person and the bot")
                continue
            if not others:
                continue  # a room we are creating: its invitation is not there yet
            partner = others[0]
            if self.rooms.get(partner) != room_id and self._room_of(partner) is None:
                self.rooms[partner] = room_id
            self._created.discard(room_id)
            if backlog:
                continue
            for event in info.timeline.events:
                if getattr(event, "sender", None) != partner:
                    continue  # our own messages, and anyone who has left
                if isinstance(event, RoomMessageText):
                    text = typed_text(event.source.get("content", {}))
                    if text is None:
                        continue
                    self.rooms[partner] = room_id  # answer where they spoke
                    await self._deliver(Incoming(user_key(partner), text, None, event.event_id,
                                                 None, room.user_name(partner)))
                elif isinstance(event, RoomMessageFile | RoomEncryptedFile):
                    self.rooms[partner] = room_id
                    incoming = Incoming(user_key(partner), "", None, event.event_id, None,
                                        room.user_name(partner))
                    with_file = await self._with_file(event, incoming)
                    if with_file is not None:
                        await self._deliver(with_file)
                elif isinstance(event, MegolmEvent):
                    await self._unreadable(event, told)
        for room_id in response.rooms.leave:
            self._forget_room(room_id)

    async def _deliver(self, incoming: Incoming) -> None:
        assert self._handle is not None
        try:
            await self._handle((incoming,))
        except Exception:
            log.exception("matrix: event %s from %s failed", incoming.event_id, incoming.user)

    async def _with_file(self, event: RoomMessageFile | RoomEncryptedFile,
                         incoming: Incoming) -> Incoming | None:
        """The message with its file downloaded (and decrypted); ``None``, and a polite word,
        when the file is too big or could not be fetched."""
        content = event.source.get("content", {})
        filename, mime, size, caption = received_file(content)
        if size is not None and size > MAX_FILE:
            log.info("matrix: file of %s bytes from %s refused", size, incoming.user)
            await self._say(incoming.user, FILE_TOO_BIG)
            return None
        try:
            response = await self.client.download(event.url)
            if not isinstance(response, MemoryDownloadResponse):
                raise _Transient(str(response))
            data = response.body
            if isinstance(event, RoomEncryptedFile):
                data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"],
                                          event.iv)
        except (*NETWORK_ERRORS, _Transient, EncryptionError, KeyError, TypeError,
                ValueError) as exc:
            log.warning("matrix: file %s from %s not received (%s)", event.event_id,
                        incoming.user, _brief(exc))
            await self._say(incoming.user, FILE_UNREADABLE)
            return None
        if len(data) > MAX_FILE:
            await self._say(incoming.user, FILE_TOO_BIG)
            return None
        return Incoming(incoming.user, caption, None, incoming.event_id, None,
                        incoming.display_name, Attachment(filename, mime, bytes(data)))

    async def _say(self, key: UserKey, message: Msg) -> None:
        if self._tell is None:
            return
        try:
            await self._tell(key, message)
        except Exception:
            log.exception("matrix: %s not told about their file", key)

    async def _on_invite(self, room_id: str, invite: InviteInfo) -> None:
        """Join a direct room someone invited us to; decline any other invitation."""
        me = self.client.user_id
        direct, inviter = False, None
        for event in invite.invite_state:
            if isinstance(event, InviteMemberEvent) and event.state_key == me \
                    and event.membership == "invite":
                direct, inviter = bool(event.content.get("is_direct")), event.sender
        if not direct or inviter is None:
            log.info("matrix: invitation to %s declined: not a direct room", room_id)
            with contextlib.suppress(*NETWORK_ERRORS):
                await self.client.room_leave(room_id)
            return
        for _attempt in range(3):
            joined = await self.client.join(room_id)
            if not isinstance(joined, JoinError) or joined.status_code != "M_LIMIT_EXCEEDED":
                break
            await asyncio.sleep((joined.retry_after_ms or 1000) / 1000)
        if isinstance(joined, JoinError):
            log.warning("matrix: could not join %s: %s", room_id, joined.status_code)
            return
        log.info("matrix: joined direct room %s with %s", room_id, user_key(inviter))

    async def _leave(self, room_id: str, why: str) -> None:
        log.info("matrix: leaving %s: %s", room_id, why)
        self._forget_room(room_id)
        with contextlib.suppress(*NETWORK_ERRORS):
            await self.client.room_leave(room_id)
            await self.client.room_forget(room_id)

    def _forget_room(self, room_id: str) -> None:
        for user, room in list(self.rooms.items()):
            if room == room_id:
                del self.rooms[user]
        self._created.discard(room_id)

    async def _unreadable(self, event: MegolmEvent, told: set[str]) -> None:
        """An encrypted message we have no key for: ask the sender's devices, tell them."""
        key = user_key(event.sender)
        log.warning("matrix: cannot decrypt event %s from %s", event.event_id, key)
        with contextlib.suppress(*NETWORK_ERRORS, LocalProtocolError):
            await self.client.request_room_key(event)
        if self._tell is not None and key not in told:
            told.add(key)
            await self._tell(key, UNREADABLE)

    # --- sending -------------------------------------------------------------------------------

    async def room_for(self, user_id: str) -> str:
        """The person's direct room; one is created (and they invited) if there is none."""
        async with self._creating:
            room_id = self.rooms.get(user_id)
            if room_id is not None:
                room = self.client.rooms.get(room_id)
                if room is not None and user_id in room.users:
                    return room_id
                if room is None and room_id in self._created:
                    raise RetryLater(1, "direct room created, not synced yet")
                self._forget_room(room_id)
            initial = [ENCRYPTION_STATE] if self.client.olm is not None else []
            created = await self.client.room_create(
                visibility=RoomVisibility.private, is_direct=True, invite=[user_id],
                preset=RoomPreset.trusted_private_chat, initial_state=initial,
            )
            if isinstance(created, RoomCreateError):
                self._raise_for(created, None)
            self.rooms[user_id] = created.room_id
            self._created.add(created.room_id)
            self._save()
            log.info("matrix: direct room %s opened for %s", created.room_id, user_key(user_id))
            raise RetryLater(1, "direct room created, not synced yet")

    async def send_event(self, room_id: str, content: dict[str, Any], txn: str) -> None:
        try:
            response = await self.client.room_send(room_id, "m.room.message", content,
                                                   tx_id=txn, ignore_unverified_devices=True)
        except LocalProtocolError:
            raise RetryLater(2, "room not synced yet") from None
        except SendRetryError:
            raise RetryLater(NETWORK_PAUSE, "room members not synced yet") from None
        if not isinstance(response, RoomSendResponse):
            self._raise_for(response, room_id)

    async def upload(self, room_id: str, att: Any) -> dict[str, Any]:
        room = self.client.rooms.get(room_id)
        encrypt = bool(room is not None and room.encrypted and self.client.olm is not None)
        response, keys = await self.client.upload(
            io.BytesIO(att.data), content_type=att.mime, filename=att.filename,
            encrypt=encrypt, filesize=len(att.data),
        )
        if not isinstance(response, UploadResponse):
            self._raise_for(response, None)
        return file_content(att, response.content_uri, keys if encrypt else None)

    def _raise_for(self, response: Any, room_id: str | None) -> None:
        """Turn an error response into the dispatcher's retry or give-up."""
        code = getattr(response, "status_code", None)
        if code == "M_LIMIT_EXCEEDED" or _http_status(response) == 429:
            seconds = (getattr(response, "retry_after_ms", None) or 5000) / 1000
            self.pacer.hold(None, seconds)
            raise RetryLater(seconds, "homeserver rate limit (M_LIMIT_EXCEEDED)", failed=False,
                             too_many_requests=True)
        if _is_transient(response):
            self.pacer.hold(None, NETWORK_PAUSE)
            raise RetryLater(NETWORK_PAUSE, f"homeserver error {_http_status(response)}")
        if code in TOKEN_ERRORS:
            raise RetryLater(60, "access token refused")
        if code == "M_FORBIDDEN" and room_id is not None:
            self._forget_room(room_id)
            raise RetryLater(1, "not in that room any more; a new one will be opened")
        raise Undeliverable(f"homeserver refused: {code}")


class MatrixTransport:
    """Sends rendered outbox messages to each person's direct room."""

    platform = PLATFORM

    def __init__(self, adapter: MatrixAdapter) -> None:
        self.adapter = adapter

    async def send(self, message: Rendered) -> None:
        user_id = user_id_of(message.to)
        if user_id is None:
            raise Undeliverable("not a Matrix user key")
        if message.replaces is not None and not message.text:
            return  # buttons taken off a message: a numbered list has nothing to take off
        adapter = self.adapter
        try:
            room_id = await adapter.room_for(user_id)
            contents = text_contents(message)
            for part, content in enumerate(contents):
                await adapter.pacer.acquire(room_id)
                await adapter.send_event(room_id, content,
                                         transaction_id(message.ref, part, room_id, content))
            if message.attachment is not None:
                await adapter.pacer.acquire(room_id)
                content = await adapter.upload(room_id, message.attachment)
                await adapter.send_event(
                    room_id, content,
                    transaction_id(message.ref, len(contents), room_id, content),
                )
        except NETWORK_ERRORS as exc:
            adapter.pacer.hold(None, NETWORK_PAUSE)
            raise RetryLater(NETWORK_PAUSE, f"homeserver unreachable ({_brief(exc)})") from None


def _http_status(response: Any) -> int | None:
    transport = getattr(response, "transport_response", None)
    return getattr(transport, "status", None)


def _is_transient(response: Any) -> bool:
    status = _http_status(response)
    return status is not None and (status >= 500 or status == 429)


def _check_sync(response: Any) -> None:
    if isinstance(response, SyncResponse):
        return
    if getattr(response, "status_code", None) in TOKEN_ERRORS:
        raise MatrixLoginError("the homeserver no longer accepts the access token")
    raise _Transient(str(response))


def _brief(exc: BaseException | Any) -> str:
    """An error's kind and short message (never an event's content)."""
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
