"""Coordinators send CSV files: the header says which list it is, every row is checked, the
network's lists are applied all or nothing and the national directory line by line."""

from __future__ import annotations

import asyncio
import logging

from flows import actions as act
from flows import mednum
from flows.csv_import import (
    KIND_LABELS,
    MAX_ROWS,
    REQUIRED,
    Checked,
    CsvKind,
    GradePriceRow,
    KindRow,
    Known,
    PlaceRow,
    PriceRow,
    RowError,
    RuleRow,
    check,
    detect,
    errors_text,
    read_table,
)
from flows.messages import Attachment, Choice
from flows.text import Msg, _
from handlers import coord_places as places
from handlers.coord_places import lines
from handlers.session import Session

log = logging.getLogger(__name__)

CSV_NAMES = (".csv", ".txt")


def stock_is_counted() -> Msg:
    """A stock file sent back: stock is counted from the devices, never typed."""
    return _("Le stock ne se saisit plus : il compte les appareils prêts de chaque lieu, "
             "enregistrés par les ateliers. Ce fichier est un export : rien n'a été changé.")


def import_help() -> Msg:
    """What files the bot reads: their first line says what they are."""
    items = [_("• {what} : {columns}", what=label, columns=" ; ".join(sorted(REQUIRED[kind])))
             for kind, label in KIND_LABELS.items() if kind is not CsvKind.STOCK]
    return Msg("{head}\n{lines}\n{tail}", {
        "head": _("Envoyez un fichier CSV (UTF-8, séparateur ; ou ,). Je le reconnais à sa "
                  "première ligne, qui doit contenir au moins ces colonnes :"),
        "lines": lines(items),
        "tail": _("Le plus simple : exportez la liste depuis le menu, modifiez-la, renvoyez-la. "
                  "Les lignes refusées sont indiquées avec leur numéro."),
    })


async def on_file(session: Session, attachment: Attachment,
                  max_rows: int = mednum.MAX_ROWS) -> bool:
    """A coordinator's CSV: recognise it by its header, check every row, apply it."""
    if not session.user.is_coordinator:
        return False
    name = attachment.filename.lower()
    if not (name.endswith(CSV_NAMES) or attachment.mime.startswith("text/")
            or attachment.mime == "application/vnd.ms-excel"):
        return False
    # Parsing and checking a national directory (40,000 rows) takes most of a second: done on
    # a worker thread, so that everyone else's messages go on meanwhile.
    table = await asyncio.to_thread(read_table, attachment.data, max_rows=max_rows)
    if isinstance(table, RowError):
        session.say(errors_text([table], nothing_saved=True))
        return True
    kind = detect(table.header)
    if kind is None:
        session.say(_("Je ne reconnais pas ce fichier."), import_help())
        return True
    if kind is CsvKind.STOCK:
        session.say(stock_is_counted())
        return True
    if kind is CsvKind.MEDNUM:
        result = await asyncio.to_thread(mednum.check, table, session.ctx.territory)
        texts = [await places.apply_mednum(session, result)]
        if result.errors:
            texts.append(errors_text(result.errors, nothing_saved=False))
        session.say(*texts, choices=[Choice(act.Directory().pack(),
                                            _("Annuaire national des lieux de médiation"))],
                    action_menu=True)
        return True
    if len(table.rows) > MAX_ROWS:
        session.say(errors_text([RowError(1, _("Au plus {n} lignes à la fois.", n=MAX_ROWS))],
                                nothing_saved=True))
        return True
    checked = check(table, kind, await _known(session))
    if checked.errors:
        session.say(_("Fichier de {what} : {n} lignes lues.", what=KIND_LABELS[kind],
                      n=len(table.rows)), errors_text(checked.errors, nothing_saved=True))
        return True
    done = await _apply(session, checked)
    log.info("%s file of %s rows applied by %s", kind.value, len(checked.rows),
             session.user.key)
    session.say(_("Fichier de {what} enregistré : {n} lignes.", what=KIND_LABELS[kind],
                  n=len(checked.rows)), *done,
                choices=[Choice(act.CoordinationMenu().pack(), _("Coordination du réseau"))],
                action_menu=True)
    return True


async def _known(session: Session) -> Known:
    uow = session.uow
    return Known(session.ctx.territory,
                 frozenset(int(m.place.id) for m in await uow.coordination.places()),
                 frozenset(k.code for k in await uow.catalogue.kinds()))


async def _apply(session: Session, checked: Checked) -> list[Msg]:
    """Apply a checked file of the network's lists; says what changed."""
    uow, rows = session.uow, checked.rows
    match checked.kind:
        case CsvKind.PLACES:
            created, updated = await places.apply_place_rows(
                session, [r for r in rows if isinstance(r, PlaceRow)])
            return [_("{created} lieux créés, {updated} mis à jour.", created=created,
                      updated=updated)]
        case CsvKind.KINDS:
            for row in rows:
                if isinstance(row, KindRow):
                    await uow.coordination.save_kind(row)
            return []
        case CsvKind.RULES:
            await uow.coordination.replace_rules([r for r in rows if isinstance(r, RuleRow)])
            return [_("La grille vaut pour les nouvelles demandes.")]
        case CsvKind.PRICES:
            await uow.coordination.replace_prices([r for r in rows if isinstance(r, PriceRow)])
            return [_("La grille vaut pour les nouvelles demandes.")]
        case CsvKind.GRADE_PRICES:
            await uow.reservations.replace_grade_prices({
                (r.kind, r.grade.value): r.cents for r in rows
                if isinstance(r, GradePriceRow) and r.cents is not None})
            return [_("Ces prix valent pour les prochaines ventes au public ; un état sans "
                      "prix prend le prix public du type de matériel.")]
    return []
