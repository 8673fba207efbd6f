-- 0008: a network the size of a country. Every statement a person's message or a job runs
-- often finds its rows through an index, and the outbox sends replies first.
-- Released migrations are never edited: add a new numbered file.

-- Which queued message goes first (flows.messages.Priority): 0 a reply to the person who
-- wrote, 1 a notice to someone else, 2 reminders and broadcasts. A recipient's earlier
-- messages are raised to the priority of a later one, so one person's messages keep
-- their order.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1
    CHECK (priority IN (0, 1, 2));
-- The dispatcher walks the pending messages in the order they go out and stops at a round's
-- worth: no sort of every pending message (40,000 reminders on a morning) at each round.
-- Whether an earlier message of the same person waits for a retry is looked up among that
-- person's messages (outbox_recipient). The index this replaces led the planner to read and
-- sort every pending message instead.
CREATE INDEX outbox_queue ON outbox(priority, id) WHERE status = 'pending';
DROP INDEX outbox_due;
-- The delivery records the weekly purge forgets.
CREATE INDEX outbox_done ON outbox(sent_at) WHERE sent_at IS NOT NULL;
-- A person's messages: "forget me", the retention purge, raising their earlier messages.
CREATE INDEX outbox_recipient ON outbox(recipient, status);

-- A person's reminders (consent withdrawn, "forget me"), without reading every pending one.
CREATE INDEX reminders_user ON reminders(user_key, status, due_at);

-- A professional's latest approved request: one look-up, not a walk down every approved
-- request of the network. It serves every look-up by user as well.
CREATE INDEX access_requests_user_status ON access_requests(user_key, status, id);
DROP INDEX access_requests_user;
-- The members of a structure: its requests share a commune.
CREATE INDEX access_requests_commune ON access_requests(commune, status);

-- The staff of a place, told of each request routed there.
CREATE INDEX users_place ON users(place_id, role) WHERE place_id IS NOT NULL;

-- The places in reach of a commune: those of the commune, of its intercommunality, and
-- those covering it.
CREATE INDEX places_commune ON places(commune);
CREATE INDEX place_coverage_epci ON place_coverage(epci);
