"""A professional deletes their own data: who may, what goes at once, what stays and why.

A prescriber, a place's staff member or a reconditioner ends their access from their space
(``handlers.privacy``): their role and place go, who they are on their access requests
(name, function, phone, structure, address) is blanked, their conversation, last menu and
messages waiting for them are deleted, and their account key is taken off the request
histories, join codes and help tickets they touched.

What stays, because others rely on it, each with its own retention:

* the equipment requests they made for the people they accompany (the network's record and
  figures; the beneficiary's first name goes ``flows.request.FIRST_NAME_KEPT_MONTHS`` after
  the end), still under their account key, with no name;
* the erasure records and certificates they signed: the proof owed to donors, five years
  (``flows.erasure.RETENTION_YEARS``), operator's name as printed on the certificate;
* the audit log of sensitive actions: five years (``flows.audit``).

Coordinators are named in the settings (``FILIERE_COORDINATORS``), not granted in the chat:
they cannot end their own role this way. A prescriber with requests still open finishes or
cancels them first: the person they accompany is waiting for that computer, and the
prescriber is the one the place tells when it is ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from flows.messages import Choice, Reply
from flows.records import User
from flows.request import FIRST_NAME_KEPT_MONTHS
from flows.text import Msg, _, _n, verbatim


class Act(StrEnum):
    """Choice ids of the professional's erasure (kept short: Telegram callback data)."""

    ERASE = "pv:erase"
    ERASE_OK = "pv:erase:ok"


BACK = "m:pro"
"""Back to the professional space (``flows.home.Door.PRO``)."""


class Refusal(StrEnum):
    """Why a professional cannot delete their data this way, now."""

    COORDINATOR = "coordinator"
    NOT_PROFESSIONAL = "not_professional"
    OPEN_REQUESTS = "open_requests"


def refusal(user: User, open_requests: Sequence[str]) -> Refusal | None:
    """Whether ``user`` may delete their professional data now (None: they may)."""
    if user.is_coordinator:
        return Refusal.COORDINATOR
    if user.role is None:
        return Refusal.NOT_PROFESSIONAL
    if open_requests:
        return Refusal.OPEN_REQUESTS
    return None


def refusal_text(why: Refusal, open_requests: Sequence[str]) -> Msg:
    """What the person is told instead, and what to do."""
    match why:
        case Refusal.COORDINATOR:
            return _("Vous êtes coordinateur·rice du réseau : ce rôle est inscrit dans la "
                     "configuration du bot (FILIERE_COORDINATORS), il ne peut pas être retiré "
                     "depuis le chat. Demandez à la personne qui administre le bot de vous en "
                     "retirer ; vous pourrez ensuite supprimer vos données ici.")
        case Refusal.NOT_PROFESSIONAL:
            return _("Cette action est réservée aux professionnel·les dont l'accès au réseau "
                     "est validé.")
        case Refusal.OPEN_REQUESTS:
            return _n("Vous avez {n} demande de matériel en cours ({refs}) : une personne que "
                      "vous accompagnez l'attend. Annulez-la depuis « Mes demandes » ou "
                      "attendez sa remise, puis supprimez vos données.",
                      "Vous avez {n} demandes de matériel en cours ({refs}) : des personnes "
                      "que vous accompagnez les attendent. Annulez-les depuis « Mes demandes » "
                      "ou attendez leur remise, puis supprimez vos données.",
                      len(open_requests), refs=verbatim(", ".join(open_requests)))


def question() -> Reply:
    """What goes, what stays, and the confirmation."""
    return Reply([_(
        "Supprimer vos données professionnelles ? Votre accès au réseau prend fin. Sont "
        "effacés : votre nom, votre fonction, votre téléphone, votre structure et son adresse, "
        "votre conversation en cours et les messages qui vous attendent.\n"
        "Restent, sans votre nom : les demandes de matériel que vous avez faites (le prénom "
        "de la personne est effacé {months} mois après la remise), les effacements de disques "
        "et certificats que vous avez signés (5 ans, la preuve due aux donateurs) et le "
        "journal des actions sensibles (5 ans).\n"
        "Pour revenir, il faudra refaire une demande d'accès.",
        months=FIRST_NAME_KEPT_MONTHS,
    )], [Choice(Act.ERASE_OK, _("Oui, supprimer mes données")),
         Choice(BACK, _("Non, revenir à mon espace"))])


def erased() -> Msg:
    return _("C'est fait : votre accès professionnel a pris fin et vos coordonnées sont "
             "effacées. Pour revenir un jour, refaites une demande d'accès depuis le menu.")
