"""E-mail: the queue (``mail_outbox``) sent through the network's SMTP relay with aiosmtplib.

The e-mails were written to the queue in the transaction that caused them
(``handlers/mail.py``), so a crash or a relay outage loses none. The sender reads what is
due, renders each e-mail in its owner's language (the chat's ``Renderer``: French, or
English for someone who reads English), builds a proper MIME message (plain text in UTF-8,
the PDF attached) and hands it to the relay, then records what became of it:

* accepted: recorded as sent, its content blanked at once. A crash between the relay's
  "250" and that record sends it again once, with the same ``Message-ID``;
* put off (a 4xx reply, no connection, a timeout, a TLS or login failure): tried again
  after 1 min, 5 min, 30 min, 2 h, 6 h and 12 h, then given up: about a day in all;
* refused for good (a 5xx reply to the recipient, the sender or the message: the address
  does not exist, the mailbox is closed, the message is rejected) at once, as a bounce at
  SMTP time. Bounces the relay receives later land in the sender's mailbox (``SMTP_FROM``),
  which a person reads: the bot does not read it.

What is given up is told to the coordinators in the chat, one message a round, by the lot's
reference (the donor got the document in the chat anyway); a professional whose address is
refused has their notices by e-mail stopped and is told. Addresses are never logged: the
log says the e-mail's number, kind and lot, and the relay's replies with addresses taken out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib

from bot.i18n import Renderer
from bot.settings import SmtpSettings
from flows.mail_text import (
    DONOR_KINDS,
    Failure,
    donor_mail_failed,
    notice_subject,
    notices_exhausted,
    notices_mail_failed,
    your_mail_failed,
)
from flows.messages import Outgoing, UserKey
from flows.ports import MailDue, Storage, StorageUnavailable, UnitOfWork
from flows.text import Lines, Msg

log = logging.getLogger(__name__)

PLATFORM = "mail"
"""How texts are worded for an e-mail: like a platform where answers are written."""

RETRY_DELAYS = (60, 300, 1800, 7200, 21600, 43200)
"""Seconds before each new attempt; after the last, the e-mail is given up (about a day)."""
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
ROUND = 20
"""E-mails read from the queue per round."""
IDLE_SECONDS = 15.0
"""How often the queue is looked at: an e-mail goes out within this after it is queued."""
SUBJECT_CHARS = 70

ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")


def scrubbed(text: str) -> str:
    """A relay's reply without the addresses it quotes (they must not reach the logs)."""
    return ADDRESS.sub("<address>", text)[:300]


class MailRetry(Exception):
    """The relay could not take the e-mail now (4xx, connection, TLS, login): try later."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class MailRefused(Exception):
    """The relay refused the e-mail for good (5xx to the recipient, sender or content)."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__(reason)
        self.code = code


class SmtpRelay:
    """The network's SMTP relay, through aiosmtplib: one connection for a round of
    e-mails, opened at the first one and closed at the end of the round (or after an
    error, so that the next e-mail starts on a clean connection)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        context = None
        if settings.security != "none":
            context = ssl.create_default_context()
            if settings.ca_file is not None:
                context.load_verify_locations(cafile=str(settings.ca_file))
        return aiosmtplib.SMTP(
            hostname=settings.host, port=settings.port, username=settings.user,
            password=settings.password, timeout=settings.timeout,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            tls_context=context)

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Hand one e-mail over; raises :class:`MailRetry` or :class:`MailRefused`."""
        try:
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = self._new_client()
                await self._smtp.connect()
            await self._smtp.send_message(message, sender=sender, recipients=[recipient])
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self.close()
            refused = exc.recipients[0]
            raise _classified(refused.code, refused.message) from None
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPSenderRefused,
                aiosmtplib.SMTPDataError) as exc:
            await self.close()
            raise _classified(exc.code, exc.message) from None
        except aiosmtplib.SMTPResponseException as exc:  # greeting, EHLO, login: the relay's
            await self.close()
            raise MailRetry(f"{exc.code} {scrubbed(exc.message)}", exc.code) from None
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            await self.close()
            raise MailRetry(scrubbed(f"{type(exc).__name__}: {exc}")) from None
        except Exception as exc:  # a library bug must not stop the queue: tried again, counted
            # (no traceback: its message may quote the address)
            log.error("unexpected error from the SMTP client: %s",
                      scrubbed(f"{type(exc).__name__}: {exc}"))
            await self.close()
            raise MailRetry(scrubbed(f"{type(exc).__name__}: {exc}")) from None

    async def close(self) -> None:
        """Say goodbye to the relay (or just drop a broken connection)."""
        client, self._smtp = self._smtp, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


def _classified(code: int, message: str) -> MailRetry | MailRefused:
    reason = f"{code} {scrubbed(message)}"
    return MailRefused(reason, code) if 500 <= code < 600 else MailRetry(reason, code)


class Relay(Protocol):
    """What the sender needs of a relay (:class:`SmtpRelay`)."""

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class GivenUp:
    """An e-mail given up in a round, to record and report at its end."""

    item: MailDue
    failure: Failure | None
    """``None``: nobody to send it to any more (the address was erased); nothing to report."""
    code: int | None
    reason: str


class MailSender:
    """Sends the due e-mails of the queue, records each outcome, reports what is given up."""

    def __init__(self, storage: Storage, renderer: Renderer, relay: Relay,
                 sender: str, coordinators: Sequence[UserKey],
                 clock: Callable[[], datetime],
                 wake_chat: Callable[[], None] = lambda: None) -> None:
        self.storage = storage
        self.renderer = renderer
        self.relay = relay
        self.sender = sender
        self.coordinators = tuple(coordinators)
        self.clock = clock
        self.wake_chat = wake_chat
        self._wake = asyncio.Event()
        self._stopping = False
        self._accepted = 0
        """E-mails the relay accepted since start."""
        self._unwritten: list[Callable[[UnitOfWork], Awaitable[None]]] = []
        """Records of e-mails sent that the database could not take: written before anything
        more is sent (their rows still say pending: read again, they would go again)."""

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def compose(self, item: MailDue, now: datetime) -> EmailMessage:
        """The MIME message of a queued e-mail, in its owner's language."""
        assert item.address is not None
        lang = self.renderer.lang(item.lang)
        body = "\n\n".join(self.renderer.text(part, lang, PLATFORM)
                           for part in item.letter.body)
        if item.letter.subject is not None:
            subject = self.renderer.text(item.letter.subject, lang, PLATFORM)
        else:
            first = body.strip().split("\n", 1)[0] if body.strip() else ""
            if len(first) > SUBJECT_CHARS:
                first = first[:SUBJECT_CHARS - 1].rstrip() + "…"
            subject = self.renderer.text(notice_subject(first), lang, PLATFORM)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = item.address
        message["Subject"] = " ".join(subject.split())  # one line, whatever was typed in it
        message["Date"] = format_datetime(now)
        message["Message-ID"] = (f"<filiere-mail-{item.id}-{item.created_at:%Y%m%d%H%M%S}"
                                 f"@{self.sender.rsplit('@', 1)[-1]}>")
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no automatic replies
        message.set_content(body + "\n", charset="utf-8")
        if item.attachment is not None:
            maintype, _, subtype = item.attachment.mime.partition("/")
            message.add_attachment(item.attachment.data, maintype=maintype,
                                   subtype=subtype or "octet-stream",
                                   filename=item.attachment.filename)
        message["Content-Language"] = lang  # (after the content: set_content clears it)
        return message

    async def run_once(self) -> int:
        """Send the e-mails due now (a round); returns how many the relay accepted."""
        if self._unwritten and not await self._write_unwritten():
            return 0
        async with self.storage.reading() as uow:
            items = await uow.mail.due(self.clock(), ROUND)
        accepted_before = self._accepted
        given_up: list[GivenUp] = []
        try:
            for item in items:
                if self._stopping:
                    break
                if not await self._deliver(item, given_up):
                    break  # the relay is down, or the database: the rest waits
        finally:
            await self.relay.close()
        if given_up:
            await self._give_up(given_up)
        return self._accepted - accepted_before

    async def _deliver(self, item: MailDue, given_up: list[GivenUp]) -> bool:
        """Send one e-mail and record the outcome; False when the round should stop."""
        if item.address is None:
            log.info("mail %s (%s): no address any more, dropped", item.id, item.letter.kind)
            given_up.append(GivenUp(item, None, None, "no address any more"))
            return True
        now = self.clock()
        try:
            message = self.compose(item, now)
        except Exception as exc:  # a bug, or an address the e-mail library will not write
            # No traceback in the log: its message may quote the address.
            reason = scrubbed(f"{type(exc).__name__}: {exc}")
            log.error("mail %s (%s%s) could not be composed: %s", item.id, item.letter.kind,
                      _of(item), reason)
            given_up.append(GivenUp(item, Failure.REFUSED, None, reason))
            return True
        try:
            await self.relay.send(message, self.sender, item.address)
        except MailRefused as exc:
            log.warning("mail %s (%s%s) refused by the relay: %s", item.id, item.letter.kind,
                        _of(item), exc)
            given_up.append(GivenUp(item, Failure.REFUSED, exc.code, str(exc)))
            return True
        except MailRetry as exc:
            if item.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("mail %s (%s%s): given up after %s attempts: %s", item.id,
                            item.letter.kind, _of(item), item.attempts + 1, exc)
                given_up.append(GivenUp(item, Failure.EXHAUSTED, exc.code, str(exc)))
                return True
            delay = RETRY_DELAYS[min(item.attempts, len(RETRY_DELAYS) - 1)]
            log.info("mail %s (%s%s): relay said wait (%s); again in %s s", item.id,
                     item.letter.kind, _of(item), exc, delay)
            when, reason, code = now + timedelta(seconds=delay), str(exc), exc.code
            if not await self._record(lambda uow: uow.mail.retry_later(item.id, when, reason)):
                return False
            return code is not None  # no connection at all: the others wait too
        log.info("mail %s (%s%s) sent", item.id, item.letter.kind, _of(item))
        self._accepted += 1
        done = self.clock()
        return await self._record(lambda uow: uow.mail.sent(item.id, done), keep=True)

    async def _record(self, record: Callable[[UnitOfWork], Awaitable[None]],
                      keep: bool = False) -> bool:
        """Write one outcome on its own; False if the database refused it (``keep``: held
        in memory, to write before anything more is sent)."""
        try:
            async with self.storage.autocommit() as uow:
                await record(uow)
        except StorageUnavailable as exc:
            log.warning("mail record not written (%s): e-mails paused", exc)
            if keep:
                self._unwritten.append(record)
            return False
        return True

    async def _write_unwritten(self) -> bool:
        while self._unwritten:
            if not await self._record(self._unwritten[0]):
                return False
            self._unwritten.pop(0)
        return True

    async def _give_up(self, given_up: Sequence[GivenUp]) -> None:
        """Record what was given up and tell who should know, in one transaction: the
        coordinators (one message), and a professional whose address was refused."""
        now = self.clock()
        lines: list[Msg] = []
        tell: list[Outgoing] = []
        exhausted_notices = 0
        stopped: set[UserKey] = set()
        try:
            async with self.storage.transaction() as uow:
                for done in given_up:
                    item = done.item
                    await uow.mail.give_up(item.id, now, done.reason)
                    if done.failure is None:
                        continue
                    if item.letter.kind in DONOR_KINDS:
                        lines.append(donor_mail_failed(item.letter.kind,
                                                       item.lot_reference or "?",
                                                       done.failure, done.code))
                    elif done.failure is Failure.EXHAUSTED:
                        exhausted_notices += 1
                    elif item.owner is not None and item.owner not in stopped:
                        stopped.add(item.owner)
                        await uow.mail.remove_address(item.owner)
                        log.warning("notices by e-mail of %s stopped: address refused",
                                    item.owner)
                        lines.append(notices_mail_failed(item.owner, done.failure, done.code))
                        tell.append(Outgoing(item.owner,
                                             (your_mail_failed(done.failure, done.code),)))
                if exhausted_notices:
                    lines.append(notices_exhausted(exhausted_notices))
                if lines:
                    report = Msg("{lines}", {"lines": Lines(tuple(lines))})
                    tell += [Outgoing(key, (report,)) for key in self.coordinators]
                for message in tell:
                    await uow.outbox.add(message, now)
        except StorageUnavailable as exc:
            log.warning("mail failures not recorded (%s): tried again at the next round", exc)
            return
        if tell:
            self.wake_chat()

    async def run_forever(self) -> None:
        """Send at once (what the last run left), then whenever woken and every
        :data:`IDLE_SECONDS` (e-mails queued since, retries come due)."""
        first = True
        while not self._stopping:
            if not first:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
            first = False
            self._wake.clear()
            if self._stopping:
                break
            try:
                await self.run_once()
            except StorageUnavailable as exc:
                log.warning("e-mails paused, next round in %s s: %s", IDLE_SECONDS, exc)
            except Exception:
                log.exception("mail round failed; next round in %s s", IDLE_SECONDS)


def _of(item: MailDue) -> str:
    """The lot an e-mail is about, for the log (never the address)."""
    return f", lot {item.lot_reference}" if item.lot_reference else ""

