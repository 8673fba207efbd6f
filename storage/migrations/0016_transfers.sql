-- 0016: the rest of the chain. The donor told what became of a lot once all its devices are
-- settled (told once), repair tickets under warranty, transfers by volunteer drivers.
-- Released migrations are never edited: add a new numbered file.

-- When the donor was sent the impact report of the lot (NULL: not yet): sent once, when the
-- last device of the lot is settled; "Mes dons" shows the report at any time.
ALTER TABLE lots ADD COLUMN impact_told_at TEXT;

-- Volunteer drivers: a capability a coordinator grants to an account of the network (often a
-- volunteer of a place or a structure), beside its role. Gone with the account.
CREATE TABLE drivers (
    user_key   TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    granted_by TEXT,
    granted_at TEXT NOT NULL
);

-- "Forget me" and a professional's deletion clear these keys: found by index, not by a scan.
CREATE INDEX repair_tickets_reporter ON repair_tickets(reported_by) WHERE reported_by IS NOT NULL;
CREATE INDEX transfers_driver ON transfers(driver) WHERE driver IS NOT NULL;
