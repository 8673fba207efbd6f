-- 0015: money made visible. Payments recorded at (or before) a handover: how much, who paid
-- (the person, the solidarity fund, a named third party) and how. A payment is never edited
-- nor deleted: a mistake is corrected by a counter-entry (the opposite amount, naming the
-- entry it corrects, with a reason). The solidarity fund's yearly budget, set by
-- coordinators, is append-only too: the latest row of a year is its budget.
-- Released migrations are never edited: add a new numbered file.

CREATE TABLE payments (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER REFERENCES equipment_requests(id) ON DELETE SET NULL,
    device_id   INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    place_id    INTEGER REFERENCES places(id) ON DELETE SET NULL,
    -- Copied from the request when recorded, so that the fund's figures by intercommunality
    -- and profile outlive the request's deletion.
    epci        TEXT NOT NULL DEFAULT '',
    profile     TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL CHECK (channel IN ('prescription', 'sale')),
    cents       INTEGER NOT NULL,          -- negative for a counter-entry
    payer       TEXT NOT NULL CHECK (payer IN ('person', 'fund', 'third_party')),
    third_party TEXT,                      -- the organisation that paid (association, CCAS)
    method      TEXT NOT NULL CHECK (method IN ('cash', 'cheque', 'card', 'transfer', 'fund')),
    corrects    INTEGER REFERENCES payments(id),
    reason      TEXT,                      -- why a counter-entry was made
    recorded_by TEXT,                      -- the professional, cleared at deletion
    recorded_at TEXT NOT NULL,
    CHECK ((corrects IS NULL) = (reason IS NULL))
);
CREATE INDEX payments_request ON payments(request_id) WHERE request_id IS NOT NULL;
CREATE INDEX payments_at ON payments(recorded_at, payer);
CREATE UNIQUE INDEX payments_corrected_once ON payments(corrects) WHERE corrects IS NOT NULL;

CREATE TABLE fund_budgets (
    id     INTEGER PRIMARY KEY,
    year   INTEGER NOT NULL,
    cents  INTEGER NOT NULL CHECK (cents >= 0),
    set_by TEXT,                           -- the coordinator, cleared at deletion
    set_at TEXT NOT NULL
);
CREATE INDEX fund_budgets_year ON fund_budgets(year, id);

-- The coordinators were warned that the year's fund runs low (once a year).
CREATE TABLE fund_alerts (
    year      INTEGER PRIMARY KEY,
    warned_at TEXT NOT NULL
);

-- The door for everyone: a device of a kind reserved at a place for a few days, by a first
-- name or initials and a way to reach the person (a phone number, or nothing: the chat they
-- wrote from). It holds one of the place's counted stock until it is sold or lapses.
CREATE TABLE reservations (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL REFERENCES catalogue_kinds(code),
    place_id   INTEGER NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    first_name TEXT,                       -- blanked when it ends
    contact    TEXT,                       -- blanked when it ends
    user_key   TEXT,                       -- the chat it was made from, cleared when it ends
    status     TEXT NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'sold', 'lapsed')),
    device_id  INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    closed_at  TEXT
);
CREATE INDEX reservations_held ON reservations(status, place_id, kind);
-- "Forget me" clears the person's reservations by their key: an index, not a scan.
CREATE INDEX reservations_user ON reservations(user_key);

-- The public price of a device of a kind in a grade (A "comme neuf", B, C), set by
-- coordinators; without a row, a device sells at its kind's full-tier price of the grid.
CREATE TABLE grade_prices (
    kind  TEXT NOT NULL REFERENCES catalogue_kinds(code) ON DELETE CASCADE,
    grade TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C')),
    cents INTEGER NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (kind, grade)
);

-- The door for everyone's waiting list: someone who wants a device of a kind nobody has
-- now, by a first name or initials and a way to reach them (a phone number, or nothing: the
-- chat they wrote from). The row is deleted when they are told a device is there, when they
-- leave the list, with "forget me", or after six months on the list.
CREATE TABLE public_waitlist (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL REFERENCES catalogue_kinds(code) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    contact    TEXT,
    user_key   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- First come, first told, per kind; a person's own entries ("forget me", leaving).
CREATE INDEX public_waitlist_kind ON public_waitlist(kind, id);
CREATE INDEX public_waitlist_user ON public_waitlist(user_key, kind);
CREATE INDEX public_waitlist_at ON public_waitlist(created_at);
