"""A real SMTP server for the e-mail tests: aiosmtpd, on 127.0.0.1, in the test's event loop.

It keeps every message it accepts (parsed with the standard library), and can be told to
refuse a recipient (``refuse``), to answer the next messages with a reply of its choosing
(``fail_next``: a 451 "try later", a 554 "rejected"), to ask for STARTTLS and a login, or to
stop listening and come back on the same port (an outage).
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    """One message the server accepted: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class SmtpStandIn:
    """The handler of an aiosmtpd server, and the server itself."""

    received: list[Received] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """Recipients refused at RCPT, with the reply (``550 5.1.1 <x>: no such user``)."""
    data_replies: list[str] = field(default_factory=list)
    """Replies to the next DATA commands, one each, instead of accepting the message."""
    logins: list[str] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    """Required login (user, password); with ``tls``, STARTTLS before it."""
    tls: ssl.SSLContext | None = None
    port: int = 0
    _server: asyncio.base_events.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def refuse(self, address: str, reply: str = "550 5.1.1 <{address}>: mailbox unavailable"
               ) -> None:
        self.refused[address] = reply.format(address=address)

    def fail_next(self, *replies: str) -> None:
        self.data_replies.extend(replies)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        raw = bytes(envelope.original_content or envelope.content or b"")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                      message, raw))
        self._arrived.set()
        return "250 2.0.0 Message accepted"

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and self.credentials is not None and (
                data.login.decode(), data.password.decode()) == self.credentials:
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _protocol(self) -> SMTP:
        return SMTP(self, hostname="smtp.test", enable_SMTPUTF8=True, tls_context=self.tls,
                    require_starttls=self.tls is not None,
                    auth_required=self.credentials is not None,
                    authenticator=self._authenticate if self.credentials else None,
                    auth_require_tls=self.tls is not None)

    async def start(self) -> None:
        """Listen on 127.0.0.1 (the same port again after :meth:`stop`)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening: a connection is refused, as when the relay is down."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def arrived(self, count: int = 1, within: float = 30.0) -> None:
        """Until ``count`` messages were accepted in all."""
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``."""
        return [r.message for r in self.received if address in r.recipients]


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a certificate for 127.0.0.1 made by ``openssl``, and the
    certificate's file (for the client to trust)."""
    cert, key = folder / "relay.pem", folder / "relay.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert
