"""The donor told what became of their gift (``flows/impact.py``).

Once the last device of a lot is settled (handed over, spare parts, recycled), the donor gets
the impact report in the chat with a small PDF, and by e-mail too when they gave an address;
told once (``lots.impact_told_at``). "Mes dons" shows the report at any time, and gives the
receipt of the declaration again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flows import actions as act
from flows.impact import Impact, impact_of, impact_texts, settled
from flows.messages import Attachment
from flows.ports import UnitOfWork
from flows.records import Lot, LotId, PlaceId
from flows.territory import Territory
from flows.text import Msg, _
from handlers.certificates import NETWORK, Document, receipt_pdf
from handlers.mail import mail_impact_report
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

PDF = "application/pdf"


async def impact(uow: UnitOfWork, territory: Territory, lot: Lot) -> tuple[Impact, bool]:
    """What became of ``lot`` so far, and whether its story is complete."""
    devices = await uow.devices.of_lot(lot.id)
    names: dict[PlaceId | None, str] = {}
    for place_id in {d.place_id for d in devices}:
        place = await uow.places.get(place_id) if place_id is not None else None
        commune = territory.commune(place.commune) if place is not None else None
        epci = territory.epci(commune.epci) if commune is not None else None
        names[place_id] = epci.name if epci is not None else "?"
    return impact_of(devices, lambda place_id: names[place_id]), settled(lot, devices)


def impact_pdf(lot: Lot, texts: list[Msg], session: Session, now: datetime) -> Attachment:
    """The report as a one-page PDF the donor can keep or forward."""
    doc = Document(session.ctx.translate, now)
    doc.title(_("Ce qu'est devenu le don {ref}", ref=lot.reference))
    doc.para(NETWORK)
    for text in texts[1:]:
        doc.para(text)
    return Attachment(f"impact-{lot.reference}.pdf", PDF, doc.output())


async def tell_if_settled(session: Session, lot_id: LotId | None, *, mail: bool) -> None:
    """After a device of ``lot_id`` was settled: the donor's report, once the whole lot is."""
    if lot_id is None:
        return
    uow = session.uow
    lot = await uow.lots.get(lot_id)
    if lot is None:
        return
    found, complete = await impact(uow, session.ctx.territory, lot)
    if not complete or not await uow.lots.mark_impact_told(lot.id, session.now):
        return
    texts = impact_texts(lot, found)
    pdf = impact_pdf(lot, texts, session, session.now)
    by_mail = await mail_impact_report(uow, lot, pdf, session.now, enabled=mail)
    log.info("lot %s settled: impact report to its donor", lot.reference)
    if lot.donor is not None:
        session.send(lot.donor, [*texts, *([by_mail] if by_mail else [])], attachment=pdf)


async def show_impact(session: Session, action: act.DonorImpact) -> None:
    """The donor reads what became of their lot so far, with the PDF."""
    lot = await session.uow.lots.get(LotId(action.lot))
    assert lot is not None  # the router checked it is the donor's own
    found, _complete = await impact(session.uow, session.ctx.territory, lot)
    if not found.handed_total and not found.parts and not found.recycled:
        session.say(_("Les appareils du don {ref} sont en cours de reconditionnement : vous "
                      "saurez ici ce qu'ils deviennent.", ref=lot.reference))
        return
    texts = impact_texts(lot, found)
    session.send(session.user.key, texts, attachment=impact_pdf(lot, texts, session,
                                                                session.now))


async def send_receipt(session: Session, action: act.DonorReceipt) -> None:
    """The donor downloads the receipt of their declaration again."""
    uow = session.uow
    lot = await uow.lots.get(LotId(action.lot))
    assert lot is not None  # the router checked it is the donor's own
    place = await uow.places.get(lot.place_id) if lot.place_id is not None else None
    pdf = receipt_pdf(lot, place, session.ctx.territory, session.ctx.translate)
    session.send(session.user.key, [_("Voici le reçu du don {ref}.", ref=lot.reference)],
                 attachment=Attachment(f"recu-{lot.reference}.pdf", PDF, pdf))


def feature(env: Env) -> Feature:
    """What became of a donor's lots, and their receipts again."""
    return Feature(name="impact",
                   actions={act.DonorImpact: show_impact, act.DonorReceipt: send_receipt})


__all__ = ["feature", "impact", "tell_if_settled"]
