"""Time MatterSearchIndex.search on the shipped catalog: median and p99 per query, in µs.

Usage: .venv/bin/python scripts/bench/catalog_search_bench.py [--rounds N]
Budget (issue): under 1 ms per query on the 179 matters.
"""

from __future__ import annotations

import argparse
import statistics
import time

from matters_catalog.loader import load_catalog
from matters_catalog.search import MatterSearchIndex

QUERIES = [
    "",
    "敬老卡",
    "jlk",
    "jinglaoka",
    "居住证",
    "jzz",
    "juzhuzheng",
    "公积金",
    "gjj",
    "档案查询",
    "医保",
    "静老卡",
    "残疾人证",
    "shebaoka",
    "不存在的事项",
    "zzzz",
    "%' OR 1=1 --",
    ".*",
    "[",
    "a" * 10_000,
]
BUDGET_US = 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    index = MatterSearchIndex(load_catalog().matters)
    print(f"index build: {(time.perf_counter() - started) * 1000:.1f} ms (once, at startup)")
    samples: list[float] = []
    per_query: dict[str, list[float]] = {query: [] for query in QUERIES}
    for query in QUERIES:  # warm-up
        index.search(query)
    for _ in range(args.rounds):
        for query in QUERIES:
            t0 = time.perf_counter_ns()
            index.search(query)
            elapsed = (time.perf_counter_ns() - t0) / 1000
            samples.append(elapsed)
            per_query[query].append(elapsed)
    for query, times in per_query.items():
        label = query if len(query) <= 20 else query[:10] + f"…({len(query)} chars)"
        print(f"  {label!r:32} median {statistics.median(times):7.1f} µs")
    samples.sort()
    median = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"{len(samples)} queries over {len(index.search())} matters: median {median:.1f} µs, p99 {p99:.1f} µs")
    within = p99 < BUDGET_US
    print("within budget (p99 < 1000 µs)" if within else "OVER BUDGET (p99 >= 1000 µs)")
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
