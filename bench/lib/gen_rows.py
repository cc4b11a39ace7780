"""Writes N rows x 10 columns of CSV (mixed types) for the hosted-data benchmarks.

Usage: python3 gen_rows.py N OUT.csv   (deterministic: the same N gives the same file)
"""
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(47)
levels = ["tinh", "huyen", "xa"]
districts = ["347", "349", "350", "351", "352", "353"]
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write("ma,ten,cap,ma_huyen,dan_so,dien_tich,thanh_lap,cap_nhat,hoat_dong,ghi_chu\n")
    for i in range(1, n + 1):
        f.write(
            f"{i},Đơn vị số {i},{levels[i % 3]},{districts[i % 6]},{rng.randint(100, 200000)},"
            f"{rng.uniform(0.5, 300):.3f},19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)},"
            f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:30:00Z,"
            f"{'true' if i % 7 else 'false'},\"Ghi chú, dòng {i}\"\n"
        )
