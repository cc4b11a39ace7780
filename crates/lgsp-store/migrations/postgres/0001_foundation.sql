-- Foundation: agencies and their focal officers, information systems, people, clients, sessions.
-- Timestamps are timestamptz; JSON is jsonb.

CREATE TABLE agencies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES agencies (code),
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Every focal officer an agency ever had; the current one has no valid_to (Q8.2).
CREATE TABLE focal_officers (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id  BIGINT NOT NULL REFERENCES agencies (id),
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    phone      TEXT NOT NULL,
    email      TEXT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL,
    valid_to   TIMESTAMPTZ,
    changed_by TEXT
);
CREATE UNIQUE INDEX focal_officers_one_current ON focal_officers (agency_id) WHERE valid_to IS NULL;

CREATE TABLE systems (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id              BIGINT NOT NULL REFERENCES agencies (id),
    code                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    security_level         BIGINT NOT NULL CHECK (security_level BETWEEN 1 AND 5),
    connection_model       TEXT NOT NULL CHECK (connection_model IN ('lgsp', 'other')),
    connection_description TEXT,
    base_url               TEXT NOT NULL,
    health_url             TEXT,
    readiness_status       TEXT NOT NULL DEFAULT 'unassessed',
    readiness_findings     JSONB NOT NULL DEFAULT '[]',
    readiness_assessed_at  TIMESTAMPTZ,
    readiness_assessed_by  TEXT,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    UNIQUE (agency_id, code)
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    email         TEXT,
    role          TEXT NOT NULL,
    agency_id     BIGINT REFERENCES agencies (id),
    password_hash TEXT NOT NULL,
    disabled_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE clients (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    system_id   BIGINT NOT NULL REFERENCES systems (id),
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per throttling key (a username), for the growing delay.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL
);
