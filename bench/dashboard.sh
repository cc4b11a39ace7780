#!/usr/bin/env bash
# Dashboard benchmark (issue 7, Performance: the operator dashboard answers in <= 1 s on a year
# of traffic). Generates ENTRIES exchange leaves (default 10 000 000) spread over the last 365
# days for the demo province — real leaves through the store's append path, with their index
# rows and daily rollups (`lgsp bench-traffic`) — then starts `lgsp` on that database and times
# the operator's dashboard page (GET /console/dashboard, HTML with every chart and table) and
# its JSON (GET /api/v1/statistics/dashboard): the first request after start ("cold": fresh
# connections and database caches, the OS file cache as left by the generation) and the median
# of 10 more ("warm"), for the default 30 days, a whole year, and one agency over a year.
#
# Baseline in the same run: the database's own CLI computing what the dashboard's exchange
# charts show (per day, provider, consumer and target: exchanges and outcomes) with GROUP BY
# over the raw `exchanges` index for the same periods (sqlite3; psql). Prints the ratios.
#
# SQLite always; PostgreSQL too with PG=1 (TEST_POSTGRES_URL or postgres@127.0.0.1:5432).
# Needs ~12 GB free disk for 10M leaves per backend. Targets 127.0.0.1 only.
# Usage: bench/dashboard.sh [entries, default 10000000]   (BENCH_BINARY=path to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
entries="${1:-10000000}"
work=$(mktemp -d /tmp/lgsp-bench-dashboard.XXXXXX)
port=18701
pg_admin="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_db="lgsp_bench_dashboard_$$"
cleanup() {
    [ -n "${lgsp_pid:-}" ] && kill "$lgsp_pid" 2>/dev/null || true
    if [ "${PG:-0}" = 1 ]; then
        psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
command -v sqlite3 > /dev/null || { echo "needs the sqlite3 CLI (apt-get install sqlite3)"; exit 2; }

[ -n "${BENCH_BINARY:-}" ] || cargo build --release -q -p lgsp-server --bin lgsp
lgsp=${BENCH_BINARY:-${CARGO_TARGET_DIR:-./target}/release/lgsp}
now() { python3 -c "import time; print(time.monotonic())"; }
since() { python3 -c "import time; print(f'{time.monotonic() - $1:.3f}')"; }
today=$(TZ=Asia/Ho_Chi_Minh date +%F)
month_ago=$(TZ=Asia/Ho_Chi_Minh date -d "$today - 29 days" +%F)
year_ago=$(TZ=Asia/Ho_Chi_Minh date -d "$today - 364 days" +%F)

# Times the dashboard on the running server: prints "cold warm" seconds for each query.
time_dashboard() {
    python3 - "$1" "$2" "$month_ago" "$year_ago" "$today" <<'PY'
import http.client, json, statistics, sys, time
port, creds, month_ago, year_ago, today = sys.argv[1:]
users = json.load(open(creds))["users"]
password = next(u["password"] for u in users if u["username"] == "operator")
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
c.request("POST", "/api/v1/auth/login", json.dumps({"username": "operator", "password": password}),
          {"content-type": "application/json"})
token = json.loads(c.getresponse().read())["token"]
def get(path):
    start = time.monotonic()
    c.request("GET", path, headers={"authorization": f"Bearer {token}"})
    r = c.getresponse()
    body = r.read()
    elapsed = time.monotonic() - start
    assert r.status == 200, (path, r.status, body[:300])
    return elapsed, body
queries = [
    ("page, 30 days", "/console/dashboard"),
    ("json, 30 days", "/api/v1/statistics/dashboard"),
    ("page, 365 days", f"/console/dashboard?from={year_ago}&to={today}"),
    ("json, 365 days", f"/api/v1/statistics/dashboard?from={year_ago}&to={today}"),
    ("page, 365 days, one agency", f"/console/dashboard?from={year_ago}&to={today}&agency=000.00.03.H35"),
]
for label, path in queries:
    cold, body = get(path)
    warm = statistics.median(get(path)[0] for _ in range(10))
    if path.startswith("/api") and "365" in label:
        exchanges = json.loads(body)["totals"]["exchanges"]
        print(f"     (the year's exchanges as the dashboard counts them: {exchanges})", file=sys.stderr)
    print(f"   {label:28} cold {cold*1000:8.1f} ms   warm {warm*1000:8.1f} ms")
    print(f"RESULT {label.replace(' ', '_').replace(',', '')} {cold:.4f} {warm:.4f}", file=sys.stderr)
PY
}

start_server() {
    "$lgsp" serve --data-dir "$1" --listen "127.0.0.1:$port" "${@:2}" \
        > "$work/lgsp.out" 2> "$work/lgsp.err" &
    lgsp_pid=$!
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && return 0
        sleep 0.1
    done
    echo "lgsp did not start"; cat "$work/lgsp.err"; exit 1
}
stop_server() { kill "$lgsp_pid"; wait "$lgsp_pid" 2>/dev/null || true; lgsp_pid=; }

# The raw GROUP BYs: $1 runs SQL and prints nothing, $2 is the day expression.
baseline() {
    local run="$1" day="$2" from="$3" to="$4" filter="${5:-}"
    local where="$day >= '$from' AND $day <= '$to' $filter"
    local sums="COUNT(*), SUM(CASE WHEN refusal IS NULL AND status < 400 THEN 1 ELSE 0 END),
        SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END), SUM(response_bytes)"
    local start
    start=$(now)
    $run "SELECT $day, $sums FROM exchanges WHERE $where GROUP BY 1;
          SELECT provider_agency, $sums FROM exchanges WHERE $where GROUP BY 1;
          SELECT consumer_agency, $sums FROM exchanges WHERE $where GROUP BY 1;
          SELECT target, $sums FROM exchanges WHERE $where GROUP BY 1;"
    since "$start"
}

report() {
    local label="$1" ours="$2" base="$3"
    python3 -c "print(f'   {\"$label\":28} dashboard warm {$ours*1000:7.1f} ms, baseline {$base*1000:8.1f} ms: dashboard/baseline {$ours/$base:.3f}x')"
}

run_backend() {
    local name="$1" dir="$2"; shift 2
    echo "== $name: generating $entries leaves over 365 days"
    local start
    start=$(now)
    "$lgsp" bench-traffic --data-dir "$dir" --entries "$entries" --days 365 "$@" 2>&1 | tail -1
    echo "   generated in $(since "$start") s"
    echo "== $name: the operator's dashboard over HTTP (release build)"
    start_server "$dir" "$@"
    time_dashboard "$port" "$dir/demo-credentials.json" 2> "$work/$name.results"
    grep -v '^RESULT' "$work/$name.results" || true
    stop_server
}

sqlite_run() { sqlite3 "$work/sqlite/lgsp.db" "$1" > /dev/null; }
run_backend sqlite "$work/sqlite"
echo "== SQLite baseline: sqlite3 GROUP BY over the raw exchanges"
sqlite_day="date(at, '+7 hours')"
for period in "30_days $month_ago" "365_days $year_ago"; do
    set -- $period
    base=$(baseline sqlite_run "$sqlite_day" "$2" "$today")
    ours=$(awk -v k="RESULT json_$1" '$0 ~ k {print $4}' "$work/sqlite.results")
    report "json, ${1/_/ }" "$ours" "$base"
done
base=$(baseline sqlite_run "$sqlite_day" "$year_ago" "$today" \
    "AND (provider_agency = '000.00.03.H35' OR consumer_agency = '000.00.03.H35')")
ours=$(awk '/RESULT page_365_days_one_agency/ {print $4}' "$work/sqlite.results")
report "page, 365 days, one agency" "$ours" "$base"
ls -la "$work/sqlite/lgsp.db" | awk '{printf "   database: %.1f GB\n", $5/1e9}'
rm -rf "$work/sqlite"

if [ "${PG:-0}" = 1 ]; then
    psql -q "$pg_admin" -c "CREATE DATABASE $pg_db"
    pg_url="${pg_admin%/*}/$pg_db"
    run_backend postgres "$work/pg" --database "$pg_url"
    pg_run() { psql -q "$pg_url" -c "$1" > /dev/null; }
    echo "== PostgreSQL baseline: psql GROUP BY over the raw exchanges"
    pg_day="to_char((at AT TIME ZONE 'UTC') + interval '7 hours', 'YYYY-MM-DD')"
    for period in "30_days $month_ago" "365_days $year_ago"; do
        set -- $period
        base=$(baseline pg_run "$pg_day" "$2" "$today")
        ours=$(awk -v k="RESULT json_$1" '$0 ~ k {print $4}' "$work/postgres.results")
        report "json, ${1/_/ }" "$ours" "$base"
    done
fi
