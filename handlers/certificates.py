"""The donor's PDF documents: the receipt of a lot and its erasure certificate (fpdf2).

Texts are message ids rendered by the ``translate`` function of the session that produces the
document, like every other text. The PDF uses the standard Helvetica font in the Windows-1252
encoding (French is fully covered); a character outside it (an emoji in a name) becomes "?"
rather than failing. Streams are left uncompressed: documents stay small and their text can
be read back, by a test or by anyone checking a certificate.

The certificate carries the fields of the NIST SP 800-88 rev. 1 sample "Certificate of
Sanitization" (appendix G): who performed the sanitisation, which medium (type, make, model,
serial number, source device), the method and its category (clear / purge / destroy), the
tool and its version, the verification, the result and the destination of the device.

Who is named by their organisation and their own name (``signatory_of``), as they were when
the proof was made and as stored with it: never by a chat account's key.

When the network publishes its pages (``FILIERE_WEB_BASE_URL``), the certificate carries the
address of its check, ``/verifier/<code>``, written out and as a QR code (segno) in the top
right corner: whoever holds the paper scans it and reads the network's answer.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF

from flows.donation import (
    CATEGORY_LABELS,
    DONOR_KIND_LABELS,
    TRANSFER_TERMS,
    bullet,
    handover_text,
    protocol_text,
)
from flows.erasure import (
    LEVEL_LABELS,
    MEASURE_LABELS,
    MEDIUM_LABELS,
    METHOD_LABELS,
    NIST_LABELS,
    RESULT_LABELS,
    Assessment,
    Measure,
    Result,
    assess,
    nist_category,
)
from flows.erasure_record import DEVICE_LABELS
from flows.ports import UnitOfWork
from flows.records import (
    AccessStatus,
    Certificate,
    ErasureRecord,
    Lot,
    Place,
    Signatory,
    User,
)
from flows.territory import Territory
from flows.text import Day, Lines, Msg, When, _, _n, verbatim

Translate = Callable[[Msg], str]

NETWORK = _("Réseau de réemploi solidaire du numérique des Hautes-Alpes")

DESTINATIONS: dict[Result, Msg] = {
    Result.VERIFIED: _("réemploi"),
    Result.DESTROYED: _("détruit, envoyé au recyclage"),
    Result.FAILED: _("retiré, jamais réemployé"),
}


QR_MM = 32.0
"""Side of the printed QR code: scanned from paper at arm's length."""


def verify_url(public_url: str | None, code: str) -> str | None:
    """The address of a certificate's check on the network's pages (None: no pages)."""
    return f"{public_url}/verifier/{code}" if public_url else None


def qr_png(data: str) -> bytes:
    """``data`` as a QR code in a PNG image (medium error correction, a 4-module margin;
    never a Micro QR, which many phones do not read, even for a short code)."""
    buffer = io.BytesIO()
    segno.make_qr(data, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


def pdf_safe(text: str) -> str:
    """Text the standard PDF font can show: compatibility forms folded, the rest as "?"."""
    folded = unicodedata.normalize("NFKC", text)
    return folded.encode("cp1252", errors="replace").decode("cp1252")


class _Document:
    """A small A4 document: a title, headings, paragraphs and bullet lines."""

    def __init__(self, translate: Translate, created: datetime) -> None:
        self.t = translate
        self.pdf = FPDF(format="A4")
        self.pdf.core_fonts_encoding = "windows-1252"
        self.pdf.set_compression(False)
        self.pdf.set_creation_date(created)
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.width = 0.0
        """Width of the lines written (0: up to the right margin)."""
        self.clear_below = 0.0

    def _write(self, msg: Msg, size: float, style: str = "", gap: float = 1.5) -> None:
        self.pdf.set_font("Helvetica", style=style, size=size)
        text = pdf_safe(self.t(msg))
        self.pdf.multi_cell(self.width, size * 0.5, text, align="L", new_x="LMARGIN",
                            new_y="NEXT")
        self.pdf.ln(gap)

    def corner_qr(self, data: str) -> None:
        """A QR code in the top right corner; the lines that follow keep clear of it until
        :meth:`below_corner`."""
        pdf = self.pdf
        x = pdf.w - pdf.r_margin - QR_MM
        pdf.image(io.BytesIO(qr_png(data)), x=x, y=pdf.t_margin, w=QR_MM, h=QR_MM)
        self.width = x - pdf.l_margin - 4
        self.clear_below = pdf.t_margin + QR_MM + 2

    def below_corner(self) -> None:
        """Back to full-width lines, under the corner's QR code."""
        self.width = 0.0
        self.pdf.set_y(max(self.pdf.get_y(), self.clear_below))

    def title(self, msg: Msg) -> None:
        self._write(msg, 16, "B", 3)

    def heading(self, msg: Msg) -> None:
        self.pdf.ln(2)
        self._write(msg, 12, "B")

    def para(self, msg: Msg) -> None:
        self._write(msg, 10)

    def small(self, msg: Msg) -> None:
        self._write(msg, 8)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


Document = _Document
"""A small A4 document of the network (the handover kit is one too)."""


def receipt_pdf(
    lot: Lot, place: Place | None, territory: Territory, translate: Translate
) -> bytes:
    """The receipt of a declared lot: content, protocol promised, hand-over, transfer terms."""
    doc = _Document(translate, lot.created_at)
    doc.title(_("Reçu de don {ref}", ref=lot.reference))
    doc.para(NETWORK)
    commune = territory.commune(lot.commune)
    doc.heading(_("Donateur"))
    doc.para(_("{donor} ({kind}), {commune}", donor=lot.donor_name,
               kind=DONOR_KIND_LABELS[lot.donor_kind],
               commune=commune.name if commune else lot.commune))
    if lot.siret:
        doc.para(_("SIRET : {siret}", siret=lot.siret))
    doc.para(_("Déclaré le {day}", day=When(lot.created_at)))
    doc.heading(_("Matériel"))
    for category, quantity in lot.items:
        doc.para(bullet(_("{category} : {n}", category=CATEGORY_LABELS[category], n=quantity)))
    doc.heading(_("Protocole d'effacement promis"))
    reason = assess(lot.questionnaire).reason
    doc.para(protocol_text(Assessment(lot.level, reason, lot.measures)))
    doc.heading(_("Remise du matériel"))
    doc.para(handover_text(lot, place, territory))
    doc.heading(_("Convention de cession"))
    doc.para(TRANSFER_TERMS)
    return doc.output()


async def signatory_of(uow: UnitOfWork, user: User) -> Signatory:
    """How a proof made now by ``user`` names them: organisation and own name, never the key.

    The organisation is the reconditioner's (open) place of the network, else the structure
    of their approved access request; the name is the one they gave in that request. A demo
    account seeded without a request is named by its organisation only.
    (``storage/migrations/0006_erasure_signatory.sql`` names older proofs by the same rule.)
    """
    request = await uow.access.latest_for(user.key)
    approved = request if request and request.status is AccessStatus.APPROVED else None
    place = await uow.places.get(user.place_id) if user.place_id is not None else None
    organisation = place.name if place else approved.structure if approved else ""
    return Signatory(organisation, approved.contact_name if approved else "")


def signed_text(signatory: Signatory) -> Msg:
    """A signatory as a certificate shows it: "name, organisation", or what is known."""
    if signatory.name and signatory.organisation:
        return _("{name}, {organisation}", name=signatory.name,
                 organisation=signatory.organisation)
    if signatory.name or signatory.organisation:
        return verbatim(signatory.name or signatory.organisation)
    return _("(non renseigné)")


def latest_per_medium(records: Sequence[ErasureRecord]) -> list[ErasureRecord]:
    """The record that counts for each medium: the latest one (a failure, then destruction)."""
    latest: dict[tuple[str, str], ErasureRecord] = {}
    for record in sorted(records, key=lambda r: r.id):
        latest[(record.device_serial, record.medium_serial)] = record
    return sorted(latest.values(), key=lambda r: r.id)


def certificate_pdf(
    lot: Lot,
    certificate: Certificate,
    records: Sequence[ErasureRecord],
    territory: Territory,
    translate: Translate,
    tz: ZoneInfo,
    check_url: str | None = None,
) -> bytes:
    """The lot's erasure certificate, with its verification code (NIST SP 800-88 fields);
    its dates are days of the network's time zone ``tz``. With ``check_url`` (the network
    publishes its pages), the address of its check, written out and as a QR code."""
    media = latest_per_medium(records)
    doc = _Document(translate, certificate.issued_at)
    if check_url is not None:
        doc.corner_qr(check_url)
    doc.title(_("Certificat d'effacement des données — {ref}", ref=lot.reference))
    doc.para(NETWORK)
    doc.para(_("Code de vérification : {code}", code=certificate.code))
    doc.para(_("Délivré le {day}", day=Day(certificate.issued_at.astimezone(tz).date())))
    if check_url is not None:
        doc.para(_("Vérifiez-le en ligne (ou scannez le code QR) : {url}",
                   url=verbatim(check_url)))
        doc.below_corner()
    operators = tuple(signed_text(s) for s in dict.fromkeys(r.signatory for r in media))
    doc.para(_("Effacement réalisé par : {operators}", operators=Lines(operators)))
    doc.para(_("Certificat délivré par : {issuer}", issuer=signed_text(certificate.signatory)))
    commune = territory.commune(lot.commune)
    doc.heading(_("Donateur et lot"))
    doc.para(_("{donor} ({kind}), {commune}", donor=lot.donor_name,
               kind=DONOR_KIND_LABELS[lot.donor_kind],
               commune=commune.name if commune else lot.commune))
    doc.para(_("Lot {ref}, déclaré le {day} ; niveau de sensibilité : {level}",
               ref=lot.reference, day=Day(lot.created_at.astimezone(tz).date()),
               level=LEVEL_LABELS[lot.level]))
    destroyed = sum(1 for r in media if r.result is Result.DESTROYED)
    failed = sum(1 for r in media if r.result is Result.FAILED)
    doc.heading(_("Résultat"))
    doc.para(_n("{n} support de stockage traité : {erased} effacé(s) et vérifié(s), "
                "{destroyed} détruit(s), {failed} retiré(s) après échec.",
                "{n} supports de stockage traités : {erased} effacé(s) et vérifié(s), "
                "{destroyed} détruit(s), {failed} retiré(s) après échec.", len(media),
                erased=len(media) - destroyed - failed, destroyed=destroyed, failed=failed))
    doc.para(_("Étapes du protocole appliqué :"))
    for measure in lot.measures:
        doc.para(bullet(MEASURE_LABELS[measure]))
    detailed = Measure.DEVICE_CERTIFICATES in lot.measures
    doc.heading(_("Détail par support") if detailed else _("Supports traités"))
    for number, record in enumerate(media, start=1):
        if detailed:
            doc.para(_medium_detail(number, record))
        else:
            doc.para(bullet(_("{category} n° {serial} : {result}",
                              category=DEVICE_LABELS[record.device_category],
                              serial=record.device_serial,
                              result=RESULT_LABELS[record.result])))
    doc.heading(_("Attestation"))
    doc.small(_("Le réseau atteste que les supports ci-dessus ont été traités selon la méthode "
                "indiquée, conformément aux recommandations NIST SP 800-88 et au guide ANSSI "
                "sur le reconditionnement des ordinateurs. Les preuves sont conservées 5 ans. "
                "Vérifiez ce certificat auprès du bot du réseau : /verifier {code}",
                code=certificate.code))
    return doc.output()


def _medium_detail(number: int, record: ErasureRecord) -> Msg:
    """One medium with the fields of the NIST SP 800-88 sample certificate."""
    lines = (
        _("Support {n} : {medium}, modèle {model}, n° de série {serial}", n=number,
          medium=MEDIUM_LABELS[record.medium_kind], model=record.medium_model or "-",
          serial=record.medium_serial or "-"),
        _("Appareil d'origine : {category} {model}, n° de série {serial}",
          category=DEVICE_LABELS[record.device_category], model=record.device_model,
          serial=record.device_serial),
        _("Méthode : {method} — catégorie {nist}", method=METHOD_LABELS[record.method],
          nist=NIST_LABELS[nist_category(record.method)]),
        _("Outil : {tool} {version}", tool=record.tool, version=record.tool_version or ""),
        _("Vérification et résultat : {result}", result=RESULT_LABELS[record.result]),
        _("Début : {start} ; fin : {end}", start=When(record.started_at),
          end=When(record.ended_at)),
        _("Opérateur : {operator}", operator=signed_text(record.signatory)),
        _("Destination : {destination}", destination=DESTINATIONS[record.result]),
    )
    return Msg("{lines}", {"lines": Lines(lines)})
