-- 0005: coordination. Places in OSM hours and SIRET, structure referents, the national
-- directory of digital-mediation places, stock arrivals for the figures, the audit log.
-- Released migrations are never edited: add a new numbered file.

-- Opening hours in OpenStreetMap syntax (opening_hours keeps a plain copy older screens show).
ALTER TABLE places ADD COLUMN osm_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE places ADD COLUMN siret TEXT CHECK (siret IS NULL OR length(siret) = 14);
ALTER TABLE places ADD COLUMN updated_at TEXT;

-- A structure is its folded name at its commune (flows.coordination.structure_key). Its
-- referent is the member named here, or else its first approved member.
CREATE TABLE structure_referents (
    structure TEXT PRIMARY KEY,
    user_key  TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    named_by  TEXT NOT NULL,
    named_at  TEXT NOT NULL
);

-- Digital-mediation places of the territory, from the national open data (La MedNum schema
-- standard-mediation-num). Public information about places, no e-mail addresses kept.
CREATE TABLE mediation_places (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL UNIQUE,
    pivot       TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    commune     TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    address     TEXT NOT NULL,
    osm_hours   TEXT NOT NULL DEFAULT '',
    services    TEXT NOT NULL DEFAULT '[]',
    latitude    REAL,
    longitude   REAL,
    phone       TEXT,
    website     TEXT,
    parent      TEXT,
    source      TEXT,
    updated_on  TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX mediation_places_commune ON mediation_places(commune);

-- Units put in stock (a reconditioned device ready to hand over): the figures count them.
CREATE TABLE stock_arrivals (
    id       INTEGER PRIMARY KEY,
    place_id INTEGER NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    units    INTEGER NOT NULL CHECK (units > 0),
    at       TEXT NOT NULL
);
CREATE INDEX stock_arrivals_at ON stock_arrivals(at);

-- Sensitive actions: who (a professional's key, NULL for the system or the person), what,
-- when, about which reference. Never a beneficiary's identity. Purged after keep_until.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    keep_until TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_keep ON audit_log(keep_until);
