-- Content held by the state-secret guard (Q1.2, Q20.3): a blocked import, a refused exchange's
-- payload or an uploaded attachment, what the guard found in it, and the auditor's decision.
-- A confirmed item's content is erased (the platform must not hold state secrets); its digest,
-- size and findings stay as the record. A released item's fingerprints let the same content
-- through afterwards, in the same scope.

CREATE TABLE quarantine (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `import`, `exchange_request`, `exchange_response` or `attachment`.
    source           TEXT NOT NULL
        CHECK (source IN ('import', 'exchange_request', 'exchange_response', 'attachment')),
    -- Where released content passes again: `dataset:<id>`, `service:<label>`, `attachment`.
    scope            TEXT NOT NULL,
    dataset_id       TEXT,
    import_job       TEXT,
    request_id       TEXT,
    -- The service as `agency/system/service/version`.
    service          TEXT,
    -- The consumer system as `agency/system`.
    consumer         TEXT,
    -- The agency told of the decision: the importer's, the consumer's or the provider's.
    agency_code      TEXT,
    -- Who sent the content: a person's username or a system.
    submitted_by     TEXT NOT NULL,
    media_type       TEXT NOT NULL,
    filename         TEXT,
    -- What is held: the whole payload, or for an import the flagged rows (JSON). NULL once
    -- erased on confirmation.
    content          BYTEA,
    content_bytes    BIGINT NOT NULL,
    content_sha256   TEXT NOT NULL,
    -- JSON array of SHA-256 digests of the flagged units (cells, or the whole payload).
    fingerprints     JSONB NOT NULL,
    -- JSON array of findings: rule, matched text, location.
    findings         JSONB NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('held', 'confirmed', 'released')),
    decided_by       TEXT,
    decided_at       TIMESTAMPTZ,
    note             TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK (state = 'held' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL AND note IS NOT NULL))
);
CREATE INDEX quarantine_state ON quarantine (state, id);
CREATE INDEX quarantine_scope ON quarantine (scope, state);
