"""Demo data of the Hautes-Alpes, so that a newcomer can talk to the bot at once.

Places are in real towns of the territory but are examples, not a directory of real
services: names say what kind of place they are, not which organisation runs them.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.devices import new_label
from flows.messages import UserKey
from flows.opening_hours import OpeningHours, parse_hours
from flows.records import (
    Battery,
    DeviceCategory,
    DeviceState,
    Diagnosis,
    Grade,
    NewDiagnosis,
    PlaceId,
    PlaceKind,
    Role,
    Signatory,
)
from flows.workshops import LINUX_MINT_SERIES
from storage.sqlite import SqliteUnitOfWork

EPCI_GAP = "200067825"
EPCI_BUECH_DEVOLUY = "200067445"
EPCI_CHAMPSAUR = "200068096"
EPCI_SERRE_PONCON = "200067742"
EPCI_SERRE_PONCON_VA = "200067320"
EPCI_BRIANCONNAIS = "240500439"
EPCI_GUILLESTROIS = "200067452"
EPCI_ECRINS = "240500462"
EPCI_SISTERONAIS = "200068765"

PLACES = [
    ("Centre de ressources de Veynes", PlaceKind.HUB, "05179", "Avenue des Martinets",
     "mar.-ven. 9 h-12 h, 14 h-17 h", (EPCI_BUECH_DEVOLUY, EPCI_SISTERONAIS)),
    ("Pôle de coordination départemental (Gap)", PlaceKind.HUB, "05061", "Rue Carnot",
     "lun.-ven. 9 h-17 h",
     (EPCI_GAP, EPCI_CHAMPSAUR, EPCI_SERRE_PONCON, EPCI_SERRE_PONCON_VA)),
    ("Point relais de la médiathèque de Briançon", PlaceKind.RELAY, "05023",
     "Place de l'Europe", "mer. et sam. 10 h-18 h", (EPCI_BRIANCONNAIS, EPCI_ECRINS)),
    ("France Services de Laragne-Montéglin", PlaceKind.RELAY, "05070", "Place des Aires",
     "lun.-jeu. 8 h 30-12 h", ()),
    ("Point relais d'Embrun (MJC)", PlaceKind.RELAY, "05046", "Rue de la Liberté",
     "mar. et jeu. 14 h-18 h", (EPCI_GUILLESTROIS,)),
    ("Atelier de reconditionnement du lycée professionnel (Gap)", PlaceKind.RECONDITIONER,
     "05061", "Route de Romette", "lun.-ven. en période scolaire", ()),
    ("Point de collecte de la mairie de Saint-Bonnet", PlaceKind.COLLECTION, "05132",
     "Place Grenette", "lun.-ven. 9 h-12 h", ()),
]

CATALOGUE = [
    ("laptop", "Ordinateur portable", "Pour tout faire, chez soi ou en déplacement.",
     ["admin", "office", "study", "video", "business"]),
    ("desktop", "Ordinateur fixe complet", "Écran, clavier et souris : confortable à la maison.",
     ["admin", "office", "study", "business", "adapted"]),
    ("tablet", "Tablette", "Simple pour les appels vidéo et les démarches courtes.",
     ["admin", "video"]),
]

STOCK = {  # place index -> kind -> devices ready (stock is counted from them)
    0: {"laptop": 6, "desktop": 3, "tablet": 2},
    1: {"laptop": 4, "desktop": 2},
    2: {"laptop": 2, "tablet": 1},
    3: {"laptop": 1},
}

# Approved professionals to try the requests in the console (``--as demo-accomp``): place
# index or None. Only ``cli:`` keys, which no chat platform can use.
DEMO_PROFESSIONALS = [
    ("cli:demo-accomp", Role.PRESCRIBER, None),
    ("cli:demo-fs", Role.PRESCRIBER, 3),
    ("cli:demo-veynes", Role.PLACE_STAFF, 0),
    ("cli:demo-gap", Role.PLACE_STAFF, 1),
    ("cli:demo-laragne", Role.PLACE_STAFF, 3),
    ("cli:demo-recond", Role.RECONDITIONER, 5),  # erasure records (handlers/donations.py)
]

WORKSHOP_TOPICS = list(LINUX_MINT_SERIES)

# The same hours in OpenStreetMap syntax (place index -> hours), so "open now" works in the
# demo; the school workshop keeps its free text (school terms are not in the subset read).
OSM_HOURS = {
    0: "Tu-Fr 09:00-12:00,14:00-17:00; PH off",
    1: "Mo-Fr 09:00-17:00; PH off",
    2: "We,Sa 10:00-18:00; PH off",
    3: "Mo-Th 08:30-12:00; PH off",
    4: "Tu,Th 14:00-18:00; PH off",
    6: "Mo-Fr 09:00-12:00; PH off",
}

# How each place helps from a distance (place index -> procedure, link): examples only.
REMOTE_HELP = {
    0: ("• Ouvrez le menu de Linux Mint.\n• Ouvrez RustDesk.\n"
        "• Donnez le numéro affiché à la personne du lieu.", "https://rustdesk.com/fr/"),
    1: ("Nous vous appelons en vidéo. Ouvrez le lien à l'heure convenue.",
        "https://meet.jit.si/reemploi05-gap"),
    2: ("• Ouvrez TeamViewer QuickSupport.\n• Donnez le numéro affiché à la personne du lieu.",
        "https://www.teamviewer.com/fr/"),
}
"""Each one step a line, in plain words (``flows/plain.py``): beneficiaries read them."""


DEMO_MODELS = {"laptop": ("Lenovo ThinkPad T470", DeviceCategory.LAPTOP),
               "desktop": ("Dell OptiPlex 7050", DeviceCategory.DESKTOP),
               "tablet": ("Samsung Galaxy Tab A", DeviceCategory.TABLET)}


async def _ready_device(uow: SqliteUnitOfWork, place: PlaceId, kind: str, number: int,
                        now: datetime) -> None:
    """A demo device already reconditioned (grade B, erased) in a place's stock."""
    model, category = DEMO_MODELS[kind]
    for _attempt in range(16):
        device = await uow.devices.register(new_label(), None, category, kind, model, None,
                                            place, now, None)
        if device is not None:
            break
    else:  # pragma: no cover
        raise RuntimeError("no free demo label")
    await uow.devices.mark_wiped(device.id, now)
    await uow.devices.add_diagnosis(device.id, NewDiagnosis(
        Diagnosis.WORKS, now, "Linux Mint 22", None, Grade.B, Battery.GOOD), None,
        Signatory("Atelier de démonstration", ""), now)
    await uow.devices.change(device.id, [DeviceState.RECEIVED], DeviceState.READY, "counted",
                             now, None)


async def seed_demo(uow: SqliteUnitOfWork, now: datetime, tz: ZoneInfo) -> bool:
    """Fill an empty database with the demo places, catalogue and workshops; False if not empty."""
    if await uow.places.all():
        return False
    ids = []
    for name, kind, commune, address, hours, covers in PLACES:
        ids.append(await uow.places.add(name, kind, commune, address, hours, covers))
    await uow.conn.executemany(
        "INSERT INTO catalogue_kinds (code, name, description, uses, position) VALUES"
        " (?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM catalogue_kinds))"
        " ON CONFLICT (code) DO NOTHING",  # migration 0002 ships the same kinds
        [(code, name, text, json.dumps(uses)) for code, name, text, uses in CATALOGUE],
    )
    for index, kinds in STOCK.items():
        for kind, count in kinds.items():
            for number in range(count):
                await _ready_device(uow, ids[index], kind, number, now)
    for key, role, index in DEMO_PROFESSIONALS:
        await uow.users.create(UserKey(key), "fr", now)
        await uow.users.set_role(UserKey(key), role, ids[index] if index is not None else None)
    await uow.conn.executemany("UPDATE places SET osm_hours = ? WHERE id = ?",
                               [(hours, ids[i]) for i, hours in OSM_HOURS.items()])
    for index, (instructions, link) in REMOTE_HELP.items():
        await uow.help.set_remote_help(ids[index], instructions, link)
    local_today = now.astimezone(tz).date()
    for week in range(3):
        for index, hour in ((0, 14), (1, 10), (2, 15)):
            day = open_day(OSM_HOURS[index], local_today + timedelta(days=3 + 7 * week + index),
                           hour, tz)
            starts = datetime.combine(day, time(hour), tzinfo=tz)
            topic = WORKSHOP_TOPICS[(week + index) % len(WORKSHOP_TOPICS)]
            await uow.workshops.add(ids[index], topic, starts, 120, 8)
    return True


def open_day(osm_hours: str, day: date, hour: int, tz: ZoneInfo, minutes: int = 120) -> date:
    """``day``, or the first day after it when the place is open for the whole session:
    a demo workshop never falls on a day its place is closed (a Sunday, a holiday)."""
    hours = parse_hours(osm_hours)
    assert isinstance(hours, OpeningHours), osm_hours
    for offset in range(14):
        candidate = day + timedelta(days=offset)
        start = datetime.combine(candidate, time(hour), tzinfo=tz)
        if all(hours.is_open(start + timedelta(minutes=m), tz) for m in range(0, minutes, 15)):
            return candidate
    return day
