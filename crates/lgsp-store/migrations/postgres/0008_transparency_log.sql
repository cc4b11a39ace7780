-- The transparency log (RFC 6962 / RFC 9162): entries in append order, the stored hashes of the
-- Merkle tree (each leaf's hash followed by the hashes of the subtrees it completes; see
-- lgsp-tlog), the size that every append moves forward under a lock, and signed checkpoints.
CREATE TABLE log_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

CREATE TABLE log_entries (
    idx   BIGINT PRIMARY KEY,
    entry BYTEA NOT NULL
);

CREATE TABLE log_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE log_checkpoints (
    size      BIGINT PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL
);
