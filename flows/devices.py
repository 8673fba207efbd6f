"""Devices one by one: their sticker label, what the catalogue calls them, and their card.

Every device registered at a lot's reception gets a short label printed on its
"Réemploi solidaire — Hautes-Alpes" sticker: ``HA-7K3P``, from the alphabet of the join codes
(no 0/O, 1/I/L, 2/Z, 5/S, 8/B look-alikes), easy to read aloud and to type. The sticker's QR
code opens the bot on the device: on Telegram through the deep link
``https://t.me/<bot>?start=d-HA-7K3P``; elsewhere (Matrix, the console) staff type the label.
Staff of the device's place or lot, its reconditioners and the coordination see its card;
anyone else scanning the sticker learns what the network is, and nothing about the device.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from flows.joincode import ALPHABET
from flows.records import (
    Battery,
    Device,
    DeviceCategory,
    DeviceState,
    Diagnosis,
    DiagnosisRecord,
    Grade,
)
from flows.text import Lines, Msg, When, _, verbatim

PREFIX = "HA"
"""Hautes-Alpes: the territory whose sticker it is."""
LENGTH = 4
"""25**4 = 390,625 labels; :func:`new_label` draws longer ones if that ever runs short."""
LINK_PREFIX = "d-"
"""A Telegram deep link's parameter for a device: ``d-HA-7K3P``."""

STICKER_TITLE = "Réemploi solidaire — Hautes-Alpes"
"""Printed on every sticker, whatever the reader's language: the territorial label."""

_TYPED = re.compile(r"[^A-Z0-9]")

CATALOGUE_KIND: dict[DeviceCategory, str] = {
    DeviceCategory.LAPTOP: "laptop",
    DeviceCategory.DESKTOP: "desktop",
    DeviceCategory.TABLET: "tablet",
}
"""The catalogue kind a device of a category serves once ready (the others are not handed
over through requests: a screen goes with a desktop, a printer is given as it is)."""

HOLDS_DATA = frozenset({DeviceCategory.LAPTOP, DeviceCategory.DESKTOP, DeviceCategory.TABLET,
                        DeviceCategory.SMARTPHONE, DeviceCategory.SERVER,
                        DeviceCategory.OTHER})
"""Categories whose devices hold storage: never ready before their erasure is recorded."""


def new_label(length: int = LENGTH) -> str:
    """A fresh label such as ``HA-7K3P`` (cryptographically random; the caller draws again
    if it is taken)."""
    return f"{PREFIX}-" + "".join(secrets.choice(ALPHABET) for _ in range(length))


def read_label(typed: str) -> str | None:
    """The label a person meant (``ha 7k3p``, ``HA-7K3P``, ``/start d-HA-7K3P``), or None
    if it cannot be one."""
    text = typed.strip().upper()
    text = text.removeprefix("/START").strip().removeprefix(LINK_PREFIX.upper())
    compact = _TYPED.sub("", text)
    if not compact.startswith(PREFIX):
        return None
    body = compact[len(PREFIX):]
    if not LENGTH <= len(body) <= LENGTH + 2 or any(ch not in ALPHABET for ch in body):
        return None
    return f"{PREFIX}-{body}"


class LabelQuestion:
    """Base of the answers that read a device's label (typed, picked or its sticker scanned).

    While the current question is one of them, the router gives it a sticker scanned on
    Telegram (the deep link arrives as the command ``/start d-HA-7K3P``) or a label typed as
    a command (``/HA-7K3P``), as if the label had been typed: the answer, not the device's
    card opened over the conversation (``handlers/core.py``)."""


def qr_payload(label: str, bot_username: str | None) -> str:
    """What a sticker's QR code holds: the Telegram deep link when the bot's username is
    known, else the label itself (typed into Matrix or the console)."""
    if bot_username:
        return f"https://t.me/{bot_username}?start={LINK_PREFIX}{label}"
    return label


def kind_of(category: DeviceCategory) -> str | None:
    """The catalogue kind of a category, if the catalogue hands such devices over."""
    return CATALOGUE_KIND.get(category)


def clean(device: Device) -> bool:
    """Whether a device holds no data any more: erased, or it never held any."""
    return device.wiped_at is not None or device.category not in HOLDS_DATA


# --- Words for people ------------------------------------------------------------------------

STATE_LABELS: dict[DeviceState, Msg] = {
    DeviceState.RECEIVED: _("reçu, à diagnostiquer"),
    DeviceState.TESTED: _("fonctionne, effacement à enregistrer"),
    DeviceState.REPAIR: _("à réparer"),
    DeviceState.READY: _("prêt, en stock"),
    DeviceState.IN_TRANSIT: _("en route vers un autre lieu"),
    DeviceState.HANDED_OVER: _("remis à une personne"),
    DeviceState.RETURNED: _("revenu sous garantie"),
    DeviceState.PARTS: _("gardé pour pièces détachées"),
    DeviceState.RECYCLED: _("envoyé au recyclage"),
}

DIAGNOSIS_LABELS: dict[Diagnosis, Msg] = {
    Diagnosis.WORKS: _("Fonctionne"),
    Diagnosis.REPAIR: _("À réparer"),
    Diagnosis.PARTS: _("Pour pièces détachées"),
    Diagnosis.RECYCLE: _("Pour le recyclage"),
}

GRADE_MEANINGS: dict[Grade, Msg] = {
    Grade.A: _("A : comme neuf"),
    Grade.B: _("B : traces d'usage"),
    Grade.C: _("C : fonctionne, usé"),
}
"""A grade with its plain meaning: the person receiving the device reads it too."""

BATTERY_LABELS: dict[Battery, Msg] = {
    Battery.GOOD: _("bonne (80 % ou plus de sa capacité)"),
    Battery.WORN: _("usée (50 à 80 %)"),
    Battery.WEAK: _("faible (moins de 50 %)"),
    Battery.REPLACED: _("neuve, remplacée"),
    Battery.NONE: _("pas de batterie"),
}

DEVICE_NAMES: dict[DeviceCategory, Msg] = {
    DeviceCategory.LAPTOP: _("Ordinateur portable"),
    DeviceCategory.DESKTOP: _("Unité centrale"),
    DeviceCategory.SCREEN: _("Écran"),
    DeviceCategory.TABLET: _("Tablette"),
    DeviceCategory.SMARTPHONE: _("Smartphone"),
    DeviceCategory.PRINTER: _("Imprimante"),
    DeviceCategory.SERVER: _("Serveur"),
    DeviceCategory.PERIPHERAL: _("Périphérique"),
    DeviceCategory.OTHER: _("Autre appareil"),
}
"""One device of a category, as its card names it."""


def device_name(device: Device) -> Msg:
    """"Ordinateur portable Lenovo ThinkPad T480", or the category alone."""
    if device.model:
        return _("{category} {model}", category=DEVICE_NAMES[device.category],
                 model=verbatim(device.model))
    return DEVICE_NAMES[device.category]


def grade_text(grade: Grade | None) -> Msg:
    return GRADE_MEANINGS[grade] if grade is not None else _("(pas encore noté)")


@dataclass(frozen=True)
class CardFacts:
    """What a device's card shows besides the device: where it is and what was done."""

    lot_reference: str | None
    place_name: str | None
    diagnoses: Sequence[DiagnosisRecord] = ()
    erasures: int = 0
    """Erasure records attached to it (the proofs of its lot)."""


def card_lines(device: Device, facts: CardFacts) -> Msg:
    """A device's card, for the staff who may act on it."""
    lines: list[Msg] = [
        _("Appareil {label} : {name}", label=verbatim(device.label), name=device_name(device)),
        _("État : {state}", state=STATE_LABELS[device.state]),
    ]
    if device.serial:
        lines.append(_("N° de série : {serial}", serial=verbatim(device.serial)))
    if facts.lot_reference:
        lines.append(_("Don : {ref}", ref=verbatim(facts.lot_reference)))
    elif device.placeholder:
        lines.append(_("Enregistré à partir de l'ancien compteur de stock (sans détails)."))
    if facts.place_name:
        lines.append(_("Lieu : {place}", place=verbatim(facts.place_name)))
    if device.category in HOLDS_DATA:
        lines.append(_("Effacement : enregistré ({n} support(s))", n=facts.erasures)
                     if device.wiped_at is not None else _("Effacement : pas encore enregistré"))
    if device.grade is not None:
        lines.append(_("Note : {grade}", grade=GRADE_MEANINGS[device.grade]))
    if device.battery is not None:
        lines.append(_("Batterie : {battery}", battery=BATTERY_LABELS[device.battery]))
    if facts.diagnoses:
        lines.extend(diagnosis_lines(facts.diagnoses[-1]))
    return Msg("{lines}", {"lines": Lines(tuple(lines))})


def diagnosis_lines(record: DiagnosisRecord) -> list[Msg]:
    """The last reconditioning record: what was found and done, by whom, when."""
    lines = [_("Dernier diagnostic : {diagnosis} ({day})",
               diagnosis=DIAGNOSIS_LABELS[record.diagnosis], day=When(record.done_at))]
    if record.system:
        lines.append(_("Système installé : {system}", system=verbatim(record.system)))
    if record.parts:
        lines.append(_("Pièces ajoutées : {parts}", parts=verbatim(record.parts)))
    if record.note:
        lines.append(_("À faire : {note}", note=verbatim(record.note)))
    who = record.signatory
    if who.name and who.organisation:
        lines.append(_("Par : {name}, {organisation}", name=verbatim(who.name),
                       organisation=verbatim(who.organisation)))
    elif who.name or who.organisation:
        lines.append(_("Par : {name}", name=verbatim(who.name or who.organisation)))
    return lines


def sticker_welcome() -> Msg:
    """What someone who is not staff of the device reads when scanning its sticker."""
    return _("Cet appareil a été collecté, effacé et reconditionné dans les Hautes-Alpes par le "
             "réseau de réemploi solidaire. Pour de l'aide, un atelier ou un souci avec "
             "l'appareil, écrivez « menu ».")


__all__ = [
    "BATTERY_LABELS", "CATALOGUE_KIND", "DIAGNOSIS_LABELS", "GRADE_MEANINGS", "HOLDS_DATA",
    "STATE_LABELS", "STICKER_TITLE", "CardFacts", "LabelQuestion", "card_lines", "clean",
    "device_name", "diagnosis_lines", "kind_of", "new_label", "qr_payload", "read_label",
    "sticker_welcome",
]
