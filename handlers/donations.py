"""Donations: declare a lot, receive it, record its erasure, certify it, purge proofs at 5 years.

Donors need no approval: anyone may give. A donor sees only their own lots. Only reconditioner
staff record erasures and issue certificates; collection-point staff and coordinators may mark
a lot received. Every notice goes through the outbox in the transaction that causes it.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flows import actions as act
from flows import donation, erasure_record
from flows.action_codec import Scope, Target, Who
from flows.audit import AuditAction
from flows.devices import STATE_LABELS
from flows.donation import DeclareLot, bullet, receipt_texts, staff_notice
from flows.engine import Conversation, Ctx
from flows.erasure import (
    Blocker,
    MediumOutcome,
    certificate_blockers,
    retention_cutoff,
)
from flows.erasure_record import (
    RecordErasure,
    RecordErasures,
    csv_errors_text,
    record_lines,
)
from flows.lot_lifecycle import LOT
from flows.lot_lifecycle import Event as LotEvent
from flows.messages import Attachment, Choice
from flows.ports import Storage, UnitOfWork
from flows.records import Device, Lot, LotId, LotStatus, Place, PlaceId, PlaceKind, Role, User
from flows.territory import Territory
from flows.text import Day, Lines, Msg, _, _n, verbatim
from handlers import devices
from handlers.authorize import in_scope
from handlers.certificates import (
    certificate_pdf,
    latest_per_medium,
    receipt_pdf,
    signatory_of,
    verify_url,
)
from handlers.mail import mail_certificate, mail_receipt
from handlers.session import Env, Feature, Job, Session

log = logging.getLogger(__name__)

PDF = "application/pdf"
LIST_LIMIT = 10
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""Certificate codes avoid look-alike characters (0/O, 1/I/L)."""

STATUS_LABELS: dict[LotStatus, Msg] = {
    LotStatus.DECLARED: _("déclaré, en attente de dépôt ou d'enlèvement"),
    LotStatus.RECEIVED: _("reçu, effacement en cours"),
    LotStatus.CERTIFIED: _("effacé, certificat disponible"),
}

def blocker_text(blocker: Blocker, label: str) -> Msg:
    """Why a certificate cannot be issued yet, for one medium."""
    match blocker:
        case Blocker.FAILED_NOT_DESTROYED:
            return _("Le support {label} a échoué : le protocole promet sa destruction. "
                     "Enregistrez-la (méthode « Destruction physique ») avant le certificat.",
                     label=verbatim(label))
        case Blocker.FLASH_NOT_PURGED:
            return _("Le support flash {label} n'a été que réécrit : pour ce lot sensible, il "
                     "doit être purgé (effacement sécurisé, sanitize, cryptographique) ou "
                     "détruit.", label=verbatim(label))
    return _("Aucun effacement n'est encore enregistré pour ce lot.")


# --- Small helpers ---------------------------------------------------------------------------


def new_code() -> str:
    """A certificate verification code such as ``EFF-7K3M-Q9TX``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"EFF-{chars[:4]}-{chars[4:]}"


def normalize_code(text: str) -> str:
    """What someone typed as a certificate code, in the stored form (or "" if impossible)."""
    code = re.sub(r"[\s_]+", "", text.upper())[:20]
    if not code.startswith("EFF"):
        code = "EFF" + code
    code = code.replace("-", "")
    if not re.fullmatch(r"EFF[A-Z0-9]{8}", code):
        return ""
    return f"EFF-{code[3:7]}-{code[7:]}"


def is_reconditioner(user: User) -> bool:
    """Who may record erasures and issue certificates."""
    return user.role is Role.RECONDITIONER


def _pdf(name: str, data: bytes) -> Attachment:
    return Attachment(name, PDF, data)


def _lot_line(lot: Lot, ctx: Ctx) -> Msg:
    return bullet(_n("{ref} du {day} : {n} appareil, {status}",
                     "{ref} du {day} : {n} appareils, {status}", lot.total, ref=lot.reference,
                     day=Day(ctx.local(lot.created_at).date()),
                     status=STATUS_LABELS[lot.status]))


# --- Donor side ------------------------------------------------------------------------------


async def give_door(session: Session, action: act.GiveDoor) -> None:
    """The home "give" door: straight into a declaration, or a choice for returning donors."""
    if await session.uow.lots.for_donor(session.user.key, 1):
        session.say(_("Que voulez-vous faire ?"), choices=[
            Choice(act.NewDonation().pack(), _("Déclarer un nouveau don")),
            Choice(act.MyDonations().pack(), _("Mes dons / certificats")),
        ], action_menu=True)
        return
    await session.start_flow(donation.FLOW_NAME)


async def donation_facts(uow: UnitOfWork, user: User) -> Mapping[str, Any]:
    """What the declaration reads: the places, and the donor's commune to pick nearby ones."""
    saved = await uow.conversations.get(user.key)
    commune = None
    if saved is not None and saved.conversation.flow == donation.FLOW_NAME:
        commune = saved.conversation.answers.get(donation.S.COMMUNE)
    return {"places": await uow.places.all(), "commune": commune}


async def commune_facts(uow: UnitOfWork, user: User, facts: Mapping[str, Any],
                        conversation: Conversation) -> Mapping[str, Any] | None:
    """The commune just given, when the next question already reads it (the drop-off points
    near it come right after it)."""
    commune = conversation.answers.get(donation.S.COMMUNE)
    if commune == facts.get("commune"):
        return None
    return {**facts, "commune": commune}


async def erasure_facts(uow: UnitOfWork, user: User) -> Mapping[str, Any]:
    """The lot an erasure record belongs to, prefilled when the conversation started."""
    saved = await uow.conversations.get(user.key)
    if saved is None or saved.conversation.flow != erasure_record.FLOW_NAME:
        return {}
    answers = saved.conversation.answers
    return {key: answers[key] for key in (erasure_record.LOT_ID, erasure_record.LOT_REF)
            if key in answers}


async def declare(session: Session, effect: DeclareLot, *, mail: bool = False) -> None:
    """Store the lot, give the donor its reference and receipt (by e-mail too when they gave
    an address: ``handlers/mail.py``), tell who will receive it."""
    draft = effect.lot
    if draft.total == 0:
        session.say(_("Ce don ne compte aucun appareil : rien n'a été enregistré."))
        return
    uow, territory = session.uow, session.ctx.territory
    year = session.ctx.today.year
    workshop = nearest_workshop(await uow.places.all(), draft.place_id,
                                draft.pickup_commune or draft.commune,
                                territory)
    draft = replace(draft, workshop_id=workshop)
    lot = await uow.lots.create(draft, session.user.key, year, session.now)
    log.info("lot %s declared by %s (%s items)", lot.reference, session.user.key, lot.total)
    place = await uow.places.get(lot.place_id) if lot.place_id is not None else None
    receipt = _pdf(f"recu-{lot.reference}.pdf",
                   receipt_pdf(lot, place, territory, session.ctx.translate))
    by_mail = await mail_receipt(uow, lot, receipt, session.now, enabled=mail)
    session.send(session.user.key,
                 [*receipt_texts(lot, place, territory), *([by_mail] if by_mail else [])],
                 [Choice(act.MyDonations().pack(), _("Mes dons / certificats"))],
                 attachment=receipt, action_menu=True)
    staff = await uow.lots.staff_for(lot.place_id, lot.workshop_id)
    recipients = list(dict.fromkeys([
        *staff, *(session.coordinators if not staff or lot.place_id is None else ()),
    ]))
    notice = staff_notice(lot, place, territory)
    for key in recipients:
        if key != session.user.key:
            session.send(key, [notice], [Choice(act.SeeLot(lot.id).pack(),
                                                _("Voir le lot {ref}", ref=lot.reference))],
                         action_menu=True)
    if not recipients:
        log.warning("lot %s: nobody to notify", lot.reference)


async def my_donations(session: Session) -> None:
    """The donor's own lots, with their certificates when ready."""
    lots = await session.uow.lots.for_donor(session.user.key, LIST_LIMIT)
    if not lots:
        session.say(_("Vous n'avez pas encore déclaré de don."),
                    choices=[Choice(act.NewDonation().pack(), _("Déclarer un nouveau don"))],
                    action_menu=True)
        return
    choices = [
        Choice(act.DonorCertificate(lot.id).pack(), _("Certificat {ref}", ref=lot.reference))
        for lot in lots
        if lot.status is LotStatus.CERTIFIED and lot.proofs_purged_at is None
    ]
    choices += [Choice(act.DonorImpact(lot.id).pack(), _("Ce qu'est devenu {ref}",
                                                         ref=lot.reference))
                for lot in lots if lot.status is not LotStatus.DECLARED]
    choices += [Choice(act.NewDonation().pack(), _("Déclarer un nouveau don")),
                Choice(act.ForgetContact().pack(), _("Effacer mes coordonnées"))]
    choices += [Choice(act.DonorReceipt(lot.id).pack(), _("Reçu {ref}", ref=lot.reference))
                for lot in lots]
    lines = Lines(tuple(_lot_line(lot, session.ctx) for lot in lots))
    session.say(_("Vos dons :\n{lines}", lines=lines), choices=choices, action_menu=True)


async def send_certificate(session: Session, lot_id: LotId, *,
                           public_url: str | None = None) -> None:
    """The donor fetches a certificate again; another donor's lot looks like no lot at all."""
    uow = session.uow
    lot = await uow.lots.get(lot_id)
    assert lot is not None  # the router checked it is the donor's own
    if lot.proofs_purged_at is not None:
        session.say(_("Les preuves d'effacement du don {ref} ont été supprimées, 5 ans après "
                      "le certificat, comme prévu.", ref=lot.reference))
        return
    certificate = await uow.lots.certificate(lot.id)
    if certificate is None:
        session.say(_("Le certificat du don {ref} n'est pas encore prêt : vous le recevrez ici "
                      "dès que l'effacement est terminé.", ref=lot.reference))
        return
    records = await uow.lots.erasures(lot.id)
    pdf = certificate_pdf(lot, certificate, records, session.ctx.territory, session.ctx.translate,
                          session.ctx.tz, verify_url(public_url, certificate.code))
    session.send(session.user.key, [_("Voici le certificat d'effacement du don {ref} (code "
                                      "{code}).", ref=lot.reference, code=certificate.code)],
                 attachment=_pdf(f"certificat-{lot.reference}.pdf", pdf))


async def forget_contact(session: Session, confirmed: bool) -> None:
    """Blank the donor's contact name and phone or e-mail on their lots (asked once more)."""
    if not confirmed:
        session.say(_("Effacer votre nom et votre téléphone ou e-mail de tous vos dons ? Les "
                      "certificats restent disponibles."),
                    choices=[Choice(act.ForgetContactYes().pack(),
                                    _("Oui, effacer mes coordonnées")),
                             Choice(act.MyDonations().pack(), _("Non, revenir à mes dons"))],
                    action_menu=True)
        return
    count = await session.uow.lots.forget_contact(session.user.key)
    await session.uow.mail.drop_for_donor(session.user.key)  # no e-mail to an erased address
    await session.uow.audit.record(None, AuditAction.DATA_DELETED, "donor contact", session.now,
                                   f"lots: {count}")
    log.info("donor %s erased their contact data (%s lots)", session.user.key, count)
    session.say(_("C'est fait : vos coordonnées sont effacées de vos dons."))


# --- Staff side ------------------------------------------------------------------------------


async def open_lots(session: Session, action: act.OpenLots) -> None:
    """Lots not certified yet, of the person's place or workshop (every place's for the
    coordination)."""
    user = session.user
    if not user.is_coordinator and user.place_id is None:
        session.say(_("Votre compte n'est rattaché à aucun lieu. Demandez à la coordination de "
                      "le faire."))
        return
    place = None if user.is_coordinator else user.place_id
    lots = await session.uow.lots.open_lots(place, LIST_LIMIT)
    if not lots:
        session.say(_("Aucun lot en attente."))
        return
    session.say(
        _("Lots à traiter :\n{lines}",
          lines=Lines(tuple(_lot_line(lot, session.ctx) for lot in lots))),
        choices=[Choice(act.SeeLot(lot.id).pack(), _("Voir le lot {ref}", ref=lot.reference))
                 for lot in lots],
        action_menu=True,
    )


async def show_lot(session: Session, lot: Lot) -> None:
    """One lot for the staff: what it holds, its protocol, its records, what to do next."""
    records = await session.uow.lots.erasures(lot.id)
    place = await session.uow.places.get(lot.place_id) if lot.place_id is not None else None
    texts = [staff_notice(lot, place, session.ctx.territory),
             _("Statut : {status}. Supports enregistrés : {count}.",
               status=STATUS_LABELS[lot.status], count=len(latest_per_medium(records)))]
    choices: list[Choice] = []
    if LOT.can(lot.status, LotEvent.RECEIVE):
        choices.append(Choice(act.ReceiveLot(lot.id).pack(), _("Marquer comme reçu")))
    workshop = await session.uow.places.get(lot.workshop_id) if lot.workshop_id else None
    texts.append(_("Atelier d'effacement : {place}.", place=verbatim(workshop.name))
                 if workshop else _("Atelier d'effacement : aucun pour l'instant."))
    if LOT.can(lot.status, LotEvent.REGISTER):
        choices.append(Choice(act.LotDevices(lot.id).pack(), _("Appareils et étiquettes")))
    if LOT.can(lot.status, LotEvent.ASSIGN) and (
            session.user.is_coordinator or session.user.role is Role.PLACE_STAFF):
        choices.append(Choice(act.ChooseWorkshop(lot.id).pack(), _("Confier à un atelier")))
    if LOT.can(lot.status, LotEvent.ERASE) and is_reconditioner(session.user) \
            and session.user.place_id == lot.workshop_id:
        choices += [Choice(act.RecordErasure(lot.id).pack(), _("Enregistrer un effacement")),
                    Choice(act.Certify(lot.id).pack(), _("Produire le certificat"))]
        texts.append(_("Plusieurs supports d'un coup : envoyez /effacements puis collez le "
                       "fichier CSV (par exemple l'export de vos rapports nwipe)."))
    session.say(*texts, choices=choices, action_menu=True)


async def mark_received(session: Session, lot: Lot) -> None:
    """The lot arrived: the donor is told."""
    if not await session.uow.lots.mark_received(lot.id, session.now):
        session.say(_("Le lot {ref} est déjà marqué comme reçu.", ref=lot.reference))
        return
    log.info("lot %s received, marked by %s", lot.reference, session.user.key)
    session.say(_("Lot {ref} marqué comme reçu. Le donateur est prévenu.", ref=lot.reference),
                _("Enregistrez maintenant ses appareils : chacun reçoit une étiquette à coller, "
                  "pour le suivre jusqu'à la personne qui le recevra."),
                choices=devices.registration_menu(lot), action_menu=True)
    if lot.donor is not None:
        session.send(lot.donor, [_("Votre don {ref} est bien arrivé. Merci ! Vous recevrez le "
                                   "certificat d'effacement dès que les données seront "
                                   "effacées.", ref=lot.reference)])


async def certify(session: Session, lot: Lot, *, public_url: str | None = None,
                  mail: bool = False) -> None:
    """Issue the lot's certificate once every medium is done; the donor gets the PDF (by
    e-mail too when they gave an address)."""
    uow = session.uow
    if not LOT.can(lot.status, LotEvent.CERTIFY):
        session.say(_("Le lot {ref} n'est pas encore marqué comme reçu : pas de certificat pour "
                      "un lot que le réseau n'a pas eu entre les mains.", ref=lot.reference))
        return
    records = await uow.lots.erasures(lot.id)
    media = [MediumOutcome(r.medium_serial or r.device_serial, r.medium_kind, r.method, r.result)
             for r in latest_per_medium(records)]
    blockers = certificate_blockers(lot.measures, media)
    if blockers:
        session.say(_("Le certificat du lot {ref} ne peut pas encore être produit :",
                      ref=lot.reference),
                    *(blocker_text(b, label) for b, label in blockers),
                    choices=[Choice(act.RecordErasure(lot.id).pack(),
                                    _("Enregistrer un effacement"))],
                    action_menu=True)
        return
    code = new_code()
    while await uow.lots.certificate_by_code(code) is not None:
        code = new_code()
    if not await uow.lots.issue_certificate(lot.id, code, session.user.key, session.now,
                                            signatory=await signatory_of(uow, session.user)):
        session.say(_("Le lot {ref} est déjà certifié.", ref=lot.reference))
        return
    await uow.audit.record(session.user.key, AuditAction.CERTIFICATE_ISSUED, lot.reference,
                           session.now, code)
    certificate = await uow.lots.certificate(lot.id)
    certified = await uow.lots.get(lot.id)
    assert certificate is not None and certified is not None
    log.info("lot %s certified by %s (%s media)", lot.reference, session.user.key,
             certificate.media)
    session.say(_n("Certificat {code} produit pour le lot {ref} ({n} support). Le donateur "
                   "le reçoit.", "Certificat {code} produit pour le lot {ref} ({n} supports). "
                   "Le donateur le reçoit.", certificate.media, code=code, ref=lot.reference))
    if certified.donor is not None:
        check_url = verify_url(public_url, code)
        pdf = _pdf(f"certificat-{lot.reference}.pdf",
                   certificate_pdf(certified, certificate, records, session.ctx.territory,
                                   session.ctx.translate, session.ctx.tz, check_url))
        by_mail = await mail_certificate(uow, certified, code, check_url, pdf, session.now,
                                         enabled=mail)
        session.send(certified.donor,
                     [_("Les données de votre don {ref} sont effacées. Voici le certificat "
                        "d'effacement (code {code}) ; il reste disponible 5 ans dans « Mes "
                        "dons / certificats ».", ref=lot.reference, code=code),
                      *([by_mail] if by_mail else [])],
                     [Choice(act.MyDonations().pack(), _("Mes dons / certificats"))],
                     attachment=pdf, action_menu=True)


async def record(session: Session, effect: RecordErasure) -> None:
    """Store one medium's record, after checking who records it and on which lot."""
    if not is_reconditioner(session.user):
        log.warning("%s tried to record an erasure", session.user.key)
        session.say(_("Seul le personnel d'un reconditionneur peut enregistrer un effacement."))
        return
    uow = session.uow
    lot = await uow.lots.get(effect.lot_id)
    if lot is None or not LOT.can(lot.status, LotEvent.ERASE) \
            or not await my_workshop(session, lot):
        session.say(_("Ce lot n'est pas à traiter par votre atelier, n'est pas encore reçu ou "
                      "est déjà certifié : rien n'a été enregistré."))
        return
    elsewhere = await uow.lots.lot_of_device(effect.record.device_serial)
    if elsewhere is not None and elsewhere != lot.id:
        other = await uow.lots.get(elsewhere)
        session.say(_("L'appareil n° {serial} est déjà enregistré dans le lot {other} : rien "
                      "n'a été enregistré pour {ref}. Vérifiez le numéro de série ou le lot.",
                      serial=verbatim(effect.record.device_serial),
                      other=other.reference if other else "?", ref=lot.reference))
        return
    device = await devices.device_for_erasure(session, lot, effect.record.device_serial,
                                              effect.device_id)
    if isinstance(device, Msg):
        session.say(device)
        return
    stored = await uow.lots.add_erasure(lot.id, effect.record, session.user.key, session.now,
                                        signatory=await signatory_of(uow, session.user),
                                        device_id=device.id if device else None)
    await uow.audit.record(session.user.key, AuditAction.ERASURE_RECORDED, lot.reference,
                           session.now, f"record {stored.id}")
    log.info("erasure record %s for lot %s by %s", stored.id, lot.reference, session.user.key)
    count = len(latest_per_medium(await uow.lots.erasures(lot.id)))
    texts = [_n("Effacement enregistré ({n} support pour ce lot) :\n{lines}",
                "Effacement enregistré ({n} supports pour ce lot) :\n{lines}", count,
                lines=record_lines(stored, lot.reference))]
    choices = [Choice(act.RecordErasure(lot.id).pack(), _("Enregistrer le support suivant")),
               Choice(act.Certify(lot.id).pack(),
                      _("C'était le dernier : produire le certificat"))]
    if device is not None:
        device = await devices.erased(session, device, stored.result)
        texts.append(_("Appareil {label} : {state}.", label=verbatim(device.label),
                       state=STATE_LABELS[device.state]))
        choices.insert(0, Choice(act.WipeDevice(device.id).pack(),
                                 _("Autre support de {label}", label=verbatim(device.label))))
    session.say(*texts, choices=choices, action_menu=True)


async def record_many(session: Session, effect: RecordErasures) -> None:
    """Store every row of a checked CSV, or none: a proof file is all right or all refused."""
    if not is_reconditioner(session.user):
        session.say(_("Seul le personnel d'un reconditionneur peut enregistrer un effacement."))
        return
    uow = session.uow
    lots: dict[str, Lot | None] = {}
    owner: dict[str, LotId] = {}
    errors: list[tuple[int, Msg]] = []
    for row in effect.rows:
        if row.lot_ref not in lots:
            lots[row.lot_ref] = await uow.lots.by_reference(row.lot_ref)
        lot = lots[row.lot_ref]
        if lot is None or not LOT.can(lot.status, LotEvent.ERASE) \
                or not await my_workshop(session, lot):
            errors.append((row.line, _("le lot {ref} n'est pas à traiter par votre atelier, "
                                       "n'est pas encore reçu ou est déjà certifié.",
                                       ref=row.lot_ref)))
            continue
        serial = row.record.device_serial
        if serial not in owner:
            owner[serial] = await uow.lots.lot_of_device(serial) or lot.id
        if owner[serial] != lot.id:
            errors.append((row.line, _("l'appareil n° {serial} appartient à un autre lot.",
                                       serial=verbatim(serial))))
    if errors:
        session.say(csv_errors_text(errors))
        return
    done: dict[str, Lot] = {}
    signatory = await signatory_of(uow, session.user)
    for row in effect.rows:
        lot = lots[row.lot_ref]
        assert lot is not None
        device = await devices.device_for_erasure(session, lot, row.record.device_serial, None)
        chain = device if isinstance(device, Device) else None
        stored = await uow.lots.add_erasure(lot.id, row.record, session.user.key, session.now,
                                            signatory=signatory,
                                            device_id=chain.id if chain else None)
        if chain is not None:
            await devices.erased(session, chain, stored.result)
        await uow.audit.record(session.user.key, AuditAction.ERASURE_RECORDED, lot.reference,
                               session.now, f"record {stored.id}")
        done[lot.reference] = lot
    log.info("%s erasure records from a CSV by %s", len(effect.rows), session.user.key)
    session.say(_n("{n} effacement enregistré : {lots}.", "{n} effacements enregistrés : {lots}.",
                   len(effect.rows), lots=", ".join(done)),
                choices=[Choice(act.SeeLot(lot.id).pack(), _("Voir le lot {ref}", ref=ref))
                         for ref, lot in done.items()],
                action_menu=True)


# --- Anyone ----------------------------------------------------------------------------------


async def verify(session: Session, text: str) -> None:
    """Check a certificate's code: anyone may, and learns nothing personal."""
    _word, _sep, rest = text.strip().partition(" ")
    code = normalize_code(rest)
    if not rest.strip():
        session.say(_("Écrivez « /verifier » suivi du code du certificat, par exemple "
                      "/verifier EFF-7K3M-Q9TX."))
        return
    certificate = await session.uow.lots.certificate_by_code(code) if code else None
    if certificate is None:
        session.say(_("Aucun certificat ne porte ce code. Vérifiez-le : il figure sur le "
                      "certificat, à côté de « Code de vérification »."))
        return
    session.say(_n("Certificat authentique : lot {ref}, délivré le {day} par le réseau, "
                   "{n} support de stockage effacé ou détruit.",
                   "Certificat authentique : lot {ref}, délivré le {day} par le réseau, "
                   "{n} supports de stockage effacés ou détruits.", certificate.media,
                   ref=certificate.reference,
                   day=Day(session.ctx.local(certificate.issued_at).date())))


# --- Retention -------------------------------------------------------------------------------


async def purge_erasure_proofs(storage: Storage, now: datetime) -> int:
    """Delete erasure records and certificates older than 5 years (GDPR, DOMAIN.md); blank
    the serial numbers of their devices and who made reconditioning records that old."""
    async with storage.transaction() as uow:
        removed = await uow.lots.purge_proofs(retention_cutoff(now), now)
        removed += await uow.devices.purge(retention_cutoff(now))
        if removed:
            await uow.audit.record(None, AuditAction.DATA_DELETED, "erasure proofs", now,
                                   f"older than 5 years: {removed}")
    if removed:
        log.info("retention: %s erasure proofs older than 5 years purged", removed)
    return removed


PURGE_JOB = Job(name="donations.purge_erasure_proofs", every=timedelta(hours=24),
                run=purge_erasure_proofs)


# --- The feature -----------------------------------------------------------------------------


async def my_workshop(session: Session, lot: Lot) -> bool:
    """Whether a reconditioner's workshop may erase ``lot`` (dropped at or sent to it)."""
    return await in_scope(session, Who.RECONDITIONER, Scope.LOT, Target.LOT, lot.id)


def nearest_workshop(places: Sequence[Place], drop_off: PlaceId | None, commune: str | None,
                     territory: Territory) -> PlaceId | None:
    """The reconditioning workshop a new lot goes to: its drop-off place if that is one,
    else one in the same commune, then the same intercommunality, then the network's first."""
    workshops = [p for p in places if p.kind is PlaceKind.RECONDITIONER]
    if not workshops:
        return None
    if drop_off is not None and any(w.id == drop_off for w in workshops):
        return drop_off
    dropped = next((p for p in places if p.id == drop_off), None)
    near = dropped.commune if dropped else commune
    here = territory.commune(near) if near else None

    def distance(workshop: Place) -> tuple[int, int]:
        if workshop.commune == near:
            return 0, workshop.id
        there = territory.commune(workshop.commune)
        same_epci = here is not None and there is not None and here.epci == there.epci
        return (1 if same_epci else 2), workshop.id

    return min(workshops, key=distance).id


async def new_donation(session: Session, action: act.NewDonation) -> None:
    await session.start_flow(donation.FLOW_NAME)


async def my_donations_action(session: Session, action: act.MyDonations) -> None:
    await my_donations(session)


async def forget_action(session: Session, action: act.ForgetContact | act.ForgetContactYes
                        ) -> None:
    await forget_contact(session, confirmed=isinstance(action, act.ForgetContactYes))


async def certificate_action(session: Session, action: act.DonorCertificate, *,
                             public_url: str | None = None) -> None:
    await send_certificate(session, LotId(action.lot), public_url=public_url)


async def on_lot(session: Session, action: Any, *, public_url: str | None = None,
                 mail: bool = False) -> None:
    """A staff button on one lot, which the router checked is the presser's to act on."""
    lot = await session.uow.lots.get(LotId(action.lot))
    assert lot is not None
    match action:
        case act.SeeLot():
            await show_lot(session, lot)
        case act.ReceiveLot():
            await mark_received(session, lot)
        case act.ChooseWorkshop():
            await choose_workshop(session, lot)
        case act.AssignWorkshop(workshop=workshop):
            await assign_workshop(session, lot, PlaceId(workshop))
        case _ if lot.status is LotStatus.CERTIFIED:
            session.say(_("Le lot {ref} est déjà certifié.", ref=lot.reference))
        case _ if lot.status is LotStatus.DECLARED:
            session.say(_("Le lot {ref} n'est pas encore marqué comme reçu : marquez-le reçu "
                          "quand il arrive, puis enregistrez les effacements.",
                          ref=lot.reference))
        case act.RecordErasure():
            await session.start_flow(erasure_record.FLOW_NAME, erasure_record.prefill(
                lot.id, lot.reference, lot.donor_name))
        case act.Certify():
            await certify(session, lot, public_url=public_url, mail=mail)


async def choose_workshop(session: Session, lot: Lot) -> None:
    if not LOT.can(lot.status, LotEvent.ASSIGN):
        session.say(_("Le lot {ref} est déjà certifié.", ref=lot.reference))
        return
    workshops = [p for p in await session.uow.places.all()
                 if p.kind is PlaceKind.RECONDITIONER]
    if not workshops:
        session.say(_("Le réseau n'a aucun atelier de reconditionnement enregistré."))
        return
    session.say(_("À quel atelier confier le lot {ref} ?", ref=lot.reference),
                choices=[Choice(act.AssignWorkshop(lot.id, w.id).pack(), verbatim(w.name))
                         for w in workshops], action_menu=True)


async def assign_workshop(session: Session, lot: Lot, workshop_id: PlaceId) -> None:
    """The lot goes to another workshop, whose reconditioners are told."""
    uow = session.uow
    workshop = await uow.places.get(workshop_id)
    if workshop is None or workshop.kind is not PlaceKind.RECONDITIONER:
        session.say(_("Cet atelier n'existe plus."))
        return
    if not await uow.lots.send_to(lot.id, workshop.id):
        session.say(_("Le lot {ref} est déjà certifié.", ref=lot.reference))
        return
    await uow.audit.record(session.user.key, AuditAction.LOT_SENT, lot.reference, session.now,
                           f"workshop {workshop.id}")
    log.info("lot %s sent to workshop %s by %s", lot.reference, workshop.id, session.user.key)
    session.say(_("Le lot {ref} est confié à : {place}.", ref=lot.reference,
                  place=verbatim(workshop.name)))
    for key in await uow.lots.staff_for(None, workshop.id):
        if key != session.user.key:
            session.send(key, [_("Le lot {ref} est confié à votre atelier.", ref=lot.reference)],
                         [Choice(act.SeeLot(lot.id).pack(),
                                 _("Voir le lot {ref}", ref=lot.reference))],
                         action_menu=True)


def feature(env: Env) -> Feature:
    """Donations: declaring lots, their erasure and certificates, and checking a code."""

    async def command_donations(session: Session, text: str) -> None:
        await my_donations(session)

    async def command_bulk(session: Session, text: str) -> None:
        await session.start_flow(erasure_record.BULK_FLOW_NAME)

    return Feature(
        name="donations",
        flows=[donation.FLOW, erasure_record.FLOW, erasure_record.BULK_FLOW,
               erasure_record.DEVICE_FLOW, erasure_record.NEW_SERIAL_FLOW],
        actions={act.NewDonation: new_donation, act.MyDonations: my_donations_action,
                 act.ForgetContact: forget_action, act.ForgetContactYes: forget_action,
                 act.DonorCertificate: partial(certificate_action, public_url=env.public_url),
                 act.OpenLots: open_lots, act.GiveDoor: give_door,
                 **{kind: partial(on_lot, public_url=env.public_url, mail=env.mail)
                    for kind in (act.SeeLot, act.ReceiveLot, act.RecordErasure, act.Certify,
                                 act.ChooseWorkshop, act.AssignWorkshop)}},
        effects={DeclareLot: partial(declare, mail=env.mail), RecordErasure: record,
                 RecordErasures: record_many},
        commands={"verify": verify, "donations": command_donations, "erasures": command_bulk},
        facts={donation.FLOW_NAME: donation_facts, erasure_record.FLOW_NAME: erasure_facts},
        more_facts={donation.FLOW_NAME: commune_facts},
        jobs=[PURGE_JOB],
    )

