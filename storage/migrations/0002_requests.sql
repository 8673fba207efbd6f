-- 0002: prescribers' equipment requests, the waiting list, and the price grid.
-- Released migrations are never edited: add a new numbered file.

-- The kinds of device the network hands over today (coordinators may add more).
INSERT INTO catalogue_kinds (code, name, description, uses) VALUES
    ('laptop', 'Ordinateur portable', 'Pour tout faire, chez soi ou en déplacement.',
     '["admin", "office", "study", "video", "business"]'),
    ('desktop', 'Ordinateur fixe complet',
     'Écran, clavier et souris : confortable à la maison, adaptable.',
     '["admin", "office", "study", "business", "adapted"]'),
    ('tablet', 'Tablette', 'Simple à prendre en main, pour les appels vidéo.',
     '["admin", "video"]')
    ON CONFLICT (code) DO NOTHING;

-- Profile -> tier. income '*' matches any bracket; an exact bracket row wins over '*'.
CREATE TABLE price_rules (
    situation TEXT NOT NULL,
    income    TEXT NOT NULL DEFAULT '*',
    tier      TEXT NOT NULL CHECK (tier IN ('free', 'symbolic', 'reduced', 'full')),
    PRIMARY KEY (situation, income)
);

-- Tier -> amount in euro cents, per kind of device; kind '*' is the tier's default.
CREATE TABLE tier_prices (
    tier  TEXT NOT NULL CHECK (tier IN ('free', 'symbolic', 'reduced', 'full')),
    kind  TEXT NOT NULL DEFAULT '*',
    cents INTEGER NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (tier, kind)
);

-- Sensible defaults agreed in the June 2026 workshops: the Fonds de solidarité numérique pays
-- for the most precarious; a symbolic 1 EUR restores an exchange; a reduced or full
-- solidarity price for the others, far below the market. Coordinators edit these rows.
INSERT INTO price_rules (situation, income, tier) VALUES
    ('ase', '*', 'free'),
    ('min_income', '*', 'symbolic'),
    ('min_income', 'none_min', 'free'),
    ('young_adult', '*', 'symbolic'),
    ('young_adult', 'none_min', 'free'),
    ('student', '*', 'symbolic'),
    ('student', 'none_min', 'free'),
    ('isolated', '*', 'reduced'),
    ('isolated', 'none_min', 'symbolic'),
    ('disability', '*', 'reduced'),
    ('disability', 'none_min', 'symbolic'),
    ('retiree', '*', 'reduced'),
    ('retiree', 'none_min', 'symbolic'),
    ('forced_online', '*', 'reduced'),
    ('forced_online', 'none_min', 'symbolic'),
    ('micro_business', '*', 'full'),
    ('micro_business', 'none_min', 'symbolic'),
    ('micro_business', 'modest', 'reduced'),
    ('general', '*', 'full'),
    ('general', 'none_min', 'reduced'),
    ('general', 'modest', 'reduced');

INSERT INTO tier_prices (tier, kind, cents) VALUES
    ('free', '*', 0),
    ('symbolic', '*', 100),
    ('reduced', '*', 3000),
    ('reduced', 'laptop', 4000),
    ('reduced', 'desktop', 3000),
    ('reduced', 'tablet', 2000),
    ('full', '*', 7000),
    ('full', 'laptop', 9000),
    ('full', 'desktop', 7000),
    ('full', 'tablet', 5000);

-- DEM-<year>-<number>: one counter per year, taken inside the creating transaction.
CREATE TABLE request_sequences (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

-- One device for one beneficiary. Beneficiary data is the minimum: no surname, no document,
-- an optional first name or initials (erased some months after the end) and an age bracket.
CREATE TABLE equipment_requests (
    id           INTEGER PRIMARY KEY,
    reference    TEXT NOT NULL UNIQUE,
    prescriber   TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    needs        TEXT NOT NULL,             -- JSON list of usage codes
    kind         TEXT NOT NULL REFERENCES catalogue_kinds(code),
    situation    TEXT NOT NULL,
    income       TEXT,
    tier         TEXT NOT NULL CHECK (tier IN ('free', 'symbolic', 'reduced', 'full')),
    price_cents  INTEGER NOT NULL CHECK (price_cents >= 0),
    commune      TEXT NOT NULL REFERENCES communes(insee),
    epci         TEXT NOT NULL,
    internet     TEXT NOT NULL CHECK (internet IN ('yes', 'no', 'unknown')),
    first_name   TEXT,
    age          TEXT NOT NULL,
    status       TEXT NOT NULL
                 CHECK (status IN ('waiting', 'sent', 'accepted', 'ready', 'handed_over',
                                   'cancelled')),
    -- The place that holds a reserved unit while the status is sent, accepted or ready.
    place_id     INTEGER REFERENCES places(id),
    reason       TEXT,                      -- why that place (flows.routing.Reason)
    pickup_on    TEXT,                      -- ISO date
    pickup_hours TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK ((status IN ('sent', 'accepted', 'ready')) = (place_id IS NOT NULL)
           OR status IN ('handed_over', 'cancelled'))
);
CREATE INDEX equipment_requests_prescriber ON equipment_requests(prescriber, id);
CREATE INDEX equipment_requests_place ON equipment_requests(place_id, status);

-- The waiting list: requests that found no stock in reach, first in first served.
CREATE TABLE request_waiting (
    request_id INTEGER PRIMARY KEY REFERENCES equipment_requests(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    epci       TEXT NOT NULL,
    since      TEXT NOT NULL
);
CREATE INDEX request_waiting_order ON request_waiting(kind, epci, since, request_id);

-- Every change of a request, with who made it: refusals are read back from here so that a
-- refused request is never routed to the same place again.
CREATE TABLE request_events (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES equipment_requests(id) ON DELETE CASCADE,
    event      TEXT NOT NULL,
    place_id   INTEGER REFERENCES places(id),
    by_user    TEXT,
    note       TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, id);
