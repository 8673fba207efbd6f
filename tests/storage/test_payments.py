"""The payments repository on both engines: amounts to the cent, a payment corrected once by
a counter-entry, the fund's latest budget and what it spent, a warning once a year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.messages import UserKey
from flows.payments import Channel, Method, Payer, PayerTotal
from flows.records import PlaceKind, RequestStatus
from flows.request import RequestDraft
from storage import territory as territory_store
from storage.engines import open_database
from storage.sqlite import SqliteStorage
from tests.storage.test_lots import NOW

STAFF = UserKey("cli:staff")
COORD = UserKey("cli:coord")


@pytest.fixture
async def storage(database_target: Path | str):
    db = await open_database(database_target)
    async with db.transaction() as conn:
        await territory_store.replace_territory(conn, territory_store.shipped_territory(), NOW)
    yield SqliteStorage(db)
    await db.close()


def paid(cents: int, payer: Payer, *, corrects: int | None = None, reason: str | None = None,
         epci: str = "200067452", profile: str = "min_income") -> dict[str, object]:
    return {"request_id": None, "device_id": None, "place_id": None, "epci": epci,
            "profile": profile, "channel": Channel.PRESCRIPTION, "cents": cents,
            "payer": payer, "third_party": "CCAS de Veynes" if payer is Payer.THIRD_PARTY
            else None, "method": Method.FUND if payer is Payer.FUND else Method.CHEQUE,
            "by": STAFF, "now": NOW, "corrects": corrects, "reason": reason}


async def test_payments_and_their_counter_entries_add_up_to_the_cent(storage: SqliteStorage):
    year = NOW.year
    async with storage.transaction() as uow:
        await uow.payments.set_budget(year, 100_000, COORD, NOW)
        await uow.payments.set_budget(year, 150_000, COORD, NOW)  # the latest one counts
        first = await uow.payments.record(**paid(3_333, Payer.FUND))  # type: ignore[arg-type]
        await uow.payments.record(**paid(1_001, Payer.FUND))  # type: ignore[arg-type]
        third = await uow.payments.record(**paid(4_000, Payer.THIRD_PARTY))  # type: ignore[arg-type]
        counter = await uow.payments.record(**paid(-3_333, Payer.FUND, corrects=first.id,  # type: ignore[arg-type]
                                                   reason="erreur"))
        assert (counter.cents, counter.corrects, counter.reason) == (-3_333, first.id, "erreur")
        assert await uow.payments.is_corrected(first.id)
        assert not await uow.payments.is_corrected(third.id)
        fund = await uow.payments.fund(year)
        assert (fund.budget, fund.spent, fund.balance) == (150_000, 1_001, 148_999)
        [line] = await uow.payments.fund_lines(year)
        assert (line.epci, line.profile, line.devices, line.cents) == (
            "200067452", "min_income", 1, 1_001)
        sums = await uow.payments.sums(NOW - timedelta(days=1), NOW + timedelta(days=1))
        assert sorted((s.payer, s.cents, s.payments) for s in sums) == [
            ("fund", 1_001, 1), ("third_party", 4_000, 1)]
        assert (await uow.payments.fund(year + 1)).spent == 0
    with pytest.raises(Exception):  # noqa: B017 - each engine its own error
        async with storage.transaction() as uow:  # a payment is corrected once only
            await uow.payments.record(**paid(-3_333, Payer.FUND, corrects=first.id,  # type: ignore[arg-type]
                                             reason="encore"))


async def test_the_low_fund_warning_goes_once_a_year(storage: SqliteStorage):
    async with storage.transaction() as uow:
        assert await uow.payments.warn_once(2026, NOW)
        assert not await uow.payments.warn_once(2026, NOW)
        assert await uow.payments.warn_once(2027, NOW)


async def test_requests_made_while_the_fund_was_empty_are_known_on_the_waiting_list(
        storage: SqliteStorage):
    ana = UserKey("cli:ana")
    draft = RequestDraft(("admin",), "rsa", "none", "05179", "laptop", "yes", None, "adult")
    async with storage.transaction() as uow:
        await uow.users.create(ana, None, NOW)
        held = await uow.requests.create(ana, draft, "free", 0, "200067452", None, NOW.year,
                                         NOW, for_fund=True)
        plain = await uow.requests.create(ana, draft, "free", 0, "200067452", None, NOW.year,
                                          NOW + timedelta(seconds=1))
        assert [r.id for r in await uow.requests.waiting("laptop")] == [held.id, plain.id]
        assert await uow.requests.fund_held([held.id, plain.id]) == {held.id}
        assert await uow.requests.set_status(held.id, [RequestStatus.WAITING],
                                             RequestStatus.CANCELLED, NOW)
        assert await uow.requests.fund_held([held.id, plain.id]) == set()


async def test_the_years_list_names_requests_places_and_corrected_receipts(
        storage: SqliteStorage):
    """The network's list: a year (as bounds), each payment with its request's reference,
    its place's name and, for a counter-entry, the receipt it cancels."""
    async with storage.transaction() as uow:
        place = await uow.places.add("Veynes", PlaceKind.HUB, "05179", "", "", ())
        await uow.users.create(UserKey("cli:ana"), "fr", NOW)
    async with storage.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO equipment_requests (id, reference, prescriber, needs, kind, situation,"
            " tier, price_cents, commune, epci, internet, age, status, place_id, created_at,"
            " updated_at) VALUES (1, 'DEM-2026-0001', 'cli:ana', '[]', 'laptop', 'student',"
            " 'free', 0, '05179', '200067452', 'yes', '18_25', 'accepted', ?, 'T', 'T')",
            (place,))
    async with storage.transaction() as uow:
        before = await uow.payments.record(**{**paid(500, Payer.PERSON),  # type: ignore[arg-type]
                                              "now": NOW - timedelta(days=365)})
        third = await uow.payments.record(**{**paid(4_050, Payer.THIRD_PARTY),  # type: ignore[arg-type]
                                             "request_id": 1, "place_id": place})
        await uow.payments.record(**{**paid(-4_050, Payer.THIRD_PARTY, corrects=third.id,  # type: ignore[arg-type]
                                            reason="doublon"),
                                     "request_id": 1, "place_id": place})
        await uow.payments.record(**{**paid(9_001, Payer.PERSON),  # type: ignore[arg-type]
                                     "channel": Channel.SALE, "place_id": place,
                                     "method": Method.CARD})
        year = datetime(NOW.year, 1, 1, tzinfo=UTC)
        listed = await uow.payments.listed(year, year.replace(year=NOW.year + 1))
        latest = await uow.payments.latest(year, year.replace(year=NOW.year + 1), 2)
        totals = await uow.payments.totals(year, year.replace(year=NOW.year + 1))
    assert [item.payment.id for item in latest] == [item.payment.id for item in listed[-2:]]
    # Three entries; the third party's payment and its counter-entry cancel out.
    assert totals == (3, [PayerTotal(Payer.PERSON, 1, 9_001),
                          PayerTotal(Payer.THIRD_PARTY, 0, 0)])
    assert before.id not in [item.payment.id for item in listed]
    assert [(item.payment.cents, item.payment.payer, item.payment.third_party,
             item.request_reference, item.place_name, item.corrected_receipt,
             item.payment.reason) for item in listed] == [
        (4_050, Payer.THIRD_PARTY, "CCAS de Veynes", "DEM-2026-0001", "Veynes", None, None),
        (-4_050, Payer.THIRD_PARTY, "CCAS de Veynes", "DEM-2026-0001", "Veynes",
         third.receipt_number, "doublon"),
        (9_001, Payer.PERSON, None, None, "Veynes", None, None)]
