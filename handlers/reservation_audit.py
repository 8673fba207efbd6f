"""The public's reservations when they end without a sale: the audit log, the place told.

A reservation made, sold, lapsed or cancelled each leaves an entry (``flows.audit``), named
by its number, kind and place: never by the person's first name, phone or chat. A cancelled
one is told to the place's staff, who would otherwise wait for someone. This small module
is shared by the door (``handlers.public_sale``) and by "forget me" (``handlers.bookings``,
``handlers.beneficiary_jobs``), which ends the person's reservations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows import actions as act
from flows import public_sale as ps
from flows.audit import AuditAction
from flows.messages import Choice, UserKey
from flows.ports import UnitOfWork
from flows.records import PlaceId
from flows.text import _, verbatim
from handlers.session import Sender


async def audit_ended(uow: UnitOfWork, ended: Sequence[ps.Reservation],
                      action: AuditAction, now: datetime) -> None:
    """One audit entry per reservation ended without a sale, by nobody the log names (the
    system, or the person themselves)."""
    names = {p.id: p.name for p in await uow.places.all()} if ended else {}
    for reservation in ended:
        await uow.audit.record(None, action, reservation.reference, now,
                               ps.audit_detail(reservation,
                                               names.get(PlaceId(reservation.place_id), "")))


async def tell_staff_cancelled(out: Sender, uow: UnitOfWork,
                               reservation: ps.Reservation) -> None:
    """The place's staff: nobody will come for this reservation; the device is on sale."""
    for member in await uow.requests.place_staff(PlaceId(reservation.place_id)):
        out.send(member, [_("La réservation {ref} est annulée par la personne : "
                            "l'appareil est de nouveau en vente.",
                            ref=verbatim(reservation.reference))],
                 [Choice(act.PlaceReservations().pack(), _("Réservations du lieu"))],
                 action_menu=True)


async def forgetting(uow: UnitOfWork, key: UserKey, now: datetime,
                     out: Sender | None = None) -> None:
    """Before "forget me" ends the person's held reservations: each one's cancellation in
    the audit log (the device goes back on sale), and told to the place when the person
    asked it now (``out``; the retention job's people hold none: reservations lapse in
    days)."""
    held = await uow.reservations.held_by(key)
    await audit_ended(uow, held, AuditAction.RESERVATION_CANCELLED, now)
    if out is not None:
        for reservation in held:
            await tell_staff_cancelled(out, uow, reservation)
