-- Sharing requests of consumer agencies to providers (Q13.1, Q15.1.a, Q16.1) and every step
-- taken on them. An approved request's grants point back to it (`grants.request_id`).

CREATE TABLE sharing_requests (
    id                   INTEGER PRIMARY KEY,
    consumer_code        TEXT NOT NULL REFERENCES agencies (code),
    -- The consumer agency's systems that would use the grant: a JSON array of system codes.
    systems              TEXT NOT NULL,
    provider_code        TEXT NOT NULL REFERENCES agencies (code),
    service_id           INTEGER REFERENCES services (id),
    dataset_id           TEXT REFERENCES dataset_tables (dataset_id),
    fields               TEXT NOT NULL,
    purpose_code         TEXT NOT NULL,
    purpose_text         TEXT NOT NULL,
    legal_basis          TEXT NOT NULL,
    expected_volume      TEXT NOT NULL,
    valid_until          TEXT NOT NULL,
    state                TEXT NOT NULL
        CHECK (state IN ('pending', 'returned', 'approved', 'refused', 'withdrawn')),
    -- The provider's message when it returned or refused the request.
    decision_reason      TEXT,
    -- The legal basis of a refusal (Q15.1.a).
    refusal_legal_basis  TEXT,
    created_by           TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CHECK ((service_id IS NULL) <> (dataset_id IS NULL)),
    CHECK (state <> 'refused' OR (decision_reason IS NOT NULL AND refusal_legal_basis IS NOT NULL))
);
CREATE INDEX sharing_requests_consumer ON sharing_requests (consumer_code);
CREATE INDEX sharing_requests_provider ON sharing_requests (provider_code);

-- Every step taken on a request: who, when, from which state to which, with what message.
CREATE TABLE sharing_request_events (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES sharing_requests (id),
    step        TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    reason      TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX sharing_request_events_request ON sharing_request_events (request_id);
CREATE INDEX grants_request ON grants (request_id);
