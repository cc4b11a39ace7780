-- Daily rollups of the exchange index (Q15.2.e, Q7.5): per day in Viet Nam (UTC+7,
-- `YYYY-MM-DD`), provider agency, consumer agency and target, the exchanges, how they ended,
-- the bytes answered and a latency histogram, so that dashboards read a year of traffic from a
-- few hundred thousand rows instead of millions. Written in the transaction that appends the
-- exchanges' leaves and index rows (`Store::append_log`), so it counts exactly what the log
-- holds. An unknown agency or target is '' (a key column cannot be NULL).
--
-- ok: no refusal code and status < 400; errors: status >= 500; refusals: the rest (4xx or a
-- refusal code below 500). The histogram counts latencies in fixed buckets h00..h19 whose
-- upper bounds (exclusive) are 100 µs, 200 µs, 500 µs, 1 ms … 50 s, 100 s (1-2-5 steps);
-- h19 holds 100 s and more (`lgsp_store::LATENCY_BUCKETS`).
CREATE TABLE exchange_days (
    day             TEXT NOT NULL,
    provider_agency TEXT NOT NULL,
    consumer_agency TEXT NOT NULL,
    target          TEXT NOT NULL,
    exchanges       BIGINT NOT NULL,
    ok              BIGINT NOT NULL,
    errors          BIGINT NOT NULL,
    refusals        BIGINT NOT NULL,
    response_bytes  BIGINT NOT NULL,
    latency_micros  BIGINT NOT NULL,
    h00            BIGINT NOT NULL DEFAULT 0,
    h01            BIGINT NOT NULL DEFAULT 0,
    h02            BIGINT NOT NULL DEFAULT 0,
    h03            BIGINT NOT NULL DEFAULT 0,
    h04            BIGINT NOT NULL DEFAULT 0,
    h05            BIGINT NOT NULL DEFAULT 0,
    h06            BIGINT NOT NULL DEFAULT 0,
    h07            BIGINT NOT NULL DEFAULT 0,
    h08            BIGINT NOT NULL DEFAULT 0,
    h09            BIGINT NOT NULL DEFAULT 0,
    h10            BIGINT NOT NULL DEFAULT 0,
    h11            BIGINT NOT NULL DEFAULT 0,
    h12            BIGINT NOT NULL DEFAULT 0,
    h13            BIGINT NOT NULL DEFAULT 0,
    h14            BIGINT NOT NULL DEFAULT 0,
    h15            BIGINT NOT NULL DEFAULT 0,
    h16            BIGINT NOT NULL DEFAULT 0,
    h17            BIGINT NOT NULL DEFAULT 0,
    h18            BIGINT NOT NULL DEFAULT 0,
    h19            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider_agency, consumer_agency, target)
);
CREATE INDEX exchange_days_provider ON exchange_days (provider_agency, day);
CREATE INDEX exchange_days_consumer ON exchange_days (consumer_agency, day);

INSERT INTO exchange_days (day, provider_agency, consumer_agency, target, exchanges, ok, errors,
    refusals, response_bytes, latency_micros, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19)
SELECT to_char((at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD'), COALESCE(provider_agency, ''), COALESCE(consumer_agency, ''),
    COALESCE(target, ''),
    CAST(COUNT(*) AS BIGINT),
    CAST(SUM(CASE WHEN refusal IS NULL AND status < 400 THEN 1 ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS BIGINT),
    CAST(SUM(CASE WHEN status < 500 AND (refusal IS NOT NULL OR status >= 400) THEN 1 ELSE 0 END)
        AS BIGINT),
    CAST(SUM(response_bytes) AS BIGINT),
    CAST(SUM(latency_micros) AS BIGINT),
    CAST(SUM(CASE WHEN latency_micros < 100 THEN 1 ELSE 0 END) AS BIGINT) AS h00,
    CAST(SUM(CASE WHEN latency_micros >= 100 AND latency_micros < 200 THEN 1 ELSE 0 END) AS BIGINT) AS h01,
    CAST(SUM(CASE WHEN latency_micros >= 200 AND latency_micros < 500 THEN 1 ELSE 0 END) AS BIGINT) AS h02,
    CAST(SUM(CASE WHEN latency_micros >= 500 AND latency_micros < 1000 THEN 1 ELSE 0 END) AS BIGINT) AS h03,
    CAST(SUM(CASE WHEN latency_micros >= 1000 AND latency_micros < 2000 THEN 1 ELSE 0 END) AS BIGINT) AS h04,
    CAST(SUM(CASE WHEN latency_micros >= 2000 AND latency_micros < 5000 THEN 1 ELSE 0 END) AS BIGINT) AS h05,
    CAST(SUM(CASE WHEN latency_micros >= 5000 AND latency_micros < 10000 THEN 1 ELSE 0 END) AS BIGINT) AS h06,
    CAST(SUM(CASE WHEN latency_micros >= 10000 AND latency_micros < 20000 THEN 1 ELSE 0 END) AS BIGINT) AS h07,
    CAST(SUM(CASE WHEN latency_micros >= 20000 AND latency_micros < 50000 THEN 1 ELSE 0 END) AS BIGINT) AS h08,
    CAST(SUM(CASE WHEN latency_micros >= 50000 AND latency_micros < 100000 THEN 1 ELSE 0 END) AS BIGINT) AS h09,
    CAST(SUM(CASE WHEN latency_micros >= 100000 AND latency_micros < 200000 THEN 1 ELSE 0 END) AS BIGINT) AS h10,
    CAST(SUM(CASE WHEN latency_micros >= 200000 AND latency_micros < 500000 THEN 1 ELSE 0 END) AS BIGINT) AS h11,
    CAST(SUM(CASE WHEN latency_micros >= 500000 AND latency_micros < 1000000 THEN 1 ELSE 0 END) AS BIGINT) AS h12,
    CAST(SUM(CASE WHEN latency_micros >= 1000000 AND latency_micros < 2000000 THEN 1 ELSE 0 END) AS BIGINT) AS h13,
    CAST(SUM(CASE WHEN latency_micros >= 2000000 AND latency_micros < 5000000 THEN 1 ELSE 0 END) AS BIGINT) AS h14,
    CAST(SUM(CASE WHEN latency_micros >= 5000000 AND latency_micros < 10000000 THEN 1 ELSE 0 END) AS BIGINT) AS h15,
    CAST(SUM(CASE WHEN latency_micros >= 10000000 AND latency_micros < 20000000 THEN 1 ELSE 0 END) AS BIGINT) AS h16,
    CAST(SUM(CASE WHEN latency_micros >= 20000000 AND latency_micros < 50000000 THEN 1 ELSE 0 END) AS BIGINT) AS h17,
    CAST(SUM(CASE WHEN latency_micros >= 50000000 AND latency_micros < 100000000 THEN 1 ELSE 0 END) AS BIGINT) AS h18,
    CAST(SUM(CASE WHEN latency_micros >= 100000000 THEN 1 ELSE 0 END) AS BIGINT) AS h19
FROM exchanges
GROUP BY 1, 2, 3, 4;

-- Downloads of whole datasets by people and anonymous visitors (a system's read is an exchange
-- and counted above), per day in Viet Nam, for the statistics pages.
CREATE TABLE dataset_downloads (
    day        TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    downloads  BIGINT NOT NULL,
    PRIMARY KEY (day, dataset_id)
);
