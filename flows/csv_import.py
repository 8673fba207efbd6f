"""CSV files coordinators send and receive: places, catalogue, stock and the price grids.

A coordinator exports a list, edits it in a spreadsheet and sends it back; the header says
what the file is, so one "send a file" works for every list. Every row is checked and every
refused row is named by its line number (the header is line 1) with the reason, so the file
can be corrected. The network's own lists are applied all or nothing: half a price grid is
worse than the old one.

Reading accepts what spreadsheets write: UTF-8 (with or without BOM) or Windows-1252, with
``;``, ``,`` or tab as separator; several values in one cell are separated by ``|``.

Every file we write goes through ``write_csv``, which neutralises formulas (OWASP's "CSV
injection"): a text cell that a spreadsheet would run as a formula (it starts with ``=``,
``+``, ``-``, ``@``, a tab, a carriage return or a NUL) gets a leading ``'``, which
spreadsheets read as "this is text". Numbers stay numbers: a number written as such (an
``int``, a ``float``) and a text that is a plain negative number (``-2.5``, ``-3,5``) cannot be
a formula and are left as they are. ``read_table`` takes that ``'`` off again, so a list
exported, edited and sent back keeps every name exactly (``escape_cell``, ``unescape_cell``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from flows.answers import clean_text
from flows.catalogue import Usage
from flows.normalize import fold
from flows.opening_hours import HoursError, parse_hours
from flows.pricing import ANY, Income, PriceGrid, Situation, Tier
from flows.records import CatalogueKind, Grade, Place, PlaceKind
from flows.siret import Siret, parse_siret
from flows.territory import Ambiguous, Found, Territory
from flows.text import Lines, Msg, _

MAX_BYTES = 20_000_000
"""Telegram lets a bot download files up to 20 MB; the national MedNum file fits."""
MAX_ROWS = 2_000
"""The network's own lists are short; a longer file is a wrong file."""
MAX_CELL = 500
ERRORS_SHOWN = 10
SEPARATOR = "|"


class CsvKind(StrEnum):
    """What a sent file holds, recognised from its header."""

    PLACES = "places"
    KINDS = "kinds"
    STOCK = "stock"
    RULES = "rules"
    PRICES = "prices"
    GRADE_PRICES = "grade_prices"
    MEDNUM = "mednum"


COLUMNS: dict[CsvKind, tuple[str, ...]] = {
    CsvKind.PLACES: ("id", "nom", "type", "commune", "adresse", "horaires", "epci", "siret",
                     "actif", "aide_distance", "lien_aide"),
    CsvKind.KINDS: ("code", "nom", "description", "usages"),
    CsvKind.STOCK: ("lieu", "nom_lieu", "materiel", "disponible"),
    CsvKind.RULES: ("situation", "revenu", "palier"),
    CsvKind.PRICES: ("palier", "materiel", "prix"),
    CsvKind.GRADE_PRICES: ("materiel", "etat", "prix"),
}
"""Columns written on export, in order; on import their order does not matter."""

REQUIRED: dict[CsvKind, frozenset[str]] = {
    CsvKind.PLACES: frozenset({"nom", "type", "commune"}),
    CsvKind.KINDS: frozenset({"code", "nom", "usages"}),
    CsvKind.STOCK: frozenset({"lieu", "materiel", "disponible"}),
    CsvKind.RULES: frozenset({"situation", "revenu", "palier"}),
    CsvKind.PRICES: frozenset({"palier", "materiel", "prix"}),
    CsvKind.GRADE_PRICES: frozenset({"materiel", "etat", "prix"}),
    CsvKind.MEDNUM: frozenset({"id", "nom", "commune", "code_postal", "adresse"}),
}

KIND_LABELS: dict[CsvKind, Msg] = {
    CsvKind.PLACES: _("lieux du réseau"),
    CsvKind.KINDS: _("types de matériel"),
    CsvKind.STOCK: _("stock par lieu"),
    CsvKind.RULES: _("règles de la grille de prix"),
    CsvKind.PRICES: _("prix par palier"),
    CsvKind.GRADE_PRICES: _("prix publics par état"),
    CsvKind.MEDNUM: _("lieux de médiation numérique (schéma national)"),
}

PLACE_KIND_WORDS: dict[str, PlaceKind] = {
    "hub": PlaceKind.HUB,
    "relais": PlaceKind.RELAY, "relay": PlaceKind.RELAY, "point relais": PlaceKind.RELAY,
    "reconditionneur": PlaceKind.RECONDITIONER, "reconditioner": PlaceKind.RECONDITIONER,
    "collecte": PlaceKind.COLLECTION, "collection": PlaceKind.COLLECTION,
    "point de collecte": PlaceKind.COLLECTION,
}
PLACE_KIND_CSV: dict[PlaceKind, str] = {
    PlaceKind.HUB: "hub", PlaceKind.RELAY: "relais",
    PlaceKind.RECONDITIONER: "reconditionneur", PlaceKind.COLLECTION: "collecte",
}
YES = frozenset({"", "oui", "o", "yes", "y", "1", "vrai", "true", "x"})
NO = frozenset({"non", "n", "no", "0", "faux", "false"})


@dataclass(frozen=True)
class RowError:
    """A refused line: its number in the file (header = 1) and why."""

    line: int
    reason: Msg


@dataclass(frozen=True)
class Table:
    """A decoded CSV: lower-case header names, then each row with its line number."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, Mapping[str, str]], ...]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""What makes a spreadsheet read a cell as a formula (OWASP's list, and NUL as ASVS 1.2.10)."""
_PLAIN_NEGATIVE = re.compile(r"-[0-9]+(?:[.,][0-9]+)?")


def _needs_escape(text: str) -> bool:
    """Whether a text cell would be a formula once its protecting quotes are taken off.

    Leading quotes are looked through so that a text that already starts with ``'=`` gets one
    more: taking one quote off on import then gives it back exactly.
    """
    bare = text.lstrip("'")
    return bare.startswith(FORMULA_STARTS) and not _PLAIN_NEGATIVE.fullmatch(bare)


def escape_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: ``=SUM(A1)`` is written ``'=SUM(A1)``."""
    return "'" + text if _needs_escape(text) else text


def unescape_cell(text: str) -> str:
    """The text ``escape_cell`` was given: the protecting quote taken off, nothing else."""
    return text[1:] if text.startswith("'") and _needs_escape(text[1:]) else text


def read_table(data: bytes, max_rows: int = MAX_ROWS) -> Table | RowError:
    """Decode and split a CSV file; a file that cannot be read is refused at line 1.

    Cells are given back as ``escape_cell`` received them (see the module's docstring).
    """
    if len(data) > MAX_BYTES:
        return RowError(1, _("Fichier trop gros ({n} Mo au plus).", n=MAX_BYTES // 1_000_000))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return RowError(1, _("Fichier illisible : enregistrez-le en CSV UTF-8."))
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        return RowError(1, _("Le fichier est vide."))
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, Mapping[str, str]]] = []
    line = 1
    try:
        for raw in reader:
            start, line = line, reader.line_num + 1
            cells = [unescape_cell(c) for c in raw]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = tuple(c.strip().lstrip("\ufeff").lower() for c in cells)
                if len(set(header)) != len(header):
                    return RowError(start, _("Deux colonnes portent le même nom."))
                continue
            if len(cells) != len(header):
                return RowError(start, _("{found} colonnes au lieu de {wanted}.",
                                         found=len(cells), wanted=len(header)))
            if len(rows) >= max_rows:
                return RowError(start, _("Au plus {n} lignes à la fois.", n=max_rows))
            rows.append((start, dict(zip(header, cells, strict=True))))
    except csv.Error:
        return RowError(line, _("Ligne mal formée (guillemets ?)."))
    if header is None:
        return RowError(1, _("Le fichier est vide."))
    return Table(header, tuple(rows))


def detect(header: Sequence[str]) -> CsvKind | None:
    """Which list a header belongs to (the national schema first: it has the most columns)."""
    names = set(header)
    for kind in (CsvKind.MEDNUM, CsvKind.PLACES, CsvKind.PRICES, CsvKind.GRADE_PRICES,
                 CsvKind.RULES, CsvKind.STOCK, CsvKind.KINDS):
        if REQUIRED[kind] <= names:
            return kind
    return None


def cell(row: Mapping[str, str], name: str, limit: int = MAX_CELL) -> str:
    """A cleaned cell (control characters out, spaces folded), empty if the column is absent."""
    return clean_text(row.get(name, ""))[:limit]


def values(text: str) -> list[str]:
    """Several values of one cell, separated by ``|`` (``;`` accepted from older files)."""
    return [v.strip() for v in re.split(r"[|;]", text) if v.strip()]


def parse_euros(text: str) -> int | None:
    """Euros as typed in a spreadsheet ("40", "40,50", "1 200 €") in cents; None if not."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]|eur", "", text.lower()).replace(",", ".")
    if not re.fullmatch(r"[0-9]{1,5}(\.[0-9]{1,2})?", cleaned):
        return None
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation:
        return None


def euros(cents: int) -> str:
    """Cents written back as French spreadsheet euros: ``40,50``, a counter-entry ``-40,50``."""
    whole, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole},{rest:02d}"


def resolve_commune(text: str, territory: Territory) -> str | Msg:
    """An INSEE code, a name or a postal code of the territory, as an INSEE code."""
    if territory.commune(text) is not None:
        return text
    match territory.resolve(text):
        case Found(commune):
            return commune.insee
        case Ambiguous():
            return _("commune « {text} » ambiguë : écrivez son code INSEE.", text=text)
    return _("commune « {text} » inconnue sur le territoire.", text=text)


# --- The network's own lists ---------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """What rows may refer to: the territory, the places and kinds that exist."""

    territory: Territory
    place_ids: frozenset[int]
    kinds: frozenset[str]


@dataclass(frozen=True)
class PlaceRow:
    """A place to create (``id`` None) or update."""

    line: int
    id: int | None
    name: str
    kind: PlaceKind
    commune: str
    address: str
    osm_hours: str
    covers: tuple[str, ...]
    siret: str | None
    active: bool
    help_text: str
    help_link: str


@dataclass(frozen=True)
class KindRow:
    """A kind of device to create or update, with the uses it serves."""

    line: int
    code: str
    name: str
    description: str
    uses: tuple[str, ...]


@dataclass(frozen=True)
class StockRow:
    """Units available at a place for a kind (an absolute count)."""

    line: int
    place_id: int
    kind: str
    units: int


@dataclass(frozen=True)
class RuleRow:
    """A profile (situation, income or ``*``) and its tier."""

    line: int
    situation: str
    income: str
    tier: Tier


@dataclass(frozen=True)
class PriceRow:
    """What a tier costs for a kind (or ``*``), in cents."""

    line: int
    tier: Tier
    kind: str
    cents: int


@dataclass(frozen=True)
class GradePriceRow:
    """The public price of a kind in a grade, in cents; None: no price of its own (the
    public price of the kind applies)."""

    line: int
    kind: str
    grade: Grade
    cents: int | None


Row = PlaceRow | KindRow | StockRow | RuleRow | PriceRow | GradePriceRow


@dataclass(frozen=True)
class Checked:
    """The rows of a file that passed, and the lines refused with their reasons."""

    kind: CsvKind
    rows: tuple[Row, ...]
    errors: tuple[RowError, ...]


def check(table: Table, kind: CsvKind, known: Known) -> Checked:
    """Check every row of one of the network's lists; duplicates are refused too."""
    reader = {CsvKind.PLACES: _place_row, CsvKind.KINDS: _kind_row, CsvKind.STOCK: _stock_row,
              CsvKind.RULES: _rule_row, CsvKind.PRICES: _price_row,
              CsvKind.GRADE_PRICES: _grade_price_row}[kind]
    rows: list[Row] = []
    errors: list[RowError] = []
    seen: dict[object, int] = {}
    for line, raw in table.rows:
        outcome = reader(line, raw, known)
        if isinstance(outcome, Msg):
            errors.append(RowError(line, outcome))
            continue
        key = _identity(outcome)
        if key is not None and key in seen:
            errors.append(RowError(line, _("même ligne que la ligne {other}.",
                                           other=seen[key])))
            continue
        if key is not None:
            seen[key] = line
        rows.append(outcome)
    if not rows and not errors:
        errors.append(RowError(2, _("Aucune ligne après l'en-tête.")))
    if kind is CsvKind.PRICES and not errors:
        errors.extend(_missing_defaults([r for r in rows if isinstance(r, PriceRow)]))
    return Checked(kind, tuple(rows), tuple(errors))


def _identity(row: Row) -> object:
    """What two rows of one file must not share."""
    match row:
        case PlaceRow(id=None):
            return None
        case PlaceRow():
            return ("place", row.id)
        case KindRow():
            return ("kind", row.code)
        case StockRow():
            return ("stock", row.place_id, row.kind)
        case RuleRow():
            return ("rule", row.situation, row.income)
        case PriceRow():
            return ("price", row.tier, row.kind)
        case GradePriceRow():
            return ("grade", row.kind, row.grade)
    return None


def _missing_defaults(rows: Iterable[PriceRow]) -> list[RowError]:
    """Every paying tier needs its ``*`` row: it prices kinds without their own row."""
    have = {row.tier for row in rows if row.kind == ANY}
    return [RowError(1, _("il manque la ligne « * » du palier {tier}.", tier=tier.value))
            for tier in (Tier.SYMBOLIC, Tier.REDUCED, Tier.FULL) if tier not in have]


def _place_row(line: int, row: Mapping[str, str], known: Known) -> PlaceRow | Msg:
    raw_id = cell(row, "id")
    place_id: int | None = None
    if raw_id:
        if not raw_id.isdigit() or len(raw_id) > 9 or int(raw_id) not in known.place_ids:
            return _("lieu n° « {id} » inconnu : laissez « id » vide pour un nouveau lieu.",
                     id=raw_id)
        place_id = int(raw_id)
    name = cell(row, "nom", 120)
    if len(name) < 3:
        return _("nom manquant ou trop court.")
    kind = PLACE_KIND_WORDS.get(fold(cell(row, "type")))
    if kind is None:
        return _("type inconnu (hub, relais, reconditionneur ou collecte).")
    commune = resolve_commune(cell(row, "commune"), known.territory)
    if isinstance(commune, Msg):
        return commune
    hours = ""
    if cell(row, "horaires"):
        parsed = parse_hours(cell(row, "horaires"))
        if isinstance(parsed, HoursError):
            return parsed.reason
        hours = parsed.text
    covers = tuple(sorted(set(values(cell(row, "epci")))))
    unknown = [c for c in covers if known.territory.epci(c) is None]
    if unknown:
        return _("intercommunalité inconnue : {code} (numéro SIREN attendu).", code=unknown[0])
    siret: str | None = None
    if cell(row, "siret"):
        checked = parse_siret(cell(row, "siret"))
        if not isinstance(checked, Siret):
            return _("SIRET invalide.")
        siret = checked.digits
    active = fold(cell(row, "actif"))
    if active not in YES | NO:
        return _("« actif » vaut oui ou non.")
    link = cell(row, "lien_aide", 200)
    if link and not re.fullmatch(r"https?://\S+", link):
        return _("lien d'aide à distance invalide (https://…).")
    return PlaceRow(line, place_id, name, kind, commune, cell(row, "adresse", 200), hours, covers,
                    siret, active in YES, cell(row, "aide_distance"), link)


_CODE = re.compile(r"[a-z0-9_]{2,20}")


def _kind_row(line: int, row: Mapping[str, str], known: Known) -> KindRow | Msg:
    code = cell(row, "code").lower()
    if not _CODE.fullmatch(code):
        return _("code invalide : 2 à 20 lettres minuscules, chiffres ou _.")
    name = cell(row, "nom", 80)
    if len(name) < 2:
        return _("nom manquant.")
    uses = values(cell(row, "usages").lower())
    allowed = {u.value for u in Usage}
    if not uses or any(u not in allowed for u in uses):
        return _("usages inconnus : choisissez parmi {codes}, séparés par |.",
                 codes=" | ".join(u.value for u in Usage))
    return KindRow(line, code, name, cell(row, "description", 200), tuple(dict.fromkeys(uses)))


def _stock_row(line: int, row: Mapping[str, str], known: Known) -> StockRow | Msg:
    place = cell(row, "lieu")
    if not place.isdigit() or len(place) > 9 or int(place) not in known.place_ids:
        return _("lieu n° « {id} » inconnu.", id=place)
    kind = cell(row, "materiel").lower()
    if kind not in known.kinds:
        return _("type de matériel « {code} » inconnu.", code=kind)
    units = cell(row, "disponible")
    if not units.isdigit() or int(units) > 9999:
        return _("« disponible » doit être un nombre entier de 0 à 9999.")
    return StockRow(line, int(place), kind, int(units))


def _rule_row(line: int, row: Mapping[str, str], known: Known) -> RuleRow | Msg:
    situation = cell(row, "situation").lower()
    if situation not in {s.value for s in Situation}:
        return _("situation inconnue : {codes}.", codes=", ".join(s.value for s in Situation))
    income = cell(row, "revenu").lower() or ANY
    if income != ANY and income not in {i.value for i in Income}:
        return _("revenu inconnu : *, {codes}.", codes=", ".join(i.value for i in Income))
    tier = _tier(cell(row, "palier"))
    if tier is None:
        return _("palier inconnu : {codes}.", codes=", ".join(t.value for t in Tier))
    return RuleRow(line, situation, income, tier)


def _price_row(line: int, row: Mapping[str, str], known: Known) -> PriceRow | Msg:
    tier = _tier(cell(row, "palier"))
    if tier is None:
        return _("palier inconnu : {codes}.", codes=", ".join(t.value for t in Tier))
    kind = cell(row, "materiel").lower() or ANY
    if kind != ANY and kind not in known.kinds:
        return _("type de matériel « {code} » inconnu.", code=kind)
    cents = parse_euros(cell(row, "prix"))
    if cents is None:
        return _("prix illisible (en euros, par exemple 40 ou 40,50).")
    if tier is Tier.FREE and cents:
        return _("le palier free est gratuit : prix 0.")
    return PriceRow(line, tier, kind, cents)


def _grade_price_row(line: int, row: Mapping[str, str], known: Known) -> GradePriceRow | Msg:
    kind = cell(row, "materiel").lower()
    if kind not in known.kinds:
        return _("type de matériel « {code} » inconnu.", code=kind)
    try:
        grade = Grade(cell(row, "etat").upper())
    except ValueError:
        return _("état inconnu : {codes}.", codes=", ".join(g.value for g in Grade))
    text = cell(row, "prix")
    if not text:
        return GradePriceRow(line, kind, grade, None)
    cents = parse_euros(text)
    if cents is None:
        return _("prix illisible (en euros, par exemple 40 ou 40,50).")
    return GradePriceRow(line, kind, grade, cents)


def _tier(text: str) -> Tier | None:
    try:
        return Tier(text.lower())
    except ValueError:
        return None


# --- Writing --------------------------------------------------------------------------------


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ";",
              bom: bool = True) -> bytes:
    """A CSV spreadsheets open as is (``;`` and a BOM for French Excel), in UTF-8.

    The one writer of the project's CSV files: text cells that a spreadsheet would run as a
    formula are escaped (``escape_cell``); numbers are written as numbers.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_exported(v) for v in header])
    for row in rows:
        writer.writerow([_exported(v) for v in row])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def _exported(value: object) -> object:
    """A cell as written: nothing for ``None``, text escaped, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_cell(value)
    if isinstance(value, int | float | Decimal):
        return value
    return escape_cell(str(value))


@dataclass(frozen=True)
class PlaceExport:
    """A place as exported: the record and what only the coordination sees."""

    place: Place
    active: bool
    siret: str | None
    help_text: str
    help_link: str


def places_csv(places: Iterable[PlaceExport]) -> bytes:
    """The network's places, to edit and send back."""
    return write_csv(COLUMNS[CsvKind.PLACES], (
        (p.place.id, p.place.name, PLACE_KIND_CSV[p.place.kind], p.place.commune,
         p.place.address, p.place.osm_hours, SEPARATOR.join(p.place.covers_epci),
         p.siret or "", "oui" if p.active else "non", p.help_text, p.help_link)
        for p in places))


def kinds_csv(kinds: Iterable[CatalogueKind]) -> bytes:
    """The catalogue's kinds of device with the uses they serve."""
    return write_csv(COLUMNS[CsvKind.KINDS], (
        (k.code, k.name, k.description, SEPARATOR.join(k.uses)) for k in kinds))


def stock_csv(places: Sequence[Place], kinds: Sequence[CatalogueKind],
              stock: Mapping[tuple[int, str], int]) -> bytes:
    """One line per place and kind, zeros included, so the file is the full grid to fill."""
    return write_csv(COLUMNS[CsvKind.STOCK], (
        (p.id, p.name, k.code, stock.get((p.id, k.code), 0)) for p in places for k in kinds))


def rules_csv(grid: PriceGrid) -> bytes:
    """The profile rules of the price grid."""
    return write_csv(COLUMNS[CsvKind.RULES],
                     ((r.situation, r.income, r.tier.value) for r in grid.rules))


def prices_csv(grid: PriceGrid) -> bytes:
    """The amounts of each tier, per kind or for any kind (``*``)."""
    return write_csv(COLUMNS[CsvKind.PRICES],
                     ((p.tier.value, p.kind, euros(p.cents)) for p in grid.prices))


def grade_prices_csv(kinds: Iterable[CatalogueKind],
                     prices: Mapping[tuple[str, str], int]) -> bytes:
    """One line per kind and grade, an empty price where none is set: the full grid to
    fill."""
    return write_csv(COLUMNS[CsvKind.GRADE_PRICES], (
        (k.code, grade.value, euros(prices[(k.code, grade.value)])
         if (k.code, grade.value) in prices else "")
        for k in kinds for grade in Grade))


def errors_text(errors: Sequence[RowError], *, nothing_saved: bool) -> Msg:
    """The refused lines with their numbers (the first ten) and what became of the file."""
    lines: list[Msg] = [_("Ligne {line} : {reason}", line=e.line, reason=e.reason)
                        for e in errors[:ERRORS_SHOWN]]
    if len(errors) > ERRORS_SHOWN:
        lines.append(_("… et {n} autres lignes.", n=len(errors) - ERRORS_SHOWN))
    head = (_("Rien n'a été enregistré : corrigez ces lignes et renvoyez tout le fichier.")
            if nothing_saved else _("Lignes refusées (les autres sont enregistrées) :"))
    return Msg("{head}\n{lines}", {"head": head, "lines": Lines(tuple(lines))})
