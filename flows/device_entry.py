"""Registering a received lot's devices: one message per device.

Staff pick a category of the lot, then write one line per device: its make and model, and its
serial number after a comma ("Lenovo ThinkPad T480, PF1ABC23"), or "Sans détails". Each line
registers one device and gives its label; the question comes back for the next one until
"Terminé". (A whole lot without details is one button: ``handlers/devices.py``.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.answers import Accepted, Input, Rejected, Verdict, clean_text, match_choice
from flows.devices import DEVICE_NAMES
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.erasure_record import SERIAL_PATTERN, normalize_serial
from flows.messages import Choice
from flows.normalize import fold
from flows.records import DeviceCategory, LotId
from flows.text import Msg, _

FLOW_NAME = "devices.entry"

LOT_ID = "lot"
LOT_REF = "lot_ref"
CATEGORY = "category"
DONE_SO_FAR = "registered"
DECLARED = "declared"
"""Prefilled answers: the lot, the category, and how many of it are registered / declared."""

DONE_WORDS = frozenset({"fin", "fini", "termine", "terminee", "c est tout", "done", "end",
                        "finished"})

NO_DETAILS = "none"
DONE = "done"


class D(StrEnum):
    """Steps (stored in conversations: never rename a value)."""

    DETAILS = "devices.entry.details"


@dataclass(frozen=True)
class RegisterDevice(Effect):
    """One device of ``category`` for the lot; empty model and serial: details later."""

    lot_id: LotId
    category: DeviceCategory
    model: str
    serial: str


@dataclass(frozen=True)
class EntryDone(Effect):
    """Staff said they are done with this category."""

    lot_id: LotId


def read_line(text: str) -> tuple[str, str] | Msg:
    """A device as one typed line: make and model, then the serial number after a comma or
    a semicolon; or why it cannot be read."""
    parts = re.split(r"[,;]", clean_text(text[:200]), maxsplit=1)
    model, serial = parts[0], parts[1] if len(parts) > 1 else ""
    model = model.strip()
    if len(model) < 2 or len(model) > 80 or not any(ch.isalnum() for ch in model):
        return _("Écrivez la marque et le modèle (2 à 80 caractères), par exemple : Lenovo "
                 "ThinkPad T480, PF1ABC23.")
    serial = normalize_serial(serial)
    if serial and not SERIAL_PATTERN.fullmatch(serial):
        return _("Le numéro de série, après la virgule, s'écrit avec des lettres, des chiffres "
                 "et des tirets (2 à 60 caractères).")
    return model, serial


@dataclass(frozen=True)
class DeviceLine:
    """One device typed as a line, "Sans détails", or "Terminé"."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [Choice(NO_DETAILS, _("Sans détails")), Choice(DONE, _("Terminé"))]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        picked = match_choice(given, self.choices(ctx), ctx)
        if picked is not None:
            return Accepted({DONE: True} if picked.id == DONE else {"model": "", "serial": ""})
        if given.choice is not None:
            return Rejected(_("Choisissez une des propositions (son numéro ou son texte)."))
        if fold(given.text) in DONE_WORDS:
            return Accepted({DONE: True})
        read = read_line(given.text)
        if isinstance(read, Msg):
            return Rejected(read)
        return Accepted({"model": read[0], "serial": read[1]})

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return _("(appareil)")


def _ask(ctx: Ctx, answers: Answers) -> Msg:
    return _("Lot {ref}, {category} : {n} enregistré(s) sur {declared} déclaré(s). Écrivez la "
             "marque et le modèle de l'appareil suivant, puis son numéro de série après une "
             "virgule (par exemple : Lenovo ThinkPad T480, PF1ABC23). Une ligne par appareil.",
             ref=str(answers.get(LOT_REF, "")),
             category=DEVICE_NAMES[DeviceCategory(answers[CATEGORY])],
             n=int(answers.get(DONE_SO_FAR, 0)), declared=int(answers.get(DECLARED, 0)))


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    value = answers[D.DETAILS]
    lot = LotId(int(answers[LOT_ID]))
    if value.get(DONE):
        return Outcome(effects=[EntryDone(lot)])
    return Outcome(effects=[RegisterDevice(lot, DeviceCategory(answers[CATEGORY]),
                                           value["model"], value["serial"])])


FLOW = Flow(
    name=FLOW_NAME,
    first=D.DETAILS,
    finish=_finish,
    steps={D.DETAILS: Step(ask=_ask, answer=DeviceLine(),
                           help=_("« Sans détails » enregistre l'appareil tout de suite : sa "
                                  "marque, son modèle et son numéro se complètent plus tard, "
                                  "au diagnostic."))},
)


def prefill(lot_id: LotId, lot_ref: str, category: DeviceCategory, registered: int,
            declared: int) -> dict[str, Any]:
    """The answers the entry starts with: the lot, the category, where the count stands."""
    return {LOT_ID: int(lot_id), LOT_REF: lot_ref, CATEGORY: category.value,
            DONE_SO_FAR: registered, DECLARED: declared}


__all__ = ["FLOW", "FLOW_NAME", "EntryDone", "RegisterDevice", "prefill", "read_line"]
