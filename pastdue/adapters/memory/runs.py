"""The sweep runs' record in memory (the port and the document's shape: pastdue/adapters/sweep_runs.py; on
Cosmos: cosmos/sweep_runs.py). Each run is the document the Cosmos adapter keeps, changed under one lock as
its If-Match writes change it one at a time."""

from __future__ import annotations

import copy
import threading
from datetime import datetime

from pastdue.adapters.sweep_runs import RUN_TTL_SECONDS, SweepRuns
from pastdue.domain.codec import format_time


class MemorySweepRuns(SweepRuns):
    def __init__(self) -> None:
        self.runs: dict[str, dict] = {}
        self._lock = threading.Lock()

    def open(self, run_id: str, shards: int, at: datetime, max_deletions: int) -> bool:
        with self._lock:
            if run_id in self.runs:
                return False
            self.runs[run_id] = {
                "id": run_id,
                "type": "sweepRun",
                "shards": shards,
                "plannedAt": format_time(at),
                "done": {},
                "failed": {},
                "closedAt": None,
                "deletionsLeft": max_deletions,
                "ttl": RUN_TTL_SECONDS,
            }
            return True

    def take_deletions(self, run_id: str, wanted: int) -> bool:
        return self._count(run_id, -wanted)

    def give_back_deletions(self, run_id: str, unused: int) -> None:
        self._count(run_id, unused)

    def _count(self, run_id: str, change: int) -> bool:
        with self._lock:
            run = self.runs.get(run_id)
            if run is None or run["deletionsLeft"] + change < 0:
                return False  # a run the record does not know deletes nothing
            run["deletionsLeft"] += change
            return True

    def finished(self, run_id: str, shard: int) -> bool:
        with self._lock:
            run = self.runs.get(run_id)
            return run is not None and (str(shard) in run["done"] or str(shard) in run["failed"])

    def finish(
        self,
        run_id: str,
        shard: int,
        summary: dict | None = None,
        failure: str | None = None,
        at: datetime | None = None,
    ) -> dict | None:
        with self._lock:
            run = self.runs.get(run_id)
            if run is None or run["closedAt"] or str(shard) in run["done"]:
                return None  # recorded by an earlier try, or the run is closed
            if failure is None:
                run["done"][str(shard)] = copy.deepcopy(summary or {})
                run["failed"].pop(str(shard), None)
            else:
                run["failed"][str(shard)] = failure
            if len(run["done"]) + len(run["failed"]) < run["shards"]:
                return None
            run["closedAt"] = format_time(at) if at else True
            return copy.deepcopy(run)
