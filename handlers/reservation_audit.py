"""The public's reservations in the audit log when they end without a sale.

A reservation made, sold, lapsed or cancelled each leaves an entry (``flows.audit``), named
by its number, kind and place: never by the person's first name, phone or chat. This small
module is shared by the door (``handlers.public_sale``) and by "forget me"
(``handlers.bookings``, ``handlers.beneficiary_jobs``), which ends the person's
reservations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows import public_sale as ps
from flows.audit import AuditAction
from flows.messages import UserKey
from flows.ports import UnitOfWork
from flows.records import PlaceId


async def audit_ended(uow: UnitOfWork, ended: Sequence[ps.Reservation],
                      action: AuditAction, now: datetime) -> None:
    """One audit entry per reservation ended without a sale, by nobody the log names (the
    system, or the person themselves)."""
    names = {p.id: p.name for p in await uow.places.all()} if ended else {}
    for reservation in ended:
        await uow.audit.record(None, action, reservation.reference, now,
                               ps.audit_detail(reservation,
                                               names.get(PlaceId(reservation.place_id), "")))


async def forgetting(uow: UnitOfWork, key: UserKey, now: datetime) -> None:
    """Before "forget me" ends the person's held reservations: each one's cancellation in
    the audit log (the device goes back on sale)."""
    await audit_ended(uow, await uow.reservations.held_by(key),
                      AuditAction.RESERVATION_CANCELLED, now)
