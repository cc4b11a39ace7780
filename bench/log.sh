#!/usr/bin/env bash
# Transparency-log benchmark (DESIGN.md / issue 5 targets: durable appends >= 50 000 leaves/s
# in batches; an inclusion proof at 10M leaves <= 1 ms), on SQLite and PostgreSQL (also with
# every leaf's exchange index row and rollups, as the gateway writes them), against a
# baseline in the same run: the database's own CLI inserting the same number of rows of the
# same size in one durable transaction (sqlite3 with synchronous=FULL; psql).
#
# Targets 127.0.0.1 only; bounded. Usage: bench/log.sh [leaves, default 1000000]
#   [leaves for the proof run, default 10000000] [batch, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
leaves="${1:-1000000}"
proof_leaves="${2:-10000000}"
batch="${3:-10000}"
work=$(mktemp -d /tmp/lgsp-bench-log.XXXXXX)
pg_admin="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_db="lgsp_bench_log_$$"
cleanup() {
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" 2>/dev/null || true
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS ${pg_db}_base WITH (FORCE)" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
command -v sqlite3 > /dev/null || { echo "needs the sqlite3 CLI (apt-get install sqlite3)"; exit 2; }

cargo build --release -q -p lgsp-store --example log_bench
bench=target/release/examples/log_bench
rate() { python3 -c "import sys; print(f'{$1/$2:.0f}')"; }
seconds() { python3 -c "import time; print(time.monotonic())"; }

echo "== SQLite, $leaves leaves in batches of $batch"
"$bench" "sqlite://$work/log.db" "$leaves" "$batch" 1000 | tee "$work/sqlite.out"
start=$(seconds)
sqlite3 "$work/base.db" "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
    CREATE TABLE t (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL);
    BEGIN;
    WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < $leaves - 1)
    INSERT INTO t SELECT n, randomblob(330) FROM c;
    COMMIT;" > /dev/null
base=$(python3 -c "import time; print(f'{time.monotonic() - $start:.2f}')")
ours=$(sed -n 's/.*, \([0-9]*\) leaves\/s/\1/p' "$work/sqlite.out")
echo "   sqlite3 inserting $leaves rows of 330 bytes in one transaction: $base s, $(rate "$leaves" "$base") rows/s"
python3 -c "print(f'   lgsp/sqlite3 throughput: {$ours/($leaves/$base):.2f}x (lgsp also computes and writes ~2 hashes per leaf)')"
echo "   with each leaf's exchange index row and daily rollups, as the gateway appends them:"
rm -f "$work/log.db"*
"$bench" "sqlite://$work/log.db" "$leaves" "$batch" 10 exchanges | sed -n 's/^appends/   appends/p'

echo "== PostgreSQL, $leaves leaves in batches of $batch"
psql -q "$pg_admin" -c "CREATE DATABASE $pg_db"
psql -q "$pg_admin" -c "CREATE DATABASE ${pg_db}_base"
pg_url="${pg_admin%/*}/$pg_db"
"$bench" "$pg_url" "$leaves" "$batch" 1000 | tee "$work/pg.out"
start=$(seconds)
psql -q "${pg_admin%/*}/${pg_db}_base" -c "CREATE TABLE t (idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL)" \
    -c "INSERT INTO t SELECT g, convert_to(repeat('x', 330), 'UTF8') FROM generate_series(0, $leaves - 1) g"
base=$(python3 -c "import time; print(f'{time.monotonic() - $start:.2f}')")
ours=$(sed -n 's/.*, \([0-9]*\) leaves\/s/\1/p' "$work/pg.out")
echo "   psql inserting $leaves rows of 330 bytes in one transaction: $base s, $(rate "$leaves" "$base") rows/s"
python3 -c "print(f'   lgsp/psql throughput: {$ours/($leaves/$base):.2f}x')"
echo "   with each leaf's exchange index row and daily rollups, as the gateway appends them:"
psql -q "$pg_admin" -c "DROP DATABASE $pg_db WITH (FORCE)" -c "CREATE DATABASE $pg_db"
"$bench" "$pg_url" "$leaves" "$batch" 10 exchanges | sed -n 's/^appends/   appends/p'

echo "== SQLite, inclusion proofs at $proof_leaves leaves (batches of 50000)"
rm -f "$work/log.db"*
"$bench" "sqlite://$work/big.db" "$proof_leaves" 50000 2000
# The proofs above run in the process that just appended every leaf (a WAL of the last batches
# still to fold in). A log of that size is read between small appends: measure again on the
# same database opened afresh, as a serving node sees it.
echo "   the same database, opened again (no appends):"
"$bench" "sqlite://$work/big.db" 0 50000 2000 | sed -n 's/^inclusion/   inclusion/p'
