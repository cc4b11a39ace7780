-- Citizens' consent (Q15.2.h, Q7.4; Decree 13/2023 art. 9 and 11): a citizen's identity number,
-- the basis a grant rests on, the consents themselves, and the data subject of each indexed
-- exchange so that a citizen can see every exchange about them.

-- The identity number (CCCD) of a citizen's account; other accounts have none.
ALTER TABLE users ADD COLUMN citizen_id TEXT;
CREATE UNIQUE INDEX users_citizen_id ON users (citizen_id) WHERE citizen_id IS NOT NULL;

-- `legal`: the grant alone decides; `consent`: every exchange also needs the subject's consent.
ALTER TABLE grants ADD COLUMN basis TEXT NOT NULL DEFAULT 'legal'
    CHECK (basis IN ('legal', 'consent'));

-- The salted hash of the exchange's `LGSP-Subject` (as in its leaf), never the number itself.
ALTER TABLE exchanges ADD COLUMN subject TEXT;
CREATE INDEX exchanges_subject ON exchanges (subject, log_index) WHERE subject IS NOT NULL;

-- A consent is not part of the access revision: the gateway reads the subject's consents on
-- each exchange under consent (one indexed query), so a revocation counts from the very next
-- request on every node without emptying every node's cache whenever someone consents.
CREATE TABLE consents (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    -- The salted hash of the citizen's identity number, as exchanges carry it.
    subject_hash    TEXT NOT NULL,
    provider_code   TEXT NOT NULL REFERENCES agencies (code),
    service_id      INTEGER REFERENCES services (id),
    dataset_id      TEXT REFERENCES dataset_tables (dataset_id),
    consumer_code   TEXT NOT NULL REFERENCES agencies (code),
    -- One system of the consumer agency, or any of its systems when NULL.
    consumer_system TEXT,
    fields          TEXT NOT NULL,
    purpose_code    TEXT NOT NULL,
    purpose_text    TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_until     TEXT NOT NULL,
    revoked_at      TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((service_id IS NULL) <> (dataset_id IS NULL)),
    CHECK (valid_until > valid_from)
);
CREATE INDEX consents_user ON consents (user_id, id);
CREATE INDEX consents_subject ON consents (subject_hash, consumer_code);
CREATE INDEX consents_provider ON consents (provider_code, id);
CREATE INDEX consents_consumer ON consents (consumer_code, id);
