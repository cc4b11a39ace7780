-- The catalog of shared databases, the proposals that change it, their letters, notifications
-- and security events. Dates (validity, decisions) are ISO `YYYY-MM-DD` text.

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    filename    TEXT NOT NULL,
    content     BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE catalog_submissions (
    id             INTEGER PRIMARY KEY,
    recommendation TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE catalog_proposals (
    id              INTEGER PRIMARY KEY,
    agency_code     TEXT NOT NULL REFERENCES agencies (code),
    action          TEXT NOT NULL CHECK (action IN ('add', 'modify', 'withdraw')),
    entry_code      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    letter_id       INTEGER NOT NULL REFERENCES attachments (id),
    state           TEXT NOT NULL,
    submission_id   INTEGER REFERENCES catalog_submissions (id),
    decision_number TEXT,
    decision_date   TEXT,
    effective_date  TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX catalog_proposals_state ON catalog_proposals (state);

-- Every step taken on a proposal: who, when, from which state to which, with what comment.
CREATE TABLE catalog_proposal_events (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES catalog_proposals (id),
    step        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    comment     TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX catalog_proposal_events_proposal ON catalog_proposal_events (proposal_id);

CREATE TABLE catalog_entries (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Each version of an entry is valid on [valid_from, valid_to); the open one has no valid_to.
CREATE TABLE catalog_versions (
    id              INTEGER PRIMARY KEY,
    entry_id        INTEGER NOT NULL REFERENCES catalog_entries (id),
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
    content         TEXT NOT NULL,
    owner_code      TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,
    proposal_id     INTEGER REFERENCES catalog_proposals (id),
    decision_number TEXT NOT NULL,
    decision_date   TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    UNIQUE (entry_id, version)
);
CREATE INDEX catalog_versions_validity ON catalog_versions (valid_from, valid_to);

-- Dataset ids are public and global: each belongs to one entry for good.
CREATE TABLE catalog_datasets (
    dataset_id TEXT PRIMARY KEY,
    entry_id   INTEGER NOT NULL REFERENCES catalog_entries (id)
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT,
    created_at TEXT NOT NULL,
    read_at    TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, read_at);

-- Security-relevant attempts, e.g. registering state-secret data (Q1.2).
CREATE TABLE security_events (
    id     INTEGER PRIMARY KEY,
    kind   TEXT NOT NULL,
    actor  TEXT NOT NULL,
    detail TEXT NOT NULL,
    at     TEXT NOT NULL
);
