"""The catalogue by usage: prescribers say what the person needs to do, never a technical sheet.

Kinds of device are data (``catalogue_kinds``: code, name, uses); the kinds the network knows
today also have a translated name and one plain sentence here. A kind added later by the
coordinators shows its stored name until it gets one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from flows.records import CatalogueKind
from flows.text import Msg, _, verbatim


class Usage(StrEnum):
    """What the beneficiary needs the device for (stored in requests and catalogue uses)."""

    ADMIN = "admin"
    OFFICE = "office"
    STUDY = "study"
    VIDEO = "video"
    BUSINESS = "business"
    ADAPTED = "adapted"


USAGE_LABELS: dict[Usage, Msg] = {
    Usage.ADMIN: _("Démarches administratives en ligne"),
    Usage.OFFICE: _("Bureautique, recherche d'emploi"),
    Usage.STUDY: _("Études, formation"),
    Usage.VIDEO: _("Appels vidéo avec la famille"),
    Usage.BUSINESS: _("Gérer une micro-entreprise"),
    Usage.ADAPTED: _("Matériel adapté (handicap)"),
}

KIND_NAMES: dict[str, Msg] = {
    "laptop": _("Ordinateur portable"),
    "desktop": _("Ordinateur fixe complet"),
    "tablet": _("Tablette"),
}

KIND_SENTENCES: dict[str, Msg] = {
    "laptop": _("Pour tout faire, chez soi ou en déplacement."),
    "desktop": _("Écran, clavier et souris : confortable à la maison, adaptable (grand "
                 "écran, clavier gros caractères)."),
    "tablet": _("Simple à prendre en main, pour les appels vidéo et les démarches courtes."),
}


def kind_name(code: str, kinds: Iterable[CatalogueKind] = ()) -> Msg:
    """The name of a kind in the reader's language (its stored name if it has no message)."""
    if code in KIND_NAMES:
        return KIND_NAMES[code]
    stored = next((k.name for k in kinds if k.code == code), code)
    return verbatim(stored)


def kind_sentence(kind: CatalogueKind) -> Msg:
    """One plain sentence that says what the kind is good for."""
    return KIND_SENTENCES.get(kind.code) or verbatim(kind.description)


def usage_label(code: str) -> Msg:
    """The plain words for a usage code (the code itself if unknown)."""
    try:
        return USAGE_LABELS[Usage(code)]
    except ValueError:
        return verbatim(code)


def fitting(kinds: Sequence[CatalogueKind], needs: Iterable[str]) -> list[CatalogueKind]:
    """Kinds that serve at least one need, those serving the most needs first.

    One device rarely serves everything (a tablet for video calls, a desktop for an adapted
    set): the prescriber sees the best fits first and chooses.
    """
    wanted = set(needs)
    scored = [(len(wanted & set(k.uses)), index, k) for index, k in enumerate(kinds)]
    return [k for score, _index, k in sorted(scored, key=lambda t: (-t[0], t[1])) if score]
