"""The handover: staff pick the device, and the person leaves with a kit that opens the
after-donation service.

Once staff confirm a getting-started session, they say which device they hand over: they scan
its sticker, type its label, or pick one of their place's ready devices of the kind the
request asked for. The kit (``handlers/handover.py``) carries the code to join the service,
the place's next workshops, the help places near the person, the booklet and the warranty.
Following the device ends there: nothing records how the person uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.answers import Accepted, Input, Rejected, Verdict, match_choice
from flows.devices import LabelQuestion, read_label
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice
from flows.records import RequestId
from flows.text import Msg, _, verbatim

FLOW_NAME = "handover.device"

REQUEST_ID = "request"
REFERENCE = "reference"
"""Prefilled answers: the request handed over."""

SHOWN = 8
"""Ready devices offered as buttons (a label typed or scanned reaches any of them)."""


class H(StrEnum):
    """Steps (stored in conversations: never rename a value)."""

    DEVICE = "handover.device.device"


@dataclass(frozen=True)
class HandOver(Effect):
    """Hand the device labelled ``label`` over for the request (checked by the handler)."""

    request_id: RequestId
    label: str


def _choices(ctx: Ctx) -> list[Choice]:
    return [Choice(label, verbatim(text)) for label, text in ctx.facts.get("ready", ())]


@dataclass(frozen=True)
class DevicePick(LabelQuestion):
    """A device by its label: one of the buttons, typed, or its sticker scanned."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return _choices(ctx)

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        picked = match_choice(given, self.choices(ctx), ctx)
        if picked is not None:
            return Accepted(picked.id)
        label = read_label(given.text) if given.choice is None else None
        if label is None:
            return Rejected(_("Scannez l'étiquette de l'appareil, écrivez-la (comme HA-7K3P) "
                              "ou choisissez un appareil de la liste."))
        return Accepted(label)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(str(value))


def _ask(ctx: Ctx, answers: Answers) -> Msg:
    if not ctx.facts.get("ready"):
        return _("Quel appareil remettez-vous pour {ref} ? Scannez son étiquette ou "
                 "écrivez-la (comme HA-7K3P).", ref=str(answers.get(REFERENCE, "")))
    return _("Quel appareil remettez-vous pour {ref} ? Scannez son étiquette, écrivez-la "
             "(comme HA-7K3P), ou choisissez un appareil prêt de votre lieu :",
             ref=str(answers.get(REFERENCE, "")))


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[HandOver(RequestId(int(answers[REQUEST_ID])), answers[H.DEVICE])])


FLOW = Flow(
    name=FLOW_NAME,
    first=H.DEVICE,
    finish=_finish,
    steps={H.DEVICE: Step(ask=_ask, answer=DevicePick(),
                          help=_("Sur Telegram, scannez le code QR de l'étiquette avec "
                                 "l'appareil photo du téléphone : le bot l'ouvre ici."))},
)


def prefill(request_id: RequestId, reference: str) -> dict[str, Any]:
    """The device question starts with the request it is for."""
    return {REQUEST_ID: int(request_id), REFERENCE: reference}


__all__ = ["FLOW", "FLOW_NAME", "SHOWN", "HandOver", "prefill"]
