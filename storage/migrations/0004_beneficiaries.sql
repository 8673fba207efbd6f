-- 0004: the after-donation service. Beneficiaries join with a one-time code, book workshop
-- seats, get reminders and remote help. Everything about a beneficiary hangs off the
-- beneficiaries row (ON DELETE CASCADE), so "forget me" is one DELETE.

-- One-time join codes handed over with a computer; they name a place, never a person.
CREATE TABLE join_codes (
    code       TEXT PRIMARY KEY,           -- canonical form, e.g. REJ7K3M9P
    place_id   INTEGER NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    created_by TEXT,                        -- the staff member's user key
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX join_codes_expiry ON join_codes(expires_at);

CREATE TABLE beneficiaries (
    user_key   TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    place_id   INTEGER REFERENCES places(id) ON DELETE SET NULL,
    ref        TEXT NOT NULL,               -- the join code used: shown to staff instead of a name
    first_name TEXT,                        -- optional, the only personal detail kept
    reminders  INTEGER NOT NULL DEFAULT 0 CHECK (reminders IN (0, 1)),  -- consent
    joined_at  TEXT NOT NULL
);
CREATE INDEX beneficiaries_place ON beneficiaries(place_id);

CREATE TABLE bookings (
    workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
    user_key    TEXT NOT NULL REFERENCES beneficiaries(user_key) ON DELETE CASCADE,
    booked_at   TEXT NOT NULL,
    coming      INTEGER CHECK (coming IN (0, 1)),   -- answer to a reminder, NULL if none yet
    PRIMARY KEY (workshop_id, user_key)
);
CREATE INDEX bookings_user ON bookings(user_key);

-- Reminders are rows: the job moves a due one from 'pending' to 'queued' in the same
-- transaction as its outbox message, so a restart neither loses nor repeats one.
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    workshop_id INTEGER NOT NULL,
    user_key    TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'queued', 'skipped')),
    done_at     TEXT,
    FOREIGN KEY (workshop_id, user_key) REFERENCES bookings(workshop_id, user_key)
        ON DELETE CASCADE
);
CREATE INDEX reminders_due ON reminders(status, due_at);
CREATE INDEX reminders_booking ON reminders(workshop_id, user_key);

-- How each place helps from a distance (RustDesk, TeamViewer QuickSupport, a video room).
CREATE TABLE place_remote_help (
    place_id     INTEGER PRIMARY KEY REFERENCES places(id) ON DELETE CASCADE,
    instructions TEXT NOT NULL,
    link         TEXT NOT NULL DEFAULT ''
);

-- Calls for help; the messages themselves are only relayed (outbox), never kept here.
CREATE TABLE help_tickets (
    id        INTEGER PRIMARY KEY,
    user_key  TEXT NOT NULL REFERENCES beneficiaries(user_key) ON DELETE CASCADE,
    place_id  INTEGER REFERENCES places(id) ON DELETE SET NULL,
    status    TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'taken', 'closed')),
    mediator  TEXT,
    opened_at TEXT NOT NULL,
    active_at TEXT,                         -- when its mediator last opened it to answer
    closed_at TEXT
);
CREATE INDEX help_tickets_user ON help_tickets(user_key, status);
