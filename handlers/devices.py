"""Devices of a received lot: registered, labelled, and opened from their sticker.

At a lot's reception its devices are registered, one message each or all at once "details
later"; each gets a label (``HA-7K3P``) and the lot a printable sheet of stickers. Scanning a
sticker (Telegram's deep link ``/start d-HA-7K3P``) or typing its label opens the device's
card for the staff of its place or lot, its reconditioners and the coordination, with what
they may do on it; anyone else reads what the network is, and nothing about the device.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

from flows import actions as act
from flows import device_entry, erasure_record
from flows.action_codec import Scope, Target, Who
from flows.device_entry import EntryDone, RegisterDevice
from flows.device_lifecycle import DEVICE, ON_BENCH
from flows.device_lifecycle import Event as DeviceEvent
from flows.devices import (
    DEVICE_NAMES,
    CardFacts,
    card_lines,
    kind_of,
    new_label,
    read_label,
    sticker_welcome,
)
from flows.donation import CATEGORY_LABELS
from flows.erasure import Result
from flows.home import home
from flows.lifecycle import Refused
from flows.lot_lifecycle import LOT
from flows.lot_lifecycle import Event as LotEvent
from flows.messages import Attachment, Choice
from flows.records import (
    Device,
    DeviceCategory,
    DeviceId,
    DeviceState,
    Lot,
    LotId,
    PlaceId,
    Role,
)
from flows.text import Lines, Msg, _, _n, verbatim
from handlers.authorize import in_scope
from handlers.labels import label_sheet_pdf
from handlers.requests import serve_waiting
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

LABEL_DRAWS = 16
"""Labels drawn before giving up (a collision among 390,625 is rare; then longer ones)."""
SHOWN = 12
"""Devices listed on a lot's page."""


# --- Registering -----------------------------------------------------------------------------


def declared_left(lot: Lot, devices: Sequence[Device]) -> dict[DeviceCategory, int]:
    """Per category of the lot, how many declared devices are not registered yet."""
    registered = Counter(d.category for d in devices)
    return {category: max(0, quantity - registered[category])
            for category, quantity in lot.items}


def where_received(session: Session, lot: Lot) -> PlaceId | None:
    """Where the lot's devices are when registered: the place of who registers them, else
    the lot's drop-off place, else its workshop."""
    return session.user.place_id or lot.place_id or lot.workshop_id


async def register(session: Session, lot: Lot, category: DeviceCategory, model: str = "",
                   serial: str = "") -> Device | Msg:
    """One new device of the lot with a fresh label, or why not (its serial is another's)."""
    uow = session.uow
    if serial:
        other = await uow.devices.by_serial(serial)
        if other is not None:
            return _("Le numéro de série {serial} est déjà celui de l'appareil {label} : rien "
                     "n'a été enregistré.", serial=verbatim(serial), label=verbatim(other.label))
    for attempt in range(LABEL_DRAWS):
        device = await uow.devices.register(
            new_label(4 if attempt < LABEL_DRAWS // 2 else 5), lot.id, category,
            kind_of(category), model, serial or None, where_received(session, lot),
            session.now, session.user.key)
        if device is not None:
            return device
    raise RuntimeError("could not draw a free device label")  # pragma: no cover


async def lot_devices(session: Session, lot: Lot) -> None:
    """How many of each category are registered, and how to register the rest."""
    devices = await session.uow.devices.of_lot(lot.id)
    left = declared_left(lot, devices)
    counts = Counter(d.category for d in devices)
    lines = [_("• {category} : {n} enregistré(s) sur {declared}",
               category=CATEGORY_LABELS[category], n=counts[category], declared=quantity)
             for category, quantity in lot.items]
    lines += [_("• {label} : {name}", label=verbatim(d.label), name=DEVICE_NAMES[d.category])
              for d in devices[-SHOWN:]]
    choices = [Choice(act.SeeDevice(d.id).pack(), _("Voir l'appareil {label}",
                                                    label=verbatim(d.label)))
               for d in devices[-SHOWN:]]
    choices += [Choice(act.RegisterDevices(lot.id, category).pack(),
                       _("Enregistrer : {category}", category=CATEGORY_LABELS[category]))
                for category, _quantity in lot.items]
    if any(left.values()):
        choices.append(Choice(act.RegisterRest(lot.id).pack(), _n(
            "Enregistrer le dernier sans détails", "Enregistrer les {n} restants sans détails",
            sum(left.values()))))
    if devices:
        choices.append(Choice(act.LabelSheet(lot.id).pack(), _("Planche d'étiquettes (PDF)")))
    session.say(_("Appareils du lot {ref} :", ref=lot.reference),
                Msg("{lines}", {"lines": Lines(tuple(lines))}), choices=choices,
                action_menu=True)


def registration_menu(lot: Lot) -> list[Choice]:
    """What staff do once a lot is received: register its devices."""
    total = lot.total
    return [Choice(act.RegisterRest(lot.id).pack(),
                   _n("Enregistrer l'appareil, détails plus tard",
                      "Enregistrer les {n} appareils, détails plus tard", total)),
            Choice(act.LotDevices(lot.id).pack(), _("Enregistrer un par un (marque, n° de "
                                                     "série)"))]


async def start_entry(session: Session, lot: Lot, category: DeviceCategory) -> None:
    """One message per device of ``category`` from now on."""
    devices = await session.uow.devices.of_lot(lot.id)
    declared = dict(lot.items).get(category, 0)
    done = sum(1 for d in devices if d.category is category)
    await session.start_flow(device_entry.FLOW_NAME, device_entry.prefill(
        lot.id, lot.reference, category, done, declared))


async def register_rest(session: Session, lot: Lot, *, bot: str | None) -> None:
    """Every declared device not registered yet, without details; then the label sheet."""
    uow = session.uow
    left = declared_left(lot, await uow.devices.of_lot(lot.id))
    made = []
    for category, count in left.items():
        for _i in range(count):
            device = await register(session, lot, category)
            assert isinstance(device, Device)
            made.append(device)
    if not made:
        session.say(_("Tous les appareils déclarés du lot {ref} sont déjà enregistrés.",
                      ref=lot.reference), choices=[Choice(act.LotDevices(lot.id).pack(),
                                                          _("Appareils du lot"))],
                    action_menu=True)
        return
    log.info("%s devices of lot %s registered by %s", len(made), lot.reference,
             session.user.key)
    session.say(_n("{n} appareil enregistré pour le lot {ref} : {labels}.",
                   "{n} appareils enregistrés pour le lot {ref} : {labels}.", len(made),
                   ref=lot.reference, labels=verbatim(", ".join(d.label for d in made))),
                _("Collez une étiquette sur chacun ; marque, modèle et numéro de série se "
                  "complètent au diagnostic."))
    await label_sheet(session, lot, bot=bot)


async def label_sheet(session: Session, lot: Lot, *, bot: str | None) -> None:
    """The lot's stickers as an A4 PDF."""
    devices = await session.uow.devices.of_lot(lot.id)
    if not devices:
        session.say(_("Aucun appareil n'est encore enregistré pour le lot {ref}.",
                      ref=lot.reference))
        return
    pdf = label_sheet_pdf(devices, bot, session.ctx.translate, session.now)
    session.send(session.user.key, [_n(
        "Planche d'étiquettes du lot {ref} : {n} étiquette (feuilles A4 de 21 étiquettes, "
        "63,5 × 38,1 mm).", "Planche d'étiquettes du lot {ref} : {n} étiquettes (feuilles A4 "
        "de 21 étiquettes, 63,5 × 38,1 mm).", len(devices), ref=lot.reference)],
        [Choice(act.LotDevices(lot.id).pack(), _("Appareils du lot"))],
        attachment=Attachment(f"etiquettes-{lot.reference}.pdf", "application/pdf", pdf),
        action_menu=True)


async def on_register(session: Session, effect: RegisterDevice) -> None:
    """One line typed: one device registered, and the question again for the next one."""
    uow = session.uow
    lot = await uow.lots.get(effect.lot_id)
    theirs = lot is not None and (session.user.is_coordinator or await in_scope(
        session, _who(session), Scope.LOT, Target.LOT, lot.id))
    if lot is None or not theirs or not LOT.can(lot.status, LotEvent.REGISTER):
        session.say(_("Ce lot n'est pas (ou plus) à enregistrer par vous : rien n'a été "
                      "enregistré."))
        return
    made = await register(session, lot, effect.category, effect.model, effect.serial)
    if isinstance(made, Msg):
        session.say(made)
    else:
        session.say(_("{label} enregistré : {name}. Collez-lui son étiquette.",
                      label=verbatim(made.label), name=DEVICE_NAMES[made.category]))
    await start_entry(session, lot, effect.category)


async def on_entry_done(session: Session, effect: EntryDone) -> None:
    lot = await session.uow.lots.get(effect.lot_id)
    if lot is not None:
        await lot_devices(session, lot)


def _who(session: Session) -> Who:
    return Who.RECONDITIONER if session.user.role is Role.RECONDITIONER else Who.PLACE_STAFF


# --- Erasures attached to devices -------------------------------------------------------------


async def device_for_erasure(session: Session, lot: Lot, serial: str,
                             device_id: int | None) -> Device | Msg | None:
    """The labelled device a medium's erasure belongs to: the one it was started from, or
    the lot's device of that serial number; None for a device the lot never labelled; or
    why it cannot be (another lot's device, another device's serial number)."""
    uow = session.uow
    if device_id is None:
        found = await uow.devices.by_serial(serial)
        return found if found is not None and found.lot_id == lot.id else None
    device = await uow.devices.get(DeviceId(device_id))
    if device is None or device.lot_id != lot.id:
        return _("Cet appareil n'est pas un appareil du lot {ref} : rien n'a été enregistré.",
                 ref=lot.reference)
    if not device.serial and not await uow.devices.set_details(device.id, None, serial):
        other = await uow.devices.by_serial(serial)
        return _("Le numéro de série {serial} est déjà celui de l'appareil {label} : rien "
                 "n'a été enregistré.", serial=verbatim(serial),
                 label=verbatim(other.label if other else "?"))
    return device


async def erased(session: Session, device: Device, result: Result) -> Device:
    """A medium of ``device`` erased (verified) or destroyed: it holds no data any more, and
    a device that waited only for that is ready."""
    uow = session.uow
    if result not in (Result.VERIFIED, Result.DESTROYED):
        return device
    await uow.devices.mark_wiped(device.id, session.now)
    try:
        state = DEVICE.apply(device.state, DeviceEvent.WIPED, Who.RECONDITIONER)
    except Refused:  # handed over, in transit: the proof is kept, the state stays
        state = device.state
    await uow.devices.change(device.id, [device.state], state, DeviceEvent.WIPED.value,
                             session.now, session.user.key)
    fresh = await uow.devices.get(device.id)
    assert fresh is not None
    if fresh.state is DeviceState.READY and device.state is not DeviceState.READY \
            and fresh.kind is not None:
        await serve_waiting(session, uow, session.ctx.territory, session.now,
                            session.coordinators, fresh.kind)
    return fresh


# --- A device's card -------------------------------------------------------------------------


async def is_theirs(session: Session, device: Device) -> bool:
    """Whether the person may see the device (its place's or lot's staff, the coordination)."""
    user = session.user
    if user.is_coordinator:
        return True
    if user.role not in (Role.PLACE_STAFF, Role.RECONDITIONER):
        return False
    who = Who.RECONDITIONER if user.role is Role.RECONDITIONER else Who.PLACE_STAFF
    return await in_scope(session, who, Scope.LOT, Target.DEVICE, device.id)


async def show_card(session: Session, device: Device) -> None:
    """The device's card, with the actions the person may take on it now."""
    uow = session.uow
    lot = await uow.lots.get(device.lot_id) if device.lot_id else None
    place = await uow.places.get(device.place_id) if device.place_id else None
    facts = CardFacts(lot.reference if lot else None, place.name if place else None,
                      await uow.devices.diagnoses(device.id),
                      await uow.devices.erasures(device.id))
    choices: list[Choice] = []
    user = session.user
    if user.role is Role.RECONDITIONER and await in_scope(
            session, Who.RECONDITIONER, Scope.LOT, Target.DEVICE, device.id):
        if device.state in ON_BENCH:
            choices.append(Choice(act.DiagnoseDevice(device.id).pack(),
                                  _("Enregistrer un diagnostic")))
        if lot is not None and LOT.can(lot.status, LotEvent.ERASE):
            choices.append(Choice(act.WipeDevice(device.id).pack(),
                                  _("Enregistrer un effacement")))
    if device.state is DeviceState.READY and (user.is_coordinator or (
            user.role is Role.PLACE_STAFF and user.place_id is not None
            and user.place_id == device.place_id)):  # handlers/transfers.py
        choices.append(Choice(act.SendDevice(device.id).pack(),
                              _("Apporter à un autre lieu")))
    if user.role is Role.PLACE_STAFF:
        choices.append(Choice(act.ReceivedRequests().pack(), _("Demandes reçues")))
    if lot is not None:
        choices.append(Choice(act.LotDevices(lot.id).pack(),
                              _("Appareils du lot {ref}", ref=lot.reference)))
    session.say(card_lines(device, facts), choices=choices, action_menu=True)


async def open_label(session: Session, text: str) -> None:
    """A label typed or a sticker scanned: the card for its staff, the network for others."""
    label = read_label(text)
    device = await session.uow.devices.by_label(label) if label else None
    if device is not None and await is_theirs(session, device):
        log.info("%s opened device %s", session.user.key, device.label)
        await show_card(session, device)
        return
    if session.user.is_professional:  # unknown, or not theirs: the same answer
        session.say(_("Aucun appareil de votre lieu ne porte cette étiquette. Vérifiez-la : "
                      "elle s'écrit comme HA-7K3P."))
        return
    session.say(sticker_welcome())


async def command_device(session: Session, text: str) -> None:
    """``HA-7K3P`` typed, or ``/appareil HA-7K3P``."""
    words = text.split(maxsplit=1)
    typed = words[1] if words and words[0].lower().lstrip("/") == "appareil" \
        and len(words) > 1 else text
    if read_label(typed) is None:  # "ha bon", not a label: as any word not understood
        session.say(_("Je n'ai pas compris. Choisissez dans le menu :"))
        session.reply(home(session.user, False), action_menu=True)
        return
    await open_label(session, typed)


# --- The feature -----------------------------------------------------------------------------


async def on_lot(session: Session, action: Any, *, bot: str | None) -> None:
    """A button on a lot's devices, which the router checked is the presser's lot."""
    lot = await session.uow.lots.get(LotId(action.lot))
    assert lot is not None
    if not LOT.can(lot.status, LotEvent.REGISTER):
        session.say(_("Le lot {ref} n'est pas encore marqué comme reçu : ses appareils "
                      "s'enregistrent à sa réception.", ref=lot.reference))
        return
    match action:
        case act.LotDevices():
            await lot_devices(session, lot)
        case act.RegisterDevices(category=category):
            if category not in dict(lot.items):
                session.say(_("Ce lot ne compte pas d'appareil de ce type."))
                return
            await start_entry(session, lot, category)
        case act.RegisterRest():
            await register_rest(session, lot, bot=bot)
        case act.LabelSheet():
            await label_sheet(session, lot, bot=bot)


async def on_device(session: Session, action: Any) -> None:
    """A button on one device, which the router checked is within the presser's scope."""
    uow = session.uow
    device = await uow.devices.get(DeviceId(action.device))
    assert device is not None
    match action:
        case act.SeeDevice():
            await show_card(session, device)
        case act.WipeDevice():
            await start_wipe(session, device)


async def start_wipe(session: Session, device: Device) -> None:
    """The erasure of one of the device's media, its device already known."""
    lot = await session.uow.lots.get(device.lot_id) if device.lot_id else None
    if lot is None or not LOT.can(lot.status, LotEvent.ERASE):
        session.say(_("Les effacements s'enregistrent sur un appareil d'un lot reçu et pas "
                      "encore certifié."))
        return
    name, answers = erasure_record.device_prefill(
        lot.id, lot.reference, lot.donor_name, device.id, device.label, device.category,
        device.model, device.serial)
    await session.start_flow(name, answers)


def feature(env: Env) -> Feature:
    """Registering devices, their stickers and their cards."""
    bot = env.beneficiaries.telegram_bot
    on_lot_bound = partial(on_lot, bot=bot)
    return Feature(
        name="devices",
        flows=[device_entry.FLOW],
        actions={act.LotDevices: on_lot_bound, act.RegisterDevices: on_lot_bound,
                 act.RegisterRest: on_lot_bound, act.LabelSheet: on_lot_bound,
                 act.SeeDevice: on_device, act.WipeDevice: on_device},
        effects={RegisterDevice: on_register, EntryDone: on_entry_done},
        commands={"device": command_device},
    )


__all__ = ["device_for_erasure", "erased", "feature", "open_label", "registration_menu",
           "show_card"]
