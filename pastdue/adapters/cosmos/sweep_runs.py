"""The sweep runs' record on Cosmos DB: one document per run in the control container, written with
If-Match (the port and the document's shape: pastdue/adapters/sweep_runs.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.cosmos import ContainerProxy, exceptions

from pastdue.adapters.cosmos.connection import read_or_none, transient_as_unavailable
from pastdue.adapters.store import StoreUnavailable
from pastdue.adapters.sweep_runs import TRIES, SweepRuns, count_deletions, new_run, record_shard, shard_recorded


class CosmosSweepRuns(SweepRuns):
    def __init__(self, container: ContainerProxy):
        self._container = container

    def open(self, run_id: str, shards: int, at: datetime, max_deletions: int) -> bool:
        try:
            with transient_as_unavailable():
                self._container.create_item(new_run(run_id, shards, at, max_deletions))
            return True
        except exceptions.CosmosResourceExistsError:
            return False

    def take_deletions(self, run_id: str, wanted: int) -> bool:
        return self._count(run_id, -wanted)

    def give_back_deletions(self, run_id: str, unused: int) -> None:
        self._count(run_id, unused)

    def _count(self, run_id: str, change: int) -> bool:
        def count(doc: dict) -> tuple[bool, bool]:
            counted = count_deletions(doc, change)
            return counted, counted

        # A run the ledger does not know deletes nothing.
        return self._update(run_id, count, False, "its deletion cap could not be counted")

    def finished(self, run_id: str, shard: int) -> bool:
        with transient_as_unavailable():
            doc = read_or_none(self._container, run_id, run_id)
        return doc is not None and shard_recorded(doc, shard)

    def finish(
        self,
        run_id: str,
        shard: int,
        summary: dict | None = None,
        failure: str | None = None,
        at: datetime | None = None,
    ) -> dict | None:
        def record(doc: dict) -> tuple[bool, dict | None]:
            closing = record_shard(doc, shard, summary, failure, at)
            if closing is None:
                return False, None  # this shard was recorded by an earlier try, or the run is closed
            return True, doc if closing else None

        return self._update(run_id, record, None, f"shard {shard} could not be recorded")

    def _update(self, run_id: str, step: Callable[[dict], tuple[bool, Any]], unknown: Any, busy: str) -> Any:
        """Read the run, let `step` change it (it says whether to write, and what to answer), write it
        If-Match; when another shard wrote meanwhile, read and step again. `unknown` answers for a run the
        ledger does not know."""
        for _ in range(TRIES):
            with transient_as_unavailable():
                doc = read_or_none(self._container, run_id, run_id)
            if doc is None:
                return unknown
            write, answer = step(doc)
            if not write:
                return answer
            try:
                with transient_as_unavailable():
                    self._container.replace_item(
                        run_id, doc, etag=doc["_etag"], match_condition=MatchConditions.IfNotModified
                    )
            except exceptions.CosmosAccessConditionFailedError:
                continue  # another shard wrote meanwhile: read its change and make ours again
            return answer
        raise StoreUnavailable(f"sweep run {run_id}: {busy} (busy)")
