#!/usr/bin/env bash
# Catalog search over 10 000 synthetic datasets with Vietnamese titles: lgsp-search latency
# (target p99 <= 20 ms, DESIGN.md) next to SQLite FTS5 answering the same queries (count and
# top 10) in the same run. Needs sqlite3. Bounded: a few seconds after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/lgsp-search-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT

cargo run --release -q -p lgsp-search --example search_bench -- "$out" | tee "$out/lgsp.txt" | grep -v '^lgsp-mean-ms'
lgsp_mean=$(awk '/^lgsp-mean-ms/ {print $2}' "$out/lgsp.txt")

sqlite3 "$out/fts.db" < "$out/data.sql" > /dev/null
queries=$(wc -l < "$out/queries.sql")
sqlite3 "$out/fts.db" "SELECT count(*) FROM docs WHERE docs MATCH 'dat';" > /dev/null   # warm the cache
start=$(date +%s%N)
sqlite3 "$out/fts.db" < "$out/queries.sql" > /dev/null
end=$(date +%s%N)
awk -v n="$queries" -v ns="$((end - start))" -v lgsp="$lgsp_mean" 'BEGIN {
    sqlite = ns / 1e6 / n
    printf "sqlite3 FTS5 (same rows, same queries, count + top 10): mean %.3f ms per query\n", sqlite
    printf "ratio lgsp/sqlite (mean latency): %.2fx  (lgsp also computes five facet counts and highlights)\n", lgsp / sqlite
}'
