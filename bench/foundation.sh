#!/usr/bin/env bash
# Foundation benchmark: the public agency registry served by `lgsp` (SQLite, demo province) next
# to nginx serving the very same JSON bytes as a static file, with the same wrk load; plus the
# idle resident memory of the server with the demo data (target: <= 150 MiB, DESIGN.md).
#
# Needs: wrk, nginx (apt-get install wrk nginx-light). Targets 127.0.0.1 only; bounded in time.
# Usage: bench/foundation.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
work=$(mktemp -d /tmp/lgsp-bench.XXXXXX)
lgsp_port=18481
nginx_port=18482
cleanup() {
    [ -n "${lgsp_pid:-}" ] && kill "$lgsp_pid" 2>/dev/null || true
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q
./target/release/lgsp serve --demo --data-dir "$work/data" --listen "127.0.0.1:$lgsp_port" \
    > "$work/lgsp.out" 2> "$work/lgsp.err" &
lgsp_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$lgsp_port/readyz" > /dev/null && break
    sleep 0.1
done

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# Idle memory: started, demo loaded, every page and the registry fetched once.
for path in / /agencies /login /api/v1/agencies /api/v1/openapi.json; do
    curl -sf "http://127.0.0.1:$lgsp_port$path" > /dev/null
done
sleep 1
idle_kib=$(rss_kib "$lgsp_pid")

mkdir -p "$work/www/api/v1"
curl -sf "http://127.0.0.1:$lgsp_port/api/v1/agencies" > "$work/www/api/v1/agencies"
bytes=$(wc -c < "$work/www/api/v1/agencies")
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    types { }
    default_type application/json;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
    }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
nginx_master=$(cat "$work/nginx.pid")
nginx_idle_kib=0
for pid in $nginx_master $(pgrep -P "$nginx_master"); do
    nginx_idle_kib=$((nginx_idle_kib + $(rss_kib "$pid")))
done

run() { wrk -t2 -c64 -d"${duration}s" --latency "$1"; }
parse_rps() { awk '/Requests\/sec/ {print $2}'; }
# wrk prints the 99% latency with a unit (us, ms, s); convert to milliseconds.
parse_p99() {
    awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}'
}

lgsp_out=$(run "http://127.0.0.1:$lgsp_port/api/v1/agencies")
nginx_out=$(run "http://127.0.0.1:$nginx_port/api/v1/agencies")
lgsp_rps=$(parse_rps <<< "$lgsp_out"); nginx_rps=$(parse_rps <<< "$nginx_out")
lgsp_p99=$(parse_p99 <<< "$lgsp_out"); nginx_p99=$(parse_p99 <<< "$nginx_out")

echo "GET /api/v1/agencies ($bytes bytes, ${duration}s, wrk -t2 -c64, same machine)"
printf '  %-28s %10s req/s   p99 %8s ms\n' "lgsp (SQLite, demo)" "$lgsp_rps" "$lgsp_p99"
printf '  %-28s %10s req/s   p99 %8s ms\n' "nginx (same bytes, static)" "$nginx_rps" "$nginx_p99"
awk -v a="$lgsp_rps" -v b="$nginx_rps" -v c="$lgsp_p99" -v d="$nginx_p99" \
    'BEGIN { printf "  ratio lgsp/nginx: throughput %.2fx, p99 %.2fx\n", a/b, c/d }'
echo "Idle resident memory after start-up with the demo province (target <= 150 MiB)"
awk -v k="$idle_kib" -v n="$nginx_idle_kib" \
    'BEGIN { printf "  lgsp %.1f MiB, nginx (master + 2 workers) %.1f MiB, ratio %.1fx, target %s\n", k/1024, n/1024, k/n, (k/1024 <= 150 ? "met" : "MISSED") }'
