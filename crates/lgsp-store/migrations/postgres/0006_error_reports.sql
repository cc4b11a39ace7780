-- Error reports on datasets (Q16.2.c): anyone who may read a dataset reports an error, the
-- owner agency moves the report open -> acknowledged -> fixed | rejected. A report is addressed
-- to the agency that owned the dataset, at the access level it had, when it was made.
CREATE TABLE error_reports (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    dataset_id          TEXT NOT NULL,
    owner_agency        TEXT NOT NULL,
    access_level        TEXT NOT NULL,
    record_key          JSONB,
    field_name          TEXT,
    description         TEXT NOT NULL,
    reporter_user_id    BIGINT REFERENCES users (id),
    contact_email       TEXT,
    state               TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'fixed', 'rejected')),
    reason              TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    acknowledged_at     TIMESTAMPTZ,
    acknowledged_by     TEXT,
    resolved_at         TIMESTAMPTZ,
    resolved_by         TEXT,
    time_to_fix_seconds BIGINT,
    CHECK ((state = 'rejected') = (reason IS NOT NULL)),
    CHECK ((state = 'fixed') = (time_to_fix_seconds IS NOT NULL)),
    CHECK ((state IN ('fixed', 'rejected')) = (resolved_at IS NOT NULL))
);
CREATE INDEX error_reports_by_owner ON error_reports (owner_agency, created_at);
CREATE INDEX error_reports_by_dataset ON error_reports (dataset_id, created_at);
