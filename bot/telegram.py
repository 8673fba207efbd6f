"""The Telegram adapter: python-telegram-bot receives updates, a transport sends the outbox.

Receiving: long polling by default, a webhook when ``TELEGRAM_WEBHOOK_URL`` is set (the secret
token is checked on every call by python-telegram-bot's webhook server). Updates are handled one
after the other, and the router commits each batch fetched together; each becomes an
:class:`~flows.messages.Incoming` whose event id is the
``update_id``, so an update fetched twice (a crash before the offset was confirmed) is dropped
by the router. A button press is answered at once (the phone stops spinning) and is passed on
only if its data is among the buttons of the message it was pressed on, in the presser's own
chat: anything else (a forged or stale press) reaches the router as a choice no feature knows,
which it refuses politely.

Sending (the outbox dispatcher calls :class:`TelegramTransport`): choices as inline keyboards,
long texts split under 4,096 characters, files as documents and QR codes as photos, paced
under Telegram's flood limits; 429 becomes :class:`RetryLater` with Telegram's ``retry_after``,
network errors and 5xx a retry with back-off, a blocked bot :class:`Undeliverable`.
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
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes, TypeHandler

from bot import chunks
from bot.chunks import utf16_len
from bot.dispatcher import RetryLater, Undeliverable
from bot.i18n import Rendered, Renderer
from bot.pacing import Pacer
from bot.settings import LANGUAGES, TelegramSettings
from bot.telegram_request import JsonBody, JsonRequest, Keyboard
from bot.telegram_webhook import Webhook
from flows.messages import Attachment, Handle, Incoming, UserKey
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
ALLOWED_UPDATES = ("message", "callback_query")
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
    return Keyboard([
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
        steps = plan(message)
        # A message of several calls remembers the ones made, by its outbox row and what it
        # renders to now (the reader may have changed language); one call has nothing to keep.
        key = _progress_key(message) if len(steps) > 1 else ""
        done = self._progress.get(key, 0)
        for index in range(done, len(steps)):
            await self.pacer.acquire(str(chat_id))
            started = time.monotonic()
            try:
                await self._call(chat_id, steps[index])
                self.latency += (time.monotonic() - started - self.latency) / 5
                self.reachable = True
            except RetryAfter as exc:
                seconds = _seconds(exc)
                self.pacer.hold(str(chat_id), seconds)
                raise RetryLater(seconds, "Telegram flood limit (429)", failed=False,
                                 too_many_requests=True) from None
            except Forbidden as exc:
                self._progress.pop(key, None)
                raise Undeliverable(f"Telegram refused: {exc.message}") from None
            except BadRequest as exc:
                self._progress.pop(key, None)
                raise Undeliverable(f"Telegram rejected the message: {exc.message}") from None
            except InvalidToken:
                self.reachable = False
                raise RetryLater(60, "Telegram refused the bot token") from None
            except NetworkError as exc:  # timeouts, connection errors, 5xx
                self.reachable = False
                self.pacer.hold(None, NETWORK_PAUSE)
                raise RetryLater(NETWORK_PAUSE, f"Telegram unreachable: {exc.message}") from None
            if key:
                self._progress[key] = index + 1
                while len(self._progress) > 1000:
                    self._progress.popitem(last=False)
        self._progress.pop(key, None)

    async def _call(self, chat_id: int, step: Call) -> None:
        att = step.attachment
        if att is None:
            await self._send_text(chat_id, step.text or "", step.markup)
        elif att.mime in PHOTO_TYPES:
            await self.bot.send_photo(chat_id, att.data, caption=step.text,
                                      reply_markup=step.markup, filename=att.filename)
        else:
            await self.bot.send_document(chat_id, att.data, caption=step.text,
                                         reply_markup=step.markup, filename=att.filename)

    async def _send_text(self, chat_id: int, text: str,
                         markup: InlineKeyboardMarkup | None) -> None:
        """``sendMessage`` through the bot's request object, its answer left unread.

        ``Bot.send_message`` would turn the answer into a ``telegram.Message`` that nothing
        here reads: about 140 attributes set one by one, 0.1-0.2 ms a message, as much as the
        rest of the call (bench/telegram.py). ``BaseRequest.post`` is what the ``Bot`` calls
        itself: the same timeouts, and the same exceptions for a 429, a 403 or a network
        failure.
        """
        parameters: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if markup is not None:
            parameters["reply_markup"] = markup.to_dict()
        await self.bot.request.post(f"{self.bot.base_url}/sendMessage",
                                    request_data=JsonBody(parameters))


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


def incoming_from(update: Update) -> tuple[Incoming, str | None] | None:
    """The router's view of an update, with the picked label for a valid button press.

    ``None`` for what the bot ignores: groups, channels, other bots, edits.
    """
    event = str(update.update_id)
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
            if data.startswith(BY_NUMBER):
                text = data.removeprefix(BY_NUMBER)
                return Incoming(key, text, None, event, person.language_code,
                                person.first_name), buttons[data]
            return Incoming(key, "", data, event, person.language_code,
                            person.first_name), buttons[data]
        log.info("button press refused for %s: not among the buttons of that message", key)
        return Incoming(key, "", STALE_CHOICE, event, person.language_code,
                        person.first_name), None
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
                    sender.language_code, sender.first_name), None


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
        self._received: list[tuple[Incoming, tuple[Message, str] | None]] = []
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
            with contextlib.suppress(TelegramError):  # the next start confirms it otherwise
                await bot.get_updates(offset=offset, timeout=timedelta(0))

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
        found = incoming_from(update)
        if found is None:
            return
        incoming, label = found
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
        pressed = (query.message, label) if (
            query is not None and label is not None and isinstance(query.message, Message)
        ) else None
        self._received.append((incoming, pressed))

    async def _hand_over(self) -> None:
        """The updates received since the last call, to the router together (one commit),
        then the buttons pressed marked as answered. Nothing here waits on the network while
        the router holds the database."""
        received, self._received = self._received, []
        if not received:
            return
        assert self._handle is not None
        try:
            await self._handle([incoming for incoming, _ in received])
        except Exception:
            log.exception("telegram: %s update(s) not handled", len(received))
            return
        for _incoming, pressed in received:
            if pressed is not None:
                await self._mark_answered(*pressed)

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
        text = renderer.text(message, renderer.lang(lang))
        try:
            await self.transport.send(Rendered(incoming.user, text, (), None, ref))
        except (RetryLater, Undeliverable) as exc:
            log.info("telegram: %s not told about their file (%s)", incoming.user, exc)

    async def _mark_answered(self, message: Message, label: str) -> None:
        """Show the pick under the question and take its buttons away (no double press)."""
        try:
            text = message.text
            if text is not None and utf16_len(text) + utf16_len(label) + 4 <= TEXT_LIMIT:
                await message.edit_text(f"{text}\n\n✓ {label}", reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:
            log.info("telegram: buttons of message %s left as they are (%s)",
                     message.message_id, exc)

