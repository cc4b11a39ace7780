#!/usr/bin/env bash
# Gateway benchmark (issue "Exchange gateway", Performance): the same upstream — nginx serving a
# 1 KiB JSON file on 127.0.0.1 — reached through nginx as a plain reverse proxy, and through
# `lgsp` with the full pipeline (token check, grant decision and quota, field filter, request
# and response signatures, durable audit leaf per exchange). `wrk -t2 -c64 -d20s --latency`
# against each; prints throughput and p99 of both and the ratios.
# Targets: lgsp throughput >= 0.6x nginx's, lgsp p99 <= 2x nginx's.
#
# Also prints, from the same run, the CPU each exchange cost lgsp, wrk and the upstream, what
# the two Ed25519 signatures every exchange carries (the platform's over the request to the
# provider, and over the answer) cost with the platform's own signer, and the throughput the
# machine would allow if lgsp did nothing but those two signatures.
#
# Needs: nginx, wrk, curl, python3. Targets 127.0.0.1 only; SQLite (default) or, with
# DATABASE=postgres://…/db, PostgreSQL.
# Usage: bench/gateway.sh [duration, default 20s]    (BENCH_BINARY=path to skip the build,
#        SHOW_WRK=1 for wrk's whole output, QUOTA=n for the grant's requests per minute)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20s}"
work=$(mktemp -d /tmp/lgsp-bench-gateway.XXXXXX)
upstream_port=18601
proxy_port=18602
lgsp_port=18603
metrics_port=18604
cleanup() {
    [ -n "${lgsp_pid:-}" ] && kill "$lgsp_pid" 2>/dev/null || true
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

[ -n "${BENCH_BINARY:-}" ] || cargo build --release -q
cargo build --release -q -p lgsp-tlog --example sign_speed
sign_speed=${CARGO_TARGET_DIR:-./target}/release/examples/sign_speed
lgsp=${BENCH_BINARY:-${CARGO_TARGET_DIR:-./target}/release/lgsp}
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# A 1 KiB JSON record (the provider's answer).
mkdir -p "$work/www/api" "$work/nginx"
python3 - "$work/www/api/khai-sinh.json" <<'PY'
import json, sys
record = {"so": "2026-000123", "ho_ten": "Nguyễn Văn An", "ngay_sinh": "2001-02-03",
          "gioi_tinh": "Nam", "noi_sinh": {"tinh": "Hà Nam", "huyen": "Phủ Lý", "xa": "Liêm Chính"},
          "cha": {"ho_ten": "Nguyễn Văn Bình", "nam_sinh": 1975},
          "me": {"ho_ten": "Trần Thị Chi", "nam_sinh": 1978},
          "ngay_dang_ky": "2001-02-10", "noi_dang_ky": "UBND xã Liêm Chính"}
text = json.dumps(record, ensure_ascii=False)
record["ghi_chu"] = "x" * (1024 - len(text.encode()) - len(', "ghi_chu": ""'))
data = json.dumps(record, ensure_ascii=False).encode()
assert len(data) == 1024, len(data)
open(sys.argv[1], "wb").write(data)
PY

cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
    # The provider: a static 1 KiB JSON file.
    server {
        listen 127.0.0.1:$upstream_port;
        root $work/www;
        default_type application/json;
    }
    # nginx as a plain reverse proxy to it, keeping upstream connections alive.
    upstream provider { server 127.0.0.1:$upstream_port; keepalive 128; }
    server {
        listen 127.0.0.1:$proxy_port;
        location / {
            proxy_pass http://provider;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
# nginx's workers run as an unprivileged user when started by root: let them read the files.
chmod 755 "$work"; chmod -R a+rX "$work/www"
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log"
for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$proxy_port/api/khai-sinh.json" > /dev/null && break
    sleep 0.1
done

# The grant has a quota far above the load (every exchange counts against it, as in
# production); QUOTA= (empty) measures a grant without a quota.
QUOTA=${QUOTA-10000000}
database_flag=()
[ -n "${DATABASE:-}" ] && database_flag=(--database "$DATABASE")
"$lgsp" serve --demo --data-dir "$work/lgsp" --listen "127.0.0.1:$lgsp_port" "${database_flag[@]}" \
    --metrics-listen "127.0.0.1:$metrics_port" \
    > "$work/lgsp.out" 2> "$work/lgsp.err" &
lgsp_pid=$!
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$lgsp_port/readyz" > /dev/null && break
    sleep 0.1
done
base="http://127.0.0.1:$lgsp_port"
creds="$work/lgsp/demo-credentials.json"
field() { python3 -c "import json,sys; print($1)" "$creds"; }
password=$(field "next(u['password'] for u in json.load(open(sys.argv[1]))['users'] if u['username']=='agency-admin')")
consumer_agency=$(field "json.load(open(sys.argv[1]))['clients'][0]['agency']")
consumer_system=$(field "json.load(open(sys.argv[1]))['clients'][0]['system']")
client_id=$(field "json.load(open(sys.argv[1]))['clients'][0]['client_id']")
client_secret=$(field "json.load(open(sys.argv[1]))['clients'][0]['client_secret']")
admin=$(curl -sf -H 'content-type: application/json' \
    -d "{\"username\":\"agency-admin\",\"password\":\"$password\"}" \
    "$base/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
api() { curl -sf -H "authorization: Bearer $admin" -H 'content-type: application/json' "$@"; }

# Sở Tư pháp's provider system on the nginx upstream, a published service, and a grant of most
# of its fields (with a quota far above the load) to the first demo client's system.
api -d "{\"code\":\"ho-tich-bench\",\"name\":\"Hệ thống hộ tịch (đo hiệu năng)\",\"security_level\":2,
         \"connection\":{\"model\":\"lgsp\"},\"base_url\":\"http://127.0.0.1:$upstream_port\"}" \
    "$base/api/v1/agencies/000.00.03.H35/systems" > /dev/null
service=$(api -d "{\"agency\":\"000.00.03.H35\",\"system\":\"ho-tich-bench\",\"code\":\"khai-sinh\",
    \"version\":\"v1\",\"name\":\"Tra cứu khai sinh\",\"upstream_url\":\"http://127.0.0.1:$upstream_port/api\",
    \"methods\":[\"GET\"],\"sharing_mode\":\"on_request\",\"docs\":\"Đo hiệu năng cổng trao đổi.\",
    \"openapi\":{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"Khai sinh\",\"version\":\"1\"},
                 \"paths\":{\"/khai-sinh.json\":{\"get\":{\"responses\":{\"200\":{\"description\":\"OK\"}}}}}},
    \"shareable_fields\":[\"/so\",\"/ho_ten\",\"/ngay_sinh\",\"/gioi_tinh\",\"/noi_sinh\",\"/cha\",\"/me\",\"/ghi_chu\"]}" \
    "$base/api/v1/services" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api -X POST -d '{}' "$base/api/v1/services/$service/publish" > /dev/null
api -d "{\"consumer\":{\"agency\":\"$consumer_agency\",\"code\":\"$consumer_system\"},
         \"target\":{\"kind\":\"service\",\"id\":$service},
         \"fields\":[\"/so\",\"/ho_ten\",\"/ngay_sinh\",\"/noi_sinh\",\"/ghi_chu\"],
         \"purposes\":[\"TTHC\"]${QUOTA:+,\"per_minute\":$QUOTA}}" "$base/api/v1/grants" > /dev/null
token=$(curl -sf -u "$client_id:$client_secret" -d grant_type=client_credentials "$base/oauth/token" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
cat > "$work/lgsp.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["LGSP-Purpose"] = "TTHC"
LUA
gateway_path="/x/000.00.03.H35/ho-tich-bench/khai-sinh/v1/khai-sinh.json"
echo "== one exchange through lgsp:"
curl -s -D - -o "$work/one.json" -H "authorization: Bearer $token" -H 'lgsp-purpose: TTHC' \
    "$base$gateway_path" | grep -iE '^(HTTP|lgsp-log-index|content-digest|signature-input)' | sed 's/^/   /'
echo "   body: $(wc -c < "$work/one.json") bytes (of 1024: the grant keeps 5 of 9 fields)"

# CPU seconds (user + system) the processes `$@` have used so far.
cpu_seconds() {
    local ticks=0 pid
    for pid in "$@"; do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    python3 -c "print($ticks / $(getconf CLK_TCK))"
}
nginx_workers=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')

# Runs wrk; sets `rps` and `p99` (ms), and the CPU seconds of wrk (`wrk_cpu`), of nginx's
# workers (`nginx_cpu`) and of lgsp (`lgsp_cpu`) during the measured run.
run_wrk() {
    local name=$1 url=$2; shift 2
    wrk -t2 -c64 -d3s "$@" "$url" > /dev/null   # warm-up
    local nginx_before lgsp_before
    nginx_before=$(cpu_seconds $nginx_workers)
    lgsp_before=$(cpu_seconds "$lgsp_pid")
    local TIMEFORMAT='%U %S'
    { time wrk -t2 -c64 -d"$duration" --latency "$@" "$url" > "$work/$name.wrk" ; } 2> "$work/$name.time"
    wrk_cpu=$(awk '{print $1 + $2}' "$work/$name.time")
    nginx_cpu=$(python3 -c "print($(cpu_seconds $nginx_workers) - $nginx_before)")
    lgsp_cpu=$(python3 -c "print($(cpu_seconds "$lgsp_pid") - $lgsp_before)")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$name.wrk")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' "$work/$name.wrk")
    local non2xx; non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$name.wrk")
    [ -n "${SHOW_WRK:-}" ] && cat "$work/$name.wrk"
    echo "   $name: $rps req/s, p99 $p99 ms${non2xx:+, NON-2xx: $non2xx}"
}

echo "== wrk -t2 -c64 -d$duration --latency"
run_wrk nginx "http://127.0.0.1:$proxy_port/api/khai-sinh.json"
nginx_rps=$rps; nginx_p99=$p99
run_wrk lgsp "$base$gateway_path" -s "$work/lgsp.lua"
lgsp_rps=$rps; lgsp_p99=$p99
lgsp_requests=$(awk '/requests in/ {print $1}' "$work/lgsp.wrk")
leaves=$(curl -sf "$base/log/checkpoint" | sed -n 2p)
echo "   log size after the runs: $leaves leaves (one per exchange, each durable before its answer)"
curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk '
    /^lgsp_log_batch_leaves_sum/ {sum=$2} /^lgsp_log_batch_leaves_count/ {count=$2}
    /^lgsp_exchange_duration_seconds_sum/ {dsum+=$2} /^lgsp_exchange_duration_seconds_count/ {dcount+=$2}
    END { if (count) printf "   durable commits: %d, %.1f leaves each on average\n", count, sum/count;
          if (dcount) printf "   lgsp exchange time before the log commit (mean): %.2f ms\n", 1000*dsum/dcount }'

signs=$("$sign_speed" 3 | awk '{print $1}')
python3 - "$nginx_rps" "$lgsp_rps" "$nginx_p99" "$lgsp_p99" "$signs" "$(nproc)" \
    "$lgsp_requests" "$wrk_cpu" "$nginx_cpu" "$lgsp_cpu" <<'PY'
import sys
nr, lr, np_, lp, signs, cores, requests, wrk_cpu, upstream_cpu, lgsp_cpu = map(float, sys.argv[1:11])
t, p = lr / nr, lp / np_
print(f"   throughput lgsp/nginx: {t:.2f}x (target >= 0.6) " + ("OK" if t >= 0.6 else "UNDER"))
print(f"   p99 lgsp/nginx:        {p:.2f}x (target <= 2)   " + ("OK" if p <= 2 else "OVER"))
# What an exchange costs, in CPU microseconds, during the lgsp run: the load generator and the
# upstream share the machine with lgsp.
us = lambda seconds: 1e6 * seconds / requests
sign = 1e6 / signs
print(f"== CPU per exchange in the lgsp run: lgsp {us(lgsp_cpu):.0f} us, wrk {us(wrk_cpu):.0f} us, "
      f"upstream nginx {us(upstream_cpu):.0f} us")
print(f"   Ed25519 (ed25519-dalek, one core): {signs:.0f} signatures/s = {sign:.1f} us; "
      f"two per exchange = {2 * sign:.0f} us")
ceiling = cores * 1e6 / (us(wrk_cpu) + us(upstream_cpu) + 2 * sign)
print(f"   with nothing in lgsp but the two signatures, {cores:.0f} cores would serve at most "
      f"{ceiling:.0f} exchanges/s = {ceiling / nr:.2f}x nginx's throughput")
PY
