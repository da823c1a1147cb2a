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

RUN_TTL_SECONDS = 35 * 86_400  # a month of runs to look back on, then Cosmos removes them
TRIES = 50  # shards finishing together retry their If-Match write; each try reads the run again


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
