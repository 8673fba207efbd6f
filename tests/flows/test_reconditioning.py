"""nwipe's log read as the erasures it records, and the diagnoses CSV checked line by line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.erasure import MediumKind, Method, Result
from flows.reconditioning import (
    NwipeLog,
    NwipeProblem,
    looks_like_nwipe,
    medium_of,
    parse_diagnoses,
    read_nwipe_log,
)
from flows.records import Diagnosis, Grade

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def nwipe_log(rows: str, total: str = "1R+B+VL", method: str = "DoD Short",
              serial: str = "PF2XYZ99") -> str:
    """A log as nwipe 0.34 writes it: system information, then the two summary tables."""
    return f"""[2026/11/23 09:12:01]  notice: nwipe 0.34
[2026/11/23 09:12:01]    info: system-manufacturer = LENOVO
[2026/11/23 09:12:01]    info: system-product-name = 20L5CTO1WW
[2026/11/23 09:12:01]    info: system-serial-number = {serial}
[2026/11/23 09:12:02]  notice: Invoking method '{method}' on /dev/sda

********************************* Drive Status *********************************
!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number
--------------------------------------------------------------------------------
{rows}
--------------------------------------------------------------------------------
[2026/11/23 09:35:40] Total Throughput 130 MB/s, {method}, {total}
********************************************************************************
"""


ERASED = "        sda | Erased |  130 MB/s | 00:23:34 | WDC WD5000LPLX-0/WD-WX31A9876543"


def test_each_drive_of_the_status_table_is_an_erasure_ended_at_the_total_line():
    read = read_nwipe_log(nwipe_log(ERASED), PARIS)
    assert isinstance(read, NwipeLog)
    assert read.system_serial == "PF2XYZ99" and read.system_model == "LENOVO 20L5CTO1WW"
    [erasure] = read.erasures
    assert erasure.medium_serial == "WD-WX31A9876543"
    assert erasure.medium_model == "WDC WD5000LPLX-0"
    assert erasure.medium_kind is MediumKind.HDD and erasure.method is Method.OVERWRITE
    assert erasure.result is Result.VERIFIED and erasure.tool == "nwipe"
    assert erasure.tool_version == "0.34"
    assert erasure.ended_at == datetime(2026, 11, 23, 9, 35, 40, tzinfo=PARIS)
    assert erasure.ended_at - erasure.started_at == timedelta(minutes=23, seconds=34)


def test_a_failed_or_aborted_drive_is_recorded_as_failed():
    rows = "\n".join([
        "!       sdb |-FAILED-|   80 MB/s | 01:02:03 | ST500LM030-2E71/WDEABC12",
        "!       sdc |UABORTED|   80 MB/s | 00:02:03 | ST500LM030-2E71/WDEABC13"])
    read = read_nwipe_log(nwipe_log(rows), PARIS)
    assert isinstance(read, NwipeLog)
    assert [e.result for e in read.erasures] == [Result.FAILED, Result.FAILED]


@pytest.mark.parametrize("text, problem", [
    (nwipe_log(ERASED, total="1R+B+NV"), NwipeProblem.NOT_VERIFIED),
    (nwipe_log(ERASED, method="Verify Zeros"), NwipeProblem.VERIFY_ONLY),
    (nwipe_log("        sda | Erased |  130 MB/s | 00:23:34 | WDC WD5000LPLX-0/XXXXXXXXXXXX"),
     NwipeProblem.NO_SERIAL),
])
def test_a_drive_nwipe_did_not_verify_or_identify_is_refused(text: str,
                                                              problem: NwipeProblem):
    read = read_nwipe_log(text, PARIS)
    assert isinstance(read, NwipeLog)
    assert read.erasures == () and [p for _drive, p in read.refused] == [problem]


def test_a_log_without_its_status_table_is_not_a_log():
    unfinished = nwipe_log(ERASED).split("********************************* Drive")[0]
    assert not looks_like_nwipe(unfinished)
    assert read_nwipe_log(unfinished, PARIS) is NwipeProblem.NOT_A_LOG


def test_quiet_mode_hides_the_computer_serial():
    read = read_nwipe_log(nwipe_log(ERASED, serial="XXXXXXXXXXXXXXX"), PARIS)
    assert isinstance(read, NwipeLog) and read.system_serial is None


@pytest.mark.parametrize("device, model, kind", [
    ("nvme0n1", "Samsung 970", MediumKind.NVME), ("mmcblk0", "", MediumKind.FLASH),
    ("sda", "Samsung SSD 860 EVO", MediumKind.SSD), ("sdb", "ST500LM030", MediumKind.HDD)])
def test_the_kind_of_medium_comes_from_its_name_and_model(device: str, model: str,
                                                          kind: MediumKind):
    assert medium_of(device, model) is kind


def test_a_diagnoses_csv_is_read_line_by_line_with_the_operator_as_given():
    text = ("label;diagnosis;system;parts;grade;battery;operator;done_at\n"
            "ha 7k3p;works;Linux Mint 22;SSD 240 Go;b;good;Léa (2nde SN);23/11/2026 09:30\n"
            "HA-7K3Q;repair;;charnière cassée;;;Tom;\n")
    rows, errors = parse_diagnoses(text, NOW, PARIS)
    assert errors == []
    works, repair = rows
    assert works.label == "HA-7K3P" and works.operator == "Léa (2nde SN)"
    assert works.record.grade is Grade.B and works.record.system == "Linux Mint 22"
    assert repair.record.diagnosis is Diagnosis.REPAIR
    assert repair.record.note == "charnière cassée" and repair.record.done_at == NOW


def test_a_diagnoses_csv_names_every_bad_line():
    text = ("label;diagnosis;system;parts;grade;battery;operator;done_at\n"
            "HA-0000;works;;;A;;;\n"
            "HA-7K3P;works;;;;;;\n"
            "HA-7K3P;broken;;;;;;\n"
            "HA-7K3P;works;;;A;good;;31/12/2027 10:00\n")
    rows, errors = parse_diagnoses(text, NOW, PARIS)
    assert rows == [] and [line for line, _why in errors] == [2, 3, 4, 5]
