-- 0001: the foundation. Released migrations are never edited: add a new numbered file.

CREATE TABLE epci (
    siren TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE communes (
    insee       TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    departement TEXT NOT NULL,
    population  INTEGER NOT NULL DEFAULT 0,
    epci        TEXT NOT NULL REFERENCES epci(siren)
);
CREATE INDEX communes_epci ON communes(epci);

CREATE TABLE commune_postal_codes (
    insee       TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,
    postal_code TEXT NOT NULL,
    PRIMARY KEY (insee, postal_code)
);
CREATE INDEX commune_postal_codes_code ON commune_postal_codes(postal_code);

CREATE TABLE territory_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    departement TEXT NOT NULL,
    source      TEXT NOT NULL,
    loaded_at   TEXT NOT NULL
);

CREATE TABLE places (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('hub', 'relay', 'reconditioner', 'collection')),
    commune       TEXT NOT NULL REFERENCES communes(insee),
    address       TEXT NOT NULL DEFAULT '',
    opening_hours TEXT NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1
);

-- The intercommunalities a place serves (a hub covers several).
CREATE TABLE place_coverage (
    place_id INTEGER NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    epci     TEXT NOT NULL REFERENCES epci(siren),
    PRIMARY KEY (place_id, epci)
);

CREATE TABLE users (
    key        TEXT PRIMARY KEY,           -- tg:123, mx:@a:b, cli:ana
    lang       TEXT,
    role       TEXT CHECK (role IN ('prescriber', 'place_staff', 'reconditioner')),
    place_id   INTEGER REFERENCES places(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE access_requests (
    id           INTEGER PRIMARY KEY,
    user_key     TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('prescriber', 'place_staff', 'reconditioner')),
    structure    TEXT NOT NULL,
    address      TEXT NOT NULL,
    commune      TEXT NOT NULL REFERENCES communes(insee),
    contact_name TEXT NOT NULL,
    function     TEXT NOT NULL,
    phone        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'revoked')),
    created_at   TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT
);
CREATE INDEX access_requests_user ON access_requests(user_key);
CREATE INDEX access_requests_status ON access_requests(status);

CREATE TABLE conversations (
    user_key   TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    state      TEXT NOT NULL,              -- JSON of flows.engine.Conversation
    updated_at TEXT NOT NULL
);

-- Platform event ids already handled: the same event delivered twice is handled once.
CREATE TABLE processed_events (
    event_id TEXT PRIMARY KEY,
    seen_at  TEXT NOT NULL
);
CREATE INDEX processed_events_seen ON processed_events(seen_at);

-- Everything the bot sends is written here first, in the transaction that causes it.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    recipient    TEXT NOT NULL,
    platform     TEXT NOT NULL,
    payload      TEXT NOT NULL,            -- JSON of flows.messages.Outgoing
    att_name     TEXT,
    att_mime     TEXT,
    att_data     BLOB,
    created_at   TEXT NOT NULL,
    not_before   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    sent_at      TEXT,
    last_error   TEXT
);
CREATE INDEX outbox_due ON outbox(status, platform, not_before, id);

-- The last action menu each user saw, so "1" can be answered on text platforms.
CREATE TABLE menus (
    user_key TEXT PRIMARY KEY,
    choices  TEXT NOT NULL
);

CREATE TABLE catalogue_kinds (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    uses        TEXT NOT NULL              -- JSON list of usage codes it serves
);

CREATE TABLE stock (
    place_id  INTEGER NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL REFERENCES catalogue_kinds(code),
    available INTEGER NOT NULL DEFAULT 0 CHECK (available >= 0),
    PRIMARY KEY (place_id, kind)
);

CREATE TABLE workshops (
    id        INTEGER PRIMARY KEY,
    place_id  INTEGER NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    topic     TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    minutes   INTEGER NOT NULL CHECK (minutes > 0),
    seats     INTEGER NOT NULL CHECK (seats >= 0),
    booked    INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= seats)
);
CREATE INDEX workshops_start ON workshops(starts_at);
