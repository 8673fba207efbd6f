"""The public's reservations in the audit log: made, cancelled, lapsed and sold each leave an
entry coordinators can read, with the reservation's number, the kind and the place, never the
person's first name, phone or chat."""

from __future__ import annotations

from tests.handlers.chain import STAFF, rows
from tests.handlers.test_beneficiaries import join, make_staff, run_job
from tests.handlers.test_handover import one_ready_laptop
from tests.support import Chat, Clock, texts

VEYNES = "Centre de ressources de Veynes"


async def reserved(chat: Chat, who: str = "passerby") -> None:
    await chat.say(who, choice="buy:rs:laptop")
    sent = await chat.script(who, "J. D.", "06 12 34 56 78", "Confirmer")
    assert "C'est réservé : RES-0001" in texts(sent, f"cli:{who}")


async def entries(chat: Chat) -> list[tuple[str, str | None, str, str]]:
    found = await rows(chat, "SELECT action, actor, subject, detail FROM audit_log"
                             " WHERE action LIKE 'reservation.%' ORDER BY id")
    for _action, actor, _subject, detail in found:
        assert "J. D." not in detail and "0612345678" not in detail
        assert "612345678" not in detail and actor != "cli:passerby"
    return found


async def test_a_reservation_made_then_cancelled_by_its_maker_is_in_the_audit_log(
        chat: Chat):
    await one_ready_laptop(chat)
    await reserved(chat)
    assert await entries(chat) == [("reservation.made", None, "RES-0001", f"laptop, {VEYNES}")]
    sent = await chat.say("other", choice="buy:cx:1")  # not theirs to cancel
    assert "n'existe pas ou n'est plus en cours" in texts(sent, "cli:other")
    sent = await chat.say("passerby", choice="buy:cx:1")
    assert "Votre réservation RES-0001 est annulée" in texts(sent, "cli:passerby")
    assert "RES-0001 est annulée par la personne" in texts(sent, f"cli:{STAFF}")
    assert await rows(chat, "SELECT status, first_name, contact, user_key"
                            " FROM reservations") == [("lapsed", None, None, None)]
    assert (await entries(chat))[1:] == [
        ("reservation.cancelled", None, "RES-0001", f"laptop, {VEYNES}")]
    sent = await chat.say("passerby", choice="buy:cx:1")  # twice: nothing more happens
    assert "n'est plus en cours" in texts(sent, "cli:passerby")
    assert len(await entries(chat)) == 2
    sent = await chat.say("other", choice="m:buy")  # the device is on sale again
    assert "Disponible maintenant : CC Buëch-Dévoluy (1)" in texts(sent, "cli:other")
    sent = await chat.say("coord", choice="co:aud")
    assert "réservation du public annulée, RES-0001" in texts(sent, "cli:coord")


async def test_a_lapsed_reservation_is_in_the_audit_log(chat: Chat, clock: Clock):
    await one_ready_laptop(chat)
    await reserved(chat)
    clock.advance(days=3, minutes=1)
    await run_job(chat, "sale.lapse")
    assert (await entries(chat))[1:] == [
        ("reservation.lapsed", None, "RES-0001", f"laptop, {VEYNES}")]


async def test_a_sold_reservation_is_in_the_audit_log_with_the_device_and_receipt(
        chat: Chat):
    _device, label = await one_ready_laptop(chat)
    await reserved(chat)
    await chat.say(STAFF, choice="buy:sold:1")
    sent = await chat.script(STAFF, label, "3", "90", "Confirmer")
    assert "Vente enregistrée : REC-2026-0001" in texts(sent, STAFF)
    assert (await entries(chat))[1:] == [
        ("reservation.sold", f"cli:{STAFF}", "RES-0001",
         f"laptop, {VEYNES}, {label}, REC-2026-0001")]


async def test_forget_me_cancels_a_held_reservation_in_the_audit_log(chat: Chat):
    await one_ready_laptop(chat)
    await make_staff(chat)
    await join(chat, "lea")
    await reserved(chat, "lea")
    sent = await chat.say("lea", choice="bn:fg:ok")
    assert await rows(chat, "SELECT status, user_key FROM reservations") == [
        ("lapsed", None)]
    # Nobody will come for it: the place is told, as when the person cancels it.
    assert "La réservation RES-0001 est annulée par la personne" in texts(sent, STAFF)
    assert (await entries(chat))[1:] == [
        ("reservation.cancelled", None, "RES-0001", f"laptop, {VEYNES}")]
