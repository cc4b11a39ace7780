-- An index of the exchanges recorded in the transparency log, by the agencies on each side,
-- for the console's exchange log. The log's leaf (at `log_index`) is the record; this is a
-- derived copy written after the leaf commits.
CREATE TABLE exchanges (
    log_index       BIGINT PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL,
    request_id      TEXT NOT NULL,
    consumer_agency TEXT,
    consumer_system TEXT,
    provider_agency TEXT,
    target          TEXT,
    purpose         TEXT,
    method          TEXT NOT NULL,
    status          INTEGER NOT NULL,
    refusal         TEXT,
    response_bytes  BIGINT NOT NULL,
    latency_micros  BIGINT NOT NULL
);
CREATE INDEX exchanges_consumer ON exchanges (consumer_agency, log_index);
CREATE INDEX exchanges_provider ON exchanges (provider_agency, log_index);
