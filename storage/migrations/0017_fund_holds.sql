-- 0017: requests the solidarity fund would pay for, made while it was empty, wait on the
-- waiting list until coordinators give it a new budget (FILIERE_FUND_WHEN_EMPTY=waiting).
-- Released migrations are never edited: add a new numbered file.

ALTER TABLE request_waiting ADD COLUMN for_fund INTEGER NOT NULL DEFAULT 0
    CHECK (for_fund IN (0, 1));
