"""The erasure protocol a declaration sets, for every set of facts a donor can state.

The declaration's questions were shortened (issue 19); the protocol chosen for the same facts
must not change. ``before`` below is the declaration as it was (one question per fact, the
answers mapped to the questionnaire by the code of that time); every combination of answers it
accepted is run through both and the protocols compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, combinations, product
from typing import Any

from flows import donation
from flows.donation import S
from flows.erasure import DataKind, Encrypted, HoldsData, Questionnaire, Witness, assess
from flows.records import DonorKind

KINDS = [k for k in DataKind if k is not DataKind.NONE]


def old_answers() -> Iterator[dict[str, Any]]:
    """Every path through the old data-sensitivity questions, with the donor's kind."""
    kind_sets = [[k.value for k in c] for c in chain.from_iterable(
        combinations(KINDS, n) for n in range(1, len(KINDS) + 1))] + [[DataKind.NONE.value]]
    for donor, certificates, witness in product(
            [DonorKind.PRIVATE, DonorKind.COMPANY], ["yes", "no"], list(Witness)):
        common = {"kind": donor.value, "certificates": certificates, "witness": witness.value}
        for kinds, encrypted in product(kind_sets, list(Encrypted)):
            yield {**common, "holds": "yes", "data_kinds": kinds, "encrypted": encrypted.value}
        for encrypted in Encrypted:
            yield {**common, "holds": "unknown", "encrypted": encrypted.value}
        yield {**common, "holds": "erased"}


def before(old: dict[str, Any]) -> Questionnaire:
    """The questionnaire the old declaration stored (``flows.donation.questionnaire`` of
    commit f9dd3d5, over its steps holds → data kinds → encrypted → certificates → witness;
    "already erased" skipped the kinds and the encryption)."""
    holds = HoldsData(old.get("holds") or HoldsData.UNKNOWN)
    kinds = frozenset(DataKind(k) for k in old.get("data_kinds") or ())
    return Questionnaire(
        holds=holds,
        kinds=kinds if holds is HoldsData.YES else frozenset(),
        encrypted=Encrypted(old.get("encrypted") or Encrypted.UNKNOWN),
        wants_device_certificates=old.get("certificates") == "yes",
        witness=Witness(old.get("witness") or Witness.NONE),
        donor_is_person=old.get("kind") == DonorKind.PRIVATE,
    )


def as_declared_now(old: dict[str, Any]) -> dict[str, Any]:
    """The same facts, answered to today's declaration."""
    return {S.KIND: old["kind"], S.HOLDS: old["holds"], S.DATA_KINDS: old.get("data_kinds"),
            S.ENCRYPTED: old.get("encrypted"), S.CERTIFICATES: old["certificates"],
            S.WITNESS: old["witness"]}


def test_every_old_path_is_covered():
    assert len(list(old_answers())) == 2 * 2 * 4 * (64 * 3 + 3 + 1)


def test_the_same_facts_get_the_same_protocol():
    for old in old_answers():
        now = donation.questionnaire(as_declared_now(old))
        assert assess(now) == assess(before(old)), old
