"""Reconditioner staff record the sanitisation of one storage medium of a lot, in chat.

Started from a lot ("Enregistrer un effacement"), so the lot is given, not asked: its id and
reference are prefilled answers (and, for ``finish``, facts read back from the conversation).
One medium per conversation; what it records is what the NIST SP 800-88 sample certificate
of sanitisation asks: the device and the medium (type, make, model, serial number), the tool
and its version, the method, the result, start and end time.
The operator is whoever answers. An end before the start, or a time in the future, is refused
on the spot with the reason.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from flows.answers import (
    Accepted,
    FreeText,
    Input,
    OneOf,
    Rejected,
    TypedAnswer,
    Verdict,
    clean_text,
)
from flows.donation import bullet, live_answers
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.erasure import MEDIUM_LABELS, METHOD_LABELS, MediumKind, Method, Result
from flows.messages import Choice, Reply
from flows.records import DeviceCategory, LotId, NewErasure
from flows.text import Lines, Msg, When, _, verbatim

FLOW_NAME = "erasure"

LOT_ID = "lot"
LOT_REF = "lot_ref"
DONOR = "donor"
"""Prefilled answers: the lot being worked on, and the donor's name for nwipe's "customer"."""

FUTURE_TOLERANCE = timedelta(minutes=10)
OLDEST = timedelta(days=366)


class E(StrEnum):
    """Steps of an erasure record (stored in conversations: never rename a value)."""

    DEVICE_CATEGORY = "erasure.device_category"
    DEVICE_MODEL = "erasure.device_model"
    DEVICE_SERIAL = "erasure.device_serial"
    MEDIUM_KIND = "erasure.medium_kind"
    MEDIUM_MODEL = "erasure.medium_model"
    MEDIUM_SERIAL = "erasure.medium_serial"
    TOOL = "erasure.tool"
    TOOL_NAME = "erasure.tool_name"
    TOOL_VERSION = "erasure.tool_version"
    METHOD = "erasure.method"
    RESULT = "erasure.result"
    STARTED = "erasure.started"
    ENDED = "erasure.ended"
    ENDED_AGAIN = "erasure.ended_again"
    CHECK = "erasure.check"


DEVICE_LABELS: dict[DeviceCategory, Msg] = {
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
"""One device of a category, as a record and a certificate name it."""

TOOLS: dict[str, str] = {
    "nwipe": "nwipe",
    "killdisk": "KillDisk",
    "hdparm": "hdparm (ATA Secure Erase)",
    "nvme": "nvme-cli",
    "vendor": "",
}
"""Tool choice ids and the name recorded; "vendor" and "other" ask for the name."""


def tool_choices() -> list[Choice]:
    """The usual tools, then the manufacturer's own and anything else."""
    named = [Choice(key, verbatim(name)) for key, name in TOOLS.items() if name]
    return [*named, Choice("vendor", _("Outil du fabricant")), Choice("other", _("Autre outil"))]


# --- Answer kinds ----------------------------------------------------------------------------

_SERIAL = re.compile(r"[A-Z0-9][A-Z0-9\-_./:]{1,59}")
SERIAL_PATTERN = _SERIAL
"""What a serial number may be once normalised (:func:`normalize_serial`)."""


@dataclass(frozen=True)
class SerialAnswer(TypedAnswer):
    """A serial number: upper-case, spaces removed, letters, digits and - _ . / : only."""

    optional: bool = False

    def read(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        """Read a given (not skipped) answer."""
        serial = normalize_serial(given.text)
        if not _SERIAL.fullmatch(serial):
            return Rejected(_("Écrivez le numéro de série tel qu'il figure sur l'étiquette "
                              "(lettres, chiffres et tirets, 2 à 60 caractères)."))
        return Accepted(serial)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


def normalize_serial(text: str) -> str:
    """The form serial numbers are stored and compared in."""
    return clean_text(text[:200]).replace(" ", "").upper()


_CLOCK = r"(?P<h>\d{1,2})(?:[h:](?P<mi>\d{2})?)?"
_DATE = r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})(?:[/.\-](?P<y>\d{2}|\d{4}))?"
_WHEN = (
    re.compile(rf"{_DATE}\s*(?:a\s*)?{_CLOCK}"),
    re.compile(rf"(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})[ t]{_CLOCK}"),
    re.compile(rf"(?P<rel>aujourd hui|hier|today|yesterday)?\s*(?:a\s*)?{_CLOCK}"),
)


def read_when(typed: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """A date and time as staff type it ("24/11 14h05", "hier 9h", "14:05", "maintenant"),
    read on the network's clocks (``tz``)."""
    text = clean_text(typed).lower().replace("à", "a").replace("’", " ").replace("'", " ")
    text = re.sub(r"\s+", " ", text).strip()
    if text in {"maintenant", "now"}:
        return now
    today = now.astimezone(tz).date()
    for pattern in _WHEN:
        found = pattern.fullmatch(text)
        if not found:
            continue
        parts = found.groupdict()
        try:
            if parts.get("iso"):
                day = date.fromisoformat(parts["iso"])
            elif parts.get("d"):
                year = int(parts.get("y") or today.year)
                day = date(year + 2000 if year < 100 else year, int(parts["m"]), int(parts["d"]))
            else:
                back = 1 if parts.get("rel") in ("hier", "yesterday") else 0
                day = today - timedelta(days=back)
            moment = time(int(parts["h"]), int(parts.get("mi") or 0))
        except ValueError:
            return None
        return datetime.combine(day, moment, tzinfo=tz)
    return None


@dataclass(frozen=True)
class WhenAnswer:
    """A past local date and time, within the last year (stored ISO with its offset)."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        moment = read_when(given.text[:80], ctx.now, ctx.tz)
        if moment is None:
            return Rejected(_("Écrivez une date et une heure comme 24/11/2026 14:05, "
                              "ou « maintenant »."))
        if moment > ctx.now + FUTURE_TOLERANCE:
            return Rejected(_("Cette heure est dans le futur : écrivez l'heure réelle."))
        if moment < ctx.now - OLDEST:
            return Rejected(_("Cette date a plus d'un an : vérifiez l'année."))
        return Accepted(moment.isoformat())

    def show(self, value: Any, ctx: Ctx) -> Msg:
        if not value:
            return _("(non renseigné)")
        return Msg("{at}", {"at": When(datetime.fromisoformat(value))})


# --- Routing ---------------------------------------------------------------------------------


def _at(answers: Answers, step: str) -> datetime:
    return datetime.fromisoformat(answers[step])


def _check_end(step: str) -> Callable[[Answers], str]:
    def after(answers: Answers) -> str:
        return E.CHECK if _at(answers, step) >= _at(answers, E.STARTED) else E.ENDED_AGAIN

    return after


def _after_tool(answers: Answers) -> str:
    return E.TOOL_NAME if answers.get(E.TOOL) in ("vendor", "other") else E.TOOL_VERSION


def _after_method(answers: Answers) -> str:
    return E.STARTED if answers.get(E.METHOD) == Method.DESTRUCTION else E.RESULT


# --- From answers to a record ----------------------------------------------------------------


def tool_name(answers: Answers) -> str:
    """The tool as recorded: a known name, or what staff typed for another tool."""
    key = answers.get(E.TOOL) or "other"
    return TOOLS.get(key) or answers.get(E.TOOL_NAME) or key


def record(answers: Answers) -> NewErasure:
    """The erasure record a finished conversation describes."""
    live = live_answers(FLOW, answers)
    method = Method(live[E.METHOD])
    result = Result.DESTROYED if method is Method.DESTRUCTION else Result(live[E.RESULT])
    ended = live.get(E.ENDED_AGAIN) or live[E.ENDED]
    return NewErasure(
        device_category=DeviceCategory(live[E.DEVICE_CATEGORY]),
        device_model=live[E.DEVICE_MODEL],
        device_serial=live[E.DEVICE_SERIAL],
        medium_kind=MediumKind(live[E.MEDIUM_KIND]),
        medium_model=live.get(E.MEDIUM_MODEL),
        medium_serial=live.get(E.MEDIUM_SERIAL) or "",
        tool=tool_name(live),
        tool_version=live.get(E.TOOL_VERSION),
        method=method,
        result=result,
        started_at=datetime.fromisoformat(live[E.STARTED]),
        ended_at=datetime.fromisoformat(ended),
    )


@dataclass(frozen=True)
class RecordErasure(Effect):
    """Store one medium's erasure record for a lot (checked again by the handler); with
    ``device_id``, the medium is one of that labelled device's."""

    lot_id: LotId
    record: NewErasure
    device_id: int | None = None


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    # The engine hands ``finish`` only the answers of the steps on the path, so the prefilled
    # lot comes back through the facts (see ``handlers.donations.erasure_facts``).
    lot_id = answers.get(LOT_ID) or ctx.facts.get(LOT_ID)
    if lot_id is None:
        return Outcome([Reply([_("Je ne sais plus de quel lot il s'agit : rien n'a été "
                                 "enregistré. Repartez du lot.")])])
    return Outcome(effects=[RecordErasure(LotId(int(lot_id)), record(answers))])


RESULT_CHOICES = [
    Choice(Result.VERIFIED, _("Effacé, vérification réussie")),
    Choice(Result.FAILED, _("Échec (erreur ou vérification ratée)")),
]


def record_lines(rec: NewErasure, lot_ref: str) -> Lines:
    """A record in a few lines, for the check before saving and the confirmation after."""
    medium = MEDIUM_LABELS[rec.medium_kind]
    return Lines((
        bullet(_("Lot : {ref}", ref=lot_ref)),
        bullet(_("Appareil : {category}, {model}, n° {serial}",
                 category=DEVICE_LABELS[rec.device_category], model=rec.device_model,
                 serial=rec.device_serial)),
        bullet(_("Support : {medium}, {model}, n° {serial}", medium=medium,
                 model=rec.medium_model or "-", serial=rec.medium_serial or "-")),
        bullet(_("Outil : {tool} {version}", tool=rec.tool, version=rec.tool_version or "")),
        bullet(_("Méthode : {method}", method=METHOD_LABELS[rec.method])),
        bullet(_("Résultat : {result}", result=RESULT_TEXT[rec.result])),
        bullet(_("Début : {start} ; fin : {end}", start=When(rec.started_at),
                 end=When(rec.ended_at))),
    ))


RESULT_TEXT: dict[Result, Msg] = {
    Result.VERIFIED: _("effacé et vérifié"),
    Result.DESTROYED: _("détruit"),
    Result.FAILED: _("échec"),
}


def _ask_check(ctx: Ctx, answers: Answers) -> Msg:
    return _("Vérifiez avant d'enregistrer (« retour » pour corriger) :\n{lines}",
             lines=record_lines(record(answers), str(answers.get(LOT_REF, ""))))


def _ask_first(ctx: Ctx, answers: Answers) -> Msg:
    return _("Lot {ref} : quel appareil ?", ref=str(answers.get(LOT_REF, "")))


def _ask_tool(ctx: Ctx, answers: Answers) -> Msg:
    return _("Quel outil ? (Dans nwipe, mettez « {donor} » comme client et « {ref} » comme "
             "tag : ils figureront sur son propre certificat.)",
             donor=str(answers.get(DONOR, "")), ref=str(answers.get(LOT_REF, "")))


def _ask_end_again(ctx: Ctx, answers: Answers) -> Msg:
    return _("La fin ne peut pas être avant le début ({start}). Heure de fin ?",
             start=When(_at(answers, E.STARTED)))


FLOW = Flow(
    name=FLOW_NAME,
    first=E.DEVICE_CATEGORY,
    finish=_finish,
    steps={
        E.DEVICE_CATEGORY: Step(
            ask=_ask_first,
            answer=OneOf([Choice(c.value, label) for c, label in DEVICE_LABELS.items()]),
            next=E.DEVICE_MODEL,
        ),
        E.DEVICE_MODEL: Step(
            ask=_("Marque et modèle de l'appareil ? (par exemple : Lenovo ThinkPad T480)"),
            answer=FreeText(2, 80),
            next=E.DEVICE_SERIAL,
        ),
        E.DEVICE_SERIAL: Step(
            ask=_("Numéro de série de l'appareil ?"),
            answer=SerialAnswer(),
            next=E.MEDIUM_KIND,
        ),
        E.MEDIUM_KIND: Step(
            ask=_("Quel support de stockage ?"),
            answer=OneOf([Choice(k.value, label) for k, label in MEDIUM_LABELS.items()]),
            next=E.MEDIUM_MODEL,
        ),
        E.MEDIUM_MODEL: Step(
            ask=_("Marque et modèle du support ? C'est facultatif."),
            answer=FreeText(2, 80, optional=True),
            next=E.MEDIUM_SERIAL,
        ),
        E.MEDIUM_SERIAL: Step(
            ask=_("Numéro de série du support ? (« passer » s'il n'en a pas, mémoire soudée)"),
            answer=SerialAnswer(optional=True),
            next=E.TOOL,
        ),
        E.TOOL: Step(
            ask=_ask_tool,
            answer=OneOf(tool_choices()),
            next=_after_tool,
        ),
        E.TOOL_NAME: Step(
            ask=_("Nom et version de l'outil ?"),
            answer=FreeText(2, 60),
            next=E.METHOD,
        ),
        E.TOOL_VERSION: Step(
            ask=_("Version de l'outil ? (par exemple 0.34) C'est facultatif."),
            answer=FreeText(1, 30, optional=True),
            next=E.METHOD,
        ),
        E.METHOD: Step(
            ask=_("Quelle méthode ?"),
            answer=OneOf([Choice(m.value, label) for m, label in METHOD_LABELS.items()]),
            next=_after_method,
        ),
        E.RESULT: Step(
            ask=_("Résultat ?"),
            answer=OneOf(RESULT_CHOICES),
            next=E.STARTED,
        ),
        E.STARTED: Step(
            ask=_("Début de l'opération ? (par exemple 24/11 14:05, ou « maintenant »)"),
            answer=WhenAnswer(),
            next=E.ENDED,
        ),
        E.ENDED: Step(
            ask=_("Fin de l'opération ?"),
            answer=WhenAnswer(),
            next=_check_end(E.ENDED),
        ),
        E.ENDED_AGAIN: Step(
            ask=_ask_end_again,
            answer=WhenAnswer(),
            next=_check_end(E.ENDED_AGAIN),
        ),
        E.CHECK: Step(
            ask=_ask_check,
            answer=OneOf([Choice("ok", _("Enregistrer"))]),
            next=None,
        ),
    },
)


def prefill(lot_id: LotId, lot_ref: str, donor: str) -> dict[str, Any]:
    """The answers an erasure record starts with: the lot it belongs to."""
    return {LOT_ID: int(lot_id), LOT_REF: lot_ref, DONOR: donor}


# --- One medium of a labelled device -----------------------------------------------------------

DEVICE_FLOW_NAME = "erasure_device"
NEW_SERIAL_FLOW_NAME = "erasure_device_serial"
DEVICE_ID = "device"
DEVICE_STEPS = (E.DEVICE_CATEGORY, E.DEVICE_MODEL, E.DEVICE_SERIAL)


def _finish_device(ctx: Ctx, answers: Answers) -> Outcome:
    outcome = _finish(ctx, answers)
    device = answers.get(DEVICE_ID) or ctx.facts.get(DEVICE_ID)
    if device is None or not outcome.effects:
        return outcome
    effect = outcome.effects[0]
    assert isinstance(effect, RecordErasure)
    return Outcome(effects=[RecordErasure(effect.lot_id, effect.record, int(device))])


def _ask_first_medium(ctx: Ctx, answers: Answers) -> Msg:
    return _("Appareil {label}, lot {ref} : quel support de stockage ?",
             label=str(answers.get(DEVICE_ID + "_label", "")),
             ref=str(answers.get(LOT_REF, "")))


DEVICE_FLOW = Flow(
    name=DEVICE_FLOW_NAME,
    first=E.MEDIUM_KIND,
    finish=_finish_device,
    steps={**{k: v for k, v in FLOW.steps.items() if k not in DEVICE_STEPS},
           E.MEDIUM_KIND: Step(ask=_ask_first_medium, answer=FLOW.steps[E.MEDIUM_KIND].answer,
                               next=E.MEDIUM_MODEL)},
)
"""An erasure started from a device's card: the device is known, its media are asked."""

NEW_SERIAL_FLOW = Flow(
    name=NEW_SERIAL_FLOW_NAME,
    first=E.DEVICE_SERIAL,
    finish=_finish_device,
    steps={k: v for k, v in FLOW.steps.items()
           if k not in (E.DEVICE_CATEGORY, E.DEVICE_MODEL)},
)
"""The same for a device registered without its serial number: asked first (the proof names
the device by it)."""


def device_prefill(lot_id: LotId, lot_ref: str, donor: str, device_id: int, label: str,
                   category: DeviceCategory, model: str, serial: str | None
                   ) -> tuple[str, dict[str, Any]]:
    """The flow and answers of an erasure of a labelled device's medium."""
    answers: dict[str, Any] = {**prefill(lot_id, lot_ref, donor), DEVICE_ID: device_id,
                               DEVICE_ID + "_label": label,
                               E.DEVICE_CATEGORY: category.value,
                               E.DEVICE_MODEL: model or label}
    if serial:
        return DEVICE_FLOW_NAME, {**answers, E.DEVICE_SERIAL: serial}
    return NEW_SERIAL_FLOW_NAME, answers


# --- Bulk: a CSV pasted after the command -----------------------------------------------------

CSV_COLUMNS = (
    "lot", "device_category", "device_model", "device_serial", "medium_kind", "medium_model",
    "medium_serial", "tool", "tool_version", "method", "result", "started_at", "ended_at",
)
"""The header a bulk CSV starts with; values are the stored codes (``laptop``, ``hdd``...)."""

CSV_EXAMPLE = (
    "lot;device_category;device_model;device_serial;medium_kind;medium_model;medium_serial;"
    "tool;tool_version;method;result;started_at;ended_at\n"
    "LOT-2026-0001;laptop;Lenovo T480;PF1ABC23;ssd;Samsung 860;S3Z9NB0K;nwipe;0.34;"
    "overwrite;verified;24/11/2026 09:00;24/11/2026 10:10"
)

MAX_CSV_ROWS = 200
_LOT_REF = re.compile(r"LOT-\d{4}-\d{4,}")


@dataclass(frozen=True)
class CsvRow:
    """One valid row: the lot reference it names and the record it describes."""

    line: int
    lot_ref: str
    record: NewErasure


@dataclass(frozen=True)
class CsvResult:
    """Valid rows and refused lines; a CSV with any refused line records nothing."""

    rows: tuple[CsvRow, ...]
    errors: tuple[tuple[int, Msg], ...]


def parse_csv(text: str, now: datetime, tz: ZoneInfo) -> CsvResult:
    """Read a pasted CSV (``;`` or ``,``); every line is checked, its number kept for errors."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return CsvResult((), ((1, _("Le fichier est vide.")),))
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    table = list(csv.reader(lines, delimiter=delimiter))
    header = [cell.strip().lower() for cell in table[0]]
    if tuple(header) != CSV_COLUMNS:
        return CsvResult((), ((1, _("La première ligne doit être l'en-tête : {columns}",
                                    columns=";".join(CSV_COLUMNS))),))
    if len(table) - 1 > MAX_CSV_ROWS:
        return CsvResult((), ((1, _("Au plus {n} lignes à la fois.", n=MAX_CSV_ROWS)),))
    rows: list[CsvRow] = []
    errors: list[tuple[int, Msg]] = []
    for number, cells in enumerate(table[1:], start=2):
        outcome = _csv_row(number, cells, now, tz)
        if isinstance(outcome, CsvRow):
            rows.append(outcome)
        else:
            errors.append((number, outcome))
    if not rows and not errors:
        errors.append((2, _("Aucune ligne après l'en-tête.")))
    return CsvResult(tuple(rows), tuple(errors))


def _csv_row(number: int, cells: list[str], now: datetime, tz: ZoneInfo) -> CsvRow | Msg:
    if len(cells) != len(CSV_COLUMNS):
        return _("{found} colonnes au lieu de {wanted}.", found=len(cells),
                 wanted=len(CSV_COLUMNS))
    value = dict(zip(CSV_COLUMNS, (clean_text(c)[:120] for c in cells), strict=True))
    lot_ref = value["lot"].upper()
    if not _LOT_REF.fullmatch(lot_ref):
        return _("référence de lot illisible (attendu : LOT-2026-0001).")
    try:
        category = DeviceCategory(value["device_category"].lower())
        medium = MediumKind(value["medium_kind"].lower())
        method = Method(value["method"].lower())
        result = Result(value["result"].lower())
    except ValueError:
        return _("type d'appareil, de support, méthode ou résultat inconnu (voir l'exemple).")
    serial = normalize_serial(value["device_serial"])
    if not _SERIAL.fullmatch(serial) or len(value["device_model"]) < 2:
        return _("modèle ou numéro de série de l'appareil manquant.")
    if (method is Method.DESTRUCTION) != (result is Result.DESTROYED):
        return _("une destruction a pour résultat « destroyed », et seulement elle.")
    if not value["tool"]:
        return _("outil manquant.")
    started = read_when(value["started_at"], now, tz)
    ended = read_when(value["ended_at"], now, tz)
    if started is None or ended is None:
        return _("date illisible (attendu : 24/11/2026 09:00).")
    if ended < started or ended > now + FUTURE_TOLERANCE or started < now - OLDEST:
        return _("dates impossibles (fin avant début, futur, ou plus d'un an).")
    return CsvRow(number, lot_ref, NewErasure(
        device_category=category,
        device_model=value["device_model"],
        device_serial=serial,
        medium_kind=medium,
        medium_model=value["medium_model"] or None,
        medium_serial=normalize_serial(value["medium_serial"]),
        tool=value["tool"],
        tool_version=value["tool_version"] or None,
        method=method,
        result=result,
        started_at=started,
        ended_at=ended,
    ))


MAX_CSV_CHARS = 40_000


def csv_errors_text(errors: Sequence[tuple[int, Msg]]) -> Msg:
    """Every refused line with its number (the first ten); nothing of the file is kept."""
    lines = [_("Ligne {line} : {reason}", line=line, reason=reason) for line, reason in errors]
    if len(lines) > 10:
        lines = [*lines[:10], _("… et {n} autres lignes.", n=len(lines) - 10)]
    return _("Rien n'a été enregistré : corrigez ces lignes et renvoyez tout le fichier.\n"
             "{lines}", lines=Lines(tuple(lines)))


@dataclass(frozen=True)
class CsvAnswer:
    """A pasted CSV of erasure records, kept only when every line is valid."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return []

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if given.choice is not None or len(given.text) > MAX_CSV_CHARS:
            return Rejected(_("Collez le contenu du fichier CSV ({n} lignes au plus).",
                              n=MAX_CSV_ROWS))
        result = parse_csv(given.text, ctx.now, ctx.tz)
        if result.errors:
            return Rejected(csv_errors_text(result.errors))
        return Accepted(given.text)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return _("(fichier CSV)")


BULK_FLOW_NAME = "erasure_bulk"


class B(StrEnum):
    """Steps of a bulk record (stored in conversations: never rename a value)."""

    CSV = "erasure_bulk.csv"


@dataclass(frozen=True)
class RecordErasures(Effect):
    """Store every row of a checked CSV, or none if a lot or a device does not fit."""

    rows: tuple[CsvRow, ...]


def _finish_bulk(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[RecordErasures(parse_csv(answers[B.CSV], ctx.now, ctx.tz).rows)])


BULK_FLOW = Flow(
    name=BULK_FLOW_NAME,
    first=B.CSV,
    finish=_finish_bulk,
    steps={
        B.CSV: Step(
            ask=_("Collez le contenu du fichier CSV : l'en-tête puis une ligne par support. "
                  "Exemple :\n{example}", example=verbatim(CSV_EXAMPLE)),
            answer=CsvAnswer(),
            help=_("Dates en heure locale (24/11/2026 09:00). Codes : device_category laptop, "
                   "desktop, server… ; medium_kind hdd, ssd, nvme, flash, other ; method "
                   "overwrite, secure_erase, sanitize, crypto_erase, destruction ; result "
                   "verified, failed, destroyed."),
        ),
    },
)
