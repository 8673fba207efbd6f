"""What became of a donor's lot: the impact report the donor receives once every device of the
lot is settled (handed over, spare parts, recycled: ``flows.device_lifecycle.SETTLED``), and
may read at any time from "Mes dons".

Aggregated, never a person: devices handed over are counted per intercommunality of the place
that handed them over; nothing says to whom, or where the person lives.

CO2e avoided counts one device handed over as one new device not manufactured (the usual
convention of reuse reports, as in ``flows.report``); devices taken apart for spare parts or
recycled are not counted (a conservative assumption: their parts do avoid some manufacturing,
but no agreed factor exists). The factors per device category are stated with the report, as
assumptions:

- laptop 156 kg, desktop 250 kg, tablet 62 kg: the network's figures (``flows.report``,
  ADEME 2018 and impactco2.fr, DINUM MiNumEco), the same in the coordinators' report;
- screen 200 kg: order of magnitude of a 21 to 24 inch monitor's manufacture in ADEME's
  Base Empreinte (an estimate, to confirm);
- smartphone 39 kg: ADEME, impactco2.fr, "smartphone" (an estimate, to confirm);
- printers, servers, peripherals and other equipment: not counted (no factor agreed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flows.device_lifecycle import SETTLED
from flows.donation import CATEGORY_LABELS, bullet
from flows.records import Device, DeviceCategory, DeviceState, Lot, PlaceId
from flows.report import CO2E_AVOIDED_KG, Factor
from flows.text import Lines, Msg, _, _n, verbatim

FACTORS: dict[DeviceCategory, Factor] = {
    DeviceCategory.LAPTOP: CO2E_AVOIDED_KG["laptop"],
    DeviceCategory.DESKTOP: CO2E_AVOIDED_KG["desktop"],
    DeviceCategory.TABLET: CO2E_AVOIDED_KG["tablet"],
    DeviceCategory.SCREEN: Factor(200, "ADEME, Base Empreinte : ordre de grandeur de la "
                                       "fabrication d'un écran de 21 à 24 pouces", assumed=True),
    DeviceCategory.SMARTPHONE: Factor(39, "ADEME, impactco2.fr (smartphone)", assumed=True),
}
"""Kilograms of CO2e avoided per device handed over, by category (others: not counted)."""


@dataclass(frozen=True)
class Impact:
    """What became of a lot's devices, counted."""

    handed_over: tuple[tuple[str, int], ...]
    """Per intercommunality (its name), devices handed over: most first."""
    parts: int
    recycled: int
    pending: int
    """Devices still on their way (being reconditioned, in stock, travelling, returned)."""
    co2e_kg: float
    factors: tuple[tuple[DeviceCategory, Factor], ...]
    """The factors the CO2e figure used, to state with it."""

    @property
    def handed_total(self) -> int:
        return sum(n for _, n in self.handed_over)


def settled(lot: Lot, devices: Sequence[Device]) -> bool:
    """Whether a lot's story can be told: every declared device registered, and every one
    handed over, taken apart for parts or recycled."""
    if not devices:
        return False
    registered = Counter(d.category for d in devices)
    if any(registered[category] < quantity for category, quantity in lot.items):
        return False
    return all(d.state in SETTLED for d in devices)


def impact_of(devices: Sequence[Device], epci_of: Callable[[PlaceId | None], str]) -> Impact:
    """Count what became of ``devices``; ``epci_of`` names the intercommunality of a place."""
    where: Counter[str] = Counter()
    used: dict[DeviceCategory, Factor] = {}
    co2e = 0.0
    for device in devices:
        if device.state is not DeviceState.HANDED_OVER:
            continue
        where[epci_of(device.place_id)] += 1
        factor = FACTORS.get(device.category)
        if factor is not None:
            co2e += factor.value
            used[device.category] = factor
    parts = sum(1 for d in devices if d.state is DeviceState.PARTS)
    recycled = sum(1 for d in devices if d.state is DeviceState.RECYCLED)
    pending = len(devices) - sum(where.values()) - parts - recycled
    return Impact(tuple(sorted(where.items(), key=lambda item: (-item[1], item[0]))), parts,
                  recycled, pending, co2e, tuple(sorted(used.items())))


def impact_texts(lot: Lot, impact: Impact) -> list[Msg]:
    """The report, as the donor reads it in the chat and in the PDF."""
    texts: list[Msg] = [_("Ce qu'est devenu votre don {ref} :", ref=verbatim(lot.reference))]
    if impact.handed_total:
        where = Lines(tuple(bullet(_("{epci} : {n}", epci=verbatim(name), n=n))
                            for name, n in impact.handed_over))
        texts.append(_n(
            "{n} appareil a été remis à une personne accompagnée par le réseau :\n{lines}",
            "{n} appareils ont été remis à des personnes accompagnées par le réseau :\n{lines}",
            impact.handed_total, lines=where))
    if impact.parts:
        texts.append(_n("{n} appareil a servi de pièces détachées pour en réparer d'autres.",
                        "{n} appareils ont servi de pièces détachées pour en réparer d'autres.",
                        impact.parts))
    if impact.recycled:
        texts.append(_n("{n} appareil, irréparable, a été confié au recyclage.",
                        "{n} appareils, irréparables, ont été confiés au recyclage.",
                        impact.recycled))
    if impact.pending:
        texts.append(_n("{n} appareil est encore en cours de reconditionnement ou de remise.",
                        "{n} appareils sont encore en cours de reconditionnement ou de remise.",
                        impact.pending))
    if impact.factors:
        texts.append(_("Environ {kg} kg de CO2e évités : chaque appareil remis évite d'en "
                       "fabriquer un neuf.", kg=round(impact.co2e_kg)))
        texts.append(factors_text(impact))
    return texts


def factors_text(impact: Impact) -> Msg:
    """The factors behind the CO2e figure, stated as the assumptions they are."""
    estimate = _(", estimation")
    lines = tuple(
        bullet(_("{category} : {kg} kg CO2e par appareil ({source}){assumed}",
                 category=CATEGORY_LABELS[category], kg=round(factor.value),
                 source=verbatim(factor.source),
                 assumed=estimate if factor.assumed else verbatim("")))
        for category, factor in impact.factors)
    return _("Hypothèses de calcul (appareils remis seulement ; pièces et recyclage non "
             "comptés) :\n{lines}", lines=Lines(lines))


__all__ = ["FACTORS", "Impact", "factors_text", "impact_of", "impact_texts", "settled"]
