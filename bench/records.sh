#!/usr/bin/env bash
# Hosted-data benchmark (DESIGN.md targets): a 1M-row x 10-column dataset on SQLite, then
#  - equality-filter queries over HTTP, one client (target p99 <= 5 ms), on the primary key;
#  - the same queries against Datasette (PyPI) serving the same SQLite file: throughput ratio;
#  - a CSV export of every row while sampling the server's resident memory (target: growth
#    < 64 MiB).
# The import itself is timed too (the import benchmark with its baselines is bench/import.sh).
#
# Needs: python3 (a throw-away venv for Datasette is made under target/). Targets 127.0.0.1
# only; bounded. Usage: bench/records.sh [rows, default 1000000] [requests, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
requests="${2:-2000}"
work=$(mktemp -d /tmp/lgsp-bench.XXXXXX)
port=18491
datasette_port=18492
dataset=quan-trac-khong-khi
cleanup() {
    [ -n "${lgsp_pid:-}" ] && kill "$lgsp_pid" 2>/dev/null || true
    [ -n "${datasette_pid:-}" ] && kill "$datasette_pid" 2>/dev/null || true
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q
venv=target/bench-venv
[ -x "$venv/bin/datasette" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q datasette; }

echo "== generating $rows rows x 10 columns"
python3 bench/lib/gen_rows.py "$rows" "$work/rows.csv"
ls -la "$work/rows.csv" | awk '{printf "   %.0f MiB\n", $5/1048576}'

./target/release/lgsp serve --demo --data-dir "$work/data" --listen "127.0.0.1:$port" \
    > "$work/lgsp.out" 2> "$work/lgsp.err" &
lgsp_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
    sleep 0.1
done
password=$(python3 -c "import json,sys; print(next(u['password'] for u in json.load(open(sys.argv[1]))['users'] if u['username']=='operator'))" "$work/data/demo-credentials.json")
token=$(curl -sf -H 'content-type: application/json' \
    -d "{\"username\":\"operator\",\"password\":\"$password\"}" \
    "http://127.0.0.1:$port/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -sf -X PUT -H "authorization: Bearer $token" -H 'content-type: application/json' \
    --data-binary @bench/lib/schema_rows.json \
    "http://127.0.0.1:$port/api/v1/datasets/$dataset/schema" > /dev/null

rss() { awk '/^VmRSS/ {print $2}' "/proc/$lgsp_pid/status"; }
# Runs "$@" in the background and samples the server's RSS until it ends: sets peak, seconds.
sample_while() {
    "$@" &
    local pid=$!
    peak=$(rss)
    local start; start=$(date +%s.%N)
    while kill -0 "$pid" 2>/dev/null; do
        local now; now=$(rss); [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.1
    done
    wait "$pid"
    seconds=$(python3 -c "print(f'{$(date +%s.%N)-$start:.1f}')")
}

echo "== import through the API (validation, one transaction), RSS sampled every 100 ms"
before=$(rss)
sample_while curl -sf -o /dev/null -H "authorization: Bearer $token" -H 'content-type: text/csv' \
    -T "$work/rows.csv" -X POST "http://127.0.0.1:$port/api/v1/datasets/$dataset/records"
python3 -c "print(f'   {$seconds} s; RSS before {$before/1024:.0f} MiB, peak {$peak/1024:.0f} MiB, growth {($peak-$before)/1024:.1f} MiB')"

echo "== equality filter on the primary key, one client, $requests requests"
echo -n "   lgsp      : "
python3 bench/lib/latency.py \
    "http://127.0.0.1:$port/api/v1/datasets/$dataset/records?ma=eq.{key}" "$rows" "$requests" \
    | tee "$work/lgsp.latency"

table="ds_${dataset//-/_}"
"$venv/bin/datasette" serve "$work/data/lgsp.db" -p "$datasette_port" -h 127.0.0.1 \
    --setting sql_time_limit_ms 10000 > "$work/datasette.log" 2>&1 &
datasette_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$datasette_port/-/versions.json" > /dev/null && break
    sleep 0.2
done
echo -n "   datasette : "
python3 bench/lib/latency.py \
    "http://127.0.0.1:$datasette_port/lgsp/$table.json?ma={key}&_shape=array&_nocount=1" \
    "$rows" "$requests" | tee "$work/datasette.latency"
python3 - "$work/lgsp.latency" "$work/datasette.latency" <<'PY'
import re, sys
rate = lambda path: float(re.search(r"(\d+) req/s", open(path).read()).group(1))
ours, theirs = rate(sys.argv[1]), rate(sys.argv[2])
print(f"   throughput lgsp/datasette: {ours / theirs:.2f}x")
PY

echo "== CSV export of every row, RSS sampled every 100 ms"
before=$(rss)
sample_while curl -sf -o "$work/export.csv" \
    "http://127.0.0.1:$port/api/v1/datasets/$dataset/records?format=csv"
exported=$(($(wc -l < "$work/export.csv") - 1))
python3 -c "print(f'   {$exported} rows in {$seconds} s; RSS before {$before/1024:.0f} MiB, peak {$peak/1024:.0f} MiB, growth {($peak-$before)/1024:.1f} MiB (target < 64 MiB)')"
