-- 0003: donated lots, the data-sensitivity answers, devices, erasure records and certificates.
-- Released migrations are never edited: add a new numbered file.

-- One declared donation. The level and measures are the protocol promised at declaration:
-- stored as promised, not recomputed if the rules change later.
CREATE TABLE lots (
    id             INTEGER PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,          -- LOT-2026-0007
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL CHECK (seq > 0),
    donor_key      TEXT REFERENCES users(key) ON DELETE SET NULL,
    donor_kind     TEXT NOT NULL
                   CHECK (donor_kind IN ('company', 'public', 'association', 'private')),
    organisation   TEXT,
    siret          TEXT CHECK (siret IS NULL OR length(siret) = 14),
    contact_name   TEXT NOT NULL,                 -- blanked when the donor asks, or at purge
    commune        TEXT NOT NULL REFERENCES communes(insee),
    reach          TEXT,                          -- phone (E.164) or e-mail, optional
    age            TEXT NOT NULL CHECK (age IN ('under_5', '5_to_8', 'over_8')),
    condition      TEXT NOT NULL CHECK (condition IN ('working', 'to_test', 'broken')),
    chargers       TEXT NOT NULL CHECK (chargers IN ('yes', 'partly', 'no')),
    level          TEXT NOT NULL CHECK (level IN ('standard', 'high', 'sensitive')),
    measures       TEXT NOT NULL,                 -- JSON list of flows.erasure.Measure
    logistics      TEXT NOT NULL CHECK (logistics IN ('drop_off', 'pickup')),
    place_id       INTEGER REFERENCES places(id) ON DELETE SET NULL,
    pickup_commune TEXT REFERENCES communes(insee),
    availability   TEXT,
    status         TEXT NOT NULL DEFAULT 'declared'
                   CHECK (status IN ('declared', 'received', 'certified')),
    created_at     TEXT NOT NULL,
    received_at    TEXT,
    certified_at   TEXT,
    proofs_purged_at TEXT,
    UNIQUE (year, seq)
);
CREATE INDEX lots_donor ON lots(donor_key);
CREATE INDEX lots_status ON lots(status);

-- Quantities per category; a lot has at least one item (checked by the flow and the handler).
CREATE TABLE lot_items (
    lot_id   INTEGER NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (category IN ('laptop', 'desktop', 'screen', 'tablet',
             'smartphone', 'printer', 'server', 'peripheral', 'other')),
    quantity INTEGER NOT NULL CHECK (quantity > 0 AND quantity <= 1000),
    PRIMARY KEY (lot_id, category)
);

-- The donor's answers to the data-sensitivity questionnaire.
CREATE TABLE lot_answers (
    lot_id        INTEGER PRIMARY KEY REFERENCES lots(id) ON DELETE CASCADE,
    holds_data    TEXT NOT NULL CHECK (holds_data IN ('yes', 'erased', 'unknown')),
    data_kinds    TEXT NOT NULL,                  -- JSON list of flows.erasure.DataKind
    encrypted     TEXT NOT NULL CHECK (encrypted IN ('yes', 'no', 'unknown')),
    device_certificates INTEGER NOT NULL CHECK (device_certificates IN (0, 1)),
    witness       TEXT NOT NULL CHECK (witness IN ('none', 'erasure', 'destruction', 'both')),
    donor_is_person INTEGER NOT NULL CHECK (donor_is_person IN (0, 1))
);

-- A device of a lot, by serial number; purged with its records after 5 years.
CREATE TABLE lot_devices (
    id        INTEGER PRIMARY KEY,
    lot_id    INTEGER NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
    category  TEXT NOT NULL,
    model     TEXT NOT NULL,
    serial    TEXT NOT NULL UNIQUE
);
CREATE INDEX lot_devices_lot ON lot_devices(lot_id);

-- One sanitisation of one medium of a device. A medium may have several records (a failed
-- overwrite, then its destruction): the latest one counts. Kept 5 years, then purged.
CREATE TABLE erasure_records (
    id            INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES lot_devices(id) ON DELETE CASCADE,
    medium_kind   TEXT NOT NULL CHECK (medium_kind IN ('hdd', 'ssd', 'nvme', 'flash', 'other')),
    medium_model  TEXT,
    medium_serial TEXT NOT NULL DEFAULT '',
    tool          TEXT NOT NULL,
    tool_version  TEXT,
    method        TEXT NOT NULL
                  CHECK (method IN ('overwrite', 'secure_erase', 'sanitize', 'crypto_erase',
                                    'destruction')),
    result        TEXT NOT NULL CHECK (result IN ('verified', 'destroyed', 'failed')),
    started_at    TEXT NOT NULL,
    ended_at      TEXT NOT NULL,
    operator      TEXT NOT NULL,                  -- user key of the reconditioner
    recorded_at   TEXT NOT NULL,
    CHECK (ended_at >= started_at)
);
CREATE INDEX erasure_records_device ON erasure_records(device_id);

-- A lot's erasure certificate: the code anyone can check. Kept 5 years, then purged.
CREATE TABLE erasure_certificates (
    lot_id    INTEGER PRIMARY KEY REFERENCES lots(id) ON DELETE CASCADE,
    code      TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    issued_by TEXT NOT NULL
);
CREATE INDEX erasure_certificates_issued ON erasure_certificates(issued_at);
