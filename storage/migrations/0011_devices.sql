-- 0011: the chain. Every device followed one by one from its lot to the person it is handed
-- to: its label, its reconditioning, where it stands. Stock is the ready devices of a place,
-- counted, never typed: the former counters become devices. Transfers and repair tickets
-- are laid out here for the features that come next.
-- Released migrations are never edited: add a new numbered file.

-- One device, with the label printed on its sticker (HA-7K3P). Its state moves by the table
-- of flows/device_lifecycle.py. Following it ends at the handover: nothing records how the
-- person uses it.
CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    label       TEXT NOT NULL UNIQUE,
    lot_id      INTEGER REFERENCES lots(id) ON DELETE SET NULL,
    category    TEXT NOT NULL CHECK (category IN ('laptop', 'desktop', 'screen', 'tablet',
                'smartphone', 'printer', 'server', 'peripheral', 'other')),
    -- The catalogue kind it serves once ready (NULL: not handed over through requests).
    kind        TEXT REFERENCES catalogue_kinds(code),
    model       TEXT NOT NULL DEFAULT '',
    serial      TEXT,                      -- blanked with its lot's erasure proofs (5 years)
    state       TEXT NOT NULL CHECK (state IN ('received', 'tested', 'repair', 'ready',
                'in_transit', 'handed_over', 'returned', 'parts', 'recycled')),
    place_id    INTEGER REFERENCES places(id) ON DELETE SET NULL,   -- where it is now
    -- The request it was handed over for; a request's stock is held by the request itself
    -- (equipment_requests.place_id and kind) until a device is picked at the handover.
    request_id  INTEGER REFERENCES equipment_requests(id) ON DELETE SET NULL,
    -- The after-donation join code printed on its handover kit: the beneficiary who joined
    -- with it carries it as beneficiaries.ref (a pseudonymous link, gone with "forget me").
    join_code   TEXT,
    wiped_at    TEXT,                      -- its storage's erasure recorded (NULL: not yet)
    grade       TEXT CHECK (grade IN ('A', 'B', 'C')),
    battery     TEXT CHECK (battery IN ('good', 'worn', 'weak', 'replaced', 'none')),
    placeholder INTEGER NOT NULL DEFAULT 0 CHECK (placeholder IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX devices_stock ON devices(place_id, state, kind);
CREATE INDEX devices_lot ON devices(lot_id) WHERE lot_id IS NOT NULL;
CREATE INDEX devices_request ON devices(request_id) WHERE request_id IS NOT NULL;
CREATE UNIQUE INDEX devices_serial ON devices(serial) WHERE serial IS NOT NULL;

-- Every change of a device (flows.device_lifecycle.Event), with the state it moved to: the
-- coordinators' figures count devices reconditioned and handed over from here.
CREATE TABLE device_events (
    id         INTEGER PRIMARY KEY,
    device_id  INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    event      TEXT NOT NULL,
    state      TEXT NOT NULL,
    place_id   INTEGER REFERENCES places(id) ON DELETE SET NULL,
    request_id INTEGER REFERENCES equipment_requests(id) ON DELETE SET NULL,
    by_user    TEXT,                       -- the professional who acted, cleared at deletion
    at         TEXT NOT NULL
);
CREATE INDEX device_events_device ON device_events(device_id, id);
CREATE INDEX device_events_at ON device_events(event, at);

-- Reconditioning records: what a workshop or the vocational school found and did. Who did
-- it is named as at the time: the organisation and the operator's name as given (a pupil's
-- first name in a school's CSV), blanked five years after the record.
CREATE TABLE device_diagnoses (
    id            INTEGER PRIMARY KEY,
    device_id     INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    diagnosis     TEXT NOT NULL CHECK (diagnosis IN ('works', 'repair', 'parts', 'recycle')),
    system        TEXT,                    -- operating system installed
    parts         TEXT,                    -- parts added or changed
    grade         TEXT CHECK (grade IN ('A', 'B', 'C')),
    battery       TEXT CHECK (battery IN ('good', 'worn', 'weak', 'replaced', 'none')),
    note          TEXT,                    -- what a device to repair needs
    organisation  TEXT NOT NULL DEFAULT '',
    operator_name TEXT NOT NULL DEFAULT '',
    operator      TEXT,                    -- the account that recorded it, cleared at deletion
    done_at       TEXT NOT NULL,
    recorded_at   TEXT NOT NULL
);
CREATE INDEX device_diagnoses_device ON device_diagnoses(device_id, id);
CREATE INDEX device_diagnoses_recorded ON device_diagnoses(recorded_at);

-- The per-medium erasure records stay the proof; the device of the proof names the device of
-- the chain it is (NULL for records made before, or without a label).
ALTER TABLE lot_devices ADD COLUMN device_id INTEGER REFERENCES devices(id) ON DELETE SET NULL;
CREATE INDEX lot_devices_device ON lot_devices(device_id) WHERE device_id IS NOT NULL;

-- Transfers (flows/transfer_lifecycle.py): a device carried from one place to another by a
-- volunteer driver, for a request or to rebalance stock. Laid out for the transfers feature.
CREATE TABLE transfers (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    kind         TEXT REFERENCES catalogue_kinds(code),   -- what is carried, before a device
    request_id   INTEGER REFERENCES equipment_requests(id) ON DELETE SET NULL,
    from_place   INTEGER NOT NULL REFERENCES places(id),
    to_place     INTEGER NOT NULL REFERENCES places(id),
    status       TEXT NOT NULL DEFAULT 'planned'
                 CHECK (status IN ('planned', 'taken', 'picked_up', 'delivered', 'cancelled')),
    route        TEXT,                     -- the drivers' route it is on (gap-briancon...)
    expected_on  TEXT,                     -- ISO date promised to the people waiting
    driver       TEXT,                     -- the volunteer driver's key, cleared at deletion
    created_by   TEXT,
    created_at   TEXT NOT NULL,
    taken_at     TEXT,
    picked_up_at TEXT,
    delivered_at TEXT,
    cancelled_at TEXT,
    CHECK (from_place <> to_place)
);
CREATE INDEX transfers_open ON transfers(status, route);
CREATE INDEX transfers_device ON transfers(device_id) WHERE device_id IS NOT NULL;

-- Repair tickets under warranty: a problem reported with a handed-over device reaches its
-- place and its reconditioner; a replacement is another device of the same request. Laid out
-- for the warranty feature; the problem is a code, never free text.
CREATE TABLE repair_tickets (
    id             INTEGER PRIMARY KEY,
    device_id      INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    request_id     INTEGER REFERENCES equipment_requests(id) ON DELETE SET NULL,
    place_id       INTEGER REFERENCES places(id) ON DELETE SET NULL,
    workshop_id    INTEGER REFERENCES places(id) ON DELETE SET NULL,
    reported_by    TEXT,                   -- beneficiary's or prescriber's key, cleared on
                                           -- "forget me" or deletion
    problem        TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'repairing', 'repaired', 'replaced', 'closed')),
    replacement_id INTEGER REFERENCES devices(id) ON DELETE SET NULL,
    warranty_until TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    closed_at      TEXT
);
CREATE INDEX repair_tickets_open ON repair_tickets(status, place_id);
CREATE INDEX repair_tickets_device ON repair_tickets(device_id);
