-- The transparency log (RFC 6962 / RFC 9162): one row per leaf with its entry and the Merkle
-- tree's hashes its append stored (see lgsp-tlog), the size that every append moves forward
-- under a lock, and signed checkpoints.
CREATE TABLE log_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

CREATE TABLE log_entries (
    idx    INTEGER PRIMARY KEY,
    entry  BLOB NOT NULL,
    -- The leaf's hash, then the hashes of the subtrees this leaf completes (32 bytes each).
    hashes BLOB NOT NULL
);

CREATE TABLE log_checkpoints (
    size      INTEGER PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_at TEXT NOT NULL
);
