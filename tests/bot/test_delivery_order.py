"""The outbox dispatcher delivers one person's messages in order, even around a retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.app import build
from bot.dispatcher import RetryLater
from bot.i18n import Rendered
from bot.settings import load
from flows.messages import Outgoing, UserKey
from flows.text import verbatim
from tests.support import Clock


@dataclass
class Flaky:
    """A console transport that asks to retry the first time it sees ``fail_on``."""

    fail_on: str
    platform: str = "cli"
    sent: list[tuple[str, str]] = field(default_factory=list)
    failed: bool = False

    async def send(self, message: Rendered) -> None:
        if message.text == self.fail_on and not self.failed:
            self.failed = True
            raise RetryLater(30, "flood limit")
        self.sent.append((message.to, message.text))


async def test_a_retry_holds_back_that_persons_later_messages_but_nobody_elses(
    tmp_path: Path, clock: Clock,
):
    transport = Flaky("ana 2")
    settings = load({"FILIERE_DEMO": "no"}, dotenv=None)
    app = await build(settings, {"cli": transport}, database=tmp_path / "db.sqlite3",
                      clock=clock)
    try:
        async with app.storage.transaction() as uow:
            for to, text in [("ana", "ana 1"), ("ana", "ana 2"), ("bob", "bob 1"),
                             ("ana", "ana 3"), ("bob", "bob 2")]:
                await uow.outbox.add(Outgoing(UserKey(f"cli:{to}"), (verbatim(text),)),
                                     clock())
        await app.dispatcher.drain()
        assert transport.sent == [("cli:ana", "ana 1"), ("cli:bob", "bob 1"),
                                  ("cli:bob", "bob 2")]
        async with app.storage.transaction() as uow:  # Ana writes again meanwhile
            await uow.outbox.add(Outgoing(UserKey("cli:ana"), (verbatim("ana 4"),)), clock())
        await app.dispatcher.drain()
        assert len(transport.sent) == 3
        clock.advance(seconds=31)
        await app.dispatcher.drain()
        assert [text for to, text in transport.sent if to == "cli:ana"] == \
            ["ana 1", "ana 2", "ana 3", "ana 4"]
    finally:
        await app.close()
