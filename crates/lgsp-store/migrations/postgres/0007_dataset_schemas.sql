-- Past Table Schemas of hosted datasets: when a schema changes, the old table of records is
-- kept (renamed to `archive_table`) with the schema it was written under.
CREATE TABLE dataset_schemas (
    dataset_id    TEXT NOT NULL REFERENCES dataset_tables (dataset_id),
    table_schema  JSONB NOT NULL,
    archive_table TEXT NOT NULL UNIQUE,
    replaced_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX dataset_schemas_dataset ON dataset_schemas (dataset_id, replaced_at);
