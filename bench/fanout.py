"""The sweep fanned out: one run of N shards through the queue (Azurite), swept by P worker processes, each
a stand-in for one Functions instance (the app's own sweep_shard path: queue message, shard sweep, run
ledger), against the local Cosmos.

Prints, for each P: due accounts per second from plan to the run's close, items read per due account, Cosmos
requests per due account against the floor (the shard's query pages, and per due account its write and the
archive chunk of the records it held), and whether any account was visited twice.

Usage: python -m bench.sweep --shards 8 --processes 1 2 4   (or python -m bench.fanout ...)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from bench.common import ROOT, RequestCounter, counted_deps, machine, start_cosmos

WORKER_ENV = "BENCH_FANOUT_WORKER"


def worker(database: str, queue_name: str, connection: str) -> None:
    """One instance: take shard messages until the queue is empty and the run is closed; print what it did."""
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy

    from pastdue.adapters.cosmos.sweep_runs import CosmosSweepRuns
    from pastdue.adapters.shard_queue import read_task
    from pastdue.services.sweep import sweep_shard

    counter = RequestCounter(container="accounts")
    deps, db = counted_deps(counter, database)
    visited: list[str] = []
    due = deps.store.due

    def recording_due(now, page_size, slots=None):
        for page in due(now, page_size, slots):
            visited.extend(a.account_id for a in page)
            yield page

    deps.store.due = recording_due
    runs = CosmosSweepRuns(db.get_container_client("control"))
    queue = QueueClient.from_connection_string(connection, queue_name, message_decode_policy=TextBase64DecodePolicy())
    shards, cpu = 0, time.process_time()
    while True:
        messages = list(queue.receive_messages(max_messages=1, visibility_timeout=600))
        if not messages:
            if queue.get_queue_properties().approximate_message_count == 0:
                break
            time.sleep(0.05)
            continue
        task = read_task(messages[0].content)
        sweep_shard(deps, runs, task, budget_seconds=3600, last_try=False)
        queue.delete_message(messages[0])
        shards += 1
    print(
        json.dumps({"visited": visited, "counts": counter.counts, "shards": shards, "cpu": time.process_time() - cpu})
    )


def seed_database(total: int, now: datetime) -> str:
    from bench.seeding import seed

    database = f"fanout_{uuid.uuid4().hex[:8]}"
    _, db = counted_deps(RequestCounter(), database)
    seed(db.get_container_client("accounts"), total, now)
    return database


def run(processes: int, shard_count: int, total: int, connection: str) -> dict:
    from bench.seeding import DUE
    from pastdue.adapters.cosmos.sweep_runs import CosmosSweepRuns
    from pastdue.adapters.storage_queue import StorageShardQueue
    from pastdue.services.sweep import PAGE_SIZE, plan_sweep

    now = datetime.now(UTC)
    database = seed_database(total, now)
    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    queue = StorageShardQueue(queue_name, connection)
    queue.create()
    deps, db = counted_deps(RequestCounter(), database)
    runs = CosmosSweepRuns(db.get_container_client("control"))
    env = {**os.environ, WORKER_ENV: json.dumps([database, queue_name, connection])}
    started = time.perf_counter()
    planned = plan_sweep(deps, runs, queue, shard_count, max_deletions=100)
    workers = [
        subprocess.Popen([sys.executable, "-m", "bench.fanout"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    reports = [json.loads(w.communicate(timeout=1800)[0].strip().splitlines()[-1]) for w in workers]
    elapsed = time.perf_counter() - started
    run_doc = db.get_container_client("control").read_item(planned["runId"], partition_key=planned["runId"])
    visited = Counter(a for r in reports for a in r["visited"])
    counts = sum((Counter(r["counts"]) for r in reports), Counter())
    # The floor: each shard's query pages (at least one, even when empty), and per due account its write and
    # the archive chunk of the records its document held (docs/design.md, Storage).
    minimum = sum(max(1, math.ceil(s.get("accountsSeen", 0) / PAGE_SIZE)) for s in run_doc["done"].values()) + 2 * DUE
    return {
        "processes": processes,
        "shards": shard_count,
        "due": len(visited),
        "seconds": elapsed,
        "duePerSecond": len(visited) / elapsed,
        "itemsPerDue": counts["itemsRead"] / max(1, len(visited)),
        "requestsRatio": counts["requests"] / minimum,
        "ruPerDue": counts["estimatedRU"] / max(1, len(visited)),
        "visitedTwice": sum(1 for n in visited.values() if n > 1),
        "closed": bool(run_doc["closedAt"]),
        "counts": dict(counts),
        "shardsPerWorker": [r["shards"] for r in reports],
        "cpuPerDueMs": 1000 * sum(r["cpu"] for r in reports) / max(1, len(visited)),
    }


def main(shard_count: int, processes: list[int], total: int) -> None:
    from bench.seeding import DUE

    standins = start_cosmos()
    try:
        connection = standins.queue_connection() if standins else os.environ["SweepQueue"]  # noqa: SIM112
        print(f"machine: {machine()}")
        print(
            f"inputs: {DUE} due accounts among {total}, a run of {shard_count} shards on one Azurite queue, "
            f"worker processes {processes}; one local Cosmos stand-in (single-threaded Node) serves them all"
        )
        rows = [run(p, shard_count, total, connection) for p in processes]
        print(
            f"{'procs':>5} {'shards':>6} {'due':>5} {'seconds':>7} {'due/s':>6} {'items/due':>9} {'req/min':>7} "
            f"{'RU/due':>6} {'twice':>5} {'closed':>6} {'CPU ms/due':>10}  shards per worker"
        )
        for r in rows:
            print(
                f"{r['processes']:>5} {r['shards']:>6} {r['due']:>5} {r['seconds']:>7.1f} {r['duePerSecond']:>6.0f} "
                f"{r['itemsPerDue']:>9.2f} {r['requestsRatio']:>7.3f} {r['ruPerDue']:>6.1f} {r['visitedTwice']:>5} "
                f"{str(r['closed']):>6} "
                f"{r['cpuPerDueMs']:>10.2f}  {r['shardsPerWorker']}"
            )
        base = rows[0]["duePerSecond"]
        print("requests by kind (first row):", {k: v for k, v in rows[0]["counts"].items() if k != "estimatedRU"})
        ups = [f"{r['processes']} processes {r['duePerSecond'] / base:.2f}" for r in rows]
        print("speed-up against the first row: " + ", ".join(ups))
    finally:
        if standins:
            standins.stop()


def parse(argv: list[str]) -> tuple[int, list[int], int]:
    import argparse

    parser = argparse.ArgumentParser(prog="bench.fanout", description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--total", type=int, default=5_000, help="accounts in the book (1,000 of them due)")
    args = parser.parse_args(argv)
    return args.shards, args.processes, args.total


if __name__ == "__main__":
    if os.environ.get(WORKER_ENV):
        worker(*json.loads(os.environ[WORKER_ENV]))
    else:
        main(*parse(sys.argv[1:]))
