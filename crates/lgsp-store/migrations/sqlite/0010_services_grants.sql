-- Services of provider systems behind the gateway, their lifecycle and conformance checks;
-- grants of consumer systems on services and hosted datasets, their status history and the
-- per-minute counters of their quotas.

CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    system_id        INTEGER NOT NULL REFERENCES systems (id),
    code             TEXT NOT NULL,
    version          TEXT NOT NULL,
    name             TEXT NOT NULL,
    upstream_url     TEXT NOT NULL,
    methods          TEXT NOT NULL,
    openapi          TEXT NOT NULL,
    shareable_fields TEXT NOT NULL,
    sharing_mode     TEXT NOT NULL CHECK (sharing_mode IN ('open', 'default', 'on_request')),
    docs             TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('draft', 'published', 'deprecated', 'retired')),
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    published_at     TEXT,
    UNIQUE (system_id, code, version)
);
CREATE INDEX services_state ON services (state);

-- Every lifecycle step of a service.
CREATE TABLE service_events (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id),
    step       TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX service_events_service ON service_events (service_id);

-- Results of conformance checks (Q7.2, Q21.3), newest last.
CREATE TABLE service_checks (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id),
    passed     INTEGER NOT NULL,
    latency_ms INTEGER,
    results    TEXT NOT NULL,
    checked_by TEXT NOT NULL,
    checked_at TEXT NOT NULL
);
CREATE INDEX service_checks_service ON service_checks (service_id, id);

CREATE TABLE grants (
    id                 INTEGER PRIMARY KEY,
    consumer_system_id INTEGER NOT NULL REFERENCES systems (id),
    -- The provider agency: the service's agency, or the dataset's owner when granted.
    provider_code      TEXT NOT NULL REFERENCES agencies (code),
    service_id         INTEGER REFERENCES services (id),
    dataset_id         TEXT REFERENCES dataset_tables (dataset_id),
    fields             TEXT NOT NULL,
    purposes           TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    valid_until        TEXT,
    per_minute         INTEGER CHECK (per_minute > 0),
    status             TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
    status_reason      TEXT,
    source             TEXT NOT NULL CHECK (source IN ('direct', 'subscription', 'request')),
    -- The sharing request that created the grant (the request workflow adds its table).
    request_id         INTEGER,
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK ((service_id IS NULL) <> (dataset_id IS NULL)),
    CHECK ((status = 'active') = (status_reason IS NULL)),
    CHECK ((source = 'request') = (request_id IS NOT NULL)),
    CHECK (valid_until IS NULL OR valid_until > valid_from)
);
CREATE INDEX grants_consumer ON grants (consumer_system_id);
CREATE INDEX grants_service ON grants (service_id);
CREATE INDEX grants_dataset ON grants (dataset_id);
CREATE INDEX grants_provider ON grants (provider_code);

-- Every status a grant had: creation (no from_status), suspensions, resumptions, termination.
CREATE TABLE grant_events (
    id          INTEGER PRIMARY KEY,
    grant_id    INTEGER NOT NULL REFERENCES grants (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX grant_events_grant ON grant_events (grant_id);

-- Requests served under a grant per minute since the Unix epoch, for quotas.
CREATE TABLE grant_usage (
    grant_id INTEGER NOT NULL REFERENCES grants (id),
    minute   INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (grant_id, minute)
);
