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

from azure.core import MatchConditions
from azure.cosmos import ContainerProxy, exceptions

from pastdue.adapters.cosmos import read_or_none, transient_as_unavailable
from pastdue.adapters.store import StoreUnavailable
from pastdue.domain.codec import format_time

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
    def finish(self, run_id: str, shard: int, summary: dict | None = None, failure: str | None = None,
               at: datetime | None = None) -> dict | None:
        """Record a shard's summary (or why it failed for good). Returns the run document when this write
        closed the run (every shard recorded), else None."""


class CosmosSweepRuns(SweepRuns):
    def __init__(self, container: ContainerProxy):
        self._container = container

    def open(self, run_id: str, shards: int, at: datetime, max_deletions: int) -> bool:
        try:
            with transient_as_unavailable():
                self._container.create_item({"id": run_id, "type": "sweepRun", "shards": shards,
                                             "plannedAt": format_time(at), "done": {}, "failed": {},
                                             "closedAt": None, "deletionsLeft": max_deletions,
                                             "ttl": RUN_TTL_SECONDS})
            return True
        except exceptions.CosmosResourceExistsError:
            return False

    def take_deletions(self, run_id: str, wanted: int) -> bool:
        return self._count(run_id, -wanted)

    def give_back_deletions(self, run_id: str, unused: int) -> None:
        self._count(run_id, unused)

    def _count(self, run_id: str, change: int) -> bool:
        for _ in range(TRIES):
            with transient_as_unavailable():
                doc = read_or_none(self._container, run_id, run_id)
            if doc is None or doc.get("deletionsLeft", 0) + change < 0:
                return False  # a run the ledger does not know deletes nothing
            doc["deletionsLeft"] = doc.get("deletionsLeft", 0) + change
            try:
                with transient_as_unavailable():
                    self._container.replace_item(run_id, doc, etag=doc["_etag"],
                                                 match_condition=MatchConditions.IfNotModified)
                return True
            except exceptions.CosmosAccessConditionFailedError:
                continue  # another shard took or gave back meanwhile: count again
        raise StoreUnavailable(f"sweep run {run_id}: its deletion cap could not be counted (busy)")

    def finished(self, run_id: str, shard: int) -> bool:
        with transient_as_unavailable():
            doc = read_or_none(self._container, run_id, run_id)
        return doc is not None and (str(shard) in doc["done"] or str(shard) in doc["failed"])

    def finish(self, run_id: str, shard: int, summary: dict | None = None, failure: str | None = None,
               at: datetime | None = None) -> dict | None:
        for _ in range(TRIES):
            with transient_as_unavailable():
                doc = read_or_none(self._container, run_id, run_id)
            if doc is None or doc.get("closedAt") or str(shard) in doc["done"]:
                return None  # a run the ledger no longer knows, or this shard was recorded by an earlier try
            if failure is None:
                doc["done"][str(shard)] = summary or {}
                doc["failed"].pop(str(shard), None)
            else:
                doc["failed"][str(shard)] = failure
            closing = len(doc["done"]) + len(doc["failed"]) >= doc["shards"]
            if closing:
                doc["closedAt"] = format_time(at) if at else True
            try:
                with transient_as_unavailable():
                    self._container.replace_item(run_id, doc, etag=doc["_etag"],
                                                 match_condition=MatchConditions.IfNotModified)
            except exceptions.CosmosAccessConditionFailedError:
                continue  # another shard finished at the same time: read its record and add ours
            return doc if closing else None
        raise StoreUnavailable(f"sweep run {run_id}: shard {shard} could not be recorded (busy)")
