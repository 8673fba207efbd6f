"""Reconditioning records: what a workshop or the vocational school found and did on a device.

In chat, from the device's card: the diagnosis (works, to repair, spare parts, recycling),
its make, model and serial number when they were not known, then for a device that works the
system installed, the parts added, a grade with a plain meaning, the battery, and the place
whose stock it joins. Who did it is the reconditioner who answers (their organisation and
their name as given); when is now.

Two files a reconditioner may send instead: a CSV of diagnoses (one line per device, by its
label: a school's pupils each name themselves in the ``operator`` column) and nwipe's log,
whose "Drive Status" table records the erasure of each disk (:func:`read_nwipe_log`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from flows.answers import FreeText, OneOf, clean_text
from flows.devices import BATTERY_LABELS, DIAGNOSIS_LABELS, GRADE_MEANINGS, read_label
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.erasure import MediumKind, Method, Result
from flows.erasure_record import FUTURE_TOLERANCE, OLDEST, SerialAnswer, read_when
from flows.messages import Choice
from flows.records import (
    Battery,
    DeviceCategory,
    DeviceId,
    Diagnosis,
    Grade,
    NewDiagnosis,
    NewErasure,
)
from flows.text import Msg, _, verbatim

FLOW_NAME = "devices.diagnosis"

DEVICE_ID = "device"
LABEL = "label"
"""Prefilled answers: the device diagnosed."""

SYSTEMS: dict[str, str] = {"mint": "Linux Mint", "windows": "Windows", "none": ""}
"""System choice ids and the name recorded ("other" asks for it)."""


class R(StrEnum):
    """Steps (stored in conversations: never rename a value)."""

    DIAGNOSIS = "devices.diagnosis.diagnosis"
    MODEL = "devices.diagnosis.model"
    SERIAL = "devices.diagnosis.serial"
    SYSTEM = "devices.diagnosis.system"
    SYSTEM_NAME = "devices.diagnosis.system_name"
    PARTS = "devices.diagnosis.parts"
    GRADE = "devices.diagnosis.grade"
    BATTERY = "devices.diagnosis.battery"
    STOCK = "devices.diagnosis.stock"
    NOTE = "devices.diagnosis.note"


@dataclass(frozen=True)
class RecordDiagnosis(Effect):
    """Keep a reconditioning record for a device (checked again by the handler)."""

    device_id: DeviceId
    record: NewDiagnosis
    model: str | None = None
    serial: str | None = None
    stock_place: int | None = None
    """Where a device that works is stocked (a distributing place)."""


def _after_serial(answers: Answers) -> str:
    return R.SYSTEM if answers.get(R.DIAGNOSIS) == Diagnosis.WORKS else R.NOTE


def _after_system(answers: Answers) -> str:
    return R.SYSTEM_NAME if answers.get(R.SYSTEM) == "other" else R.PARTS


def _stock_choices(ctx: Ctx) -> list[Choice]:
    return [Choice(str(pid), verbatim(name)) for pid, name in ctx.facts.get("stock_places", ())]


def system_name(answers: Answers) -> str | None:
    """The system installed as recorded, or None."""
    key = answers.get(R.SYSTEM)
    if key == "other":
        return answers.get(R.SYSTEM_NAME) or None
    return SYSTEMS.get(key or "none") or None


def _finish(ctx: Ctx, answers: Answers) -> Outcome:
    diagnosis = Diagnosis(answers[R.DIAGNOSIS])
    works = diagnosis is Diagnosis.WORKS
    record = NewDiagnosis(
        diagnosis=diagnosis,
        done_at=ctx.now,
        system=system_name(answers) if works else None,
        parts=answers.get(R.PARTS) if works else None,
        grade=Grade(answers[R.GRADE]) if works else None,
        battery=Battery(answers[R.BATTERY]) if works else None,
        note=None if works else answers.get(R.NOTE),
    )
    stock = answers.get(R.STOCK) if works else None
    return Outcome(effects=[RecordDiagnosis(
        DeviceId(int(answers[DEVICE_ID])), record, answers.get(R.MODEL) or None,
        answers.get(R.SERIAL) or None, int(stock) if stock else None)])


def _ask_diagnosis(ctx: Ctx, answers: Answers) -> Msg:
    return _("Appareil {label} : votre diagnostic ?", label=str(answers.get(LABEL, "")))


FLOW = Flow(
    name=FLOW_NAME,
    first=R.DIAGNOSIS,
    finish=_finish,
    steps={
        R.DIAGNOSIS: Step(
            ask=_ask_diagnosis,
            answer=OneOf([Choice(d.value, label) for d, label in DIAGNOSIS_LABELS.items()]),
            next=R.MODEL,
        ),
        R.MODEL: Step(
            ask=_("Marque et modèle ? (par exemple : Lenovo ThinkPad T480) C'est facultatif."),
            answer=FreeText(2, 80, optional=True),
            next=R.SERIAL,
        ),
        R.SERIAL: Step(
            ask=_("Numéro de série de l'appareil ? C'est facultatif."),
            answer=SerialAnswer(optional=True),
            next=_after_serial,
        ),
        R.SYSTEM: Step(
            ask=_("Quel système avez-vous installé ?"),
            answer=OneOf([Choice("mint", verbatim("Linux Mint")),
                          Choice("windows", verbatim("Windows")),
                          Choice("other", _("Un autre (je l'écris)")),
                          Choice("none", _("Aucun"))]),
            next=_after_system,
        ),
        R.SYSTEM_NAME: Step(
            ask=_("Quel système et quelle version ?"),
            answer=FreeText(2, 60),
            next=R.PARTS,
        ),
        R.PARTS: Step(
            ask=_("Pièces ajoutées ou changées ? (par exemple : SSD 240 Go, 8 Go de mémoire) "
                  "C'est facultatif."),
            answer=FreeText(2, 120, optional=True),
            next=R.GRADE,
        ),
        R.GRADE: Step(
            ask=_("Quelle note ? La personne qui recevra l'appareil la lira."),
            answer=OneOf([Choice(g.value, label) for g, label in GRADE_MEANINGS.items()]),
            next=R.BATTERY,
        ),
        R.BATTERY: Step(
            ask=_("État de la batterie ?"),
            answer=OneOf([Choice(b.value, label) for b, label in BATTERY_LABELS.items()]),
            next=R.STOCK,
        ),
        R.STOCK: Step(
            ask=_("Dans le stock de quel lieu va-t-il ?"),
            answer=OneOf(_stock_choices),
        ),
        R.NOTE: Step(
            ask=_("Que faut-il faire ou récupérer ? C'est facultatif."),
            answer=FreeText(2, 120, optional=True),
        ),
    },
)


def prefill(device_id: DeviceId, label: str, model: str, serial: str | None
            ) -> dict[str, Any]:
    """A diagnosis starts with its device, and what is known of it is not asked again."""
    answers: dict[str, Any] = {DEVICE_ID: int(device_id), LABEL: label}
    if model:
        answers[R.MODEL] = model
    if serial:
        answers[R.SERIAL] = serial
    return answers


# --- A CSV of diagnoses --------------------------------------------------------------------

CSV_COLUMNS = ("label", "diagnosis", "system", "parts", "grade", "battery", "operator",
               "done_at")
"""The header a diagnoses CSV starts with; values are the stored codes (``works``, ``A``,
``good``...)."""

CSV_EXAMPLE = ("label;diagnosis;system;parts;grade;battery;operator;done_at\n"
               "HA-7K3P;works;Linux Mint 22;SSD 240 Go;B;good;Léa (2nde SN);24/11/2026 10:30")

MAX_ROWS = 200


@dataclass(frozen=True)
class DiagnosisRow:
    """One valid line: the device by its label, the record, and who did it as given."""

    line: int
    label: str
    record: NewDiagnosis
    operator: str


def parse_diagnoses(text: str, now: datetime, tz: ZoneInfo
                    ) -> tuple[list[DiagnosisRow], list[tuple[int, Msg]]]:
    """Every line of a diagnoses CSV checked, with its number for the errors."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return [], [(1, _("Le fichier est vide."))]
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    table = list(csv.reader(lines, delimiter=delimiter))
    if len(table) - 1 > MAX_ROWS:
        return [], [(1, _("Au plus {n} lignes à la fois.", n=MAX_ROWS))]
    rows: list[DiagnosisRow] = []
    errors: list[tuple[int, Msg]] = []
    for number, cells in enumerate(table[1:], start=2):
        found = _diagnosis_row(number, cells, now, tz)
        if isinstance(found, DiagnosisRow):
            rows.append(found)
        else:
            errors.append((number, found))
    if not rows and not errors:
        errors.append((2, _("Aucune ligne après l'en-tête.")))
    return rows, errors


def _diagnosis_row(number: int, cells: list[str], now: datetime, tz: ZoneInfo
                   ) -> DiagnosisRow | Msg:
    if len(cells) != len(CSV_COLUMNS):
        return _("{found} colonnes au lieu de {wanted}.", found=len(cells),
                 wanted=len(CSV_COLUMNS))
    value = dict(zip(CSV_COLUMNS, (clean_text(c)[:120] for c in cells), strict=True))
    label = read_label(value["label"])
    if label is None:
        return _("étiquette illisible (attendu : HA-7K3P).")
    try:
        diagnosis = Diagnosis(value["diagnosis"].lower())
        grade = Grade(value["grade"].upper()) if value["grade"] else None
        battery = Battery(value["battery"].lower()) if value["battery"] else None
    except ValueError:
        return _("diagnostic, note ou batterie inconnu (voir l'exemple).")
    if diagnosis is Diagnosis.WORKS and grade is None:
        return _("un appareil qui fonctionne a une note (A, B ou C).")
    done = read_when(value["done_at"], now, tz) if value["done_at"] else now
    if done is None:
        return _("date illisible (attendu : 24/11/2026 09:00).")
    if done > now + FUTURE_TOLERANCE or done < now - OLDEST:
        return _("date impossible (dans le futur, ou plus d'un an).")
    works = diagnosis is Diagnosis.WORKS
    record = NewDiagnosis(diagnosis=diagnosis, done_at=done,
                          system=(value["system"] or None) if works else None,
                          parts=(value["parts"] or None) if works else None,
                          grade=grade if works else None, battery=battery if works else None,
                          note=None if works else (value["parts"] or None))
    return DiagnosisRow(number, label, record, value["operator"][:60])


# --- nwipe's log ---------------------------------------------------------------------------

_STATUS_ROW = re.compile(
    r"^[ !]\s*(?P<dev>\S+)\s*\|(?P<status>[^|]{8})\|\s*(?P<speed>[^|]*)\|\s*"
    r"(?P<h>\d{2,}):(?P<m>\d{2}):(?P<s>\d{2})\s*\|\s*(?P<ident>.*?)\s*$")
_TOTAL = re.compile(r"^\[(?P<when>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\] Total Throughput"
                    r" [^,]*, (?P<method>.+?), (?P<rounds>\d+)R\+N?B\+(?P<verify>NV|VL|VA)")
_VERSION = re.compile(r"\bnwipe (?:version )?v?(?P<version>\d+\.\d+(?:\.\d+)?)", re.I)
_SYSINFO = re.compile(r"(?P<key>system-serial-number|system-product-name|"
                      r"system-manufacturer) = (?P<value>.*?)\s*$")

VERIFY_ONLY = frozenset({"Verify Zeros", "Verify Ones", "Verify Zeros (0x00)",
                         "Verify Ones (0xFF)"})
"""nwipe methods that only read the disk: a check, not an erasure."""


class NwipeProblem(StrEnum):
    """Why a log, or one of its drives, cannot be recorded."""

    NOT_A_LOG = "not_a_log"
    NOT_VERIFIED = "not_verified"
    VERIFY_ONLY = "verify_only"
    NO_SERIAL = "no_serial"


@dataclass(frozen=True)
class NwipeLog:
    """What an nwipe log says: the computer (as dmidecode read it), each drive's erasure."""

    system_serial: str | None
    system_model: str | None
    erasures: tuple[NewErasure, ...]
    refused: tuple[tuple[str, NwipeProblem], ...]
    """Drives that cannot be recorded (by their name in the log), and why."""


def looks_like_nwipe(text: str) -> bool:
    """Whether a file is an nwipe log (its drive status table)."""
    return "Drive Status" in text and "Total Throughput" in text


def medium_of(device: str, model: str) -> MediumKind:
    """The kind of a drive from its name and model, as nwipe's log tells them: ``nvme…`` is
    NVMe, ``mmcblk…`` soldered flash, a model saying SSD a SATA SSD, the rest a hard disk."""
    if device.startswith("nvme"):
        return MediumKind.NVME
    if device.startswith("mmcblk"):
        return MediumKind.FLASH
    if "SSD" in model.upper():
        return MediumKind.SSD
    return MediumKind.HDD


def read_nwipe_log(text: str, tz: ZoneInfo) -> NwipeLog | NwipeProblem:
    """The erasures an nwipe log records: one per drive of its "Drive Status" table.

    Each row gives the drive, its status (``Erased``, ``-FAILED-``, ``UABORTED``), its
    duration and its ``model/serial``; the "Total Throughput" line after the table gives the
    time it ended (the machine's clock, read as the network's time zone), the method and the
    verification (``VL``/``VA``: verified; ``NV``: not verified, refused). Times are whole
    seconds as logged.
    """
    lines = text.splitlines()
    total = next((m for line in lines if (m := _TOTAL.search(line))), None)
    if total is None or "Drive Status" not in text:
        return NwipeProblem.NOT_A_LOG
    ended = datetime.strptime(total["when"], "%Y/%m/%d %H:%M:%S").replace(tzinfo=tz)
    method_label = total["method"].strip()
    version = next((m["version"] for line in lines if (m := _VERSION.search(line))), None)
    info = {m["key"]: m["value"] for line in lines if (m := _SYSINFO.search(line))}
    start = next(i for i, line in enumerate(lines) if "Drive Status" in line)
    erasures: list[NewErasure] = []
    refused: list[tuple[str, NwipeProblem]] = []
    for line in lines[start + 1:]:
        if "Total Throughput" in line:
            break
        row = _STATUS_ROW.match(_strip_stamp(line))
        if row is None:
            continue
        device, status = row["dev"], row["status"].strip()
        model, _sep, serial = row["ident"].rpartition("/")
        if method_label in VERIFY_ONLY:
            refused.append((device, NwipeProblem.VERIFY_ONLY))
            continue
        if status == "Erased" and total["verify"] == "NV":
            refused.append((device, NwipeProblem.NOT_VERIFIED))
            continue
        serial = re.sub(r"\s+", "", serial).upper()
        if not serial or set(serial) == {"X"}:
            refused.append((device, NwipeProblem.NO_SERIAL))
            continue
        duration = timedelta(hours=int(row["h"]), minutes=int(row["m"]), seconds=int(row["s"]))
        erasures.append(NewErasure(
            device_category=DeviceCategory.OTHER,  # the handler names the labelled device
            device_model="",
            device_serial="",
            medium_kind=medium_of(device, model),
            medium_model=model.strip() or None,
            medium_serial=serial[:60],
            tool="nwipe",
            tool_version=version,
            method=Method.OVERWRITE,
            result=Result.VERIFIED if status == "Erased" else Result.FAILED,
            started_at=ended - duration,
            ended_at=ended,
        ))
    serial = info.get("system-serial-number", "").strip().upper()
    product = " ".join(v for k in ("system-manufacturer", "system-product-name")
                       if (v := info.get(k, "").strip()))
    return NwipeLog(serial if serial and set(serial) != {"X"} else None, product or None,
                    tuple(erasures), tuple(refused))


def _strip_stamp(line: str) -> str:
    """A log line without its ``[date time] notice:`` prefix (older logs stamp every line)."""
    return re.sub(r"^\[[^\]]*\]\s*(?:\w+:\s)?", "", line)


NWIPE_PROBLEMS: dict[NwipeProblem, Msg] = {
    NwipeProblem.NOT_A_LOG: _("Ce fichier ne contient pas le tableau « Drive Status » d'un "
                              "journal nwipe terminé."),
    NwipeProblem.NOT_VERIFIED: _("effacé sans vérification (NV) : relancez nwipe avec "
                                 "--verify=last, ou enregistrez-le à la main."),
    NwipeProblem.VERIFY_ONLY: _("méthode de vérification seule : ce n'est pas un effacement."),
    NwipeProblem.NO_SERIAL: _("numéro de série masqué (option -q de nwipe) : le support ne peut "
                              "pas être identifié."),
}


__all__ = [
    "CSV_COLUMNS", "CSV_EXAMPLE", "FLOW", "FLOW_NAME", "NWIPE_PROBLEMS", "DiagnosisRow",
    "NwipeLog", "NwipeProblem", "RecordDiagnosis", "looks_like_nwipe", "medium_of",
    "parse_diagnoses", "prefill", "read_nwipe_log",
]
