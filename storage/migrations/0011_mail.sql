-- 0013: e-mail (issue 20). Donors who gave an e-mail address get their receipt and erasure
-- certificate by e-mail as well; professionals may ask for their notices by e-mail too.
-- Released migrations are never edited: add a new numbered file.

-- A professional's choice to get their notices by e-mail too (opt-in, removable). The
-- address is checked and normalised by email-validator (handlers/emails.py). It goes with
-- the account, when the professional deletes their data and when the access is withdrawn.
CREATE TABLE mail_addresses (
    user_key   TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- E-mails waiting to go out, written in the transaction that causes them (the outbox pattern
-- of the chat messages), then sent by bot/mail.py through the SMTP relay. No address is
-- stored here: it is read when the e-mail is sent, from the lot (a donor's e-mail, lots.reach)
-- or from mail_addresses (a professional's notices), so that erasing it there stops the
-- e-mail. Once sent or given up, the subject, body, attachment and owner are blanked at once
-- and the bare row is deleted after 7 days.
CREATE TABLE mail_outbox (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL
               CHECK (kind IN ('receipt', 'certificate', 'impact', 'notice', 'welcome')),
    lot_id     INTEGER REFERENCES lots(id) ON DELETE CASCADE,   -- a donor's e-mail
    owner      TEXT,            -- whose address (account key): language, deletion with them
    payload    TEXT NOT NULL,   -- subject and body as message ids (JSON), rendered when sent
    att_name   TEXT,
    att_mime   TEXT,
    att_data   BLOB,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL,
    last_error TEXT,            -- an SMTP code and reply, addresses taken out
    created_at TEXT NOT NULL,
    done_at    TEXT
);
-- The sender's walk over what is due, in the order queued.
CREATE INDEX mail_outbox_queue ON mail_outbox(id) WHERE status = 'pending';
-- A person's e-mails: deleted with their data.
CREATE INDEX mail_outbox_owner ON mail_outbox(owner, status);
CREATE INDEX mail_outbox_lot ON mail_outbox(lot_id);
-- The bare records the weekly purge forgets.
CREATE INDEX mail_outbox_done ON mail_outbox(done_at) WHERE done_at IS NOT NULL;
