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

-- Stock is counted from now on: the ready devices of a place, less the requests that hold a
-- device of their kind there. Each former counter becomes as many placeholder devices as it
-- counted, plus one for each request it held: the places' available stock reads the same,
-- and no reservation is lost. Placeholders have no lot and no details (their label is
-- printed with the place's next sheet); their creation is a "counted" event, which the
-- figures do not count as reconditioned. The times are the previous migration's.
WITH RECURSIVE held(place_id, kind, n) AS (
    SELECT place_id, kind, sum(units) FROM (
        SELECT place_id, kind, available AS units FROM stock
        UNION ALL
        SELECT place_id, kind, 1 AS units FROM equipment_requests
         WHERE status IN ('sent', 'accepted', 'ready') AND place_id IS NOT NULL
    ) AS counted GROUP BY place_id, kind
), units(place_id, kind, n) AS (
    SELECT place_id, kind, n FROM held WHERE n > 0
    UNION ALL
    SELECT place_id, kind, n - 1 FROM units WHERE n > 1
)
INSERT INTO devices (label, category, kind, state, place_id, placeholder, created_at,
                     updated_at)
SELECT 'counted-' || place_id || '-' || kind || '-' || n,
       CASE WHEN kind IN ('laptop', 'desktop', 'tablet') THEN kind ELSE 'other' END,
       kind, 'ready', place_id, 1,
       (SELECT max(applied_at) FROM schema_migrations),
       (SELECT max(applied_at) FROM schema_migrations)
  FROM units;

-- Requests handed over before: one placeholder device each, handed over for the request at
-- the time its history says, so that the figures, counted from device events now, go on.
INSERT INTO devices (label, category, kind, state, place_id, request_id, placeholder,
                     created_at, updated_at)
SELECT 'handed-' || r.id,
       CASE WHEN r.kind IN ('laptop', 'desktop', 'tablet') THEN r.kind ELSE 'other' END,
       r.kind, 'handed_over', e.place_id, r.id, 1, e.at, e.at
  FROM equipment_requests r
  JOIN request_events e ON e.request_id = r.id AND e.event = 'handed_over'
 WHERE e.id = (SELECT max(id) FROM request_events
                WHERE request_id = r.id AND event = 'handed_over');

INSERT INTO device_events (device_id, event, state, place_id, request_id, at)
SELECT id, CASE WHEN state = 'ready' THEN 'counted' ELSE 'handed_over' END, state, place_id,
       request_id, created_at
  FROM devices WHERE placeholder = 1;

-- Their labels, from their numbers: HA- and four characters of the labels' alphabet (the
-- join codes' one), the same in both engines. New labels are drawn at random and skip these.
UPDATE devices SET label = 'HA-'
    || substr('34679ACDEFGHJKMNPQRTUVWXY', (id / 15625) % 25 + 1, 1)
    || substr('34679ACDEFGHJKMNPQRTUVWXY', (id / 625) % 25 + 1, 1)
    || substr('34679ACDEFGHJKMNPQRTUVWXY', (id / 25) % 25 + 1, 1)
    || substr('34679ACDEFGHJKMNPQRTUVWXY', id % 25 + 1, 1)
 WHERE placeholder = 1;

DROP TABLE stock;
