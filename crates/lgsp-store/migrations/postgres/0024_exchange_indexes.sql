-- Every exchange appends one row to `exchanges` in the log's durable commit, and each secondary
-- index is written with it. The indexes by agency and log index (0011) serve no query since the
-- indexes by agency and time (0023), whose leading columns are the same: drop them.
DROP INDEX IF EXISTS exchanges_consumer;
DROP INDEX IF EXISTS exchanges_provider;
