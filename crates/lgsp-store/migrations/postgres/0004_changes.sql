-- Change feeds of hosted datasets: every committed import appends its changes (insert, update,
-- delete) under a per-dataset sequence, strictly increasing and gap-free in commit order. A
-- change points at the record version it produced (the closed version for a delete), which the
-- versioned table keeps for good; old changes are pruned after the retention period, raising
-- pruned_seq (changes with seq <= pruned_seq are gone).
ALTER TABLE dataset_tables ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dataset_tables ADD COLUMN pruned_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE dataset_changes (
    dataset_id  TEXT NOT NULL REFERENCES dataset_tables (dataset_id),
    seq         BIGINT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    version_id  BIGINT NOT NULL,
    previous_id BIGINT,
    changed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dataset_id, seq)
);
CREATE INDEX dataset_changes_time ON dataset_changes (changed_at);
