"""Sweep cost against the local Cosmos: 10,000 and 100,000 accounts of which the same 1,000 are due.

Prints the requests and items the sweep read, their ratio to the minimum (query pages + one write per
due account), peak Python memory during the sweep, and throughput. Usage: python -m bench.sweep [sizes...]

Fanned out: python -m bench.sweep --shards N --processes P [P ...] runs one sweep of N shards through the
queue with P worker processes (bench/fanout.py).
"""

from __future__ import annotations

import math
import sys
import time
import tracemalloc
from datetime import UTC, datetime

from bench.common import RequestCounter, counted_deps, machine, start_cosmos
from bench.seeding import DUE, seed


def run(total: int) -> dict:
    from pastdue import bootstrap
    from pastdue.services.sweep import PAGE_SIZE, run_sweep

    bootstrap.reset()
    database = f"bench_{total}_{int(time.time())}"
    counter = RequestCounter()
    deps, db = counted_deps(counter, database)
    now = datetime.now(UTC)
    started = time.perf_counter()
    seed(db.get_container_client("accounts"), total, now)
    seeding = time.perf_counter() - started
    counter.reset()
    tracemalloc.start()
    started = time.perf_counter()
    summary = run_sweep(deps, budget_seconds=3600)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The floor: the query pages, and for each due account its write plus the archive chunk of the records
    # its document held (the document keeps one write's records; docs/design.md, Storage).
    minimum = math.ceil(DUE / PAGE_SIZE) + 2 * DUE
    return {
        "total": total,
        "due": summary["accountsSeen"],
        "requests": counter.counts["requests"],
        "queryPages": counter.counts["queryPages"],
        "itemsRead": counter.counts["itemsRead"],
        "writes": counter.counts["writes"],
        "minimumRequests": minimum,
        "requestsRatio": counter.counts["requests"] / minimum,
        "itemsRatio": counter.counts["itemsRead"] / DUE,
        "peakMiB": peak / 2**20,
        "seconds": elapsed,
        "duePerSecond": summary["accountsSeen"] / elapsed,
        "seedSeconds": seeding,
    }


def main(sizes: list[int]) -> None:
    standins = start_cosmos()
    try:
        print(f"machine: {machine()}")
        print(
            f"inputs: {DUE} due accounts (invoice payers at their day-3 reminder) among each total; page size "
            f"from pastdue.services.sweep"
        )
        rows = [run(total) for total in sizes]
        print(
            f"{'total':>8} {'due':>5} {'requests':>8} {'min':>5} {'req/min':>7} {'items':>6} {'items/due':>9} "
            f"{'peak MiB':>8} {'due/s':>6}"
        )
        for r in rows:
            print(
                f"{r['total']:>8} {r['due']:>5} {r['requests']:>8} {r['minimumRequests']:>5} "
                f"{r['requestsRatio']:>7.3f} {r['itemsRead']:>6} {r['itemsRatio']:>9.3f} {r['peakMiB']:>8.1f} "
                f"{r['duePerSecond']:>6.0f}"
            )
        if len(rows) > 1:
            print(
                f"peak memory ratio largest/smallest total: {rows[-1]['peakMiB'] / rows[0]['peakMiB']:.2f} "
                f"(goal: flat); goals: items/due <= 1.05, req/min <= 1.1"
            )
    finally:
        if standins:
            standins.stop()


if __name__ == "__main__":
    if any(a.startswith("--") for a in sys.argv[1:]):
        from bench import fanout

        fanout.main(*fanout.parse(sys.argv[1:]))
    else:
        main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
