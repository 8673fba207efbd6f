-- Numbers that were SQLite's hidden rowid become columns of their own, so that PostgreSQL
-- has them too: a professional account's number (the coordination's "compte n°") and the
-- order of the catalogue's kinds. Existing numbers are kept.
ALTER TABLE users ADD COLUMN number INTEGER;
-- only: sqlite
UPDATE users SET number = rowid;
CREATE UNIQUE INDEX users_number ON users(number);
ALTER TABLE catalogue_kinds ADD COLUMN position INTEGER;
-- only: sqlite
UPDATE catalogue_kinds SET position = rowid;
-- only: postgresql
UPDATE catalogue_kinds SET position = ordered.n FROM (SELECT code, row_number() OVER (ORDER BY ctid) AS n FROM catalogue_kinds) AS ordered WHERE ordered.code = catalogue_kinds.code
