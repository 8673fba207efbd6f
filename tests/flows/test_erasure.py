"""The erasure rules as a table: questionnaire answers in, level and promised protocol out."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import chain, combinations, product

import pytest

from flows.erasure import (
    LEVEL_LABELS,
    MEASURE_LABELS,
    REASON_LABELS,
    Blocker,
    DataKind,
    Encrypted,
    HoldsData,
    Level,
    Measure,
    MediumKind,
    MediumOutcome,
    Method,
    Nist,
    Questionnaire,
    Reason,
    Result,
    Witness,
    assess,
    certificate_blockers,
    nist_category,
    retention_cutoff,
)

M = Measure
BASE = {M.OVERWRITE_VERIFIED, M.FIRMWARE_TPM_RESET, M.LABELS_REMOVED, M.LOT_CERTIFICATE}
RAISED = {M.PURGE, M.DEVICE_CERTIFICATES, M.FAILED_DISK_DESTROYED}

YES, ERASED, UNKNOWN = HoldsData.YES, HoldsData.ERASED, HoldsData.UNKNOWN
K = DataKind


def q(holds: HoldsData, *kinds: DataKind, person: bool = False,
      encrypted: Encrypted = Encrypted.NO, certificates: bool = False,
      witness: Witness = Witness.NONE) -> Questionnaire:
    return Questionnaire(holds, frozenset(kinds), encrypted, certificates, witness, person)


TABLE = [
    # answers                                     level            reason               protocol
    (q(YES, K.PERSONAL, person=True),            Level.STANDARD,  Reason.OWN_FILES,
     BASE | {M.FAILED_DISK_REMOVED}),
    (q(YES, K.NONE, person=True),                Level.STANDARD,  Reason.NO_DATA,
     BASE | {M.FAILED_DISK_REMOVED}),
    (q(ERASED),                                  Level.STANDARD,  Reason.ALREADY_ERASED,
     BASE | {M.FAILED_DISK_REMOVED}),
    (q(ERASED, K.HEALTH),                        Level.STANDARD,  Reason.ALREADY_ERASED,
     BASE | {M.FAILED_DISK_REMOVED}),
    (q(YES, K.PERSONAL),                         Level.HIGH,      Reason.STAFF_FILES,
     BASE | RAISED),
    (q(YES, K.THIRD_PARTY),                      Level.HIGH,      Reason.THIRD_PARTY,
     BASE | RAISED),
    (q(YES, K.THIRD_PARTY, person=True),         Level.HIGH,      Reason.THIRD_PARTY,
     BASE | RAISED),
    (q(UNKNOWN, person=True),                    Level.HIGH,      Reason.UNKNOWN,
     BASE | RAISED),
    (q(UNKNOWN),                                 Level.HIGH,      Reason.UNKNOWN,
     BASE | RAISED),
    (q(YES, K.HEALTH),                           Level.SENSITIVE, Reason.SPECIAL_KINDS,
     BASE | RAISED | {M.DESTROY_UNPURGEABLE_FLASH}),
    (q(YES, K.FINANCIAL, person=True),           Level.SENSITIVE, Reason.SPECIAL_KINDS,
     BASE | RAISED | {M.DESTROY_UNPURGEABLE_FLASH}),
    (q(YES, K.HR, K.PERSONAL),                   Level.SENSITIVE, Reason.SPECIAL_KINDS,
     BASE | RAISED | {M.DESTROY_UNPURGEABLE_FLASH}),
    (q(YES, K.LEGAL, K.THIRD_PARTY),             Level.SENSITIVE, Reason.SPECIAL_KINDS,
     BASE | RAISED | {M.DESTROY_UNPURGEABLE_FLASH}),
    (q(YES, K.NONE, person=True, encrypted=Encrypted.YES), Level.STANDARD, Reason.NO_DATA,
     BASE | {M.FAILED_DISK_REMOVED, M.CRYPTO_ERASE}),
    (q(YES, K.PERSONAL, person=True, certificates=True), Level.STANDARD, Reason.OWN_FILES,
     BASE | {M.FAILED_DISK_REMOVED, M.DEVICE_CERTIFICATES}),
    (q(ERASED, witness=Witness.DESTRUCTION),     Level.STANDARD,  Reason.ALREADY_ERASED,
     BASE | {M.FAILED_DISK_DESTROYED, M.WITNESS_DESTRUCTION}),
    (q(ERASED, witness=Witness.ERASURE),         Level.STANDARD,  Reason.ALREADY_ERASED,
     BASE | {M.FAILED_DISK_REMOVED, M.WITNESS_ERASURE}),
    (q(YES, K.THIRD_PARTY, witness=Witness.BOTH, encrypted=Encrypted.YES), Level.HIGH,
     Reason.THIRD_PARTY,
     BASE | RAISED | {M.WITNESS_ERASURE, M.WITNESS_DESTRUCTION, M.CRYPTO_ERASE}),
    (q(UNKNOWN, encrypted=Encrypted.UNKNOWN),    Level.HIGH,      Reason.UNKNOWN,
     BASE | RAISED),
]


@pytest.mark.parametrize(("answers", "level", "reason", "measures"), TABLE)
def test_the_answers_give_the_level_and_the_protocol(
    answers: Questionnaire, level: Level, reason: Reason, measures: set[Measure]
):
    assessment = assess(answers)
    assert (assessment.level, assessment.reason) == (level, reason)
    assert set(assessment.measures) == measures


def _every_questionnaire():
    kinds = list(DataKind)
    subsets = chain.from_iterable(combinations(kinds, n) for n in range(3))
    for holds, chosen, encrypted, certificates, witness, person in product(
        HoldsData, list(subsets), Encrypted, (False, True), Witness, (False, True)
    ):
        yield Questionnaire(holds, frozenset(chosen), encrypted, certificates, witness, person)


def test_every_device_gets_at_least_a_verified_overwrite_and_the_anssi_steps():
    """Whatever the source, private persons included: the network's rule."""
    for answers in _every_questionnaire():
        measures = set(assess(answers).measures)
        assert measures >= BASE, answers
        assert (M.FAILED_DISK_REMOVED in measures) != (M.FAILED_DISK_DESTROYED in measures)


def test_higher_levels_always_add_certificates_purge_and_destruction_of_failing_disks():
    for answers in _every_questionnaire():
        assessment = assess(answers)
        if assessment.level is not Level.STANDARD:
            assert set(assessment.measures) >= RAISED, answers
        if assessment.level is Level.SENSITIVE:
            assert M.DESTROY_UNPURGEABLE_FLASH in assessment.measures


def test_dont_know_is_never_below_high():
    for answers in _every_questionnaire():
        if answers.holds is UNKNOWN:
            assert assess(answers).level is not Level.STANDARD


def test_the_protocol_is_in_a_fixed_order_without_repeats():
    order = list(Measure)
    for answers in _every_questionnaire():
        measures = assess(answers).measures
        assert list(measures) == sorted(set(measures), key=order.index)


def test_every_level_reason_and_measure_has_plain_words():
    assert set(LEVEL_LABELS) == set(Level)
    assert set(REASON_LABELS) == set(Reason)
    assert set(MEASURE_LABELS) == set(Measure)


@pytest.mark.parametrize(
    ("method", "category"),
    [
        (Method.OVERWRITE, Nist.CLEAR),
        (Method.SECURE_ERASE, Nist.PURGE),
        (Method.SANITIZE, Nist.PURGE),
        (Method.CRYPTO_ERASE, Nist.PURGE),
        (Method.DESTRUCTION, Nist.DESTROY),
    ],
)
def test_each_method_has_its_nist_category(method: Method, category: Nist):
    assert nist_category(method) is category


STANDARD = assess(q(YES, K.PERSONAL, person=True)).measures
HIGH = assess(q(YES, K.THIRD_PARTY)).measures
SENSITIVE = assess(q(YES, K.HEALTH)).measures


def medium(kind: MediumKind, method: Method, result: Result) -> MediumOutcome:
    return MediumOutcome("S1", kind, method, result)


@pytest.mark.parametrize(
    ("measures", "media", "blockers"),
    [
        (STANDARD, [], [Blocker.NOTHING_RECORDED]),
        (STANDARD, [medium(MediumKind.HDD, Method.OVERWRITE, Result.VERIFIED)], []),
        (STANDARD, [medium(MediumKind.HDD, Method.OVERWRITE, Result.FAILED)], []),
        (HIGH, [medium(MediumKind.HDD, Method.OVERWRITE, Result.FAILED)],
         [Blocker.FAILED_NOT_DESTROYED]),
        (HIGH, [medium(MediumKind.HDD, Method.DESTRUCTION, Result.DESTROYED)], []),
        (HIGH, [medium(MediumKind.SSD, Method.OVERWRITE, Result.VERIFIED)], []),
        (SENSITIVE, [medium(MediumKind.SSD, Method.OVERWRITE, Result.VERIFIED)],
         [Blocker.FLASH_NOT_PURGED]),
        (SENSITIVE, [medium(MediumKind.NVME, Method.SANITIZE, Result.VERIFIED)], []),
        (SENSITIVE, [medium(MediumKind.HDD, Method.OVERWRITE, Result.VERIFIED)], []),
        (SENSITIVE, [medium(MediumKind.FLASH, Method.DESTRUCTION, Result.DESTROYED)], []),
    ],
)
def test_a_certificate_waits_until_every_medium_meets_the_promise(
    measures: tuple[Measure, ...], media: list[MediumOutcome], blockers: list[Blocker]
):
    assert [b for b, _ in certificate_blockers(measures, media)] == blockers


@pytest.mark.parametrize(
    ("now", "cutoff"),
    [
        (datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2021, 11, 23, 9, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2023, 2, 28, 12, tzinfo=UTC)),
    ],
)
def test_proofs_are_kept_five_calendar_years(now: datetime, cutoff: datetime):
    assert retention_cutoff(now) == cutoff
