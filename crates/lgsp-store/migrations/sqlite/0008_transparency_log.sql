-- The transparency log (RFC 6962 / RFC 9162): entries in append order, the stored hashes of the
-- Merkle tree (each leaf's hash followed by the hashes of the subtrees it completes; see
-- lgsp-tlog), the size that every append moves forward under a lock, and signed checkpoints.
CREATE TABLE log_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

CREATE TABLE log_entries (
    idx   INTEGER PRIMARY KEY,
    entry BLOB NOT NULL
);

CREATE TABLE log_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

CREATE TABLE log_checkpoints (
    size      INTEGER PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_at TEXT NOT NULL
);
