"""The SMS adapter: SMS Gateway for Android, the network's own phone and SIM, through the
``android-sms-gateway`` client library.

**Sending.** The outbox hands each message over as it does to any platform; here it becomes
a row of ``sms_messages`` (its text in the GSM alphabet when typography alone kept it out,
its choices as numbered lines, its cost in segments) and is posted to the gateway's
``POST /messages`` at once, or in the morning when it comes in the quiet hours (an answer to
someone who has just written goes at once). The phone sends it later: its state is asked
(``GET /messages/{id}``) until it says Sent or Delivered (the segments are then counted for
the month) or Failed. A send the gateway refuses or reports failed is tried again, three
times in all, then given up, and the person's place is told they did not get it (by the
name or code the place knows). A gateway out of reach is waited for, up to a day. Each try
carries an id of ours: a post whose answer was lost is not sent twice (the gateway answers
409 to the same id).

**Receiving.** The gateway posts each incoming SMS to our webhook (``bot/sms_webhook.py``,
signed and timed). The sender's number is looked up among the registered ones (someone else
is not answered, and nothing of theirs is kept); STOP or START, in any spelling, act at once
whatever was asked before; after STOP nothing else is answered until START. Anything else
reaches the router as typed text ("2." is read "2"), and the answer is 200 once it is
handled and committed.

Numbers are never logged: logs name people by their key (``sms:<random>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from android_sms_gateway import (
    AsyncAPIClient,
    Message,
    ProcessState,
    SmsReceivedPayload,
    TextMessage,
    Webhook,
    WebhookEvent,
)
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
from android_sms_gateway.errors import APIError

from bot.dispatcher import Undeliverable
from bot.i18n import Rendered, Renderer, numbered
from bot.settings import SmsSettings
from bot.sms_webhook import SmsWebhook
from flows import actions as act
from flows import sms_text
from flows.action_codec import parse
from flows.messages import Handle, Incoming, UserKey
from flows.ports import SmsContact, SmsOut, Storage
from flows.report import month_of
from flows.workshops import QuietHours
from handlers import sms_people
from handlers.phones import check_french_phone

log = logging.getLogger(__name__)

PLATFORM = sms_text.PLATFORM
MAX_ATTEMPTS = 3
"""Sends the gateway refused or failed before the SMS is given up and the place told."""
RETRY_AFTER = (timedelta(minutes=2), timedelta(minutes=10))
"""Wait before the second and the third try."""
GIVE_UP_AFTER = timedelta(hours=24)
"""An SMS not sent a day after it was handed over (the gateway out of reach, the phone off)
is given up: a reminder would come too late."""
TTL_SECONDS = 12 * 3600
"""How long the phone keeps trying to send one SMS before it reports it failed."""
HEARD_FOR = timedelta(minutes=10)
"""After someone's SMS, how long what is sent to them goes out even in the quiet hours (they
are holding their phone)."""
ROUND = 100
"""SMS posted or checked per round of the watcher."""
KEPT = timedelta(days=7)
"""How long the record of an SMS sent or given up is kept (its text is blanked at once)."""
WEBHOOK_ID = "filiere-bot-sms-received"
"""The id the bot registers its webhook under (registering again replaces it)."""
NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


class SmsAdapter:
    """Sends through, and receives from, one SMS Gateway for Android."""

    platform = PLATFORM

    def __init__(self, settings: SmsSettings, *, quiet: QuietHours, tz: ZoneInfo,
                 coordinators: tuple[UserKey, ...] = (),
                 wall: Callable[[], float] = time.time, watch: bool = True) -> None:
        self.settings = settings
        self.watch = watch
        """Whether a task watches the SMS on their way (a test runs :meth:`watch_once`)."""
        self.quiet = quiet
        self.tz = tz
        self.coordinators = coordinators
        self.wall = wall
        self.transport = SmsTransport(self)
        self.connected = False
        """Whether the gateway answered the last call."""
        self.client: AsyncAPIClient | None = None
        self._connections: aiohttp.ClientSession | None = None
        self._storage: Storage | None = None
        self._clock: Callable[[], datetime] | None = None
        self._wake_outbox: Callable[[], None] = lambda: None
        self._handle: Handle | None = None
        self._heard: dict[UserKey, datetime] = {}
        self._registered = settings.webhook_url is None
        self._watching: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        path = urlsplit(settings.webhook_url).path if settings.webhook_url else ""
        self.webhook = SmsWebhook(path or "/sms", settings.webhook_secret, self.received,
                                  wall=wall)

    # --- life ----------------------------------------------------------------------------

    def bind(self, storage: Storage, clock: Callable[[], datetime],
             wake: Callable[[], None]) -> None:
        """The database (numbers, SMS on their way), the clock, and the outbox's wake-up
        (a place told of an SMS not received), once the application is built."""
        self._storage, self._clock, self._wake_outbox = storage, clock, wake

    @property
    def storage(self) -> Storage:
        assert self._storage is not None, "SmsAdapter.bind() first"
        return self._storage

    def now(self) -> datetime:
        assert self._clock is not None, "SmsAdapter.bind() first"
        return self._clock()

    async def start(self, handle: Handle, renderer: Renderer,
                    tell: Callable[[UserKey, Any], Awaitable[None]] | None = None) -> None:
        """Open the client, register the webhook, listen for it, watch the SMS sent."""
        self._handle = handle
        self._connections = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.client = AsyncAPIClient(self.settings.login, self.settings.password,
                                     base_url=self.settings.gateway_url,
                                     http_client=AiohttpAsyncHttpClient(self._connections))
        await self._probe()
        await self.webhook.start(self.settings.webhook_listen, self.settings.webhook_port)
        if self.watch:
            self._watching = asyncio.create_task(self._watch_forever(), name="sms-watch")

    async def stop_receiving(self) -> None:
        """No more incoming SMS; the one in hand is finished and answered first."""
        await self.webhook.stop()

    async def close(self) -> None:
        await self.stop_receiving()
        self._stopping = True
        self._wake.set()
        if self._watching is not None:
            await self._watching
            self._watching = None
        if self._connections is not None:
            await self._connections.close()
            self._connections = None

    async def _probe(self) -> None:
        """Ask the gateway for its webhooks: it answers (``/healthz`` says so) and ours is
        there (registered again if the phone lost it, the app reinstalled)."""
        assert self.client is not None
        try:
            hooks = await self.client.get_webhooks()
        except (APIError, *NETWORK_ERRORS, KeyError, TypeError, ValueError) as exc:
            self.connected = False
            log.warning("sms: the gateway does not answer (%s)", _brief(exc))
            return
        self.connected = True
        url = self.settings.webhook_url
        if url is not None and not any(h.url == url and h.event is WebhookEvent.SMS_RECEIVED
                                       for h in hooks):
            self._registered = False
        await self._register()

    async def _register(self) -> None:
        """Tell the gateway where to post incoming SMS (when ``SMS_WEBHOOK_URL`` is set);
        a gateway out of reach now is asked again at the next round."""
        if self._registered or self.client is None:
            return
        url = self.settings.webhook_url
        assert url is not None
        try:
            await self.client.create_webhook(Webhook(WEBHOOK_ID, url,
                                                     WebhookEvent.SMS_RECEIVED))
        except (APIError, *NETWORK_ERRORS) as exc:
            self.connected = False
            log.warning("sms: the webhook could not be registered (%s); trying again later",
                        _brief(exc))
            return
        self._registered = self.connected = True
        log.info("sms: webhook registered at the gateway")

    # --- receiving -----------------------------------------------------------------------

    async def received(self, data: dict[str, Any]) -> bool:
        """One event of the gateway; True once handled (or not for us), False when the
        database could not take it (the gateway sends it again)."""
        if data.get("event") != WebhookEvent.SMS_RECEIVED.value:
            log.info("sms: %s event ignored", str(data.get("event"))[:40])
            return True
        try:
            payload = SmsReceivedPayload.from_dict(data["payload"])
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("sms: a malformed sms:received event ignored")
            return True
        event_id = str(data.get("id") or payload.message_id)[:64]
        phone = check_french_phone(payload.phone_number or payload.sender or "")
        contact = None
        if phone is not None:
            async with self.storage.reading() as uow:
                contact = await uow.sms.by_phone(phone)
        if contact is None:
            log.info("sms: a message from a number nobody registered, not answered")
            return True
        incoming = self.incoming(contact, payload.message, event_id)
        if incoming is None:
            log.info("sms: %s said STOP before: message not answered", contact.key)
            return True
        self._heard[contact.key] = self.now()
        assert self._handle is not None
        return await self._handle((incoming,))

    @staticmethod
    def incoming(contact: SmsContact, text: str, event_id: str | None) -> Incoming | None:
        """What an SMS says to the router: STOP or START whatever was asked, else the text
        ("2." read as "2"); None after STOP (nothing is answered until START)."""
        match sms_text.keyword(text):
            case sms_text.Keyword.STOP:
                return Incoming(contact.key, choice=act.SmsStop().pack(), event_id=event_id)
            case sms_text.Keyword.START:
                return Incoming(contact.key, choice=act.SmsStart().pack(), event_id=event_id)
        if contact.stopped:
            return None
        return Incoming(contact.key, sms_text.tidy(text), event_id=event_id)

    def heard_lately(self, key: UserKey) -> bool:
        """Whether ``key`` texted us a moment ago (an answer to them may go at night)."""
        heard = self._heard.get(key)
        if heard is not None and self.now() - heard >= HEARD_FOR:
            del self._heard[key]
            heard = None
        return heard is not None

    # --- sending ---------------------------------------------------------------------------

    async def post(self, out: SmsOut) -> bool:
        """Hand one SMS to the gateway; True when it took it. Refused: tried again later,
        or given up (the place told); out of reach: waited for."""
        assert self.client is not None
        gateway_id = f"filiere-{out.id}-{out.attempts + 1}"
        message = Message(phone_numbers=[out.phone], text_message=TextMessage(out.body),
                          id=gateway_id, with_delivery_report=True, ttl=TTL_SECONDS)
        try:
            await self.client.send(message)
        except APIError as exc:
            if exc.status_code == 409:  # this very try was taken before (its answer lost)
                pass
            elif exc.status_code in (400, 413, 422):
                await self._failure(out, f"refused by the gateway: {exc.status_code}")
                return False
            else:
                await self._unreachable(out, exc)
                return False
        except NETWORK_ERRORS as exc:
            await self._unreachable(out, exc)
            return False
        self.connected = True
        now = self.now()
        async with self.storage.transaction() as uow:
            await uow.sms.posted(out.id, gateway_id, now,
                                 now + timedelta(seconds=self.settings.check_seconds))
        log.info("sms %s to %s posted (%s segment(s))", out.id, out.key, out.segments)
        return True

    async def check(self, out: SmsOut) -> None:
        """Ask the gateway how a posted SMS went."""
        assert self.client is not None and out.gateway_id is not None
        now = self.now()
        try:
            state = await self.client.get_state(out.gateway_id)
        except APIError as exc:
            if exc.status_code == 404:  # the gateway lost it (its local server restarted)
                async with self.storage.transaction() as uow:
                    await uow.sms.put_off(out.id, now, "lost by the gateway", attempt=False)
                return
            await self._unreachable(out, exc)
            return
        except NETWORK_ERRORS as exc:
            await self._unreachable(out, exc)
            return
        self.connected = True
        if state.state in (ProcessState.Sent, ProcessState.Delivered):
            async with self.storage.transaction() as uow:
                await uow.sms.sent(out.id, now, month_of(now, self.tz))
            log.info("sms %s to %s sent", out.id, out.key)
        elif state.state in (ProcessState.Failed, ProcessState.Cancelled):
            errors = {r.error for r in state.recipients if r.error}
            await self._failure(out, f"{state.state.value}: {', '.join(sorted(errors))[:120]}")
        elif out.posted_at is not None and now - out.posted_at > GIVE_UP_AFTER:
            await self._failure(out, "not sent by the phone within a day", final=True)
        else:
            async with self.storage.transaction() as uow:
                await uow.sms.check_later(out.id,
                                          now + timedelta(seconds=self.settings.check_seconds))

    async def _failure(self, out: SmsOut, error: str, *, final: bool = False) -> None:
        """The gateway refused or failed one try: another later, or given up and the
        person's place told (in the same transaction)."""
        now = self.now()
        attempts = out.attempts + 1
        async with self.storage.transaction() as uow:
            if final or attempts >= MAX_ATTEMPTS:
                await uow.sms.failed(out.id, now, error)
                await sms_people.not_received(uow, out.key, out.workshop_id, now,
                                              self.coordinators)
            else:
                await uow.sms.put_off(out.id, now + RETRY_AFTER[attempts - 1], error,
                                      attempt=True)
        if final or attempts >= MAX_ATTEMPTS:
            log.warning("sms %s to %s given up after %s tries: %s", out.id, out.key,
                        attempts, error)
            self._wake_outbox()
        else:
            log.info("sms %s to %s: try %s failed (%s)", out.id, out.key, attempts, error)

    async def _unreachable(self, out: SmsOut, exc: BaseException) -> None:
        """The gateway did not answer (or not usefully): wait for it, a day at most."""
        self.connected = False
        now = self.now()
        if now - out.created_at > GIVE_UP_AFTER:
            await self._failure(out, f"gateway out of reach: {_brief(exc)}", final=True)
            return
        log.warning("sms %s: gateway out of reach (%s)", out.id, _brief(exc))
        later = now + timedelta(seconds=2 * self.settings.check_seconds)
        async with self.storage.transaction() as uow:
            if out.status == "posted":
                await uow.sms.check_later(out.id, later)
            else:
                await uow.sms.put_off(out.id, later, f"unreachable: {_brief(exc)}",
                                      attempt=False)

    def postponed(self, now: datetime) -> datetime:
        """When an SMS handed over at ``now`` may go: now, or the end of the quiet hours."""
        return self.quiet.postpone(now, self.tz)

    async def watch_once(self) -> int:
        """Post what is due (oldest first, each person's in order, none in the quiet hours
        unless it answers someone who just wrote) and ask how the posted ones went; forget
        the old records. How many SMS were posted or checked."""
        now = self.now()
        async with self.storage.reading() as uow:
            due = await uow.sms.due(now, ROUND)
        if not due:
            await self._probe()
        for key, heard in list(self._heard.items()):
            if now - heard >= HEARD_FOR:
                del self._heard[key]
        held: set[UserKey] = set()
        done = 0
        for out in due:
            if self._stopping:
                break
            if out.status == "posted":
                await self.check(out)
                done += 1
                continue
            if out.key in held:
                continue
            if not out.any_hour and self.quiet.contains(now, self.tz):
                async with self.storage.transaction() as uow:
                    await uow.sms.check_later(out.id, self.postponed(now))
                continue
            async with self.storage.reading() as uow:
                earlier = await uow.sms.waiting_before(out.key, out.id)
            if earlier or not await self.post(out):
                held.add(out.key)  # their next SMS waits for this one
            done += 1
        async with self.storage.transaction() as uow:
            await uow.sms.purge(now - KEPT, ROUND)
        return done

    def wake(self) -> None:
        """Ask the watcher for a round now."""
        self._wake.set()

    async def _watch_forever(self) -> None:
        while not self._stopping:
            try:
                await self.watch_once()
            except Exception:
                log.exception("sms: a round of the watcher failed; next one soon")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.check_seconds)


class SmsTransport:
    """The outbox's way to send an SMS: kept as a row, then posted to the gateway."""

    platform = PLATFORM

    def __init__(self, adapter: SmsAdapter) -> None:
        self.adapter = adapter

    async def send(self, message: Rendered) -> None:
        adapter = self.adapter
        if message.replaces is not None and not message.text:
            return  # buttons taken off a message: a numbered list has nothing to take off
        if message.ref is None or not message.ref.startswith("outbox:"):
            # A direct word ("try again later") would be sent again at each of the gateway's
            # retries of the same incoming SMS: its answer comes once it is handled instead.
            raise Undeliverable("sms: only messages of the outbox are sent")
        storage, now = adapter.storage, adapter.now()
        async with storage.reading() as uow:
            contact = await uow.sms.contact(message.to)
        if contact is None:
            raise Undeliverable("sms: no mobile number for this person")
        if contact.stopped and contact.stop_told:
            raise Undeliverable("sms: the person said STOP")
        body = body_of(message)
        if message.attachment is not None:
            log.info("sms: the file of %s is not sent by SMS", message.ref)
        if not body:
            return
        heard = adapter.heard_lately(message.to)
        post_at = now if heard else adapter.postponed(now)
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        ref = f"{message.ref.removeprefix('outbox:')}.{digest}"
        async with storage.transaction() as uow:
            sms_id = await uow.sms.queue(ref, message.to, body, sms_text.segments(body),
                                         reminder_of(message), heard, now, post_at)
            if contact.stopped:
                await uow.sms.stop_told(message.to)  # the confirmation: the last one
            earlier = sms_id is not None and await uow.sms.waiting_before(message.to, sms_id)
        if sms_id is None or post_at > now or earlier:
            adapter.wake()
            return
        await adapter.post(SmsOut(sms_id, message.to, contact.phone, body,
                                  sms_text.segments(body), reminder_of(message), "queued", 0,
                                  None, heard, now, None))


def body_of(message: Rendered) -> str:
    """The SMS a rendered message is: its text (no blank lines), then its choices as
    numbered lines, in the GSM alphabet when typography alone kept it out."""
    text = re.sub(r"\n{2,}", "\n", message.text.strip())  # a blank line costs a character
    parts = [text, "\n".join(numbered(message.choices))]
    return sms_text.for_sms("\n".join(part for part in parts if part))


def reminder_of(message: Rendered) -> int | None:
    """The session a message reminds of: the one its "I'm coming" choice is about."""
    for choice_id, _label in message.choices:
        action = parse(choice_id)
        if isinstance(action, act.Coming):
            return action.workshop
    return None


def _brief(exc: BaseException) -> str:
    """An error's kind and status (never a body: it could carry a number)."""
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    return f"{type(exc).__name__} {status}" if status else type(exc).__name__
