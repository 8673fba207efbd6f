-- 0006: what an erasure proof names: the reconditioning organisation and the operator's own
-- name, as they were when the proof was made, never an account key. Kept on the proof, the
-- certificate reads the same for five years, even once the professional's account is gone.
-- Released migrations are never edited: add a new numbered file.

ALTER TABLE erasure_records ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
ALTER TABLE erasure_records ADD COLUMN operator_name TEXT NOT NULL DEFAULT '';
ALTER TABLE erasure_certificates ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
ALTER TABLE erasure_certificates ADD COLUMN issuer_name TEXT NOT NULL DEFAULT '';

-- Proofs made before: named from the account as it stands now, by the rule of
-- handlers/certificates.py signatory_of: the organisation is the account's (open) place of
-- the network, else the structure of its approved access request; the name is the one given
-- in that request. An account gone leaves both empty: the certificate then says "not given".
UPDATE erasure_records SET
    organisation = coalesce(
        (SELECT p.name FROM users u JOIN places p ON p.id = u.place_id
          WHERE u.key = erasure_records.operator AND p.active = 1),
        (SELECT a.structure FROM access_requests a
          WHERE a.user_key = erasure_records.operator AND a.status = 'approved'
          ORDER BY a.id DESC LIMIT 1),
        ''),
    operator_name = coalesce(
        (SELECT a.contact_name FROM access_requests a
          WHERE a.user_key = erasure_records.operator AND a.status = 'approved'
          ORDER BY a.id DESC LIMIT 1),
        '');

UPDATE erasure_certificates SET
    organisation = coalesce(
        (SELECT p.name FROM users u JOIN places p ON p.id = u.place_id
          WHERE u.key = erasure_certificates.issued_by AND p.active = 1),
        (SELECT a.structure FROM access_requests a
          WHERE a.user_key = erasure_certificates.issued_by AND a.status = 'approved'
          ORDER BY a.id DESC LIMIT 1),
        ''),
    issuer_name = coalesce(
        (SELECT a.contact_name FROM access_requests a
          WHERE a.user_key = erasure_certificates.issued_by AND a.status = 'approved'
          ORDER BY a.id DESC LIMIT 1),
        '');
