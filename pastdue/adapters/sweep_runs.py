"""Where a fanned-out sweep run keeps what its shards did: one document per run in the control container,
{"shards": N, "done": {"<shard>": summary}, "failed": {"<shard>": reason}, "closedAt",
"deletionsLeft"}, written with If-Match. The write that records the last shard also closes the run, so
exactly one shard (whichever finishes last) sends the notices, reports the book and logs the run's one
summary. The run's deletion cap is the `deletionsLeft` counter: a shard takes from it before an account's
visit that would delete, and gives back what the visit did not use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pastdue.domain.codec import format_time

RUN_TTL_SECONDS = 35 * 86_400  # a month of runs to look back on, then Cosmos removes them
TRIES = 50  # shards finishing together retry their If-Match write; each try reads the run again


# The run's document, and the changes each adapter makes to it (Cosmos with If-Match, memory under a lock).
def new_run(run_id: str, shards: int, at: datetime, max_deletions: int) -> dict:
    """A planned run's document: no shard recorded yet, its whole deletion cap left."""
    return {
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


def count_deletions(run: dict, change: int) -> bool:
    """Take from (negative) or give back to the run's deletion cap; False, and nothing changed, when fewer
    are left than taken."""
    left = run.get("deletionsLeft", 0) + change
    if left < 0:
        return False
    run["deletionsLeft"] = left
    return True


def shard_recorded(run: dict, shard: int) -> bool:
    return str(shard) in run["done"] or str(shard) in run["failed"]


def record_shard(run: dict, shard: int, summary: dict | None, failure: str | None, at: datetime | None) -> bool | None:
    """Record a shard's summary (or why it failed for good) in the run: None when there is nothing to write
    (recorded by an earlier try, or the run closed), else whether this record closed the run."""
    if run.get("closedAt") or str(shard) in run["done"]:
        return None
    if failure is None:
        run["done"][str(shard)] = summary or {}
        run["failed"].pop(str(shard), None)
    else:
        run["failed"][str(shard)] = failure
    if len(run["done"]) + len(run["failed"]) < run["shards"]:
        return False
    run["closedAt"] = format_time(at) if at else True
    return True


class SweepRuns(ABC):
    @abstractmethod
    def open(self, run_id: str, shards: int, at: datetime, max_deletions: int) -> bool:
        """Record a planned run; False when it was recorded before (its messages are being sent again)."""

    @abstractmethod
    def take_deletions(self, run_id: str, wanted: int) -> bool:
        """Take `wanted` from the run's deletion cap: False (nothing taken) when fewer are left."""

    @abstractmethod
    def give_back_deletions(self, run_id: str, unused: int) -> None:
        """Return what a visit took and did not delete."""

    @abstractmethod
    def finished(self, run_id: str, shard: int) -> bool:
        """Has this shard of this run been recorded (done or failed)? A redelivered message is skipped."""

    @abstractmethod
    def finish(
        self,
        run_id: str,
        shard: int,
        summary: dict | None = None,
        failure: str | None = None,
        at: datetime | None = None,
    ) -> dict | None:
        """Record a shard's summary (or why it failed for good). Returns the run document when this write
        closed the run (every shard recorded), else None."""
