-- Hosted datasets: each has its own typed table of records (created from its Table Schema) in
-- which every record version keeps its system-time interval [_valid_from, _valid_to).
CREATE TABLE dataset_tables (
    dataset_id     TEXT PRIMARY KEY,
    table_name     TEXT NOT NULL UNIQUE,
    table_schema   TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_change_at TEXT
);
