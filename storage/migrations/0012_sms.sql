-- 0012: beneficiaries reached by SMS, through the network's own Android phone and SIM
-- (SMS Gateway for Android). Their account key is sms:<random token>: the number is kept
-- here only, never in a key (keys are logged), and goes with the account (ON DELETE CASCADE).

CREATE TABLE sms_numbers (
    user_key      TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    phone         TEXT NOT NULL UNIQUE,        -- E.164, +33612345678
    registered_at TEXT NOT NULL,
    stopped_at    TEXT,                         -- said STOP: nothing more is sent until START
    stop_told     INTEGER NOT NULL DEFAULT 0 CHECK (stop_told IN (0, 1))
                                                -- the confirmation of STOP went out
);

-- Each SMS the outbox handed over, until the gateway says it went out or it is given up
-- (then its text is blanked at once); the delivery record goes a week later.
CREATE TABLE sms_messages (
    id          INTEGER PRIMARY KEY,
    outbox_ref  TEXT NOT NULL UNIQUE,           -- the outbox message it carries (its id and a
                                                -- digest of its text): one SMS each
    user_key    TEXT NOT NULL REFERENCES sms_numbers(user_key) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    segments    INTEGER NOT NULL,
    workshop_id INTEGER,                        -- the session a reminder is about
    any_hour    INTEGER NOT NULL DEFAULT 0 CHECK (any_hour IN (0, 1)),
                                                -- an answer to someone who just wrote
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'posted', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,     -- sends the gateway refused or failed
    gateway_id  TEXT,                           -- the id of the latest try at the gateway
    created_at  TEXT NOT NULL,
    posted_at   TEXT,
    next_at     TEXT NOT NULL,                  -- when to post it, or to ask how it went
    done_at     TEXT,
    last_error  TEXT
);
CREATE INDEX sms_messages_due ON sms_messages(status, next_at);
CREATE INDEX sms_messages_user ON sms_messages(user_key, status, id);
CREATE INDEX sms_messages_done ON sms_messages(done_at) WHERE done_at IS NOT NULL;

-- SMS segments the gateway sent, per month of the network's local time: the coordination's
-- figure of what SMS cost (no one's key).
CREATE TABLE sms_usage (
    month    TEXT PRIMARY KEY,                  -- YYYY-MM
    segments INTEGER NOT NULL DEFAULT 0,
    messages INTEGER NOT NULL DEFAULT 0
);
