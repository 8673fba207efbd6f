"""The e-mails queue on both engines: the address read when sent, blanked once done,
retries, and the professionals' addresses."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from flows.mail_text import MailKind, notice_letter, receipt_letter, welcome_letter
from flows.messages import Attachment, UserKey
from flows.records import Role
from flows.text import verbatim
from storage import territory as territory_store
from storage.engines import open_database
from storage.sqlite import SqliteStorage
from tests.storage.test_lots import DONOR, DRAFT, NOW

PRO = UserKey("cli:pro")
PDF = Attachment("recu-LOT-2026-0001.pdf", "application/pdf", b"%PDF-1.4 fake")


@pytest.fixture
async def storage(database_target: Path | str):
    db = await open_database(database_target)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
    async with SqliteStorage(db).transaction() as uow:
        await uow.users.create(DONOR, "en", NOW)
        await uow.users.create(PRO, "fr", NOW)
    yield SqliteStorage(db)
    await db.close()


async def test_a_donor_email_takes_its_address_from_the_lot_when_sent(storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(replace(DRAFT, reach="jeanne@exemple.fr"), DONOR, 2026,
                                    NOW)
        mail_id = await uow.mail.add(receipt_letter(lot.reference), PDF, NOW, lot_id=lot.id,
                                     owner=DONOR)
    async with storage.reading() as uow:
        [due] = await uow.mail.due(NOW, 10)
    assert (due.id, due.address, due.lang, due.lot_reference) == (
        mail_id, "jeanne@exemple.fr", "en", "LOT-2026-0001")
    assert due.letter == receipt_letter("LOT-2026-0001") and due.attachment == PDF
    async with storage.transaction() as uow:
        await uow.lots.forget_contact(DONOR)
    async with storage.reading() as uow:
        [due] = await uow.mail.due(NOW, 10)
    assert due.address is None  # erased on the lot: nobody to send it to


async def test_a_phone_contact_is_no_address(storage: SqliteStorage):
    async with storage.transaction() as uow:
        lot = await uow.lots.create(DRAFT, DONOR, 2026, NOW)  # reach: a phone number
        await uow.mail.add(receipt_letter(lot.reference), PDF, NOW, lot_id=lot.id, owner=DONOR)
        [due] = await uow.mail.due(NOW, 10)
    assert due.address is None


async def test_retries_wait_and_done_emails_are_blanked_then_purged(storage: SqliteStorage):
    async with storage.transaction() as uow:
        await uow.mail.set_address(PRO, "pro@exemple.org", NOW)
        first = await uow.mail.add(notice_letter((verbatim("Une demande"),), True), None, NOW,
                                   owner=PRO)
        second = await uow.mail.add(welcome_letter(), None, NOW, owner=PRO)
    async with storage.autocommit() as uow:
        await uow.mail.retry_later(first, NOW + timedelta(minutes=1), "451 later")
        await uow.mail.sent(second, NOW)
    async with storage.reading() as uow:
        assert await uow.mail.due(NOW, 10) == []
        [due] = await uow.mail.due(NOW + timedelta(minutes=1), 10)
        assert (due.id, due.attempts, due.address) == (first, 1, "pro@exemple.org")
        assert due.letter.kind is MailKind.NOTICE
        assert await uow.mail.pending_count() == 1
    async with storage.autocommit() as uow:
        await uow.mail.give_up(first, NOW, "550 refused")
    async with storage.transaction() as uow:
        found = await uow.conn.execute_fetchall(
            "SELECT status, owner, payload, att_data FROM mail_outbox ORDER BY id")
        assert [tuple(r) for r in found] == [
            ("failed", None, '{"subject": null, "body": []}', None),
            ("sent", None, '{"subject": null, "body": []}', None)]
        assert await uow.mail.purge_done_before(NOW, 10) == 0
        assert await uow.mail.purge_done_before(NOW + timedelta(days=8), 10) == 2


async def test_a_professional_address_is_set_replaced_and_removed(storage: SqliteStorage):
    async with storage.transaction() as uow:
        assert await uow.mail.address_of(PRO) is None
        await uow.mail.set_address(PRO, "old@exemple.org", NOW)
        await uow.mail.set_address(PRO, "new@exemple.org", NOW)
        assert await uow.mail.address_of(PRO) == "new@exemple.org"
        assert await uow.mail.subscribed([PRO, DONOR]) == {PRO}
        await uow.mail.add(welcome_letter(), None, NOW, owner=PRO)
        assert await uow.mail.remove_address(PRO)
        assert not await uow.mail.remove_address(PRO)
        assert await uow.mail.due(NOW, 10) == []  # what waited for it went too
        assert await uow.mail.subscribed([PRO]) == set()


async def test_a_withdrawn_access_ends_the_notices_by_email(storage: SqliteStorage):
    async with storage.transaction() as uow:
        await uow.users.set_role(PRO, Role.PRESCRIBER, None)
        await uow.mail.set_address(PRO, "pro@exemple.org", NOW)
        await uow.mail.add(welcome_letter(), None, NOW, owner=PRO)
        assert await uow.coordination.revoke(PRO, UserKey("cli:coord"), NOW)
        assert await uow.mail.address_of(PRO) is None
        assert await uow.mail.due(NOW, 10) == []
