"""Coordinators run the catalogue (kinds of device and the uses they serve) and the price
grid, in chat or as CSV files exported, edited and sent back; they see the stock of each
place, which is counted from the devices ready there and never typed (its CSV is an export
only).
"""

from __future__ import annotations

import logging
import re

from flows import actions as act
from flows.catalogue import kind_name, usage_label
from flows.coord_flows import SaveKind, SetPrice, SetRule
from flows.csv_import import (
    KindRow,
    grade_prices_csv,
    kinds_csv,
    prices_csv,
    rules_csv,
    stock_csv,
)
from flows.messages import Attachment, Choice
from flows.normalize import fold
from flows.pricing import ANY
from flows.request import INCOME_LABELS, SITUATION_LABELS, TIER_LABELS, label_of
from flows.text import Money, Msg, _, verbatim
from handlers.coord_places import CSV, titled
from handlers.session import Session

log = logging.getLogger(__name__)

EXPORTS = {
    "kinds": ("materiels.csv", _("Exporter les types de matériel (CSV)")),
    "stock": ("stock.csv", _("Exporter le stock (CSV)")),
    "rules": ("grille-regles.csv", _("Exporter les règles de prix (CSV)")),
    "prices": ("grille-prix.csv", _("Exporter les prix (CSV)")),
    "grades": ("prix-publics-par-etat.csv", _("Exporter les prix publics par état (CSV)")),
}


async def catalogue_menu(session: Session) -> None:
    """The kinds with their uses, the stock of each place, the price grid; what to change."""
    uow = session.uow
    kinds = await uow.catalogue.kinds()
    stock = await uow.catalogue.stock()
    places = {p.id: p for p in await uow.places.all()}
    grid = await uow.catalogue.price_grid()
    kind_lines = [_("• {kind} : {uses}", kind=kind_name(k.code, kinds),
                    uses=Msg(", ".join(f"{{u{i}}}" for i in range(len(k.uses))),
                             {f"u{i}": usage_label(u) for i, u in enumerate(k.uses)}))
                  for k in kinds]
    stock_lines = []
    for place in places.values():
        held = [(k, stock[(place.id, k.code)]) for k in kinds if (place.id, k.code) in stock]
        if held:
            params = {f"k{i}": _("{kind} × {n}", kind=kind_name(k.code, kinds), n=n)
                      for i, (k, n) in enumerate(held)}
            stock_lines.append(_("• {place} : {units}", place=verbatim(place.name), units=Msg(
                ", ".join("{" + key + "}" for key in params), params)))
    order = {tier: i for i, tier in enumerate(TIER_LABELS)}
    prices = sorted(grid.prices, key=lambda r: (order[r.tier], r.kind != ANY, r.kind))
    price_lines = [_("• {tier}, {kind} : {amount}", tier=TIER_LABELS[row.tier],
                     kind=_("tous types") if row.kind == ANY else kind_name(row.kind, kinds),
                     amount=Money(row.cents)) for row in prices]
    session.say(
        titled(_("Catalogue (par usage) :"), kind_lines),
        titled(_("Stock disponible :"), stock_lines or [_("aucun")]),
        titled(_("Prix par palier :"), price_lines),
        _("{n} règles attribuent un palier selon la situation et les revenus.",
          n=len(grid.rules)),
        choices=[Choice(act.AddKind().pack(), _("Ajouter un type de matériel")),
                 Choice(act.SetPrice().pack(), _("Changer un prix")),
                 Choice(act.GradePrice().pack(), _("Prix public par état")),
                 Choice(act.SetRule().pack(), _("Changer une règle de prix")),
                 *[Choice(act.ExportCatalogue(code).pack(),
                          label) for code, (_f, label) in EXPORTS.items()]],
        action_menu=True,
    )


async def export(session: Session, what: str) -> None:
    """One of the catalogue's lists as CSV."""
    uow = session.uow
    if what not in EXPORTS:
        session.say(_("Ce bouton n'est plus valable."))
        return
    kinds = await uow.catalogue.kinds()
    grid = await uow.catalogue.price_grid()
    if what == "kinds":
        data = kinds_csv(kinds)
    elif what == "stock":
        places = [m.place for m in await uow.coordination.places() if m.active]
        stock = await uow.catalogue.stock()
        data = stock_csv(places, kinds, {(int(p), k): n for (p, k), n in stock.items()})
    elif what == "rules":
        data = rules_csv(grid)
    elif what == "grades":
        data = grade_prices_csv(kinds, await uow.reservations.grade_prices())
    else:
        data = prices_csv(grid)
    filename, _label = EXPORTS[what]
    session.send(session.user.key, [_("Voici le fichier. Modifiez-le puis renvoyez-le tel quel "
                                      "pour l'appliquer.")],
                 attachment=Attachment(filename, CSV, data))


def new_code(name: str, taken: set[str]) -> str:
    """A stored code made from a kind's name: "Écran seul" gives ``ecran_seul``."""
    base = re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")[:16] or "type"
    code, n = base, 2
    while code in taken or len(code) < 2:
        code, n = f"{base}_{n}", n + 1
    return code


async def on_save_kind(session: Session, effect: SaveKind) -> None:
    """A new kind of device, with its uses."""
    uow = session.uow
    code = new_code(effect.name, {k.code for k in await uow.catalogue.kinds()})
    await uow.coordination.save_kind(KindRow(0, code, effect.name, effect.description,
                                             effect.uses))
    log.info("kind %s added by %s", code, session.user.key)
    session.say(_("Type de matériel ajouté : {name} (code {code}).", name=verbatim(effect.name),
                  code=code), choices=[Choice(act.CatalogueMenu().pack(), _("Catalogue et prix"))],
                action_menu=True)


async def on_set_price(session: Session, effect: SetPrice) -> None:
    """What a tier costs for a kind (or any kind)."""
    await session.uow.coordination.set_price(effect.tier, effect.kind, effect.cents)
    log.info("price of %s/%s changed by %s", effect.tier.value, effect.kind, session.user.key)
    session.say(_("Prix enregistré : {tier}, {amount}. Il vaut pour les nouvelles demandes.",
                  tier=TIER_LABELS[effect.tier], amount=Money(effect.cents)),
                choices=[Choice(act.CatalogueMenu().pack(), _("Catalogue et prix"))],
                action_menu=True)


async def on_set_rule(session: Session, effect: SetRule) -> None:
    """The tier of one profile."""
    await session.uow.coordination.set_rule(effect.situation, effect.income, effect.tier)
    log.info("price rule %s/%s changed by %s", effect.situation, effect.income,
             session.user.key)
    income = _("tous revenus") if effect.income == ANY else label_of(INCOME_LABELS,
                                                                      effect.income)
    session.say(_("Règle enregistrée : {situation}, {income} → {tier}.",
                  situation=label_of(SITUATION_LABELS, effect.situation), income=income,
                  tier=TIER_LABELS[effect.tier]),
                choices=[Choice(act.CatalogueMenu().pack(), _("Catalogue et prix"))],
                action_menu=True)
