"""Reconditioning: a device's diagnosis and the work done on it, in chat or sent as files.

From a device's card its workshop records a diagnosis (``flows/reconditioning.py``); a device
that works and holds no data any more joins the stock of the place chosen, and a request
waiting for its kind is routed at once. A reconditioner may also send files, read from their
bytes whatever the platform (``Incoming.attachment``): a CSV of erasures (the columns of
``/effacements``), a CSV of diagnoses, or nwipe's log, whose drives are recorded as erasures
of the device named by the file's name (``HA-7K3P.log``) or by the computer's serial number
nwipe read. A file is recorded whole or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from flows import actions as act
from flows import reconditioning as rc
from flows.action_codec import Scope, Target, Who
from flows.audit import AuditAction
from flows.device_lifecycle import DEVICE, ON_BENCH, SETTLED, diagnosed
from flows.devices import STATE_LABELS, clean, read_label
from flows.erasure_record import BULK_FLOW_NAME, RecordErasures, csv_errors_text, parse_csv
from flows.erasure_record import CSV_COLUMNS as ERASURE_COLUMNS
from flows.erasure_record import CSV_EXAMPLE as ERASURE_EXAMPLE
from flows.lifecycle import Refused
from flows.lot_lifecycle import LOT
from flows.lot_lifecycle import Event as LotEvent
from flows.messages import Attachment, Choice
from flows.ports import KEEP, UnitOfWork
from flows.reconditioning import NWIPE_PROBLEMS, NwipeLog, RecordDiagnosis
from flows.records import (
    Device,
    DeviceId,
    DeviceState,
    Diagnosis,
    Place,
    PlaceId,
    Role,
    User,
)
from flows.routing import DISTRIBUTING
from flows.text import Lines, Msg, _, _n, verbatim
from handlers import devices, donations, impact
from handlers.authorize import in_scope
from handlers.certificates import signatory_of
from handlers.requests import serve_waiting
from handlers.session import Env, Feature, Session

log = logging.getLogger(__name__)

STOCK_CHOICES = 8
TEXT_FILES = (".csv", ".txt", ".log")
MAX_BYTES = 2_000_000


async def start_diagnosis(session: Session, action: act.DiagnoseDevice) -> None:
    """A reconditioning record for the device (the router checked it is their workshop's)."""
    device = await session.uow.devices.get(DeviceId(action.device))
    assert device is not None
    if device.state not in ON_BENCH:
        session.say(_("L'appareil {label} est {state} : pas de diagnostic à enregistrer.",
                      label=verbatim(device.label), state=STATE_LABELS[device.state]))
        return
    await session.start_flow(rc.FLOW_NAME, rc.prefill(device.id, device.label, device.model,
                                                      device.serial))


async def diagnosis_facts(uow: UnitOfWork, user: User) -> Mapping[str, Any]:
    """The places whose stock a device may join: its own place first, then its lot's, then
    the distributing places nearest."""
    saved = await uow.conversations.get(user.key)
    if saved is None or saved.conversation.flow != rc.FLOW_NAME:
        return {}
    device = await uow.devices.get(DeviceId(int(saved.conversation.answers[rc.DEVICE_ID])))
    if device is None:
        return {}
    lot = await uow.lots.get(device.lot_id) if device.lot_id else None
    places = [p for p in await uow.places.all() if p.kind in DISTRIBUTING]
    first = [device.place_id, lot.place_id if lot else None, user.place_id]
    here = next((p for p in await uow.places.all() if p.id == device.place_id), None)

    def order(place: Place) -> tuple[int, int, int]:
        rank = first.index(place.id) if place.id in first else len(first)
        near = 0 if here is not None and place.commune == here.commune else 1
        return rank, near, place.id

    ranked = sorted(places, key=order)[:STOCK_CHOICES]
    return {"stock_places": [(p.id, p.name) for p in ranked]}


async def on_diagnosis(session: Session, effect: RecordDiagnosis, *, mail: bool = False) -> None:
    """Keep the record, move the device on, and route a waiting request if it is ready."""
    uow = session.uow
    device = await uow.devices.get(effect.device_id)
    if device is None or session.user.role is not Role.RECONDITIONER or not await in_scope(
            session, Who.RECONDITIONER, Scope.LOT, Target.DEVICE, device.id):
        session.say(_("Cet appareil n'est pas (ou plus) à diagnostiquer par votre atelier : "
                      "rien n'a été enregistré."))
        return
    if effect.model or effect.serial:
        if not await uow.devices.set_details(device.id, effect.model, effect.serial):
            session.say(_("Ce numéro de série est déjà celui d'un autre appareil : rien n'a "
                          "été enregistré. Vérifiez-le."))
            return
        device = await uow.devices.get(device.id)
        assert device is not None
    place: Place | None = None
    if effect.record.diagnosis is Diagnosis.WORKS:
        place = await uow.places.get(PlaceId(effect.stock_place)) if effect.stock_place else None
        if place is None or place.kind not in DISTRIBUTING:
            session.say(_("Ce lieu ne remet pas de matériel : rien n'a été enregistré."))
            return
    moved = await record_diagnosis(session, device, effect.record, None, place, mail=mail)
    if isinstance(moved, Msg):
        session.say(moved)
        return
    texts = [_("Diagnostic enregistré pour {label} : {state}.", label=verbatim(moved.label),
               state=STATE_LABELS[moved.state])]
    choices = [Choice(act.SeeDevice(moved.id).pack(), _("Voir l'appareil {label}",
                                                         label=verbatim(moved.label)))]
    if moved.state is DeviceState.TESTED:
        texts.append(_("Il rejoindra le stock dès que l'effacement de son stockage sera "
                       "enregistré."))
        choices.insert(0, Choice(act.WipeDevice(moved.id).pack(),
                                 _("Enregistrer un effacement")))
    session.say(*texts, choices=choices, action_menu=True)


async def record_diagnosis(session: Session, device: Device, record: rc.NewDiagnosis,
                           operator_name: str | None, place: Place | None, *,
                           mail: bool = False) -> Device | Msg:
    """Keep one reconditioning record and move the device by the lifecycle's table; a
    device that becomes ready joins ``place``'s stock (its own when None) and serves the
    waiting list; one taken for parts or recycled may be the last of its lot to settle
    (``handlers/impact.py``: the donor is told)."""
    uow = session.uow
    event = diagnosed(record.diagnosis, clean(device))
    try:
        state = DEVICE.apply(device.state, event, Who.RECONDITIONER)
    except Refused:
        return _("L'appareil {label} est {state} : pas de diagnostic à enregistrer.",
                 label=verbatim(device.label), state=STATE_LABELS[device.state])
    signatory = await signatory_of(uow, session.user)
    if operator_name:
        signatory = replace(signatory, name=operator_name)
    await uow.devices.add_diagnosis(device.id, record, session.user.key, signatory,
                                    session.now)
    if not await uow.devices.change(device.id, [device.state], state, event.value, session.now,
                                    session.user.key,
                                    place_id=place.id if place is not None else KEEP):
        return _("L'appareil {label} a changé entre-temps : rien n'a été enregistré.",
                 label=verbatim(device.label))
    log.info("device %s diagnosed %s by %s", device.label, record.diagnosis.value,
             session.user.key)
    moved = await uow.devices.get(device.id)
    assert moved is not None
    if moved.state is DeviceState.READY and moved.kind is not None:
        await serve_waiting(session, uow, session.ctx.territory, session.now,
                            session.coordinators, moved.kind)
    if moved.state in SETTLED:
        await impact.tell_if_settled(session, moved.lot_id, mail=mail)
    return moved


# --- Files a reconditioner sends -------------------------------------------------------------


def file_help() -> Msg:
    """The three files a reconditioner may send."""
    return _("J'accepte trois fichiers : le CSV des effacements (en-tête : {erasures}), le CSV "
             "des diagnostics (en-tête : {diagnoses}), ou le journal de nwipe, nommé d'après "
             "l'étiquette de l'appareil (HA-7K3P.log).",
             erasures=verbatim(";".join(ERASURE_COLUMNS)),
             diagnoses=verbatim(";".join(rc.CSV_COLUMNS)))


def decoded(data: bytes) -> str:
    """A text file's content: UTF-8 (with or without its mark), else Windows-1252, as a
    spreadsheet saves it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


async def on_file(session: Session, attachment: Attachment, *, mail: bool = False) -> bool:
    """A reconditioner's file: erasures, diagnoses or an nwipe log, recorded whole or not."""
    if session.user.role is not Role.RECONDITIONER:
        return False
    name = attachment.filename.lower()
    if not (name.endswith(TEXT_FILES) or attachment.mime.startswith("text/")
            or attachment.mime == "application/vnd.ms-excel"):
        session.say(_("Je ne lis que des fichiers texte (CSV, journal nwipe)."), file_help())
        return True
    if len(attachment.data) > MAX_BYTES:
        session.say(_("Ce fichier est trop gros (2 Mo au plus)."))
        return True
    text = decoded(attachment.data)
    saved = await session.uow.conversations.get(session.user.key)
    if saved is not None and saved.conversation.flow == BULK_FLOW_NAME:
        await session.uow.conversations.clear(session.user.key)  # the file is the answer
    if rc.looks_like_nwipe(text):
        await import_nwipe(session, attachment.filename, text)
        return True
    header = tuple(c.strip().lower() for c in text.lstrip().split("\n", 1)[0]
                   .replace(",", ";").split(";"))
    if header == ERASURE_COLUMNS:
        result = await asyncio.to_thread(parse_csv, text, session.now, session.ctx.tz)
        if result.errors:
            session.say(csv_errors_text(result.errors))
            return True
        await donations.record_many(session, RecordErasures(result.rows))
        return True
    if header == rc.CSV_COLUMNS:
        await import_diagnoses(session, text, mail=mail)
        return True
    session.say(_("Je ne reconnais pas ce fichier."), file_help(),
                _("Exemples :\n{erasures}\n\n{diagnoses}", erasures=verbatim(ERASURE_EXAMPLE),
                  diagnoses=verbatim(rc.CSV_EXAMPLE)))
    return True


async def import_diagnoses(session: Session, text: str, *, mail: bool = False) -> None:
    """Every line's device must be the reconditioner's to diagnose, or nothing is kept."""
    rows, errors = await asyncio.to_thread(rc.parse_diagnoses, text, session.now,
                                           session.ctx.tz)
    uow = session.uow
    found: dict[str, Device] = {}
    for row in rows:
        device = await uow.devices.by_label(row.label)
        if device is None or not await in_scope(session, Who.RECONDITIONER, Scope.LOT,
                                                Target.DEVICE, device.id):
            errors.append((row.line, _("l'appareil {label} n'est pas à diagnostiquer par "
                                       "votre atelier.", label=verbatim(row.label))))
        elif device.state not in ON_BENCH:
            errors.append((row.line, _("l'appareil {label} est {state}.",
                                       label=verbatim(row.label),
                                       state=STATE_LABELS[device.state])))
        else:
            found[row.label] = device
    if errors:
        session.say(csv_errors_text(sorted(errors, key=lambda e: e[0])))
        return
    done = []
    for row in rows:
        device = await uow.devices.get(found[row.label].id)
        assert device is not None
        moved = await record_diagnosis(session, device, row.record, row.operator or None, None,
                                       mail=mail)
        if isinstance(moved, Msg):
            raise RuntimeError(f"device {row.label} changed during the import")
        done.append(_("• {label} : {state}", label=verbatim(moved.label),
                      state=STATE_LABELS[moved.state]))
    log.info("%s diagnoses from a CSV by %s", len(rows), session.user.key)
    session.say(_n("{n} diagnostic enregistré :", "{n} diagnostics enregistrés :", len(rows)),
                Msg("{lines}", {"lines": Lines(tuple(done))}))


async def import_nwipe(session: Session, filename: str, text: str) -> None:
    """nwipe's drives recorded as erasures of one labelled device, or nothing."""
    read = await asyncio.to_thread(rc.read_nwipe_log, text, session.ctx.tz)
    if isinstance(read, rc.NwipeProblem):
        session.say(NWIPE_PROBLEMS[read])
        return
    uow = session.uow
    label = read_label(filename.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    device = await uow.devices.by_label(label) if label else None
    if device is None and read.system_serial:
        device = await uow.devices.by_serial(read.system_serial)
    if device is None or not await in_scope(session, Who.RECONDITIONER, Scope.LOT,
                                            Target.DEVICE, device.id):
        session.say(_("Je ne sais pas à quel appareil ce journal appartient : nommez le fichier "
                      "d'après l'étiquette de l'appareil (par exemple HA-7K3P.log), puis "
                      "renvoyez-le. Rien n'a été enregistré."))
        return
    problems = _nwipe_problems(read)
    if problems:
        session.say(_("Rien n'a été enregistré pour {label} :", label=verbatim(device.label)),
                    Msg("{lines}", {"lines": Lines(tuple(problems))}))
        return
    lot = await uow.lots.get(device.lot_id) if device.lot_id else None
    if lot is None or not LOT.can(lot.status, LotEvent.ERASE):
        session.say(_("Les effacements s'enregistrent sur un appareil d'un lot reçu et pas "
                      "encore certifié."))
        return
    serial = device.serial or read.system_serial
    if not serial:
        session.say(_("L'appareil {label} n'a pas de numéro de série et nwipe n'a pas pu le "
                      "lire : enregistrez-le au diagnostic, puis renvoyez le journal.",
                      label=verbatim(device.label)))
        return
    named = [replace(e, device_category=device.category, device_model=device.model
                     or read.system_model or device.label, device_serial=serial)
             for e in read.erasures]
    checked = await devices.device_for_erasure(session, lot, serial, device.id)
    if isinstance(checked, Msg):
        session.say(checked)
        return
    signatory = await signatory_of(uow, session.user)
    for erasure in named:
        stored = await uow.lots.add_erasure(lot.id, erasure, session.user.key, session.now,
                                            signatory=signatory, device_id=device.id)
        await uow.audit.record(session.user.key, AuditAction.ERASURE_RECORDED, lot.reference,
                               session.now, f"record {stored.id} (nwipe)")
        device = await devices.erased(session, device, stored.result)
    log.info("nwipe log: %s media of device %s recorded by %s", len(named), device.label,
             session.user.key)
    session.say(_n("Journal nwipe enregistré pour {label} : {n} support.",
                   "Journal nwipe enregistré pour {label} : {n} supports.", len(named),
                   label=verbatim(device.label)),
                _("Appareil {label} : {state}.", label=verbatim(device.label),
                  state=STATE_LABELS[device.state]),
                choices=[Choice(act.SeeDevice(device.id).pack(),
                                _("Voir l'appareil {label}", label=verbatim(device.label))),
                         Choice(act.Certify(lot.id).pack(), _("Produire le certificat du lot"))],
                action_menu=True)


def _nwipe_problems(read: NwipeLog) -> list[Msg]:
    found = [_("• {drive} : {why}", drive=verbatim(drive), why=NWIPE_PROBLEMS[problem])
             for drive, problem in read.refused]
    if not read.erasures and not found:
        found.append(_("• aucun disque dans le tableau « Drive Status »."))
    return found


def feature(env: Env) -> Feature:
    """Diagnoses in chat, and the files a reconditioner sends."""
    return Feature(
        name="reconditioning",
        flows=[rc.FLOW],
        actions={act.DiagnoseDevice: start_diagnosis},
        effects={RecordDiagnosis: partial(on_diagnosis, mail=env.mail)},
        facts={rc.FLOW_NAME: diagnosis_facts},
        files=[partial(on_file, mail=env.mail)],
    )


__all__ = ["decoded", "feature", "on_file", "record_diagnosis"]
