-- Imports into hosted datasets, one row per import (API, console or `lgsp import`). Progress
-- counters are written when the job ends; while it runs the server keeps them in memory (the
-- same on both backends).
CREATE TABLE dataset_imports (
    id           TEXT PRIMARY KEY,
    dataset_id   TEXT NOT NULL,
    mode         TEXT NOT NULL,
    format       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    rows_read    BIGINT NOT NULL DEFAULT 0,
    rows_written BIGINT NOT NULL DEFAULT 0,
    report       TEXT,
    error_code   TEXT,
    error_detail TEXT,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX dataset_imports_by_dataset ON dataset_imports (dataset_id, created_at);
