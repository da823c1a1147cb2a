"""A fanned-out run's record against the local Cosmos: a redelivered shard is not swept again, a shard
that fails on its last try is recorded as failed and the run still closes, once; the deletion cap is
never overdrawn; runs back to back do nothing twice."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos import CosmosAccountStore
from pastdue.adapters.cosmos.sweep_runs import CosmosSweepRuns
from pastdue.domain import events as ev
from pastdue.domain.money import Money
from pastdue.domain.shards import plan
from pastdue.services.change import change
from pastdue.services.sweep import ShardGaveUp, sweep_shard
from tests.support.history import full_history
from tests.unit.builders import account


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
    with pytest.raises(ShardGaveUp) as gave_up:
        sweep_shard(broken, runs, first, 60, last_try=True)  # to the poison queue, recorded as failed
    assert isinstance(gave_up.value.__cause__, Broken) and gave_up.value.summary is None  # shard 1 still to do
    assert runs.finished(first.run_id, 0)
    summary = sweep_shard(deps, runs, second, 60, last_try=False)
    assert summary is not None
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


def test_runs_planned_back_to_back_do_nothing_twice(deps, clock):
    """The sweep may run hourly or more often: a second run finds only what is still due."""
    acc = account()
    acc.account_id = f"hourly-{clock.now().timestamp():.0f}-{id(acc) % 10000}"
    deps.store.create(acc)
    failed_at = clock.now() - timedelta(days=3, hours=1)  # the day-1 and day-3 retries and the day-3 reminder
    change(
        deps,
        acc.account_id,
        ev.ChargeFailed("e-hourly", "sub-0", "c-hourly", Money(700, "EUR"), "card_declined", failed_at),
    )
    runs = CosmosSweepRuns(bootstrap.container("control"))

    def run() -> list:
        tasks = plan(clock.now(), 4)
        runs.open(tasks[0].run_id, 4, clock.now(), max_deletions=10)
        for task in tasks:
            sweep_shard(deps, runs, task, 60, last_try=False)
        return full_history(deps.store, acc.account_id)

    first = run()
    kinds = [h["kind"] for h in first]
    assert "charge.declined" in kinds and kinds.count("notice.queued") >= 2  # a retry, the failure's notice, a reminder
    second = run()
    assert second == first  # nothing recorded, nothing charged, nothing queued again
    clock.advance(timedelta(hours=1))
    assert run() == first


def test_a_shard_that_gives_up_last_still_closes_the_run_with_its_failure_counted(clock, deps):
    runs = CosmosSweepRuns(bootstrap.container("control"))
    first, second = plan(clock.now(), 2)
    runs.open(first.run_id, 2, clock.now(), max_deletions=10)
    assert sweep_shard(deps, runs, second, 60, last_try=False) is None  # shard 0 still to come
    with pytest.raises(ShardGaveUp) as gave_up:
        sweep_shard(_broken(deps), runs, first, 60, last_try=True)
    summary = gave_up.value.summary  # the handler closes the run with it, then the message is poisoned
    assert summary is not None
    assert summary["shards"] == 2 and summary["shardsFailed"] == 1 and summary["runId"] == first.run_id
