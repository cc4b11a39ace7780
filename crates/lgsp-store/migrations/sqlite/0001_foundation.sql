-- Foundation: agencies and their focal officers, information systems, people, clients, sessions.
-- Timestamps are RFC 3339 text in UTC; JSON is text.

CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES agencies (code),
    kind        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Every focal officer an agency ever had; the current one has no valid_to (Q8.2).
CREATE TABLE focal_officers (
    id         INTEGER PRIMARY KEY,
    agency_id  INTEGER NOT NULL REFERENCES agencies (id),
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    phone      TEXT NOT NULL,
    email      TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT,
    changed_by TEXT
);
CREATE UNIQUE INDEX focal_officers_one_current ON focal_officers (agency_id) WHERE valid_to IS NULL;

CREATE TABLE systems (
    id                     INTEGER PRIMARY KEY,
    agency_id              INTEGER NOT NULL REFERENCES agencies (id),
    code                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    security_level         INTEGER NOT NULL CHECK (security_level BETWEEN 1 AND 5),
    connection_model       TEXT NOT NULL CHECK (connection_model IN ('lgsp', 'other')),
    connection_description TEXT,
    base_url               TEXT NOT NULL,
    health_url             TEXT,
    readiness_status       TEXT NOT NULL DEFAULT 'unassessed',
    readiness_findings     TEXT NOT NULL DEFAULT '[]',
    readiness_assessed_at  TEXT,
    readiness_assessed_by  TEXT,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    UNIQUE (agency_id, code)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    email         TEXT,
    role          TEXT NOT NULL,
    agency_id     INTEGER REFERENCES agencies (id),
    password_hash TEXT NOT NULL,
    disabled_at   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE clients (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    system_id   INTEGER NOT NULL REFERENCES systems (id),
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per throttling key (a username), for the growing delay.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL
);
