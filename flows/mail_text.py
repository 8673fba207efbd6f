"""E-mails as values: what each e-mail of the network says, and what is said when one fails.

An e-mail is a :class:`Letter`: a kind, a subject and paragraphs, all message ids (French,
the source language) rendered by ``bot/mail.py`` when it is sent, in the language its owner
reads then (English for a donor whose language is English). Like a chat message, it waits in
a queue (``mail_outbox``) written in the transaction that causes it; nothing here sends.

Who gets e-mails: a donor who gave an e-mail address as their contact (the receipt of the lot,
its erasure certificate, later the impact report), and a professional who asked for their
notices by e-mail too (``flows/mail_settings.py``). A failure that will not mend (the
address refused, the relay unreachable for a day) is told to the coordinators in the chat,
once, by the lot's reference: never by the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.text import Msg, _, _n, from_json, to_json


class MailKind(StrEnum):
    """What an e-mail is (stored: never rename a value)."""

    RECEIPT = "receipt"
    CERTIFICATE = "certificate"
    IMPACT = "impact"
    """The impact report of a lot (what became of its devices): sent once the device chain
    produces it (``handlers.mail.mail_impact_report``)."""
    NOTICE = "notice"
    """A copy of a chat notice, for a professional who asked for it."""
    WELCOME = "welcome"
    """To a professional's new address: what they will get, and how to stop."""


DONOR_KINDS = frozenset({MailKind.RECEIPT, MailKind.CERTIFICATE, MailKind.IMPACT})
"""E-mails to a lot's contact address."""


@dataclass(frozen=True)
class Letter:
    """One e-mail's text: a subject (``None``: made from the body's first line, for a copied
    notice) and paragraphs."""

    kind: MailKind
    subject: Msg | None
    body: tuple[Msg, ...]

    def payload(self) -> dict[str, Any]:
        """JSON kept in the queue until the e-mail is sent."""
        return {"subject": None if self.subject is None else to_json(self.subject),
                "body": [to_json(part) for part in self.body]}

    @classmethod
    def from_payload(cls, kind: MailKind, payload: dict[str, Any]) -> Letter:
        subject = payload.get("subject")
        return cls(kind, None if subject is None else from_json(subject),
                   tuple(from_json(part) for part in payload.get("body", ())))


def _donor_footer() -> Msg:
    return _("Ce message est envoyé automatiquement par le réseau de réemploi solidaire du "
             "numérique des Hautes-Alpes, à l'adresse que vous avez donnée en déclarant votre "
             "don. Pour qu'elle soit effacée : dans le bot du réseau, « Mes dons / "
             "certificats », puis « Effacer mes coordonnées ».")


def receipt_letter(reference: str) -> Letter:
    """The receipt of a declared lot, the PDF attached."""
    return Letter(MailKind.RECEIPT, _("Reçu de votre don {ref}", ref=reference), (
        _("Bonjour,"),
        _("Merci pour votre don au réseau de réemploi solidaire du numérique des Hautes-Alpes. "
          "Le reçu du don {ref} est en pièce jointe : le matériel déclaré, le protocole "
          "d'effacement promis et la convention de cession.", ref=reference),
        _("Vous recevrez le certificat d'effacement par e-mail dès que les données seront "
          "effacées."),
        _donor_footer(),
    ))


def certificate_letter(reference: str, code: str, check_url: str | None) -> Letter:
    """The erasure certificate of a lot, the PDF attached."""
    body = [
        _("Bonjour,"),
        _("Les données du matériel de votre don {ref} sont effacées. Le certificat "
          "d'effacement est en pièce jointe (code de vérification {code}). Il reste "
          "disponible 5 ans dans le bot du réseau, « Mes dons / certificats ».",
          ref=reference, code=code),
    ]
    if check_url is not None:
        body.append(_("Vérifiez-le en ligne : {url}", url=check_url))
    body.append(_donor_footer())
    return Letter(MailKind.CERTIFICATE,
                  _("Certificat d'effacement des données de votre don {ref}", ref=reference),
                  tuple(body))


def impact_letter(reference: str) -> Letter:
    """The impact report of a lot (what became of its devices), the PDF attached."""
    return Letter(MailKind.IMPACT, _("Ce qu'est devenu votre don {ref}", ref=reference), (
        _("Bonjour,"),
        _("Le matériel de votre don {ref} a trouvé une nouvelle vie. Le rapport en pièce "
          "jointe dit ce que chaque appareil est devenu. Merci encore !", ref=reference),
        _donor_footer(),
    ))


def notice_letter(texts: tuple[Msg, ...], answerable: bool) -> Letter:
    """A copy of a chat notice for a professional; ``answerable``: it had buttons, which
    only work in the chat."""
    body: list[Msg] = list(texts)
    if answerable:
        body.append(_("Pour répondre, ouvrez votre conversation avec le bot du réseau."))
    body.append(_("Vous recevez cette copie par e-mail parce que vous l'avez demandé. Pour "
                  "arrêter : dans le bot du réseau, « Espace professionnel », puis « Avis par "
                  "e-mail »."))
    return Letter(MailKind.NOTICE, None, tuple(body))


def notice_subject(first_line: str) -> Msg:
    """The subject of a copied notice: its first line, introduced."""
    return _("Réseau de réemploi : {summary}", summary=first_line)


def welcome_letter() -> Letter:
    """To a professional's new address, so that its owner knows why e-mails come."""
    return Letter(MailKind.WELCOME, _("Vos avis du réseau de réemploi, par e-mail"), (
        _("Bonjour,"),
        _("Vous recevrez désormais par e-mail une copie des avis que le bot du réseau de "
          "réemploi solidaire du numérique des Hautes-Alpes vous envoie dans le chat."),
        _("Pour arrêter : dans le bot du réseau, « Espace professionnel », puis « Avis par "
          "e-mail ». Si vous n'avez rien demandé, écrivez à la coordination du réseau."),
    ))


# --- What is said when an e-mail does not go ------------------------------------------------

KIND_LABELS: dict[MailKind, Msg] = {
    MailKind.RECEIPT: _("le reçu"),
    MailKind.CERTIFICATE: _("le certificat d'effacement"),
    MailKind.IMPACT: _("le rapport d'impact"),
    MailKind.NOTICE: _("un avis"),
    MailKind.WELCOME: _("la confirmation d'adresse"),
}


class Failure(StrEnum):
    """Why an e-mail was given up."""

    REFUSED = "refused"
    """The relay refused it for good (5xx): the address does not exist, the mailbox is
    closed, the message was rejected."""
    EXHAUSTED = "exhausted"
    """The relay could not be reached, or put it off (4xx), at every attempt for about a
    day."""


def _why(failure: Failure, code: int | None) -> Msg:
    if failure is Failure.REFUSED:
        return _("le serveur de messagerie a refusé l'adresse ou le message (code {code})",
                 code=str(code) if code else "?")
    return _("le serveur d'envoi n'a pas pu le prendre pendant une journée d'essais")


def donor_mail_failed(kind: MailKind, reference: str, failure: Failure,
                      code: int | None) -> Msg:
    """To the coordinators: a donor's e-mail did not go (the chat copy did)."""
    return _("L'e-mail du don {ref} ({what}) n'a pas pu être remis : {why}. Le donateur a "
             "reçu le document dans le chat ; vérifiez son adresse avec lui si besoin.",
             ref=reference, what=KIND_LABELS[kind], why=_why(failure, code))


def notices_mail_failed(who: str, failure: Failure, code: int | None) -> Msg:
    """To the coordinators: a professional's notices by e-mail stopped."""
    return _("Les avis par e-mail de {who} sont arrêtés : {why}. Cette personne est "
             "prévenue dans le chat.", who=who, why=_why(failure, code))


def notices_exhausted(count: int) -> Msg:
    """To the coordinators: copies of notices that the relay did not take for a day."""
    return _n("{n} copie d'avis par e-mail n'a pas pu partir : le serveur d'envoi ne l'a pas "
              "prise pendant une journée d'essais. L'avis lui-même est bien arrivé dans le "
              "chat.", "{n} copies d'avis par e-mail n'ont pas pu partir : le serveur d'envoi "
              "ne les a pas prises pendant une journée d'essais. Les avis eux-mêmes sont bien "
              "arrivés dans le chat.", count)


def your_mail_failed(failure: Failure, code: int | None) -> Msg:
    """To the professional: their notices by e-mail stopped, and how to start again."""
    return _("Vos avis par e-mail sont arrêtés : {why}. Vous recevez toujours tout ici. "
             "Pour donner une autre adresse : « Espace professionnel », puis « Avis par "
             "e-mail ».", why=_why(failure, code))


def also_by_mail(kind: MailKind) -> Msg:
    """Told to a donor in the chat beside the document: it goes to their address too."""
    if kind is MailKind.RECEIPT:
        return _("Vous recevez aussi ce reçu par e-mail.")
    return _("Vous le recevez aussi par e-mail.")

