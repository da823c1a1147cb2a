"""A fanned-out run's record against the local Cosmos: a redelivered shard is not swept again, a shard
that fails on its last try is recorded as failed and the run still closes, once."""

from __future__ import annotations

import dataclasses

import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos import CosmosAccountStore
from pastdue.adapters.sweep_runs import CosmosSweepRuns
from pastdue.domain.shards import plan
from pastdue.services.sweep import sweep_shard


class Broken(RuntimeError):
    pass


@pytest.fixture()
def deps(app_env):
    return dataclasses.replace(bootstrap.deps(), after_notices_queued=None)


class BrokenQuery(CosmosAccountStore):
    def due(self, *args, **kwargs):
        raise Broken("the shard's query cannot run")


def _broken(deps):
    return dataclasses.replace(deps, store=BrokenQuery(bootstrap.container("accounts")))


def test_a_failing_shard_is_retried_then_recorded_failed_and_the_run_closes_once(clock, deps):
    runs = CosmosSweepRuns(bootstrap.container("control"))
    first, second = plan(clock.now(), 2)
    assert runs.open(first.run_id, 2, clock.now(), max_deletions=10)
    assert not runs.open(first.run_id, 2, clock.now(), max_deletions=10)  # recorded once
    broken = _broken(deps)
    with pytest.raises(Broken):
        sweep_shard(broken, runs, first, 60, last_try=False)  # the queue hands it out again
    assert not runs.finished(first.run_id, 0)
    with pytest.raises(Broken):
        sweep_shard(broken, runs, first, 60, last_try=True)  # to the poison queue, recorded as failed
    assert runs.finished(first.run_id, 0)
    summary = sweep_shard(deps, runs, second, 60, last_try=False)
    assert summary["shards"] == 2 and summary["shardsFailed"] == 1 and summary["runId"] == first.run_id
    run = bootstrap.container("control").read_item(first.run_id, partition_key=first.run_id)
    assert run["closedAt"] and list(run["done"]) == ["1"] and "Broken" in run["failed"]["0"]
    # Redelivered after the run closed: not swept again (a broken store is never asked), nothing recorded.
    assert sweep_shard(broken, runs, second, 60, last_try=False) is None
    assert sweep_shard(broken, runs, first, 60, last_try=True) is None
    again = bootstrap.container("control").read_item(first.run_id, partition_key=first.run_id)
    assert (again["done"], again["failed"], again["closedAt"]) == (run["done"], run["failed"], run["closedAt"])


def test_the_deletion_cap_is_never_overdrawn_by_racing_shards(deps, clock):
    from concurrent.futures import ThreadPoolExecutor

    runs = CosmosSweepRuns(bootstrap.container("control"))
    task = plan(clock.now(), 1)[0]
    runs.open(task.run_id, 1, clock.now(), max_deletions=7)
    with ThreadPoolExecutor(6) as pool:
        taken = sum(pool.map(lambda _: runs.take_deletions(task.run_id, 1), range(20)))
    assert taken == 7
    runs.give_back_deletions(task.run_id, 2)
    assert runs.take_deletions(task.run_id, 2) and not runs.take_deletions(task.run_id, 1)
