-- A change row may stand for a run of consecutive inserts: `span` changes numbered seq ..
-- seq + span - 1, produced by the versions version_id .. version_id + span - 1, in order. An
-- import that closed nothing (a first load, an append) records its inserts as one run instead of
-- one row each; every other change keeps span 1.
ALTER TABLE dataset_changes ADD COLUMN span INTEGER NOT NULL DEFAULT 1 CHECK (span >= 1);
