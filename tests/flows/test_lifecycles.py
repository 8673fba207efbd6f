"""The four lifecycles as tables: every row read back, and what each refuses and why."""

from __future__ import annotations

import pytest

from flows import device_lifecycle as dl
from flows import lot_lifecycle as ll
from flows import request_lifecycle as rl
from flows import transfer_lifecycle as tl
from flows.action_codec import Who
from flows.lifecycle import Lifecycle, NotNow, NotYours, Transition
from flows.records import DeviceState, Diagnosis, LotStatus, RequestStatus
from flows.transfer_lifecycle import TransferStatus

TABLES = [rl.REQUEST, ll.LOT, dl.DEVICE, tl.TRANSFER]


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_row_applies_for_its_actors_and_no_one_else(table: Lifecycle):
    for row in table.rows:
        for who in Who:
            if who in row.who:
                assert table.apply(row.state, row.event, who) is row.next
            else:
                with pytest.raises(NotYours):
                    table.apply(row.state, row.event, who)


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_an_event_outside_the_table_is_refused_as_not_now(table: Lifecycle):
    events = {row.event for row in table.rows}
    for state in table.states():
        for event in events:
            if not table.can(state, event):
                with pytest.raises(NotNow):
                    table.apply(state, event, Who.COORDINATOR)


def test_stored_states_are_all_reachable_in_the_tables():
    assert rl.REQUEST.states() == set(RequestStatus)
    assert ll.LOT.states() == set(LotStatus)
    assert dl.DEVICE.states() == set(DeviceState)
    assert tl.TRANSFER.states() == set(TransferStatus)


def test_a_row_declared_twice_is_refused():
    row = Transition(LotStatus.DECLARED, ll.Event.RECEIVE, frozenset({Who.PLACE_STAFF}),
                     LotStatus.RECEIVED)
    with pytest.raises(ValueError, match="declared twice"):
        Lifecycle("lot", LotStatus.DECLARED, [row, row])


# --- Requests --------------------------------------------------------------------------------

def test_a_place_accepts_only_what_was_sent_to_it():
    assert rl.expected(rl.Event.ACCEPT) == [RequestStatus.SENT]
    assert rl.REQUEST.apply(RequestStatus.SENT, rl.Event.ACCEPT, Who.PLACE_STAFF) \
        is RequestStatus.ACCEPTED
    with pytest.raises(NotNow):
        rl.REQUEST.apply(RequestStatus.ACCEPTED, rl.Event.ACCEPT, Who.PLACE_STAFF)


def test_a_refused_request_waits_and_the_bot_routes_it_again():
    assert rl.expected(rl.Event.REFUSE) == [RequestStatus.SENT, RequestStatus.ACCEPTED]
    assert rl.REQUEST.apply(RequestStatus.ACCEPTED, rl.Event.REFUSE, Who.PLACE_STAFF) \
        is RequestStatus.WAITING
    assert rl.REQUEST.apply(RequestStatus.WAITING, rl.Event.ROUTE, Who.SYSTEM) \
        is RequestStatus.SENT
    with pytest.raises(NotYours):
        rl.REQUEST.apply(RequestStatus.WAITING, rl.Event.ROUTE, Who.PLACE_STAFF)


def test_only_the_prescriber_cancels_and_only_an_open_request():
    assert set(rl.expected(rl.Event.CANCEL)) == rl.OPEN
    with pytest.raises(NotYours):
        rl.REQUEST.apply(RequestStatus.SENT, rl.Event.CANCEL, Who.PLACE_STAFF)
    for done in (RequestStatus.HANDED_OVER, RequestStatus.CANCELLED):
        with pytest.raises(NotNow):
            rl.REQUEST.apply(done, rl.Event.CANCEL, Who.PRESCRIBER)


def test_a_handover_comes_from_a_state_that_holds_a_device():
    assert set(rl.expected(rl.Event.HAND_OVER)) == rl.HOLDING
    assert RequestStatus.WAITING not in rl.HOLDING


# --- Lots ------------------------------------------------------------------------------------

def test_a_lot_is_certified_by_its_workshop_once_received():
    with pytest.raises(NotNow):
        ll.LOT.apply(LotStatus.DECLARED, ll.Event.CERTIFY, Who.RECONDITIONER)
    with pytest.raises(NotYours):
        ll.LOT.apply(LotStatus.RECEIVED, ll.Event.CERTIFY, Who.PLACE_STAFF)
    assert ll.LOT.apply(LotStatus.RECEIVED, ll.Event.CERTIFY, Who.RECONDITIONER) \
        is LotStatus.CERTIFIED


def test_devices_are_registered_once_the_lot_is_in_hand_and_even_after_its_certificate():
    assert ll.expected(ll.Event.REGISTER) == [LotStatus.RECEIVED, LotStatus.CERTIFIED]
    assert ll.expected(ll.Event.RECEIVE) == [LotStatus.DECLARED]


# --- Devices ---------------------------------------------------------------------------------

def test_a_device_that_works_is_ready_only_once_erased():
    tested = dl.DEVICE.apply(DeviceState.RECEIVED,
                             dl.diagnosed(Diagnosis.WORKS, clean=False), Who.RECONDITIONER)
    assert tested is DeviceState.TESTED
    assert dl.DEVICE.apply(tested, dl.Event.WIPED, Who.RECONDITIONER) is DeviceState.READY
    assert dl.DEVICE.apply(DeviceState.RECEIVED, dl.diagnosed(Diagnosis.WORKS, clean=True),
                           Who.RECONDITIONER) is DeviceState.READY


def test_an_erasure_leaves_a_device_where_it_stands_unless_it_waited_for_it():
    for state in (DeviceState.RECEIVED, DeviceState.REPAIR, DeviceState.READY):
        assert dl.DEVICE.apply(state, dl.Event.WIPED, Who.RECONDITIONER) is state


@pytest.mark.parametrize("diagnosis, state", [
    (Diagnosis.REPAIR, DeviceState.REPAIR), (Diagnosis.PARTS, DeviceState.PARTS),
    (Diagnosis.RECYCLE, DeviceState.RECYCLED)])
def test_each_diagnosis_has_its_state(diagnosis: Diagnosis, state: DeviceState):
    event = dl.diagnosed(diagnosis, clean=True)
    assert dl.DEVICE.apply(DeviceState.RECEIVED, event, Who.RECONDITIONER) is state


def test_only_a_ready_device_is_handed_over_by_place_staff_and_then_no_one_diagnoses_it():
    assert dl.expected(dl.Event.HAND_OVER) == [DeviceState.READY]
    with pytest.raises(NotYours):
        dl.DEVICE.apply(DeviceState.READY, dl.Event.HAND_OVER, Who.RECONDITIONER)
    with pytest.raises(NotNow):
        dl.DEVICE.apply(DeviceState.HANDED_OVER, dl.Event.PASSED, Who.RECONDITIONER)
    assert dl.DEVICE.apply(DeviceState.HANDED_OVER, dl.Event.RETURN, Who.PLACE_STAFF) \
        is DeviceState.RETURNED


def test_a_device_travels_only_from_the_stock_and_arrives_in_the_stock():
    assert dl.expected(dl.Event.SEND) == [DeviceState.READY]
    assert dl.DEVICE.apply(DeviceState.IN_TRANSIT, dl.Event.ARRIVE, Who.DRIVER) \
        is DeviceState.READY


# --- Transfers -------------------------------------------------------------------------------

def test_a_driver_takes_picks_up_and_delivers_and_a_planner_cancels_before_pick_up():
    state = tl.TRANSFER.initial
    for event in (tl.Event.TAKE, tl.Event.PICK_UP, tl.Event.DELIVER):
        state = tl.TRANSFER.apply(state, event, Who.DRIVER)
    assert state is TransferStatus.DELIVERED
    assert tl.TRANSFER.apply(TransferStatus.TAKEN, tl.Event.CANCEL, Who.PLACE_STAFF) \
        is TransferStatus.CANCELLED
    with pytest.raises(NotNow):
        tl.TRANSFER.apply(TransferStatus.PICKED_UP, tl.Event.CANCEL, Who.COORDINATOR)
    with pytest.raises(NotYours):
        tl.TRANSFER.apply(TransferStatus.PLANNED, tl.Event.TAKE, Who.PLACE_STAFF)
