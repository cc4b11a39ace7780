#!/usr/bin/env bash
# Annual report benchmark (issue 7: the report builds in <= 30 s on a year of traffic, 10 million
# log entries). Times `lgsp report annual` (every figure queried, then rendered) against a
# baseline: sqlite3 / psql running the very same figure queries (taken from the report's own
# appendix) directly on the same database. Prints both times and their ratio.
#
# Usage: bench/annual_report.sh [STORE] [YEAR]
#   STORE: a generated store — a SQLite file or a postgres://… URL (e.g. from the dashboards'
#          generator); it is only read. Without it, a SQLite store with the demo province and
#          EXCHANGES exchanges (default 1000000) spread over YEAR is generated here.
#   YEAR:  the year reported on [default: the current year].
# Needs: sqlite3 or psql, python3, curl. BENCH_BINARY=path skips the release build. Run it when
# nothing else compiles (`ps aux | grep -c "[r]ustc"` is 0): the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:-}"
year="${2:-$(TZ=Asia/Ho_Chi_Minh date +%Y)}"
exchanges="${EXCHANGES:-1000000}"
work=$(mktemp -d /tmp/lgsp-bench-report.XXXXXX)
port=18517
cleanup() {
    [ -n "${lgsp_pid:-}" ] && kill "$lgsp_pid" 2>/dev/null || true
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

[ -n "${BENCH_BINARY:-}" ] || cargo build --release -q -p lgsp-server
lgsp=${BENCH_BINARY:-./target/release/lgsp}

if [ -z "$store" ]; then
    store="$work/lgsp.db"
    echo "== generating a store: the demo province and $exchanges exchanges in $year"
    "$lgsp" serve --demo --data-dir "$work/data" --database "$store" --listen "127.0.0.1:$port" \
        > "$work/lgsp.out" 2> "$work/lgsp.err" &
    lgsp_pid=$!
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
        sleep 0.1
    done
    kill "$lgsp_pid"; wait "$lgsp_pid" 2>/dev/null || true
    lgsp_pid=
    python3 bench/lib/gen_exchanges.py "$store" "$year" "$exchanges"
fi

case "$store" in
    postgres://*|postgresql://*) backend=postgres ;;
    *) backend=sqlite ;;
esac
echo "== $backend store, year $year"

# Warm the caches alike for both runs: one untimed report first.
"$lgsp" report annual --database "$store" --year "$year" --format html \
    --output "$work/bao-cao.html" 2> /dev/null
python3 - "$work/bao-cao.html" "$work/queries.sql" <<'EOF'
import html, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
queries = [html.unescape(q) for q in re.findall(r"<pre>(.*?)</pre>", text, re.S)]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for q in queries:
        out.write(q.rstrip(";") + ";\n")
print(f"   {len(queries)} figure queries")
EOF

now() { date +%s.%N; }
start=$(now)
"$lgsp" report annual --database "$store" --year "$year" --format docx \
    --output "$work/bao-cao.docx" 2> "$work/report.err"
lgsp_seconds=$(echo "$(now) - $start" | bc)
cat "$work/report.err"

start=$(now)
if [ "$backend" = sqlite ]; then
    sqlite3 "$store" < "$work/queries.sql" > /dev/null
else
    psql -q -X "$store" -f "$work/queries.sql" > /dev/null
fi
baseline_seconds=$(echo "$(now) - $start" | bc)

printf 'lgsp report annual (docx):       %.2f s\n' "$lgsp_seconds"
printf 'baseline (%s, same queries): %.2f s\n' "$backend" "$baseline_seconds"
printf 'ratio: %.2f (target: the report in <= 30 s on a year of traffic)\n' \
    "$(echo "$lgsp_seconds / $baseline_seconds" | bc -l)"
