"""The erasure rules: questionnaire answers in, sensitivity level and promised protocol out.

Plain functions over plain values, so the rules the network commits to are read, reviewed and
tested as a table (``tests/flows/test_erasure.py``), not buried in a conversation.

The rules, as agreed by the field (DOMAIN.md, "Donors"):

* every storage medium gets at least one full overwrite pass with verification, whatever the
  source, private persons included;
* ANSSI's 2023 guidance on reconditioned computers applies to every lot: the method is chosen
  by data sensitivity, firmware (BIOS/UEFI) settings and the TPM are reset, asset labels and
  barcodes are removed;
* the higher levels (data of third parties; health, banking, HR or legal data; or "don't
  know", which counts as high) add a certificate per device, the strongest sanitisation the
  medium supports (NIST SP 800-88 "purge": secure erase, sanitize or cryptographic erase, else
  overwrite) and the physical destruction of any disk that fails erasure;
* the most sensitive data also require that a flash medium (SSD, NVMe, eMMC) that cannot be
  purged is destroyed: an overwrite does not reach every cell of flash memory (NIST SP 800-88).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows.text import Msg, _


class HoldsData(StrEnum):
    """Do the devices still hold data? (stored: never rename a value)"""

    YES = "yes"
    ERASED = "erased"
    UNKNOWN = "unknown"


class DataKind(StrEnum):
    """Kinds of data the devices held (stored: never rename a value)."""

    PERSONAL = "personal"
    THIRD_PARTY = "third_party"
    HEALTH = "health"
    FINANCIAL = "financial"
    HR = "hr"
    LEGAL = "legal"
    NONE = "none"


class Encrypted(StrEnum):
    """Are the disks encrypted? (stored: never rename a value)"""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Witness(StrEnum):
    """What the donor wants to witness (stored: never rename a value)."""

    NONE = "none"
    ERASURE = "erasure"
    DESTRUCTION = "destruction"
    BOTH = "both"


class Level(StrEnum):
    """Sensitivity level of a lot, lowest first (stored: never rename a value)."""

    STANDARD = "standard"
    HIGH = "high"
    SENSITIVE = "sensitive"


class Reason(StrEnum):
    """Why a lot got its level, said back to the donor."""

    NO_DATA = "no_data"
    ALREADY_ERASED = "already_erased"
    OWN_FILES = "own_files"
    STAFF_FILES = "staff_files"
    THIRD_PARTY = "third_party"
    SPECIAL_KINDS = "special_kinds"
    UNKNOWN = "unknown"


class Measure(StrEnum):
    """One step of the protocol promised for a lot (stored: never rename a value)."""

    OVERWRITE_VERIFIED = "overwrite_verified"
    CRYPTO_ERASE = "crypto_erase"
    PURGE = "purge"
    DESTROY_UNPURGEABLE_FLASH = "destroy_unpurgeable_flash"
    FAILED_DISK_REMOVED = "failed_disk_removed"
    FAILED_DISK_DESTROYED = "failed_disk_destroyed"
    FIRMWARE_TPM_RESET = "firmware_tpm_reset"
    LABELS_REMOVED = "labels_removed"
    LOT_CERTIFICATE = "lot_certificate"
    DEVICE_CERTIFICATES = "device_certificates"
    WITNESS_ERASURE = "witness_erasure"
    WITNESS_DESTRUCTION = "witness_destruction"


class MediumKind(StrEnum):
    """Kinds of storage medium (stored: never rename a value)."""

    HDD = "hdd"
    SSD = "ssd"
    NVME = "nvme"
    FLASH = "flash"
    OTHER = "other"


FLASH_MEDIA = frozenset({MediumKind.SSD, MediumKind.NVME, MediumKind.FLASH})


class Method(StrEnum):
    """Sanitisation methods a reconditioner records (stored: never rename a value)."""

    OVERWRITE = "overwrite"
    SECURE_ERASE = "secure_erase"
    SANITIZE = "sanitize"
    CRYPTO_ERASE = "crypto_erase"
    DESTRUCTION = "destruction"


class Nist(StrEnum):
    """NIST SP 800-88 categories of sanitisation."""

    CLEAR = "clear"
    PURGE = "purge"
    DESTROY = "destroy"


class Result(StrEnum):
    """Outcome of one sanitisation (stored: never rename a value)."""

    VERIFIED = "verified"
    DESTROYED = "destroyed"
    FAILED = "failed"


SPECIAL_KINDS = frozenset({DataKind.HEALTH, DataKind.FINANCIAL, DataKind.HR, DataKind.LEGAL})

RETENTION_YEARS = 5
"""Erasure records and certificates are kept this long, then purged (GDPR, DOMAIN.md)."""


def retention_cutoff(now: datetime) -> datetime:
    """Proofs issued before this moment are older than the retention period (5 years)."""
    try:
        return now.replace(year=now.year - RETENTION_YEARS)
    except ValueError:  # 29 February: five years back has none
        return now.replace(year=now.year - RETENTION_YEARS, day=28)


@dataclass(frozen=True)
class Questionnaire:
    """The donor's answers to the data-sensitivity questions."""

    holds: HoldsData
    kinds: frozenset[DataKind] = frozenset()
    encrypted: Encrypted = Encrypted.UNKNOWN
    wants_device_certificates: bool = False
    witness: Witness = Witness.NONE
    donor_is_person: bool = False
    """A private person's own files are their own; an organisation's are its staff's."""


@dataclass(frozen=True)
class Assessment:
    """The level of a lot, why, and the protocol promised to the donor, in order."""

    level: Level
    reason: Reason
    measures: tuple[Measure, ...]


def classify(q: Questionnaire) -> tuple[Level, Reason]:
    """The sensitivity level: "don't know" counts as high, special kinds as sensitive."""
    if q.holds is HoldsData.UNKNOWN:
        return Level.HIGH, Reason.UNKNOWN
    if q.holds is HoldsData.ERASED:
        return Level.STANDARD, Reason.ALREADY_ERASED
    kinds = q.kinds - {DataKind.NONE}
    if kinds & SPECIAL_KINDS:
        return Level.SENSITIVE, Reason.SPECIAL_KINDS
    if DataKind.THIRD_PARTY in kinds:
        return Level.HIGH, Reason.THIRD_PARTY
    if DataKind.PERSONAL in kinds:
        if q.donor_is_person:
            return Level.STANDARD, Reason.OWN_FILES
        return Level.HIGH, Reason.STAFF_FILES
    return Level.STANDARD, Reason.NO_DATA


def assess(q: Questionnaire) -> Assessment:
    """The level and the protocol a lot gets, each measure present once, in a fixed order."""
    level, reason = classify(q)
    raised = level is not Level.STANDARD
    wanted: set[Measure] = {
        Measure.OVERWRITE_VERIFIED,
        Measure.FIRMWARE_TPM_RESET,
        Measure.LABELS_REMOVED,
        Measure.LOT_CERTIFICATE,
    }
    if q.encrypted is Encrypted.YES:
        wanted.add(Measure.CRYPTO_ERASE)
    if raised:
        wanted |= {Measure.PURGE, Measure.DEVICE_CERTIFICATES, Measure.FAILED_DISK_DESTROYED}
    if level is Level.SENSITIVE:
        wanted.add(Measure.DESTROY_UNPURGEABLE_FLASH)
    if q.wants_device_certificates:
        wanted.add(Measure.DEVICE_CERTIFICATES)
    if q.witness in (Witness.ERASURE, Witness.BOTH):
        wanted.add(Measure.WITNESS_ERASURE)
    if q.witness in (Witness.DESTRUCTION, Witness.BOTH):
        # Witnessing a destruction means failing disks are destroyed, whatever the level.
        wanted |= {Measure.WITNESS_DESTRUCTION, Measure.FAILED_DISK_DESTROYED}
    if Measure.FAILED_DISK_DESTROYED not in wanted:
        wanted.add(Measure.FAILED_DISK_REMOVED)
    return Assessment(level, reason, tuple(m for m in Measure if m in wanted))


def nist_category(method: Method) -> Nist:
    """The NIST SP 800-88 category a recorded method belongs to."""
    match method:
        case Method.OVERWRITE:
            return Nist.CLEAR
        case Method.SECURE_ERASE | Method.SANITIZE | Method.CRYPTO_ERASE:
            return Nist.PURGE
        case Method.DESTRUCTION:
            return Nist.DESTROY
    raise ValueError(method)


@dataclass(frozen=True)
class MediumOutcome:
    """The latest recorded sanitisation of one medium, as the certificate rules see it."""

    label: str
    """How staff identify the medium (its serial number)."""
    kind: MediumKind
    method: Method
    result: Result


class Blocker(StrEnum):
    """Why a lot's certificate cannot be issued yet."""

    NOTHING_RECORDED = "nothing_recorded"
    FAILED_NOT_DESTROYED = "failed_not_destroyed"
    FLASH_NOT_PURGED = "flash_not_purged"


def certificate_blockers(
    measures: Iterable[Measure], media: Sequence[MediumOutcome]
) -> list[tuple[Blocker, str]]:
    """What still prevents the certificate, per medium; empty when it can be issued.

    A medium that failed must be destroyed first when the protocol promised it; a flash medium
    of a sensitive lot must be purged or destroyed, an overwrite is not enough.
    """
    promised = set(measures)
    if not media:
        return [(Blocker.NOTHING_RECORDED, "")]
    found: list[tuple[Blocker, str]] = []
    for medium in media:
        if medium.result is Result.FAILED and Measure.FAILED_DISK_DESTROYED in promised:
            found.append((Blocker.FAILED_NOT_DESTROYED, medium.label))
        elif (
            Measure.DESTROY_UNPURGEABLE_FLASH in promised
            and medium.kind in FLASH_MEDIA
            and nist_category(medium.method) is Nist.CLEAR
        ):
            found.append((Blocker.FLASH_NOT_PURGED, medium.label))
    return found


# --- Plain words -----------------------------------------------------------------------------

LEVEL_LABELS: dict[Level, Msg] = {
    Level.STANDARD: _("niveau 1 (standard)"),
    Level.HIGH: _("niveau 2 (renforcé)"),
    Level.SENSITIVE: _("niveau 3 (données sensibles)"),
}

REASON_LABELS: dict[Reason, Msg] = {
    Reason.NO_DATA: _("les appareils ne contiennent pas de données à protéger."),
    Reason.ALREADY_ERASED: _("les appareils ont déjà été effacés ; nous effaçons quand même."),
    Reason.OWN_FILES: _("les appareils contiennent vos fichiers personnels."),
    Reason.STAFF_FILES: _("les appareils contiennent des fichiers de personnes de votre "
                          "structure."),
    Reason.THIRD_PARTY: _("les appareils contiennent des données de clients ou d'usagers."),
    Reason.SPECIAL_KINDS: _("les appareils contiennent des données de santé, bancaires, "
                            "de ressources humaines ou juridiques."),
    Reason.UNKNOWN: _("vous ne savez pas ce que contiennent les appareils : par précaution, "
                      "nous les traitons comme s'ils contenaient des données de tiers."),
}

MEASURE_LABELS: dict[Measure, Msg] = {
    Measure.OVERWRITE_VERIFIED: _("Chaque disque est entièrement réécrit au moins une fois, "
                                  "puis vérifié (par exemple avec nwipe)."),
    Measure.CRYPTO_ERASE: _("Les clés de chiffrement des disques sont effacées "
                            "(effacement cryptographique)."),
    Measure.PURGE: _("Chaque disque reçoit l'effacement le plus fort qu'il permet (commande "
                     "d'effacement sécurisé du fabricant, « purge » NIST SP 800-88), à défaut "
                     "une réécriture complète."),
    Measure.DESTROY_UNPURGEABLE_FLASH: _("Une mémoire flash (SSD, NVMe, eMMC) qui ne peut pas "
                                         "être purgée est détruite."),
    Measure.FAILED_DISK_REMOVED: _("Un disque dont l'effacement échoue est retiré et n'est "
                                   "jamais réemployé."),
    Measure.FAILED_DISK_DESTROYED: _("Un disque dont l'effacement échoue est détruit "
                                     "physiquement."),
    Measure.FIRMWARE_TPM_RESET: _("Les réglages du BIOS/UEFI et la puce de sécurité (TPM) "
                                  "sont remis à zéro (recommandations ANSSI)."),
    Measure.LABELS_REMOVED: _("Les étiquettes d'inventaire et codes-barres sont retirés."),
    Measure.LOT_CERTIFICATE: _("Un certificat d'effacement du lot vous est remis ; les preuves "
                               "sont gardées 5 ans."),
    Measure.DEVICE_CERTIFICATES: _("Le certificat détaille chaque appareil et chaque disque "
                                   "(numéro de série, méthode, outil, résultat)."),
    Measure.WITNESS_ERASURE: _("Vous pouvez assister à l'effacement : nous vous proposerons "
                               "un rendez-vous."),
    Measure.WITNESS_DESTRUCTION: _("Vous pouvez assister à la destruction des disques "
                                   "défaillants : nous vous proposerons un rendez-vous."),
}

MEDIUM_LABELS: dict[MediumKind, Msg] = {
    MediumKind.HDD: _("Disque dur (HDD)"),
    MediumKind.SSD: _("SSD (SATA)"),
    MediumKind.NVME: _("SSD NVMe"),
    MediumKind.FLASH: _("Mémoire flash (eMMC, carte, clé)"),
    MediumKind.OTHER: _("Autre support"),
}

METHOD_LABELS: dict[Method, Msg] = {
    Method.OVERWRITE: _("Réécriture complète avec vérification (ex. nwipe, une passe PRNG)"),
    Method.SECURE_ERASE: _("Effacement sécurisé du fabricant (ATA Secure Erase)"),
    Method.SANITIZE: _("Commande Sanitize (NVMe / SATA, effacement de blocs)"),
    Method.CRYPTO_ERASE: _("Effacement cryptographique"),
    Method.DESTRUCTION: _("Destruction physique"),
}

NIST_LABELS: dict[Nist, Msg] = {
    Nist.CLEAR: _("Clear (NIST SP 800-88)"),
    Nist.PURGE: _("Purge (NIST SP 800-88)"),
    Nist.DESTROY: _("Destroy (NIST SP 800-88)"),
}

RESULT_LABELS: dict[Result, Msg] = {
    Result.VERIFIED: _("Effacé et vérifié"),
    Result.DESTROYED: _("Détruit"),
    Result.FAILED: _("Échec de l'effacement"),
}
