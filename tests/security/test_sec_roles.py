"""Every action prefix against every role, each cell asserted allowed or refused.

The targets are foreign to the actor (see ``test_sec_scenario``): access request n° 1 is
Ana's, equipment request n° 1 is demo-accomp's (routed to Veynes), lot n° 1 is ACME's and lot
n° 2 Dona's (both dropped at Veynes), workshop n° 1 at Veynes holds Léa's booking, help ticket
n° 1 is Léa's at Veynes, coordination member n° 1 is demo-accomp.

"Allowed" means the actor passes the authorization check (the action may still stop on a state
check, e.g. "already received"); "refused" means a polite message to the actor only, no change
to any business table and none of the owners' personal data shown.
"""

from __future__ import annotations

import pytest

import tests.security.test_sec_scenario as scenario
from tests.security.test_sec_scenario import ACTORS, rows
from tests.support import Chat, texts

scenario_template = scenario.scenario_template  # shared fixtures
scenario_chat = scenario.scenario_chat

ROLES = tuple(ACTORS)  # unknown, beneficiary, donor, prescriber, place_staff, reconditioner,
#                        coordinator, revoked, rejected
NETWORK_STAFF = {"place_staff", "reconditioner", "coordinator"}
EVERYONE = set(ROLES)

ALLOWED: dict[str, set[str]] = {
    # access requests and their queue: coordination only
    "acc:ok:1": {"coordinator"},
    "acc:no:1": {"coordinator"},
    "acc:pl:3:1": {"coordinator"},
    "q:list": {"coordinator"},
    # equipment requests: prescribers ask, the request's place acts, its prescriber cancels
    "rq:new": {"prescriber"},
    "rq:mine": {"prescriber"},
    "rq:in": {"place_staff"},
    "rq:ok:1": set(),
    "rq:no:1": set(),
    "rq:nr:1:stock": set(),
    "rq:rd:1": set(),
    "rq:rdd:1:20261130": set(),
    "rq:ho:1": set(),
    "rq:hy:1": set(),
    "rq:hn:1": set(),
    "rq:cx:1": set(),
    "rq:cy:1": set(),
    # beneficiaries: their own menu and bookings only
    "bn:menu": {"beneficiary"},
    "bn:my": {"beneficiary"},
    "bn:data": {"beneficiary"},
    "bn:book": {"beneficiary"},
    "bn:bk:1": {"beneficiary"},  # a session at Ben's own place
    "bn:cx:1": set(),  # Léa's booking
    "bn:yes:1": set(),
    "bn:no:1": set(),
    "bn:mv:1": set(),
    "bn:fg:ok": {"beneficiary"},  # forgets the actor only (checked in test_sec_isolation)
    # help tickets: the place's staff, and coordinators
    "tk:take:1": {"coordinator"},
    "tk:rep:1": set(),  # not taken yet: nobody may reply
    "tk:end:1": set(),
    # place staff tools
    "bs:code": {"place_staff", "coordinator"},
    "bs:who": {"place_staff", "coordinator"},
    "bs:del:1": {"coordinator"},  # a Veynes session: not Laragne's staff
    "bs:delok:1": {"coordinator"},
    # donors: their own lots only
    "don:list": EVERYONE,
    "don:cert:1": set(),
    "don:forget:ok": EVERYONE,  # erases the actor's own contact data (see test_sec_isolation)
    # lots: the network's staff (collection points and reconditioners), wiping by reconditioners
    "lot:list": NETWORK_STAFF,
    "lot:see:2": NETWORK_STAFF,
    "lot:rcv:2": NETWORK_STAFF,
    "lot:wipe:2": {"reconditioner"},
    "lot:cert:2": {"reconditioner"},
    # coordination
    "co:menu": {"coordinator"},
    "co:acc": {"coordinator"},
    "co:m:1": {"coordinator"},
    "co:mvy:1": {"coordinator"},
    "co:aud:csv": {"coordinator"},
    "co:fig": {"coordinator"},
    # the home doors and information buttons are for everybody
    "m:pro": EVERYONE,
    "m:give": EVERYONE,
    "m:help": EVERYONE,
    "i:x": set(),  # not a real information page
}

TABLE: list[tuple[str, str, str]] = [
    (role, action, "allowed" if role in allowed else "refused")
    for action, allowed in ALLOWED.items() for role in ROLES
]

REFUSALS = (
    "Seule la coordination du réseau peut valider",
    "réservée aux accompagnant·es",
    "Réservé au personnel d'un lieu",
    "n'est pas (ou plus) adressée à votre lieu",
    "n'est pas la vôtre",
    "Ce bouton est pour les personnes inscrites avec un code",
    "Seul le personnel du lieu peut répondre",
    "réservée au personnel des lieux du réseau",
    "Ce bouton n'est plus valable",
    "Ce don n'existe pas dans votre liste",
    "réservée au personnel du réseau",
    "Seul le personnel d'un reconditionneur",
    "réservée à la coordination du réseau",
)
"""What a refused actor is told (one of these, politely)."""

FOREIGN_PERSONAL = ("Ana Martin", "06 12 34 56 78", "+33612345678", "Jeanne Dupont", "Léa",
                    "Je ne trouve pas internet", "3 rue de la Gare")
"""Personal data of the targets' owners, never shown to a refused actor."""

BUSINESS_TABLES = ("access_requests", "equipment_requests", "request_events", "request_waiting",
                   "lots", "lot_items", "lot_devices", "erasure_records", "erasure_certificates",
                   "join_codes", "beneficiaries", "bookings", "reminders", "help_tickets",
                   "workshops", "structure_referents", "places", "stock", "audit_log",
                   "conversations")


async def state(chat: Chat, actor_key: str) -> dict[str, list[tuple]]:
    found = {table: await rows(chat, f"SELECT * FROM {table} ORDER BY rowid")
             for table in BUSINESS_TABLES}
    found["users"] = await rows(chat, "SELECT key, role, place_id FROM users WHERE key != ? "
                                      "ORDER BY key", actor_key)
    return found


def test_the_table_covers_every_action_prefix_of_the_bot():
    from bot.app import features
    from bot.settings import load

    settings = load({"FILIERE_COORDINATORS": "cli:coord"}, dotenv=None)
    prefixes = {p for feature in features(lambda: None, settings)  # type: ignore[arg-type,return-value]
                for p in feature.actions}
    covered = {action.split(":", 1)[0] + ":" for action in ALLOWED}
    assert prefixes <= covered, sorted(prefixes - covered)


@pytest.mark.parametrize(("role", "action", "expected"), TABLE,
                         ids=[f"{r}-{a}" for r, a, _e in TABLE])
async def test_role_against_action(scenario_chat: Chat, role: str, action: str,
                                   expected: str):
    chat = scenario_chat
    actor = ACTORS[role]
    key = f"cli:{actor}"
    before = await state(chat, key)
    sent = await chat.say(actor, choice=action)
    said = texts(sent, actor)
    assert said, f"{role} got no answer to {action}"
    refused = [phrase for phrase in REFUSALS if phrase in said]
    if expected == "allowed":
        assert not refused, f"{role} refused {action}: {said[:200]}"
        return
    assert refused, f"{role} was let through {action}: {said[:300]}"
    assert await state(chat, key) == before
    assert {m.to for m in sent} == {key}, "a refused action notified somebody"
    leaked = [p for p in FOREIGN_PERSONAL if p in said]
    assert not leaked, f"{role} was shown {leaked} by {action}"
