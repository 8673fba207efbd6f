"""The handover that opens the follow-up: staff pick the device, and the kit goes with it.

After the getting-started session is confirmed (``handlers/requests.py``), staff say which
device they hand over: its sticker scanned, its label typed, or one of their place's ready
devices of the request's kind. The device is linked to the request and to the after-donation
join code created at that moment (the beneficiary who joins with it carries it as their
pseudonymous ``ref``), and the staff get the handover kit to print: the QR code to join, the
place's next workshops, the help places near the person (national directory), the booklet
and the warranty. The separate "create a code" stays for people who got a device elsewhere.
Following the device ends here: nothing records how the person uses it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from flows import actions as act
from flows import handover as ho
from flows import request as rq
from flows.action_codec import Scope, Target, Who
from flows.audit import AuditAction
from flows.beneficiary import BeneficiaryConfig
from flows.device_lifecycle import DEVICE
from flows.device_lifecycle import Event as DeviceEvent
from flows.devices import (
    BATTERY_LABELS,
    GRADE_MEANINGS,
    STATE_LABELS,
    device_name,
)
from flows.engine import Conversation
from flows.handover import HandOver
from flows.joincode import printed, telegram_link
from flows.lifecycle import Refused
from flows.mednum import MediationPlace
from flows.messages import Attachment, Choice
from flows.ports import UnitOfWork
from flows.records import (
    Device,
    EquipmentRequest,
    Place,
    RequestId,
    User,
    Workshop,
)
from flows.request_lifecycle import REQUEST, expected
from flows.request_lifecycle import Event as RequestEvent
from flows.text import Day, Msg, When, _, verbatim
from flows.warranty import warranty_end
from flows.workshops import topic_label
from handlers import impact
from handlers.authorize import in_scope
from handlers.certificates import NETWORK, Document
from handlers.place_tools import draw_code
from handlers.session import Env, Feature, Session
from handlers.sms_people import register_choice

log = logging.getLogger(__name__)

WORKSHOPS_SHOWN = 5
HELP_PLACES_SHOWN = 5


async def start(session: Session, request: EquipmentRequest) -> None:
    """Ask which device is handed over, once the session is confirmed."""
    assert request.place_id is not None and request.kind
    if not await session.uow.devices.ready_at(request.place_id, request.kind, 1):
        session.say(_("Aucun appareil prêt de ce type n'est enregistré à votre lieu : un "
                      "appareil rejoint le stock quand son atelier enregistre qu'il "
                      "fonctionne et qu'il est effacé. Rien n'a été enregistré."),
                    choices=[Choice(act.PlaceStock().pack(), _("Stock du lieu"))],
                    action_menu=True)
        return
    await session.start_flow(ho.FLOW_NAME, ho.prefill(request.id, request.reference))


async def ready_devices(uow: UnitOfWork, user: User, facts: Mapping[str, Any],
                        conversation: Conversation) -> Mapping[str, Any] | None:
    """The ready devices of the request's kind at its place, offered as buttons (read for
    the question, the conversation being asked: at its start it is not saved yet)."""
    if "ready" in facts:
        return None
    request = await uow.requests.get(RequestId(int(conversation.answers[ho.REQUEST_ID])))
    if request is None or request.place_id is None:
        return {**facts, "ready": []}
    ready = await uow.devices.ready_at(request.place_id, request.kind, ho.SHOWN)
    return {**facts, "ready": [(d.label, _offer(d)) for d in ready]}


def _offer(device: Device) -> str:
    """A device as a button: its label, model and grade (the label is what is typed)."""
    grade = f" ({device.grade.value})" if device.grade else ""
    return f"{device.label} {device.model}{grade}".strip()


async def on_hand_over(session: Session, effect: HandOver, *, config: BeneficiaryConfig,
                       warranty_months: int, mail: bool = False) -> None:
    await hand_over(session, effect.request_id, effect.label, config=config,
                    warranty_months=warranty_months, mail=mail)


async def hand_over(session: Session, request_id: RequestId, label: str, *,
                    config: BeneficiaryConfig, warranty_months: int,
                    mail: bool = False) -> None:
    """Hand ``label`` over for the request: the device, the request and a new join code are
    linked, and the kit goes to the staff to print; the donor is told when it was the last
    device of their lot to settle (``handlers/impact.py``)."""
    uow = session.uow
    request = await uow.requests.get(request_id)
    if request is None or not await in_scope(session, Who.PLACE_STAFF, Scope.PLACE,
                                             Target.REQUEST, request.id):
        session.say(_("Cette demande n'est pas (ou plus) à remettre par votre lieu : rien n'a "
                      "été enregistré."))
        return
    try:
        status = REQUEST.apply(request.status, RequestEvent.HAND_OVER, Who.PLACE_STAFF)
    except Refused:
        session.say(_already(request))
        return
    assert request.place_id is not None
    device = await uow.devices.by_label(label)
    problem = _unfit(device, request, label)
    if problem is not None or device is None:
        session.say(problem or _("Rien n'a été enregistré."))
        await session.start_flow(ho.FLOW_NAME, ho.prefill(request.id, request.reference))
        return
    state = DEVICE.apply(device.state, DeviceEvent.HAND_OVER, Who.PLACE_STAFF)
    if not await uow.requests.set_status(request.id, expected(RequestEvent.HAND_OVER), status,
                                         session.now, place_id=request.place_id):
        session.say(_already(request))
        return
    code, expires = await draw_code(session, request.place_id, config)
    if not await uow.devices.change(device.id, [device.state], state,
                                    DeviceEvent.HAND_OVER.value, session.now,
                                    session.user.key, request_id=request.id, join_code=code):
        raise RuntimeError(f"device {device.label} changed during its handover")
    await uow.requests.log(request.id, RequestEvent.HAND_OVER.value, session.user.key,
                           request.place_id, "session_confirmed", session.now)
    await uow.audit.record(session.user.key, AuditAction.REQUEST_STATUS, request.reference,
                           session.now, f"handed_over {device.label}")
    log.info("request %s handed over with device %s", request.reference, device.label)
    place = await uow.places.get(request.place_id)
    assert place is not None
    handed = await uow.devices.get(device.id)
    assert handed is not None
    pdf = await kit_pdf(session, handed, request, place, code, expires, config=config,
                        warranty_months=warranty_months)
    session.send(session.user.key, [
        _("Remise enregistrée pour {ref} : appareil {label}. Merci !",
          ref=verbatim(request.reference), label=verbatim(device.label)),
        _("Imprimez le kit de remise et donnez-le à la personne : il porte son code pour le "
          "service après don ({code}, valable jusqu'au {day}), les prochains ateliers, des "
          "lieux d'aide près de chez elle et la garantie.", code=printed(code),
          day=Day(expires.astimezone(config.policy.tz).date()))],
        [Choice(act.PayRequest(request.id).pack(), _("Enregistrer le paiement")),
         register_choice()],  # a person without a chat app: reminders by SMS
        attachment=Attachment(f"kit-{request.reference}.pdf", "application/pdf", pdf),
        action_menu=True)
    session.send(request.prescriber, [_(
        "Le matériel de la demande {ref} a été remis à la personne, avec une séance de "
        "prise en main. Merci pour votre accompagnement !",
        ref=verbatim(request.reference))])
    await impact.tell_if_settled(session, handed.lot_id, mail=mail)


def _unfit(device: Device | None, request: EquipmentRequest, label: str) -> Msg | None:
    """Why ``device`` cannot be handed over for ``request``, or None."""
    if device is None or device.place_id != request.place_id:
        return _("Aucun appareil de votre lieu ne porte l'étiquette {label}.",
                 label=verbatim(label))
    if device.kind != request.kind:
        return _("L'appareil {label} est : {name}. La demande {ref} attend un autre type de "
                 "matériel.", label=verbatim(device.label), name=device_name(device),
                 ref=verbatim(request.reference))
    if not DEVICE.can(device.state, DeviceEvent.HAND_OVER):
        return _("L'appareil {label} est {state} : il ne peut pas être remis.",
                 label=verbatim(device.label), state=STATE_LABELS[device.state])
    return None


def _already(request: EquipmentRequest) -> Msg:
    return _("La demande {ref} a déjà été traitée : elle est maintenant {status}.",
             ref=verbatim(request.reference), status=rq.status_text(request, None, None))


# --- The kit ---------------------------------------------------------------------------------


async def kit_pdf(session: Session, device: Device, request: EquipmentRequest, place: Place,
                  code: str, expires: datetime, *, config: BeneficiaryConfig,
                  warranty_months: int) -> bytes:
    """The handover kit, read from what the network knows now."""
    uow, territory = session.uow, session.ctx.territory
    commune = territory.commune(request.commune)
    workshops = await uow.workshops.upcoming_at([place.id], session.now, WORKSHOPS_SHOWN)
    near = await uow.coordination.mediation_near(request.commune,
                                                 commune.epci if commune else None,
                                                 HELP_PLACES_SHOWN)
    diagnoses = await uow.devices.diagnoses(device.id)
    system = next((d.system for d in reversed(diagnoses) if d.system), None)
    tz = config.policy.tz
    return handover_kit(
        device, system, place, _commune_name(session, place.commune), code,
        expires.astimezone(tz).date(), workshops, near, config.telegram_bot,
        config.booklet_url, warranty_months, warranty_end(session.now.astimezone(tz).date(),
                                                           warranty_months),
        session, session.now)


def _commune_name(session: Session, insee: str) -> str:
    found = session.ctx.territory.commune(insee)
    return found.name if found else insee


def handover_kit(device: Device, system: str | None, place: Place, place_commune: str,
                 code: str, code_until: date, workshops: Sequence[Workshop],
                 near: Sequence[MediationPlace], bot_username: str | None,
                 booklet_url: str | None, warranty_months: int, warranty_until: date,
                 session: Session, created: datetime) -> bytes:
    """The kit's PDF: plain words for the person who receives the device."""
    doc = Document(session.ctx.translate, created)
    doc.corner_qr(telegram_link(bot_username, code) if bot_username else code)
    doc.title(_("Votre ordinateur du réseau de réemploi solidaire"))
    doc.para(NETWORK)
    doc.para(_("Appareil : {name}. Étiquette : {label}.", name=device_name(device),
               label=verbatim(device.label)))
    if device.grade is not None:
        doc.para(_("État : {grade}.", grade=GRADE_MEANINGS[device.grade]))
    if system:
        doc.para(_("Système : {system}.", system=verbatim(system)))
    if device.battery is not None:
        doc.para(_("Batterie : {battery}.", battery=BATTERY_LABELS[device.battery]))
    doc.below_corner()
    doc.heading(_("Des ateliers pour bien démarrer"))
    if bot_username:
        doc.para(_("Scannez le code QR avec votre téléphone pour rejoindre le service après "
                   "don. Vous pouvez aussi écrire ce code au bot : {code}.",
                   code=printed(code)))
    else:
        doc.para(_("Écrivez ce code au bot du réseau pour rejoindre le service après don : "
                   "{code}.", code=printed(code)))
    doc.para(_("Le code marche une seule fois, jusqu'au {day}.", day=Day(code_until)))
    doc.heading(_("Prochains ateliers à {place}", place=verbatim(place.name)))
    if workshops:
        for workshop in workshops:
            doc.para(_("• {topic} : {when}", topic=topic_label(workshop.topic),
                       when=When(workshop.starts_at)))
    else:
        doc.para(_("Le lieu vous proposera des dates."))
    doc.heading(_("Des lieux d'aide près de chez vous"))
    if near:
        for found in near:
            doc.para(_help_line(found, session))
    else:
        doc.para(_("Demandez au lieu qui vous a remis l'appareil."))
    doc.heading(_("Le livret de prise en main"))
    doc.para(_("À lire ici : {url}", url=verbatim(booklet_url)) if booklet_url
             else _("Demandez-le au lieu qui vous a remis l'appareil."))
    doc.heading(_("Garantie"))
    doc.para(_("Cet appareil est garanti {n} mois, jusqu'au {day}. S'il ne marche pas bien, "
               "revenez à {place} ({address}, {commune}) ou écrivez au bot.",
               n=warranty_months, day=Day(warranty_until), place=verbatim(place.name),
               address=verbatim(place.address), commune=verbatim(place_commune)))
    doc.small(_("Le réseau ne suit pas ce que vous faites avec cet appareil. Il vous invite "
                "seulement aux ateliers, si vous le voulez."))
    return doc.output()


def _help_line(place: MediationPlace, session: Session) -> Msg:
    """A help place of the directory: its name, address and phone, as it publishes them."""
    where = verbatim(f"{place.address}, {place.postal_code} "
                     f"{_commune_name(session, place.commune)}")
    if place.phone:
        return _("• {name} : {where}, {phone}", name=verbatim(place.name), where=where,
                 phone=verbatim(place.phone))
    return _("• {name} : {where}", name=verbatim(place.name), where=where)


def feature(env: Env) -> Feature:
    """The handover's device question; the settings it prints are bound here."""
    bound = partial(on_hand_over, config=env.beneficiaries,
                    warranty_months=env.warranty_months, mail=env.mail)
    return Feature(
        name="handover",
        flows=[ho.FLOW],
        effects={HandOver: bound},
        more_facts={ho.FLOW_NAME: ready_devices},
    )


__all__ = ["feature", "hand_over", "handover_kit", "start"]
