"""Adds N exchanges spread over YEAR (Viet Nam time) to the exchange index of a SQLite store
that has the demo province, for the annual report benchmark. Only the index is written (the
report reads it, not the leaves); the rows look like the gateway's: providers and consumers
drawn from the agencies, about 2% refused.

Usage: python3 gen_exchanges.py STORE.db YEAR N   (deterministic for the same arguments)
"""
import datetime
import random
import sqlite3
import sys

path, year, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(17)
db = sqlite3.connect(path)
agencies = [row[0] for row in db.execute("SELECT code FROM agencies ORDER BY code")]
providers = agencies[: max(1, len(agencies) // 2)]
start = datetime.datetime(year, 1, 1, tzinfo=datetime.timezone.utc) - datetime.timedelta(hours=7)
span = 365 * 86400
first = (db.execute("SELECT COALESCE(MAX(log_index), -1) + 1 FROM exchanges").fetchone()[0])
seconds = sorted(rng.randrange(span) for _ in range(n))


def rows():
    for i, offset in enumerate(seconds):
        at = start + datetime.timedelta(seconds=offset, microseconds=rng.randrange(1_000_000))
        provider = rng.choice(providers)
        consumer = rng.choice(agencies)
        refused = "grant_suspended" if rng.random() < 0.02 else None
        yield (
            first + i,
            at.isoformat(timespec="microseconds"),
            f"bench-{i}",
            consumer,
            "he-thong",
            provider,
            f"{provider}/he-thong/dich-vu/v1",
            "TTHC",
            "GET",
            403 if refused else 200,
            refused,
            0 if refused else 800,
            1500,
        )


db.executemany(
    "INSERT INTO exchanges (log_index, at, request_id, consumer_agency, consumer_system,"
    " provider_agency, target, purpose, method, status, refusal, response_bytes, latency_micros)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    rows(),
)
db.commit()
db.close()
print(f"   {n} exchanges added")
