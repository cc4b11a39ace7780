"""One client, keep-alive, sequential GETs of `URL_TEMPLATE` with {key} random in 1..N.

Usage: python3 latency.py URL_TEMPLATE N REQUESTS
Prints: requests, req/s, p50/p95/p99/max in ms. Exits non-zero if any answer is not 200 or empty.
"""
import http.client
import random
import sys
import time
import urllib.parse

template, n, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
url = urllib.parse.urlsplit(template.format(key=1))
conn = http.client.HTTPConnection(url.hostname, url.port)
rng = random.Random(13)
times = []
start = time.perf_counter()
for _ in range(count):
    key = rng.randint(1, n)
    target = urllib.parse.urlsplit(template.format(key=key))
    path = target.path + ("?" + target.query if target.query else "")
    t0 = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    times.append(time.perf_counter() - t0)
    if response.status != 200 or str(key).encode() not in body:
        sys.exit(f"unexpected answer {response.status} for {path}: {body[:200]!r}")
elapsed = time.perf_counter() - start
times.sort()
pct = lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000
print(f"{count} requests, {count / elapsed:.0f} req/s, p50 {pct(0.50):.2f} ms, "
      f"p95 {pct(0.95):.2f} ms, p99 {pct(0.99):.2f} ms, max {times[-1] * 1000:.2f} ms")
