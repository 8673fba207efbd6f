"""The Telegram adapter: python-telegram-bot receives updates, a transport sends the outbox.

Receiving: long polling by default, a webhook when ``TELEGRAM_WEBHOOK_URL`` is set (the secret
token is checked on every call, ``bot/telegram_webhook.py``). Updates are handled one after
the other, and the router commits each batch fetched together; each becomes an
:class:`~flows.messages.Incoming` whose event id is the ``update_id``, so an update fetched
twice (a crash before the offset was confirmed) is dropped by the router. A button press is
answered at once (the phone stops spinning) and is passed on only if its data is among the
buttons of the message it was pressed on, in the presser's own chat: anything else (a forged
press) reaches the router as a choice no feature knows, which it refuses politely. A message
takes one press: a second one on it (a quick double tap, before its buttons were taken away)
is dropped. ``my_chat_member`` updates say when a person blocks the bot or comes back.

Sending (the outbox dispatcher calls :class:`TelegramTransport`): choices as inline keyboards,
long texts split under 4,096 characters, files as documents and QR codes as photos, edits of
a message pressed (its pick shown, its buttons taken away or updated), all paced under
Telegram's flood limits; 429 becomes :class:`RetryLater` with Telegram's ``retry_after``,
network errors and 5xx a retry with back-off, a blocked bot or a chat never opened
:class:`Unreachable`.

Only python-telegram-bot's public interface is used: ``Bot`` methods to send, edit and fetch,
``Update.de_json`` and ``Application.process_update`` to read updates, and a documented
``BaseRequest`` of our own for the HTTP calls (``bot/telegram_request.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import math
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot import chunks
from bot.chunks import utf16_len
from bot.dispatcher import RetryLater, Undeliverable, Unreachable
from bot.i18n import Rendered, Renderer
from bot.pacing import Pacer
from bot.settings import LANGUAGES, TelegramSettings
from bot.telegram_request import JsonRequest
from bot.telegram_webhook import Webhook
from flows.messages import Attachment, Handle, Incoming, Pressed, Reach, UserKey
from flows.ports import Unreached
from flows.text import Msg, _

log = logging.getLogger(__name__)

PLATFORM = "tg"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64
MAX_INCOMING = 4096
LABEL_FITS = 32
"""Longer button labels are cut by Telegram's apps: then the options are also listed in the
text, numbered, so the whole label can be read."""
OVERALL_BURST = 1.0
"""No saved-up burst overall: a burst of 30 on top of 30/s doubles the first second's rate,
and Telegram answers that with 429s (measured by bench/reminders.py)."""
CHAT_BURST = 3
"""A reply and its menu may go out together; beyond that, one message a second per chat."""
CONCURRENT_SENDS = 4
"""At most this many messages in flight at once (to different people)."""
HEADROOM = 1.5
"""Calls kept in flight beyond what the rate limit strictly needs (Little's law: calls in
flight = rate x time a call takes): a call to api.telegram.org takes tens of milliseconds,
and one at a time could not reach the 30 a second Telegram allows (bench/reminders.py: 29/s
at 50 ms a call). Near the server, one at a time suffices, and parallel calls only cost CPU
(measured +0.5 ms a message with four in flight against a local server)."""
NETWORK_PAUSE = 2.0
POLL_TIMEOUT = 30
CALL_READ_TIMEOUT = 5.0
"""Seconds to wait for the answer to a call (python-telegram-bot's default); a call unanswered
by then is retried by the dispatcher, whose delivery record makes the retry safe."""
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
PRESSES_KEPT = 10_000
"""Messages remembered as pressed already (a second press on one is dropped)."""
PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
STALE_CHOICE = "!stale"
"""What a refused button press becomes: a choice no feature answers, so the router says
"this button is no longer valid" in the user's language, or the step asks again."""
BY_NUMBER = "#"
"""Callback data of a button whose choice id is too long: its position, read as a number."""
MAX_FILE = 20 * 1024 * 1024
"""Telegram lets a bot download files of 20 MB at most; larger ones are refused politely."""
FILE_TOO_BIG = _("Ce fichier est trop gros (20 Mo au plus).")
FILE_UNREADABLE = _("Je n'ai pas pu recevoir ce fichier. Pouvez-vous le renvoyer ?")

COMMANDS: dict[str, tuple[tuple[str, Msg], ...]] = {
    "fr": (
        ("start", _("Accueil et menu")),
        ("aide", _("Aide et mots utiles")),
        ("langue", _("Changer de langue")),
        ("annuler", _("Abandonner la démarche en cours")),
    ),
    "en": (
        ("start", _("Accueil et menu")),
        ("help", _("Aide et mots utiles")),
        ("language", _("Changer de langue")),
        ("cancel", _("Abandonner la démarche en cours")),
    ),
}
"""The command menu per language; the router understands every one of these words."""


# --- rendering -------------------------------------------------------------------------------


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces Telegram accepts (it counts UTF-16 code units)."""
    return chunks.split_text(text, limit, utf16_len)


def callback_data(choice_id: str, position: int) -> str:
    """The button's data: the choice id, or its position when the id is too long."""
    if len(choice_id.encode("utf-8")) <= CALLBACK_LIMIT:
        return choice_id
    log.error("choice id over %s bytes, sent as its position: %r", CALLBACK_LIMIT,
              choice_id[:20])
    return f"{BY_NUMBER}{position}"


@dataclass(frozen=True)
class Call:
    """One call to the Bot API: a text, or a file with an optional caption."""

    text: str | None
    markup: InlineKeyboardMarkup | None = None
    attachment: Attachment | None = None


@functools.lru_cache(maxsize=1024)
def keyboard(buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    """The inline keyboard of (choice id, label) buttons, one a row. Built once per distinct
    menu: python-telegram-bot's objects are immutable, and building them cost as much as the
    rest of a reply's rendering (the same home menu goes to everyone)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(label, callback_data=callback_data(cid, n))]
        for n, (cid, label) in enumerate(buttons, start=1)
    ])


def plan(message: Rendered) -> list[Call]:
    """The Bot API calls that deliver ``message``, in order; the keyboard goes on the last."""
    text = message.text
    choices = message.choices
    if choices and any(len(label) > LABEL_FITS for _, label in choices):
        listed = "\n".join(f"{n}. {label}" for n, (_, label) in enumerate(choices, start=1))
        text = f"{text}\n\n{listed}" if text else listed
        labels = [f"{n}. {label}" for n, (_, label) in enumerate(choices, start=1)]
    else:
        labels = [label for _, label in choices]
    markup = keyboard(tuple((cid, label) for (cid, _), label in zip(choices, labels,
                                                                    strict=True)))
    att = message.attachment
    if att is not None and utf16_len(text) <= CAPTION_LIMIT:
        return [Call(text or None, markup, att)]
    pieces = split_text(text) if text.strip() else []
    steps = [Call(piece) for piece in pieces]
    if att is not None:
        steps.append(Call(None, None, att))
    if steps:
        last = steps[-1]
        steps[-1] = Call(last.text, markup, last.attachment)
    return steps


def user_key(user_id: int) -> UserKey:
    return UserKey(f"{PLATFORM}:{user_id}")


def _chat_id(key: UserKey) -> int:
    prefix, _, rest = key.partition(":")
    if prefix != PLATFORM or not rest.lstrip("-").isdigit():
        raise Undeliverable("not a Telegram user key")
    return int(rest)


def _progress_key(message: Rendered) -> str:
    digest = hashlib.sha256(repr((message.text, message.choices)).encode()).hexdigest()
    return f"{message.ref}:{digest[:16]}"


def _timedelta_periods() -> None:
    """Opt in to python-telegram-bot's timedelta periods (the coming default): with the int
    ones, every 429 raises a deprecation warning as it is built."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def _seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after  # a timedelta with PTB_TIMEDELTA, else seconds
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- sending ---------------------------------------------------------------------------------


class TelegramTransport:
    """Sends rendered outbox messages through the Bot API, paced under the flood limits."""

    platform = PLATFORM

    def __init__(self, bot: Any, pacer: Pacer) -> None:
        _timedelta_periods()
        self.bot = bot
        self.pacer = pacer
        self.latency = 0.0
        """Seconds a call to the server takes, averaged over the last few."""
        self.reachable = True
        """Whether the last call to the Bot API (a send, or the adapter's poll) reached it."""
        # Pieces of a split message already accepted, so a retry sends only the rest.
        self._progress: OrderedDict[str, int] = OrderedDict()

    @property
    def concurrency(self) -> int:
        """How many messages the dispatcher may have in flight: what the overall rate needs
        given the time a call takes (one when the pacing is off: nothing to reach)."""
        needed = math.ceil(self.pacer.rate * self.latency * HEADROOM)
        return min(CONCURRENT_SENDS, max(1, needed))

    async def send(self, message: Rendered) -> None:
        chat_id = _chat_id(message.to)
        if message.replaces is not None:
            await self._paced(chat_id, self._edit(chat_id, int(message.replaces), message))
            return
        steps = plan(message)
        # A message of several calls remembers the ones made, by its outbox row and what it
        # renders to now (the reader may have changed language); one call has nothing to keep.
        key = _progress_key(message) if len(steps) > 1 else ""
        done = self._progress.get(key, 0)
        try:
            for index in range(done, len(steps)):
                await self._paced(chat_id, self._call(chat_id, steps[index]))
                if key:
                    self._progress[key] = index + 1
                    while len(self._progress) > 1000:
                        self._progress.popitem(last=False)
        except Undeliverable:
            self._progress.pop(key, None)
            raise
        self._progress.pop(key, None)

    async def _paced(self, chat_id: int, call: Coroutine[Any, Any, None]) -> None:
        """Make one call when the pacer allows it; Telegram's errors become the
        dispatcher's."""
        try:
            await self.pacer.acquire(str(chat_id))
        except BaseException:
            call.close()
            raise
        started = time.monotonic()
        try:
            await call
            self.latency += (time.monotonic() - started - self.latency) / 5
            self.reachable = True
        except RetryAfter as exc:
            seconds = _seconds(exc)
            self.pacer.hold(str(chat_id), seconds)
            raise RetryLater(seconds, "Telegram flood limit (429)", failed=False,
                             too_many_requests=True) from None
        except Forbidden as exc:
            raise _refused(exc.message) from None
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Unreachable(Unreached.NOT_STARTED,
                                  "Telegram: chat not found (never opened the bot)") from None
            raise Undeliverable(f"Telegram rejected the message: {exc.message}") from None
        except InvalidToken:
            self.reachable = False
            raise RetryLater(60, "Telegram refused the bot token") from None
        except NetworkError as exc:  # timeouts, connection errors, 5xx
            self.reachable = False
            self.pacer.hold(None, NETWORK_PAUSE)
            raise RetryLater(NETWORK_PAUSE, f"Telegram unreachable: {exc.message}") from None

    async def _call(self, chat_id: int, step: Call) -> None:
        att = step.attachment
        if att is None:
            await self.bot.send_message(chat_id, step.text or "", reply_markup=step.markup)
        elif att.mime in PHOTO_TYPES:
            await self.bot.send_photo(chat_id, att.data, caption=step.text,
                                      reply_markup=step.markup, filename=att.filename)
        else:
            await self.bot.send_document(chat_id, att.data, caption=step.text,
                                         reply_markup=step.markup, filename=att.filename)

    async def _edit(self, chat_id: int, message_id: int, message: Rendered) -> None:
        """One of the bot's messages made to show ``message``: its text and buttons, or its
        buttons alone when there is no text (or too much for one message)."""
        steps = plan(message)
        markup = steps[-1].markup if steps else None
        text = steps[0].text if len(steps) == 1 and steps[0].attachment is None else None
        try:
            if text:
                await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                 reply_markup=markup)
            else:
                await self.bot.edit_message_reply_markup(chat_id=chat_id,
                                                         message_id=message_id,
                                                         reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():  # shown already: done
                raise


def _refused(description: str) -> Unreachable:
    """What a 403 means: the person never opened the bot, or blocked it (or their account
    is gone, which is the same for the bot)."""
    if "initiate" in description.lower():  # "bot can't initiate conversation with a user"
        return Unreachable(Unreached.NOT_STARTED,
                           f"Telegram: {description} (never opened the bot)")
    return Unreachable(Unreached.BLOCKED, f"Telegram refused: {description}")


# --- receiving -------------------------------------------------------------------------------


def _buttons(message: Message) -> dict[str, str]:
    """Callback data -> label of the inline buttons on one of our messages."""
    markup = message.reply_markup
    if markup is None:
        return {}
    return {
        button.callback_data: button.text
        for row in markup.inline_keyboard
        for button in row
        if isinstance(button.callback_data, str)
    }


def _pressed_key(user: UserKey, message: Message) -> str:
    """One of the bot's messages as it stood when pressed: its id, when it was last edited,
    its text and buttons (the same message updated in place is another one to press)."""
    state = repr((message.text, message.edit_date, sorted(_buttons(message).items())))
    digest = hashlib.blake2s(state.encode(), digest_size=8).hexdigest()
    return f"{user}:{message.message_id}:{digest}"


def incoming_from(update: Update) -> Incoming | None:
    """The router's view of an update; ``None`` for what the bot ignores: groups, channels,
    other bots, edits.

    A press on a button of one of the bot's messages, in the presser's own chat, comes with
    that message (:class:`~flows.messages.Pressed`), for the router to mark it answered.
    """
    event = str(update.update_id)
    member = update.my_chat_member
    if member is not None:
        person = member.from_user
        if member.chat.type != "private" or member.chat.id != person.id or person.is_bot:
            return None
        status = member.new_chat_member.status
        reach = (Reach.BLOCKED if status == ChatMember.BANNED
                 else Reach.BACK if status == ChatMember.MEMBER else None)
        if reach is None:
            return None
        return Incoming(user_key(person.id), event_id=event, lang_hint=person.language_code,
                        reach=reach)
    query = update.callback_query
    if query is not None:
        person = query.from_user
        key = user_key(person.id)
        message = query.message
        data = query.data
        buttons = _buttons(message) if isinstance(message, Message) else {}
        if (
            isinstance(message, Message)
            and message.chat.id == person.id
            and data is not None
            and data in buttons
        ):
            pressed = Pressed(str(message.message_id), message.text or "", buttons[data])
            if data.startswith(BY_NUMBER):
                text = data.removeprefix(BY_NUMBER)
                return Incoming(key, text, None, event, person.language_code,
                                person.first_name, pressed=pressed)
            return Incoming(key, "", data, event, person.language_code, person.first_name,
                            pressed=pressed)
        log.info("button press refused for %s: not among the buttons of that message", key)
        return Incoming(key, "", STALE_CHOICE, event, person.language_code, person.first_name)
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    sender = message.from_user
    if sender is None or sender.is_bot:
        return None
    text = message.text or message.caption or ""
    contact = message.contact
    if contact is not None and contact.user_id == sender.id and contact.phone_number:
        text = contact.phone_number  # "share my number" answers a phone question
    return Incoming(user_key(sender.id), text[:MAX_INCOMING], None, event,
                    sender.language_code, sender.first_name)


class TelegramAdapter:
    """Runs a python-telegram-bot Application that feeds the router."""

    platform = PLATFORM

    def __init__(self, settings: TelegramSettings) -> None:
        _timedelta_periods()
        # httpx logs every request URL at INFO, and the Bot API's URLs contain the token.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.settings = settings
        builder = (
            Application.builder()
            .token(settings.token)
            .request(JsonRequest(read_timeout=CALL_READ_TIMEOUT))
            .get_updates_request(JsonRequest(connection_pool_size=1,
                                             read_timeout=POLL_TIMEOUT + 10))
            .concurrent_updates(False)
            .job_queue(None)
        )
        if settings.api_base_url:
            # The server's root URL; ".../bot" (python-telegram-bot's own form) works too.
            root = settings.api_base_url.rstrip("/").removesuffix("/bot")
            builder = builder.base_url(f"{root}/bot{{token}}").base_file_url(
                f"{root}/file/bot{{token}}"
            )
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.transport = TelegramTransport(
            self.application.bot,
            Pacer(settings.messages_per_second, OVERALL_BURST,
                  settings.chat_messages_per_second, CHAT_BURST),
        )
        self._handle: Handle | None = None
        self._received: list[tuple[Incoming, str | None]] = []
        self._pressed: OrderedDict[str, None] = OrderedDict()
        """Messages pressed already, as they stood (:func:`_pressed_key`), handed over or
        being handed over: a message takes one press until it changes (a quick double tap
        counts once; a multi-select whose ticks were updated takes the next)."""
        self._poller: asyncio.Task[None] | None = None
        self._webhook: Webhook | None = None
        self._stopping = False
        self._fetching = False
        self._renderer: Renderer | None = None
        self._notice: Any = None

    @property
    def connected(self) -> bool:
        """Whether the last call to the Bot API (a poll or a send) went through."""
        return self.transport.reachable

    async def start(self, handle: Handle, renderer: Renderer, tell: Any = None) -> None:
        """Check the token (getMe), publish the command menu, then start receiving."""
        self._handle = handle
        self._renderer, self._notice = renderer, tell
        app = self.application
        await app.initialize()
        await self._set_commands(renderer)
        await app.start()
        assert app.updater is not None
        webhook = self.settings.webhook_url
        if webhook:
            await app.bot.set_webhook(webhook, secret_token=self.settings.webhook_secret,
                                      allowed_updates=list(ALLOWED_UPDATES),
                                      drop_pending_updates=False)
            self._webhook = Webhook(urlparse(webhook).path, self.settings.webhook_secret,
                                    self._process_json)
            await self._webhook.start(self.settings.webhook_listen, self.settings.webhook_port)
            log.info("telegram: webhook on %s:%s", self.settings.webhook_listen,
                     self.settings.webhook_port)
        else:
            await self._delete_webhook()
            self._stopping = False
            self._poller = asyncio.create_task(self._poll(), name="telegram-polling")
            log.info("telegram: long polling as @%s", app.bot.username)

    async def stop_receiving(self) -> None:
        """Stop fetching, finish the update in hand, confirm what was handled."""
        app = self.application
        webhook, self._webhook = self._webhook, None
        if webhook is not None:
            await webhook.stop()
        poller, self._poller = self._poller, None
        if poller is not None:
            self._stopping = True
            if self._fetching:
                poller.cancel()  # a long poll: nothing fetched is lost by cutting it
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()

    async def _process_json(self, data: dict[str, Any]) -> None:
        """One update received on the webhook, through python-telegram-bot's handlers."""
        update = Update.de_json(data, self.application.bot)
        await self.application.process_update(update)
        await self._hand_over()

    async def _delete_webhook(self) -> None:
        """Long polling and a webhook exclude each other: drop a webhook left set, keeping
        the updates it had not delivered."""
        for attempt in range(3):
            try:
                await self.application.bot.delete_webhook(drop_pending_updates=False)
                return
            except TelegramError as exc:
                log.warning("telegram: webhook not removed (%s); attempt %s", exc, attempt + 1)
                await asyncio.sleep(2**attempt)

    async def _poll(self) -> None:
        """Long polling that confirms an update to Telegram only once it is handled.

        python-telegram-bot's updater asks for the next batch (which tells Telegram the last
        one arrived) as soon as it has queued a batch, before the bot has handled it: a
        process killed in between lost those messages for good
        (tests/faults/test_process_kill_telegram.py). Here the offset moves past a batch only
        after the router has committed it (the whole batch in one transaction); an update
        handled but not yet confirmed at a kill comes again and is dropped as already handled
        (its update id is recorded).
        """
        bot = self.application.bot
        offset = 0
        pause = 1.0
        while not self._stopping:
            self._fetching = True
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=timedelta(seconds=POLL_TIMEOUT),
                    allowed_updates=list(ALLOWED_UPDATES))
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc))
                continue
            except TelegramError as exc:  # network, 5xx, another poller (Conflict)...
                self.transport.reachable = False
                self._polling_error(exc)
                await asyncio.sleep(pause)
                pause = min(2 * pause, 30.0)
                continue
            except Exception:  # an update python-telegram-bot cannot read
                log.exception("telegram: a batch of updates could not be read; one by one")
                self._fetching = False
                offset = await self._one_by_one(offset)
                continue
            finally:
                self._fetching = False
            pause = 1.0
            self.transport.reachable = True
            for update in updates:
                try:
                    await self.application.process_update(update)
                except Exception:  # a bug in one update must not hold up the others
                    log.exception("telegram: update %s not handled", update.update_id)
                offset = update.update_id + 1
                if self._stopping:
                    break
            await self._hand_over()
        if offset:
            # Its answer is not read (the next start confirms the offset otherwise).
            with contextlib.suppress(Exception):
                await bot.get_updates(offset=offset, timeout=timedelta(0))

    async def _one_by_one(self, offset: int) -> int:
        """The next update, read by itself: handled if python-telegram-bot can read it,
        else logged and skipped (a kind of update it does not know yet, a malformed one),
        rather than stopping every later one behind it. Returns the next offset."""
        bot = self.application.bot
        try:
            with warnings.catch_warnings():
                # "use Bot.get_updates": which is what cannot read this update
                warnings.simplefilter("ignore", PTBUserWarning)
                raw = await bot.do_api_request("getUpdates", api_kwargs={
                    "offset": offset, "limit": 1, "timeout": 0,
                    "allowed_updates": list(ALLOWED_UPDATES)})
        except TelegramError as exc:
            self._polling_error(exc)
            return offset
        if not raw:
            return offset
        update_id = int(raw[0]["update_id"])
        try:
            update = Update.de_json(raw[0], bot)
        except Exception:
            log.exception("telegram: update %s cannot be read; skipped", update_id)
            return update_id + 1
        try:
            await self.application.process_update(update)
        except Exception:
            log.exception("telegram: update %s not handled", update_id)
        await self._hand_over()
        return update_id + 1

    async def close(self) -> None:
        """Close the HTTP clients (after the dispatcher has stopped sending)."""
        await self.stop_receiving()
        await self.application.shutdown()

    async def _set_commands(self, renderer: Renderer) -> None:
        """The command menu in each language, and in the default one for everybody else."""
        bot = self.application.bot
        try:
            for lang in (*LANGUAGES, None):
                code = lang or renderer.default
                commands = [BotCommand(name, renderer.text(description, code))
                            for name, description in COMMANDS.get(code, COMMANDS["fr"])]
                await bot.set_my_commands(commands, language_code=lang)
        except TelegramError as exc:
            log.warning("telegram: command menu not published (%s); carrying on", exc)

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("telegram: polling failed (%s); trying again", exc)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn one update into the router's view and keep it for :meth:`_hand_over`; a
        button press is answered at once (the phone stops spinning), a file fetched."""
        incoming = incoming_from(update)
        if incoming is None:
            return
        document = update.message.document if update.message is not None else None
        if document is not None and update.callback_query is None:
            with_file = await self._with_file(update.update_id, incoming, document)
            if with_file is None:
                return
            incoming = with_file
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:
                log.info("telegram: callback %s not answered (%s)", update.update_id, exc)
        pressed: str | None = None
        if incoming.pressed is not None and query is not None and isinstance(query.message,
                                                                             Message):
            pressed = _pressed_key(incoming.user, query.message)
            if pressed in self._pressed:
                log.info("telegram: a second press on message %s of %s dropped",
                         incoming.pressed.message, incoming.user)
                return
            self._pressed[pressed] = None
            while len(self._pressed) > PRESSES_KEPT:
                self._pressed.popitem(last=False)
        self._received.append((incoming, pressed))

    async def _hand_over(self) -> None:
        """The updates received since the last call, to the router together (one commit).
        Nothing here waits on the network while the router holds the database."""
        received, self._received = self._received, []
        if not received:
            return
        assert self._handle is not None
        try:
            committed = await self._handle([incoming for incoming, _ in received])
        except Exception:
            log.exception("telegram: %s update(s) not handled", len(received))
            committed = False
        if not committed:  # not taken: the same buttons may be pressed again
            for _incoming, pressed in received:
                if pressed is not None:
                    self._pressed.pop(pressed, None)

    async def _with_file(self, update_id: int, incoming: Incoming,
                         document: Any) -> Incoming | None:
        """The message with its document downloaded; ``None`` (and a polite word) when the
        file is too big for a bot, or could not be fetched."""
        size = document.file_size
        if size is not None and size > MAX_FILE:
            log.info("telegram: file of %s bytes from %s refused", size, incoming.user)
            await self._tell(incoming, FILE_TOO_BIG, f"tg-file:{update_id}")
            return None
        try:
            file = await document.get_file()
            data = await file.download_as_bytearray()
        except TelegramError as exc:
            log.warning("telegram: file of update %s not downloaded (%s)", update_id, exc)
            message = FILE_TOO_BIG if "too big" in str(exc).lower() else FILE_UNREADABLE
            await self._tell(incoming, message, f"tg-file:{update_id}")
            return None
        if len(data) > MAX_FILE:
            await self._tell(incoming, FILE_TOO_BIG, f"tg-file:{update_id}")
            return None
        attachment = Attachment(document.file_name or "fichier",
                                document.mime_type or "application/octet-stream", bytes(data))
        return replace(incoming, attachment=attachment)

    async def _tell(self, incoming: Incoming, message: Msg, ref: str) -> None:
        """A word from the adapter itself: through the outbox (in the person's language) when
        the bot runs it, else at once in the language of their app."""
        if self._notice is not None:
            try:
                await self._notice(incoming.user, message)
            except Exception:
                log.exception("telegram: %s not told about their file", incoming.user)
            return
        renderer = self._renderer
        if renderer is None:
            return
        lang = (incoming.lang_hint or "").split("-")[0].lower() or None
        text = renderer.text(message, renderer.lang(lang), PLATFORM)
        try:
            await self.transport.send(Rendered(incoming.user, text, (), None, ref))
        except (RetryLater, Undeliverable) as exc:
            log.info("telegram: %s not told about their file (%s)", incoming.user, exc)
