-- Health probes of registered systems (Q6.1, Q7.5): one row per monitored system with the time
-- of its next probe (a node takes a due probe by moving it ahead, so one node probes per
-- round), the raw probes (pruned after `change_retention_days`) and monthly availability.

CREATE TABLE system_health (
    system_id            BIGINT PRIMARY KEY REFERENCES systems (id),
    next_probe_at        TIMESTAMPTZ NOT NULL,
    last_probe_at        TIMESTAMPTZ,
    -- NULL until the first probe.
    up                   BOOLEAN,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- When the focal officer was told of the current outage; NULL when none is open.
    alerted_at           TIMESTAMPTZ
);
CREATE INDEX system_health_due ON system_health (next_probe_at);

CREATE TABLE system_probes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    system_id      BIGINT NOT NULL REFERENCES systems (id),
    probed_at      TIMESTAMPTZ NOT NULL,
    up             BOOLEAN NOT NULL,
    status_code    INTEGER,
    error          TEXT,
    latency_millis INTEGER NOT NULL
);
CREATE INDEX system_probes_by_system ON system_probes (system_id, probed_at);
CREATE INDEX system_probes_by_time ON system_probes (probed_at);

-- Probes and successful probes per system per month (`YYYY-MM`, UTC), kept for good.
CREATE TABLE system_availability (
    system_id BIGINT NOT NULL REFERENCES systems (id),
    month     TEXT NOT NULL,
    probes    INTEGER NOT NULL,
    up        INTEGER NOT NULL,
    PRIMARY KEY (system_id, month)
);
