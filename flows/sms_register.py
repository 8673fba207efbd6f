"""Place staff register a person's mobile number for SMS reminders, with their consent.

At the handover of a computer, or from the place's tools, for someone without Telegram or
Matrix: staff type the number (checked: a French mobile), the name the place knows the person
by (optional), then read the consent aloud, with the number, in plain words; nothing is kept
unless the person says yes. The person then gets a first SMS (who writes, how to stop, the
sessions to book) and the reminders of what they book.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.answers import (
    Accepted,
    FreeText,
    Input,
    OneOf,
    Rejected,
    Verdict,
    clean_text,
)
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice, Reply
from flows.sms_text import is_mobile, national
from flows.text import Msg, _, by_gesture, verbatim

FLOW_NAME = "sms.register"


class Question(StrEnum):
    """Steps of the registration (stored in conversations: never rename a value)."""

    PHONE = "sms.phone"
    NAME = "sms.name"
    CONSENT = "sms.consent"


@dataclass(frozen=True)
class RegisterSms(Effect):
    """Keep the number (E.164) and the name the place uses; send the first SMS."""

    phone: str
    name: str | None


@dataclass(frozen=True)
class MobileAnswer:
    """A French mobile number, in any usual spelling; kept in E.164."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if given.choice is not None:
            return Rejected(_("Écrivez le numéro de portable, par exemple 06 12 34 56 78."))
        e164 = ctx.check_phone(clean_text(given.text))
        if e164 is None:
            return Rejected(_("Ce numéro n'est pas valide. Écrivez-le comme 06 12 34 56 78."))
        if not is_mobile(e164):
            return Rejected(_("Ce numéro n'est pas un portable : il ne reçoit pas les SMS. "
                              "Écrivez un numéro en 06 ou 07."))
        return Accepted(e164)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(national(value)) if value else _("(non renseigné)")


def _consent(ctx: Ctx, answers: Answers) -> Msg:
    return _("Lisez ceci à la personne :\n« Le lieu garde votre numéro, le {phone}, pour "
             "vous envoyer les rappels de vos ateliers par SMS. Pour les arrêter, vous "
             "répondez STOP. Êtes-vous d'accord ? »",
             phone=verbatim(national(answers.get(Question.PHONE, ""))))


YES, NO = "yes", "no"


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    if answers.get(Question.CONSENT) != YES:
        return Outcome(replies=[Reply([_("C'est noté : rien n'est gardé, ni le numéro ni le "
                                         "nom.")])])
    return Outcome(effects=[RegisterSms(answers[Question.PHONE], answers.get(Question.NAME))])


FLOW = Flow(
    name=FLOW_NAME,
    first=Question.PHONE,
    finish=_finish,
    intro=_("Rappels par SMS, pour une personne sans Telegram ni Matrix."),
    steps={
        Question.PHONE: Step(
            ask=_("Quel est son numéro de portable ?"),
            answer=MobileAnswer(),
            label=_("Portable"),
            next=Question.NAME,
        ),
        Question.NAME: Step(
            ask=by_gesture(
                _("Comment le lieu l'appelle-t-il ? Par exemple « Mme Martin » ou son "
                  "prénom. Vous pouvez aussi toucher « Passer »."),
                _("Comment le lieu l'appelle-t-il ? Par exemple « Mme Martin » ou son "
                  "prénom. Vous pouvez aussi répondre « Passer ».")),
            answer=FreeText(1, 40, optional=True),
            label=_("Nom pour le lieu"),
            next=Question.CONSENT,
            help=_("Ce nom sert au lieu seulement : la liste des inscrits, un rappel non "
                   "reçu. Sans nom, le lieu voit son code."),
        ),
        Question.CONSENT: Step(
            ask=_consent,
            answer=OneOf([Choice(YES, _("Oui, la personne est d'accord")),
                          Choice(NO, _("Non, ne rien garder"))]),
            next=None,
            help=_("Sans son accord, rien n'est gardé. La personne peut aussi recevoir un "
                   "code pour Telegram ou Matrix."),
        ),
    },
)
