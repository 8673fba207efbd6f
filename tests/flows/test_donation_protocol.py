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
    """The same facts, answered to today's declaration: what the devices hold in one
    question, what else to know (encryption, certificates, witnessing) in another."""
    data = {"yes": old.get("data_kinds"), "erased": ["erased"], "unknown": ["unknown"]}
    more = [option for option, wanted in [
        (donation.ENCRYPTED, old.get("encrypted") == "yes"),
        (donation.DEVICE_CERTIFICATES, old["certificates"] == "yes"),
        (donation.SEE_ERASURE, old["witness"] in ("erasure", "both")),
        (donation.SEE_DESTRUCTION, old["witness"] in ("destruction", "both")),
    ] if wanted] or [donation.NOTHING_MORE]
    return {S.KIND: old["kind"], S.DATA: data[old["holds"]], S.OPTIONS: more}


def now_answers() -> Iterator[dict[str, Any]]:
    """Every answer today's two questions accept, with the donor's kind."""
    alone = [[a] for a in sorted(donation.ALONE)]
    kinds = [[k.value for k in c] for c in chain.from_iterable(
        combinations(KINDS, n) for n in range(1, len(KINDS) + 1))]
    ticks = [donation.ENCRYPTED, donation.DEVICE_CERTIFICATES, donation.SEE_ERASURE,
             donation.SEE_DESTRUCTION]
    more = [list(c) for c in chain.from_iterable(
        combinations(ticks, n) for n in range(1, len(ticks) + 1))] + [[donation.NOTHING_MORE]]
    for donor, data, options in product([DonorKind.PRIVATE, DonorKind.COMPANY], alone + kinds,
                                        more):
        yield {S.KIND: donor.value, S.DATA: data, S.OPTIONS: options}


def test_every_old_path_is_covered():
    assert len(list(old_answers())) == 2 * 2 * 4 * (64 * 3 + 3 + 1)


def test_the_same_facts_get_the_same_protocol():
    for old in old_answers():
        now = donation.questionnaire(as_declared_now(old))
        assert assess(now) == assess(before(old)), old


def test_every_answer_today_is_a_set_of_facts_the_old_questions_could_state():
    """No protocol that the old declaration could not reach: each answer today gets the
    protocol of some old path."""
    before_protocols = {assess(before(old)) for old in old_answers()}
    for now in now_answers():
        assert assess(donation.questionnaire(now)) in before_protocols, now


def test_the_data_answers_stored_with_the_lot_are_the_old_ones():
    """What the lot record keeps (holds, kinds, certificates, witness, person) is what the
    old questions stored; encryption is now "yes" or "not said" (it only ever adds the
    cryptographic erase)."""
    for old in old_answers():
        now, then = donation.questionnaire(as_declared_now(old)), before(old)
        assert (now.holds, now.kinds, now.wants_device_certificates, now.witness,
                now.donor_is_person) == (then.holds, then.kinds, then.wants_device_certificates,
                                         then.witness, then.donor_is_person), old
        assert (now.encrypted is Encrypted.YES) == (then.encrypted is Encrypted.YES)
