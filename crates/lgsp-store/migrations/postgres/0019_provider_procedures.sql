-- The provider's procedures (Q15.1.b, Q15.1.c, Q15.2.e; Decree 47/2020 art. 43–44):
-- suspensions of every grant on a resource at once, a suspension's planned end, announced
-- maintenance windows the gateway answers 503 in, and usage-report requests on grants.

-- Every grant of one resource suspended at once, for maintenance or force majeure; resuming
-- it resumes only the grants it suspended (`grants.suspension_id`).
CREATE TABLE resource_suspensions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_code TEXT NOT NULL REFERENCES agencies (code),
    service_id    BIGINT REFERENCES services (id),
    dataset_id    TEXT REFERENCES dataset_tables (dataset_id),
    cause         TEXT NOT NULL CHECK (cause IN ('maintenance', 'force_majeure')),
    reason        TEXT NOT NULL,
    planned_end   TIMESTAMPTZ,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    resumed_by    TEXT,
    resumed_at    TIMESTAMPTZ,
    CHECK ((service_id IS NULL) <> (dataset_id IS NULL)),
    CHECK ((resumed_at IS NULL) = (resumed_by IS NULL))
);
CREATE INDEX resource_suspensions_provider ON resource_suspensions (provider_code);

-- When the provider expects to resume a suspended grant (shown; resuming stays explicit).
ALTER TABLE grants ADD COLUMN suspended_until TIMESTAMPTZ;
-- The resource-wide suspension that suspended the grant, if one did.
ALTER TABLE grants ADD COLUMN suspension_id BIGINT REFERENCES resource_suspensions (id);

-- Maintenance of a resource announced on the portal: at least 7 working days ahead unless
-- force majeure. The gateway refuses exchanges on the resource inside the window.
CREATE TABLE maintenance_windows (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_code TEXT NOT NULL REFERENCES agencies (code),
    service_id    BIGINT REFERENCES services (id),
    dataset_id    TEXT REFERENCES dataset_tables (dataset_id),
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    description   TEXT NOT NULL,
    force_majeure BOOLEAN NOT NULL,
    announced_by  TEXT NOT NULL,
    announced_at  TIMESTAMPTZ NOT NULL,
    cancelled_by  TEXT,
    cancelled_at  TIMESTAMPTZ,
    CHECK ((service_id IS NULL) <> (dataset_id IS NULL)),
    CHECK (ends_at > starts_at),
    CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL))
);
CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at);

-- The gateway keeps windows under the access revision like grants (0014_access_revision).
CREATE TRIGGER maintenance_access AFTER INSERT OR UPDATE OR DELETE ON maintenance_windows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_revision();

-- A provider's request that a consumer report on its use of a grant (Q15.1.b).
CREATE TABLE usage_reports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id     BIGINT NOT NULL REFERENCES grants (id),
    questions    JSONB NOT NULL,
    period_from  TIMESTAMPTZ NOT NULL,
    period_to    TIMESTAMPTZ NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    answers      JSONB,
    answered_by  TEXT,
    answered_at  TIMESTAMPTZ,
    CHECK (period_to > period_from),
    CHECK ((answers IS NULL) = (answered_at IS NULL))
);
CREATE INDEX usage_reports_grant ON usage_reports (grant_id);
