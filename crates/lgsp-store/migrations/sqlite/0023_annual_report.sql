-- The annual report to the People's Committee (Q17.6): when each year's report was marked sent,
-- the outages of monitored systems it counts, and the indexes that let its exchange figures be
-- counted from index ranges on a year of traffic.

-- One row per year whose report the operator marked as sent.
CREATE TABLE annual_report_submissions (
    year            INTEGER PRIMARY KEY,
    submitted_by    TEXT NOT NULL,
    submitted_at    TEXT NOT NULL,
    -- The number and date of the document as sent (e.g. "125/BC-STTTT", 2026-12-10), if given.
    document_number TEXT,
    document_date   TEXT,
    -- The leaf of the transparency log that records the submission.
    log_index       INTEGER
);

-- Outages of monitored systems: from the probe that raised the alert to the one that found the
-- system answering again (NULL while it lasts).
CREATE TABLE system_outages (
    id         INTEGER PRIMARY KEY,
    system_id  INTEGER NOT NULL REFERENCES systems (id),
    started_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX system_outages_by_system ON system_outages (system_id, started_at);
CREATE UNIQUE INDEX system_outages_one_open ON system_outages (system_id) WHERE ended_at IS NULL;

-- Exchanges by time (province totals and months), by provider and by consumer, each with
-- the columns the figures count (refusals, distinct consumers) so that they are read from the
-- index alone.
CREATE INDEX exchanges_at ON exchanges (at, refusal, consumer_agency);
CREATE INDEX exchanges_provider_at ON exchanges (provider_agency, at, consumer_agency, refusal);
CREATE INDEX exchanges_consumer_at ON exchanges (consumer_agency, at);
