-- Pushing change feeds out (Q5.3.b). A webhook subscription of an agency to a dataset
-- receives its changes in order as signed POSTs; `delivered_seq` is its cursor (the last change
-- the receiver acknowledged), so a failed batch is sent again and reactivating resumes from the
-- first change not delivered. A node claims a subscription or a publication cursor by setting
-- `lease_token`/`lease_until` with a conditional UPDATE, so that with several nodes on one
-- database each batch is sent by one of them. Nothing is hard-deleted: a deleted subscription
-- keeps its delivery log.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    dataset_id      TEXT NOT NULL REFERENCES dataset_tables (dataset_id),
    agency_code     TEXT NOT NULL REFERENCES agencies (code),
    target_url      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('active', 'dead', 'deleted')),
    delivered_seq   INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    lease_token     TEXT,
    lease_until     TEXT,
    created_by      TEXT NOT NULL,
    creator_role    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    dead_at         TEXT,
    deleted_at      TEXT
);
CREATE INDEX webhooks_due ON webhooks (state, next_attempt_at);
CREATE INDEX webhooks_by_dataset ON webhooks (dataset_id, agency_code);
CREATE UNIQUE INDEX webhooks_one_per_target ON webhooks (dataset_id, agency_code, target_url)
    WHERE state <> 'deleted';

-- Every delivery attempt: the changes it carried, the receiver's status or the error, and how
-- long it took.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id),
    attempted_at TEXT NOT NULL,
    from_seq     INTEGER NOT NULL,
    to_seq       INTEGER NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    status       INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_time ON webhook_deliveries (attempted_at);

-- Publication of every dataset's changes to an event stream (`sink`, e.g. NATS JetStream):
-- one cursor per dataset, leased like subscriptions, so that a restart or another node resumes
-- where publishing stopped.
CREATE TABLE change_publications (
    sink            TEXT NOT NULL,
    dataset_id      TEXT NOT NULL REFERENCES dataset_tables (dataset_id),
    published_seq   INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    lease_token     TEXT,
    lease_until     TEXT,
    PRIMARY KEY (sink, dataset_id)
);
