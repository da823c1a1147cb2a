"""The sweep runs' record in memory (the port and the document's shape: pastdue/adapters/sweep_runs.py; on
Cosmos: cosmos/sweep_runs.py). Each run is the document the Cosmos adapter keeps, changed under one lock as
its If-Match writes change it one at a time."""

from __future__ import annotations

import copy
import threading
from datetime import datetime

from pastdue.adapters.sweep_runs import SweepRuns, count_deletions, new_run, record_shard, shard_recorded


class MemorySweepRuns(SweepRuns):
    def __init__(self) -> None:
        self.runs: dict[str, dict] = {}
        self._lock = threading.Lock()

    def open(self, run_id: str, shards: int, at: datetime, max_deletions: int) -> bool:
        with self._lock:
            if run_id in self.runs:
                return False
            self.runs[run_id] = new_run(run_id, shards, at, max_deletions)
            return True

    def take_deletions(self, run_id: str, wanted: int) -> bool:
        return self._count(run_id, -wanted)

    def give_back_deletions(self, run_id: str, unused: int) -> None:
        self._count(run_id, unused)

    def _count(self, run_id: str, change: int) -> bool:
        with self._lock:
            run = self.runs.get(run_id)
            return run is not None and count_deletions(run, change)  # a run the record does not know deletes nothing

    def finished(self, run_id: str, shard: int) -> bool:
        with self._lock:
            run = self.runs.get(run_id)
            return run is not None and shard_recorded(run, shard)

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
            if run is None or not record_shard(run, shard, copy.deepcopy(summary), failure, at):
                return None  # recorded by an earlier try, the run is closed, or shards are still to come
            return copy.deepcopy(run)
