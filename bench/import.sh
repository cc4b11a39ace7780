#!/usr/bin/env bash
# Import benchmark (DESIGN.md target): `lgsp import` of an N-row x 10-column CSV with full
# Table Schema validation into one transaction, against the database's own bulk loaders on the
# same file in the same run:
#  - SQLite: `sqlite3 x.db ".mode csv" ".import FILE t"` into a plain table (target ratio <= 1.5);
#  - PostgreSQL: `psql -c "\copy t from FILE csv header"` into a plain table (target <= 1.5).
#
# Needs: sqlite3, psql, a PostgreSQL server (PGURL, default postgres://postgres@127.0.0.1:5432)
# where it may create and drop databases named lgsp_bench_import_*. Targets 127.0.0.1 only.
# Usage: bench/import.sh [rows, default 1000000]     (SKIP_POSTGRES=1 for SQLite only)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
pgurl="${PGURL:-postgres://postgres@127.0.0.1:5432}"
work=$(mktemp -d /tmp/lgsp-bench-import.XXXXXX)
port=18493
dataset=quan-trac-khong-khi
pgdb="lgsp_bench_import_$$"
plaindb="lgsp_bench_plain_$$"
cleanup() {
    [ -n "${lgsp_pid:-}" ] && kill "$lgsp_pid" 2>/dev/null || true
    if [ -z "${SKIP_POSTGRES:-}" ]; then
        psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $pgdb" 2>/dev/null || true
        psql -q "$pgurl/postgres" -c "DROP DATABASE IF EXISTS $plaindb" 2>/dev/null || true
    fi
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

[ -n "${BENCH_BINARY:-}" ] || cargo build --release -q
lgsp=${BENCH_BINARY:-./target/release/lgsp}

echo "== generating $rows rows x 10 columns"
python3 bench/lib/gen_rows.py "$rows" "$work/rows.csv"
ls -la "$work/rows.csv" | awk '{printf "   %.0f MiB\n", $5/1048576}'

# Prepares a database with the demo catalog and the dataset's schema (through the API), then
# stops the server so that `lgsp import` has the database to itself.
prepare() {
    local data_dir=$1 database=$2
    "$lgsp" serve --demo --data-dir "$data_dir" --database "$database" --listen "127.0.0.1:$port" \
        > "$work/lgsp.out" 2> "$work/lgsp.err" &
    lgsp_pid=$!
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
        sleep 0.1
    done
    local password token
    password=$(python3 -c "import json,sys; print(next(u['password'] for u in json.load(open(sys.argv[1]))['users'] if u['username']=='operator'))" "$data_dir/demo-credentials.json")
    token=$(curl -sf -H 'content-type: application/json' \
        -d "{\"username\":\"operator\",\"password\":\"$password\"}" \
        "http://127.0.0.1:$port/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    curl -sf -X PUT -H "authorization: Bearer $token" -H 'content-type: application/json' \
        --data-binary @bench/lib/schema_rows.json \
        "http://127.0.0.1:$port/api/v1/datasets/$dataset/schema" > /dev/null
    kill "$lgsp_pid"; wait "$lgsp_pid" 2>/dev/null || true
    lgsp_pid=
}

# Runs "$@" and sets `seconds` to its wall time.
timed() {
    local start; start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$work/cpu" "$@" > "$work/timed.out"; cpu=$(awk "{print \$1+\$2}" "$work/cpu")
    seconds=$(python3 -c "print(f'{$(date +%s.%N)-$start:.2f}')")
}

ratio() { python3 -c "r=$1/$2; print(f'   ratio lgsp/$3: {r:.2f}x (target <= 1.5) ' + ('OK' if r <= 1.5 else 'OVER'))"; }

plain_columns="ma INTEGER, ten TEXT, cap TEXT, ma_huyen TEXT, dan_so INTEGER, dien_tich REAL, thanh_lap TEXT, cap_nhat TEXT, hoat_dong TEXT, ghi_chu TEXT"

echo "== SQLite"
prepare "$work/sqlite" "$work/sqlite/lgsp.db"
timed "$lgsp" import --data-dir "$work/sqlite" --database "$work/sqlite/lgsp.db" \
    --dataset "$dataset" "$work/rows.csv"
lgsp_sqlite=$seconds
echo "   lgsp import          : $lgsp_sqlite s (cpu $cpu s)"
sqlite3 "$work/plain.db" "CREATE TABLE t ($plain_columns)"
timed sqlite3 "$work/plain.db" ".mode csv" ".import --skip 1 $work/rows.csv t"
plain_sqlite=$seconds
echo "   sqlite3 .import      : $plain_sqlite s (cpu $cpu s, $(sqlite3 "$work/plain.db" 'SELECT COUNT(*) FROM t') rows)"
ratio "$lgsp_sqlite" "$plain_sqlite" "sqlite3"
# A daily refresh: the same file again as a replace, with every row closed and reopened and
# the change feed derived (no change, since no value differs) — must stay linear.
timed "$lgsp" import --data-dir "$work/sqlite" --database "$work/sqlite/lgsp.db" \
    --dataset "$dataset" "$work/rows.csv"
echo "   lgsp import again (replace over $rows current rows): $seconds s (cpu $cpu s)"

if [ -z "${SKIP_POSTGRES:-}" ]; then
    echo "== PostgreSQL"
    psql -q "$pgurl/postgres" -c "CREATE DATABASE $pgdb"
    psql -q "$pgurl/postgres" -c "CREATE DATABASE $plaindb"
    mkdir -p "$work/pg"
    prepare "$work/pg" "$pgurl/$pgdb"
    timed "$lgsp" import --data-dir "$work/pg" --database "$pgurl/$pgdb" \
        --dataset "$dataset" "$work/rows.csv"
    lgsp_pg=$seconds
    echo "   lgsp import          : $lgsp_pg s (cpu $cpu s)"
    psql -q "$pgurl/$plaindb" -c "CREATE TABLE t (ma BIGINT, ten TEXT, cap TEXT, ma_huyen TEXT, dan_so BIGINT, dien_tich DOUBLE PRECISION, thanh_lap DATE, cap_nhat TIMESTAMPTZ, hoat_dong BOOLEAN, ghi_chu TEXT)"
    timed psql -q "$pgurl/$plaindb" -c "\\copy t from '$work/rows.csv' csv header"
    plain_pg=$seconds
    echo "   psql \\copy           : $plain_pg s (cpu of psql $cpu s, $(psql -tA "$pgurl/$plaindb" -c 'SELECT COUNT(*) FROM t') rows)"
    ratio "$lgsp_pg" "$plain_pg" "psql"
fi
