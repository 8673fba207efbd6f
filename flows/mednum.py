"""The national schema of digital-mediation places (La MedNum, ``standard-mediation-num``).

Version 1.0.x, as published on schema.data.gouv.fr and used by the national cartography
(checked against the schema's documentation of v1.0.1): a CSV in UTF-8, one place per line,
several values in one cell separated by ``|``, opening hours in OpenStreetMap syntax. Required
columns: ``id``, ``pivot`` (SIRET or RNA), ``nom``, ``commune``, ``code_postal``, ``adresse``,
``date_maj`` (ISO date); ``code_insee``, ``latitude``, ``longitude``, ``horaires``,
``services``, ``structure_parente``, ``source``... are optional.

Import keeps the places of the territory (the national file covers France) in a directory of
mediation places; export writes the network's own places in the same columns so they can join
the national cartography. Assumptions, stated because the schema leaves them open:

* a place without SIRET is exported with the pivot ``00000000000000`` (the placeholder the
  national data uses for an unknown pivot);
* services are derived from the kind of place (a hub or relay point sells equipment at a
  solidarity price and helps to get started; a reconditioner sells equipment);
* e-mail addresses of the national file are not kept (they may be a person's address); hours
  that are not in the OSM subset we read are kept as text and shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from flows.csv_import import SEPARATOR, RowError, Table, cell, values, write_csv
from flows.normalize import fold
from flows.records import Place, PlaceKind
from flows.territory import Territory
from flows.text import Msg, _

VERSION = "1.0.1"

COLUMNS = (
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse",
    "complement_adresse", "latitude", "longitude", "typologie", "telephone", "courriels",
    "site_web", "horaires", "presentation_resume", "presentation_detail", "source",
    "itinerance", "structure_parente", "date_maj", "services",
    "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels",
    "modalites_acces", "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
)
"""Every column of the schema, in its order."""

SERVICES = (
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)
"""The values ``services`` may hold (the schema's enumeration)."""

SOLIDARITY_PURCHASE = "Acquisition de matériel informatique à prix solidaire"
GETTING_STARTED = "Maîtrise des outils numériques du quotidien"

SERVICES_BY_KIND: dict[PlaceKind, tuple[str, ...]] = {
    PlaceKind.HUB: (GETTING_STARTED, SOLIDARITY_PURCHASE),
    PlaceKind.RELAY: (GETTING_STARTED, SOLIDARITY_PURCHASE),
    PlaceKind.RECONDITIONER: (SOLIDARITY_PURCHASE,),
    PlaceKind.COLLECTION: (),
}

UNKNOWN_PIVOT = "00000000000000"
MAX_ROWS = 60_000
"""The national file holds some tens of thousands of places."""

_PIVOT = re.compile(r"[a-zA-Z0-9]{9,14}")
_PHONE = re.compile(r"\+[0-9]{7,12}")


@dataclass(frozen=True)
class MediationPlace:
    """A digital-mediation place of the national directory, as the network keeps it."""

    source_id: str
    pivot: str
    name: str
    commune: str  # INSEE code
    postal_code: str
    address: str
    osm_hours: str
    services: tuple[str, ...]
    updated_on: date
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    website: str | None = None
    parent: str | None = None
    source: str | None = None

    @property
    def sells_equipment(self) -> bool:
        """Whether it offers equipment at a solidarity price (a partner for the network)."""
        return SOLIDARITY_PURCHASE in self.services


@dataclass(frozen=True)
class MednumImport:
    """The places of the territory found in a file, refused lines, and lines elsewhere."""

    places: tuple[MediationPlace, ...]
    errors: tuple[RowError, ...]
    outside: int


def check(table: Table, territory: Territory) -> MednumImport:
    """Read every line; places outside the territory are counted, not refused."""
    places: list[MediationPlace] = []
    errors: list[RowError] = []
    outside = 0
    seen: dict[str, int] = {}
    for line, row in table.rows:
        outcome = _place(row, territory)
        if outcome is None:
            outside += 1
        elif isinstance(outcome, Msg):
            errors.append(RowError(line, outcome))
        elif outcome.source_id in seen:
            errors.append(RowError(line, _("même identifiant que la ligne {other}.",
                                           other=seen[outcome.source_id])))
        else:
            seen[outcome.source_id] = line
            places.append(outcome)
    return MednumImport(tuple(places), tuple(errors), outside)


def _place(row: Mapping[str, str], territory: Territory) -> MediationPlace | Msg | None:
    """One line as a place of the territory; None when it is elsewhere in France."""
    insee = cell(row, "code_insee")
    postal = cell(row, "code_postal")
    if insee:
        if territory.commune(insee) is None:
            return None
    else:
        candidates = [c for c in territory.communes if postal in c.postal_codes]
        if not candidates:
            return None
        named = [c for c in candidates if _same(c.name, cell(row, "commune"))]
        if len(named) != 1 and len(candidates) != 1:
            return _("commune introuvable : renseignez code_insee.")
        insee = (named or candidates)[0].insee
    missing = [name for name in ("id", "nom", "adresse") if not cell(row, name)]
    if missing:
        return _("colonne obligatoire vide : {name}.", name=missing[0])
    if not re.fullmatch(r"[0-9]{5}", postal):
        return _("code_postal invalide.")
    try:
        updated = date.fromisoformat(cell(row, "date_maj"))
    except ValueError:
        return _("date_maj invalide (AAAA-MM-JJ attendu).")
    pivot = cell(row, "pivot").replace(" ", "")
    if pivot and not _PIVOT.fullmatch(pivot):
        return _("pivot invalide (SIRET ou RNA attendu).")
    services = tuple(s for s in values(cell(row, "services", 2000)) if s in SERVICES)
    phone = cell(row, "telephone").replace(" ", "")
    websites = [w for w in values(cell(row, "site_web", 1000)) if w.startswith("http")]
    return MediationPlace(
        source_id=cell(row, "id", 120),
        pivot=pivot,
        name=cell(row, "nom", 200),
        commune=insee,
        postal_code=postal,
        address=cell(row, "adresse", 200),
        osm_hours=cell(row, "horaires", 255),
        services=services,
        updated_on=updated,
        latitude=_coordinate(cell(row, "latitude"), 90),
        longitude=_coordinate(cell(row, "longitude"), 180),
        phone=phone if _PHONE.fullmatch(phone) else None,
        website=websites[0][:200] if websites else None,
        parent=cell(row, "structure_parente", 200) or None,
        source=cell(row, "source", 200) or None,
    )


def _same(a: str, b: str) -> bool:
    return fold(a) == fold(b)


def _coordinate(text: str, bound: float) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if -bound <= value <= bound else None


def export(places: Iterable[tuple[Place, str | None, date]], territory: Territory, *,
           source: str, id_prefix: str) -> bytes:
    """The network's places in the national schema (``,`` separated, UTF-8, no BOM)."""
    rows: list[Sequence[object]] = []
    for place, siret, updated in places:
        commune = territory.commune(place.commune)
        row = dict.fromkeys(COLUMNS, "")
        row.update({
            "id": f"{id_prefix}-{place.id}",
            "pivot": siret or UNKNOWN_PIVOT,
            "nom": place.name,
            "commune": commune.name if commune else "",
            "code_postal": commune.postal_codes[0] if commune and commune.postal_codes else "",
            "code_insee": place.commune,
            "adresse": place.address,
            "horaires": place.osm_hours,
            "source": source,
            "structure_parente": source,
            "date_maj": updated.isoformat(),
            "services": SEPARATOR.join(SERVICES_BY_KIND[place.kind]),
        })
        rows.append([row[c] for c in COLUMNS])
    return write_csv(COLUMNS, rows, delimiter=",", bom=False)
