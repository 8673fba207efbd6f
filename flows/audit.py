"""The audit log: who did what sensitive thing, when, for the coordinators to see.

An entry names its subject by a reference (an access request number, a request or lot
reference), never by a beneficiary's identity; "who" is a professional's user key, or nobody
when the system did it (a retention job) or the person themselves asked to be forgotten.

Entries are kept as long as the records they speak of: erasure proofs are kept five years
(``flows.erasure.RETENTION_YEARS``), and so are the entries about them; the other entries
are kept five years too, the time within which a civil claim can be brought in France
(Code civil, art. 2224), since they answer "who decided this" for such a claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows.erasure import RETENTION_YEARS
from flows.messages import UserKey
from flows.text import Msg, When, _


class AuditAction(StrEnum):
    """Sensitive actions (stored: never rename a value)."""

    ACCESS_GRANTED = "access.granted"
    ACCESS_REVOKED = "access.revoked"
    ROLE_CHANGED = "access.role_changed"
    REFERENT_NAMED = "access.referent"
    REQUEST_STATUS = "request.status"
    ERASURE_RECORDED = "erasure.recorded"
    CERTIFICATE_ISSUED = "certificate.issued"
    DATA_DELETED = "data.deleted"
    LOT_SENT = "lot.sent"
    PAYMENT_RECORDED = "payment.recorded"
    PAYMENT_CORRECTED = "payment.corrected"
    FUND_BUDGET_SET = "fund.budget"
    RESERVATION_MADE = "reservation.made"
    RESERVATION_LAPSED = "reservation.lapsed"
    RESERVATION_CANCELLED = "reservation.cancelled"
    RESERVATION_SOLD = "reservation.sold"


LABELS: dict[AuditAction, Msg] = {
    AuditAction.ACCESS_GRANTED: _("accès accordé"),
    AuditAction.ACCESS_REVOKED: _("accès retiré"),
    AuditAction.ROLE_CHANGED: _("rôle ou lieu modifié"),
    AuditAction.REFERENT_NAMED: _("référent·e de structure nommé·e"),
    AuditAction.REQUEST_STATUS: _("statut de demande changé"),
    AuditAction.ERASURE_RECORDED: _("effacement enregistré"),
    AuditAction.CERTIFICATE_ISSUED: _("certificat d'effacement délivré"),
    AuditAction.LOT_SENT: _("lot confié à un atelier"),
    AuditAction.DATA_DELETED: _("données supprimées"),
    AuditAction.PAYMENT_RECORDED: _("paiement enregistré"),
    AuditAction.PAYMENT_CORRECTED: _("paiement annulé par une contre-écriture"),
    AuditAction.FUND_BUDGET_SET: _("budget du fonds de solidarité fixé"),
    AuditAction.RESERVATION_MADE: _("appareil réservé par le public"),
    AuditAction.RESERVATION_LAPSED: _("réservation du public terminée sans achat"),
    AuditAction.RESERVATION_CANCELLED: _("réservation du public annulée"),
    AuditAction.RESERVATION_SOLD: _("appareil réservé vendu"),
}

ACCOUNTS_YEARS = 10
"""Accounting records and their supporting documents are kept ten years (Code de commerce,
art. L123-22): so are the entries about payments and the fund's budget."""

KEPT_YEARS: dict[AuditAction, int] = {
    AuditAction.ERASURE_RECORDED: RETENTION_YEARS,
    AuditAction.CERTIFICATE_ISSUED: RETENTION_YEARS,
    AuditAction.PAYMENT_RECORDED: ACCOUNTS_YEARS,
    AuditAction.PAYMENT_CORRECTED: ACCOUNTS_YEARS,
    AuditAction.FUND_BUDGET_SET: ACCOUNTS_YEARS,
    AuditAction.RESERVATION_SOLD: ACCOUNTS_YEARS,
}
DEFAULT_KEPT_YEARS = 5


@dataclass(frozen=True)
class AuditEntry:
    """One sensitive action."""

    id: int
    at: datetime
    actor: UserKey | None
    action: AuditAction
    subject: str
    detail: str = ""


def keep_until(action: AuditAction, now: datetime) -> datetime:
    """When an entry about ``action`` done ``now`` may be deleted."""
    years = KEPT_YEARS.get(action, DEFAULT_KEPT_YEARS)
    try:
        return now.replace(year=now.year + years)
    except ValueError:  # 29 February
        return now.replace(year=now.year + years, day=28)


def entry_line(entry: AuditEntry) -> Msg:
    """One line of the log as coordinators read it."""
    who = entry.actor if entry.actor else _("le système ou la personne elle-même")
    detail = f" ({entry.detail})" if entry.detail else ""
    return _("• {when} : {action}, {subject}{detail}, par {who}", when=When(entry.at),
             action=LABELS[entry.action], subject=entry.subject, detail=detail, who=who)
