"""The door for everyone's waiting list: nobody has the kind someone wants, they leave a first
name and are told once, with a button to reserve, when a device of that kind is ready."""

from __future__ import annotations

from flows.messages import UserKey
from flows.records import DeviceCategory
from tests.handlers.chain import (
    VEYNES,
    add_ready,
    place_id,
    ready_device,
    received_lot,
    rows,
    set_stock,
    value,
)
from tests.handlers.test_beneficiaries import run_job
from tests.handlers.test_handover import one_ready_laptop
from tests.support import Chat, Clock, texts

PASSERBY = "cli:passerby"


async def test_someone_waits_for_a_laptop_is_told_once_when_one_is_ready_and_reserves_it(
        chat: Chat):
    await set_stock(chat, "laptop", {})
    sent = await chat.say("passerby", choice="m:buy")
    assert any(cid == "buy:wt:laptop" for m in sent for cid, _label in m.choices)
    assert not any(cid == "buy:rs:laptop" for m in sent for cid, _label in m.choices)
    await chat.say("passerby", choice="buy:wt:laptop")
    sent = await chat.script("passerby", "J. D.", "06 12 34 56 78", "Confirmer")
    assert "Vous êtes sur la liste d'attente : Ordinateur portable" in texts(sent, PASSERBY)
    assert await rows(chat, "SELECT kind, first_name, contact FROM public_waitlist") == [
        ("laptop", "J. D.", "+33612345678")]
    # Someone else waits too, after: they are not told for the same device.
    await chat.say("other", choice="buy:wt:laptop")
    await chat.script("other", "Max", "Passer", "Confirmer")

    _lot, _ref, devices = await received_lot(chat, {DeviceCategory.LAPTOP: 2})
    sent = await ready_device(chat, devices[0][0])
    told = texts(sent, PASSERBY)
    assert "Bonne nouvelle : un appareil de type Ordinateur portable est disponible à " \
           "Centre de ressources de Veynes" in told
    veynes = await place_id(chat, VEYNES)
    [reserve] = [cid for m in sent if m.to == PASSERBY for cid, _label in m.choices]
    assert reserve == f"buy:ra:laptop:{veynes}"  # the place it names comes with the button
    assert "Bonne nouvelle" not in texts(sent, "cli:other")
    # Told once: their name and phone are gone.
    assert await rows(chat, "SELECT first_name FROM public_waitlist") == [("Max",)]

    # Reserving goes straight to the first name: the place is not asked again.
    sent = await chat.say("passerby", choice=reserve)
    told = texts(sent, PASSERBY)
    assert "Vous réservez : Ordinateur portable, à Centre de ressources de Veynes." in told
    assert "Votre prénom ou vos initiales ?" in told and "Dans quel lieu" not in told
    sent = await chat.script("passerby", "J. D.", "Passer")
    assert "Lieu : Centre de ressources de Veynes" in texts(sent, PASSERBY)  # the summary
    sent = await chat.say("passerby", "Confirmer")
    assert "C'est réservé : RES-0001" in texts(sent, PASSERBY)
    assert await rows(chat, "SELECT place_id, first_name FROM reservations") == [
        (veynes, "J. D.")]
    # The next device made ready tells the next person, not the first again.
    sent = await ready_device(chat, devices[1][0], serial="PF1ABC24")
    assert "Bonne nouvelle" not in texts(sent, PASSERBY)
    assert "Bonne nouvelle" in texts(sent, "cli:other")
    assert await value(chat, "SELECT count(*) FROM public_waitlist") == 0


async def test_someone_leaves_the_list_and_forget_me_removes_them(chat: Chat):
    await set_stock(chat, "laptop", {})
    await chat.say("passerby", choice="buy:wt:laptop")
    await chat.script("passerby", "Ana", "Passer", "Confirmer")
    sent = await chat.say("passerby", choice="m:buy")
    assert any(cid == "buy:lv:laptop" for m in sent for cid, _label in m.choices)
    sent = await chat.say("other", choice="buy:lv:laptop")  # only one's own entry
    assert "pas sur la liste" in texts(sent, "cli:other")
    sent = await chat.say("passerby", choice="buy:lv:laptop")
    assert "plus sur la liste d'attente" in texts(sent, PASSERBY)
    assert await value(chat, "SELECT count(*) FROM public_waitlist") == 0

    await chat.say("passerby", choice="buy:wt:laptop")
    await chat.script("passerby", "Ana", "Passer", "Confirmer")
    async with chat.app.storage.transaction() as uow:
        await uow.beneficiaries.forget(UserKey(PASSERBY))
    assert await value(chat, "SELECT count(*) FROM public_waitlist") == 0
    await one_ready_laptop(chat)  # nobody left to tell


async def test_nobody_stays_on_the_list_for_ever(chat: Chat, clock: Clock):
    await set_stock(chat, "laptop", {})
    await chat.say("passerby", choice="buy:wt:laptop")
    await chat.script("passerby", "Ana", "06 12 34 56 78", "Confirmer")
    clock.advance(days=180)
    await run_job(chat, "sale.lapse")
    assert await value(chat, "SELECT count(*) FROM public_waitlist") == 1
    clock.advance(days=4)
    await run_job(chat, "sale.lapse")
    assert await value(chat, "SELECT count(*) FROM public_waitlist") == 0


GAP = "Pôle de coordination départemental (Gap)"


async def told_of_veynes(chat: Chat) -> str:
    """The passer-by waits for a laptop; one is made ready at Veynes: the button they got."""
    await set_stock(chat, "laptop", {})
    await chat.say("passerby", choice="buy:wt:laptop")
    await chat.script("passerby", "J. D.", "Passer", "Confirmer")
    _lot, _ref, devices = await received_lot(chat, {DeviceCategory.LAPTOP: 1})
    sent = await ready_device(chat, devices[0][0])
    [reserve] = [cid for m in sent if m.to == PASSERBY for cid, _label in m.choices]
    return reserve


async def test_when_the_place_told_has_none_left_the_places_that_have_one_are_offered(
        chat: Chat):
    reserve = await told_of_veynes(chat)
    await chat.say("other", choice="buy:rs:laptop")  # someone quicker takes Veynes' laptop
    await chat.script("other", "Max", "Passer", "Confirmer")
    await add_ready(chat, GAP)
    sent = await chat.say("passerby", choice=reserve)
    told = texts(sent, PASSERBY)
    assert "Centre de ressources de Veynes n'a plus d'appareil de ce type." in told
    assert "D'autres lieux en ont." in told and "Votre prénom" not in told
    gap = await place_id(chat, GAP)
    assert [(cid, label) for m in sent for cid, label in m.choices] == [
        (f"buy:ra:laptop:{gap}", f"Réserver à {GAP}")]
    sent = await chat.say("passerby", choice=f"buy:ra:laptop:{gap}")
    assert "Votre prénom ou vos initiales ?" in texts(sent, PASSERBY)
    await chat.script("passerby", "J. D.", "Passer", "Confirmer")
    assert await rows(chat, "SELECT place_id, first_name FROM reservations ORDER BY id") == [
        (await place_id(chat, VEYNES), "Max"), (gap, "J. D.")]


async def test_when_no_place_has_one_left_the_waiting_list_is_offered_again(chat: Chat):
    reserve = await told_of_veynes(chat)
    await chat.say("other", choice="buy:rs:laptop")
    await chat.script("other", "Max", "Passer", "Confirmer")
    sent = await chat.say("passerby", choice=reserve)
    told = texts(sent, PASSERBY)
    assert "Centre de ressources de Veynes n'a plus d'appareil de ce type." in told
    assert "Plus aucun appareil de ce type n'est disponible." in told
    assert any(cid == "buy:wt:laptop" for m in sent for cid, _label in m.choices)
    assert await value(chat, "SELECT count(*) FROM reservations") == 1


async def waiting_behind_a_reservation(chat: Chat) -> None:
    """The only laptop is reserved by the passer-by; Max waits for one."""
    await set_stock(chat, "laptop", {VEYNES: 1})
    await chat.say("passerby", choice="buy:rs:laptop")
    await chat.script("passerby", "J. D.", "Passer", "Confirmer")
    await chat.say("max", choice="buy:wt:laptop")
    sent = await chat.script("max", "Max", "Passer", "Confirmer")
    assert "Vous êtes sur la liste d'attente" in texts(sent, "cli:max")


async def test_a_cancelled_reservation_goes_at_once_to_who_waits(chat: Chat):
    await waiting_behind_a_reservation(chat)
    sent = await chat.say("passerby", choice="buy:cx:1")
    assert "Votre réservation RES-0001 est annulée" in texts(sent, PASSERBY)
    assert "Bonne nouvelle : un appareil de type Ordinateur portable est disponible à " \
        f"{VEYNES}" in texts(sent, "cli:max")


async def test_a_lapsed_reservation_goes_at_once_to_who_waits(chat: Chat, clock: Clock):
    await waiting_behind_a_reservation(chat)
    clock.advance(days=3, minutes=1)
    sent = await run_job(chat, "sale.lapse")
    assert "Votre réservation RES-0001 est terminée" in texts(sent, PASSERBY)
    assert "Bonne nouvelle" in texts(sent, "cli:max")
