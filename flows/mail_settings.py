"""A professional's notices by e-mail: opt in with an address, change it, stop.

Prescribers, place staff, reconditioners and coordinators get their notices in the chat; they
may ask for a copy by e-mail too, from their professional space ("Avis par e-mail"). The
address is checked by email-validator (``ctx.check_email``) and stored normalised; a welcome
e-mail tells its owner why e-mails come and how to stop. Stopping deletes the address and the
e-mails still waiting for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flows import actions as act
from flows.answers import Accepted, Input, Rejected, Verdict, clean_text
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice, Reply
from flows.text import Msg, _, verbatim

FLOW_NAME = "mail.address"
ADDRESS = "address"


@dataclass(frozen=True)
class SetMailAddress(Effect):
    """Get notices by e-mail at ``address`` (normalised), replacing any address before."""

    address: str


@dataclass(frozen=True)
class EmailAnswer:
    """An e-mail address, checked and normalised by ``ctx.check_email``."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        address = ctx.check_email(clean_text(given.text)) if given.choice is None else None
        if address is None:
            return Rejected(_("Cette adresse e-mail n'est pas valide. Écrivez-la en entier, "
                              "par exemple prenom.nom@structure.fr, ou écrivez « annuler »."))
        return Accepted(address)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value)


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[SetMailAddress(answers[ADDRESS])])


FLOW = Flow(
    name=FLOW_NAME,
    first=ADDRESS,
    finish=_finish,
    steps={
        ADDRESS: Step(ask=_("À quelle adresse e-mail voulez-vous recevoir vos avis ?"),
                      answer=EmailAnswer()),
    },
)


def settings_reply(address: str | None) -> Reply:
    """Where a professional's notices go, and what they can change."""
    if address is None:
        return Reply([_("Vous recevez vos avis ici, dans le chat. Voulez-vous aussi les "
                        "recevoir par e-mail ? Vous pourrez arrêter à tout moment.")],
                     [Choice(act.MailAddress().pack(), _("Donner une adresse e-mail"))])
    return Reply([_("Vos avis arrivent ici et par e-mail à {address}.",
                    address=verbatim(address))],
                 [Choice(act.MailAddress().pack(), _("Changer d'adresse e-mail")),
                  Choice(act.MailStop().pack(), _("Arrêter les e-mails"))])


MAIL_OFF = _("L'envoi d'e-mails n'est pas activé sur ce réseau : vos avis arrivent ici, "
             "dans le chat.")


def address_set(address: str) -> Msg:
    return _("C'est noté : vos avis arriveront aussi à {address}. Un e-mail de confirmation "
             "y part maintenant.", address=verbatim(address))


STOPPED = _("C'est fait : vous ne recevez plus d'e-mails du réseau, et votre adresse est "
            "effacée.")
NOTHING_TO_STOP = _("Vous ne recevez pas d'e-mails du réseau.")
