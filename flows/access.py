"""Professionals request access; a coordinator approves or rejects it in one action.

The network is a professional platform, not open to the general public (DOMAIN.md): the
request collects what the reference platform asks (role, structure, address, commune, contact,
function, phone) and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows import actions as act
from flows.answers import CommuneAnswer, FreeText, OneOf, PhoneAnswer
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice, Reply
from flows.records import AccessRequest, Role
from flows.text import Msg, _

FLOW_NAME = "access"


class S(StrEnum):
    """Steps of the access request (stored in conversations: never rename a value)."""

    ROLE = "role"
    STRUCTURE = "structure"
    ADDRESS = "address"
    COMMUNE = "commune"
    CONTACT = "contact"
    FUNCTION = "function"
    PHONE = "phone"


ROLE_LABELS: dict[Role, Msg] = {
    Role.PRESCRIBER: _("Accompagnant·e (travailleur social, France Services, bénévole…)"),
    Role.PLACE_STAFF: _("Personnel d'un lieu du réseau (point relais, médiathèque, hub…)"),
    Role.RECONDITIONER: _("Reconditionneur (effacement, réparation, installation)"),
}

ROLE_SHORT: dict[Role, Msg] = {
    Role.PRESCRIBER: _("accompagnant·e"),
    Role.PLACE_STAFF: _("personnel d'un lieu"),
    Role.RECONDITIONER: _("reconditionneur"),
}


@dataclass(frozen=True)
class SubmitAccessRequest(Effect):
    """Store the request and notify the coordinators."""

    answers: dict[str, Any]


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[SubmitAccessRequest(dict(answers))])


FLOW = Flow(
    name=FLOW_NAME,
    first=S.ROLE,
    intro=_(
        "Le réseau est réservé aux professionnels. Demandez un accès : un·e "
        "coordinateur·rice le valide, en général sous deux jours ouvrés."
    ),
    confirm=True,
    finish=_finish,
    steps={
        S.ROLE: Step(
            ask=_("Quel est votre rôle ?"),
            answer=OneOf([Choice(r.value, label) for r, label in ROLE_LABELS.items()]),
            label=_("Rôle"),
            next=S.STRUCTURE,
        ),
        S.STRUCTURE: Step(
            ask=_("Nom de votre structure ?"),
            answer=FreeText(2, 120),
            label=_("Structure"),
            next=S.ADDRESS,
            help=_("Par exemple : CCAS de Veynes, France Services de Laragne."),
        ),
        S.ADDRESS: Step(
            ask=_("Adresse de la structure (numéro et rue) ?"),
            answer=FreeText(3, 200),
            label=_("Adresse"),
            next=S.COMMUNE,
        ),
        S.COMMUNE: Step(
            ask=_("Commune ou code postal de la structure ?"),
            answer=CommuneAnswer(),
            label=_("Commune"),
            next=S.CONTACT,
        ),
        S.CONTACT: Step(
            ask=_("Vos prénom et nom ?"),
            answer=FreeText(2, 80),
            label=_("Contact"),
            next=S.FUNCTION,
        ),
        S.FUNCTION: Step(
            ask=_("Votre fonction ?"),
            answer=FreeText(2, 80),
            label=_("Fonction"),
            next=S.PHONE,
            help=_("Par exemple : conseillère France Services, assistant social."),
        ),
        S.PHONE: Step(
            ask=_("Un numéro de téléphone professionnel ?"),
            answer=PhoneAnswer(),
            label=_("Téléphone"),
            next=None,
            help=_("La coordination l'utilise seulement pour vérifier votre demande."),
        ),
    },
)


def submitted_reply() -> Reply:
    """What the requester reads once the request is stored."""
    return Reply([_("Merci ! Votre demande d'accès est envoyée à la coordination. "
                    "Vous recevrez un message dès qu'elle est traitée.")])


def coordinator_notice(request: AccessRequest, commune_name: str) -> Msg:
    """The message a coordinator reads to decide; personal data stays in the chat only."""
    return _(
        "Nouvelle demande d'accès n° {id}\n"
        "Rôle : {role}\nStructure : {structure}\nAdresse : {address}, {commune}\n"
        "Contact : {contact} ({function})\nTéléphone : {phone}",
        id=request.id,
        role=ROLE_SHORT[request.role],
        structure=request.structure,
        address=request.address,
        commune=commune_name,
        contact=request.contact_name,
        function=request.function,
        phone=request.phone,
    )


def decision_choices(request: AccessRequest) -> list[Choice]:
    """Approve or reject in one action; ids carry the request number (short for Telegram)."""
    return [
        Choice(act.ApproveAccess(request.id).pack(),
               _("Approuver la demande n° {id}", id=request.id)),
        Choice(act.RejectAccess(request.id).pack(),
               _("Refuser la demande n° {id}", id=request.id)),
    ]
