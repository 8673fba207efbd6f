-- 0014: attendance and the workshop path. Place staff record who came to a session
-- (bookings.attended: 1 came, 0 did not, NULL not recorded yet); the figures and the
-- beneficiary's path count it, never the "I'm coming" answer. After two sessions missed in a
-- row, the bot stops writing on its own (one kind word, then nothing) until the person books
-- again or comes: beneficiaries.invitations_paused_at says since when.
ALTER TABLE bookings ADD COLUMN attended INTEGER CHECK (attended IN (0, 1));
ALTER TABLE beneficiaries ADD COLUMN invitations_paused_at TEXT;
CREATE INDEX bookings_attended ON bookings(user_key, attended) WHERE attended IS NOT NULL;
