"""The deletion safety valve: one sweep starts at most SWEEP_MAX_DELETIONS deletions; a dry run deletes
nothing and records what it would have deleted; the rest waits for the next runs."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from pastdue import bootstrap
from pastdue.adapters.documents import to_document
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import INVOICE, Account, Admin, Subscription
from pastdue.domain.money import Money
from pastdue.services.sweep import run_sweep
from tests.support.history import full_history

DUE = 5


def _disabled_past_deletion(now, run: str) -> list[str]:
    """Invoice payers disabled 91 days ago: their deletion is due."""
    policy, ids = bootstrap.deps().policy, []
    for n in range(DUE):
        account = Account(f"cap-{run}-{n}", Admin("oid", f"c{n}@example.com", "Ada"), payment_mode=INVOICE)
        account.subscriptions["s"] = Subscription("s", "Lab")
        start = now - timedelta(days=125)
        account, _ = decide(
            account, ev.ChargeFailed(f"e{n}", "s", f"c{n}", Money(100, "EUR"), None, start), policy, start
        )
        account, _ = decide(account, ev.SweepTick(allow_purge=False), policy, start + timedelta(days=31))
        account.outbox = []
        bootstrap.container("accounts").create_item(to_document(account))
        ids.append(account.account_id)
    return ids


@pytest.fixture()
def deps(app_env):
    yield dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    container = bootstrap.container("accounts")
    for item in list(
        container.query_items(
            "SELECT c.id, c.accountId FROM c WHERE STARTSWITH(c.accountId, 'cap-')", enable_cross_partition_query=True
        )
    ):
        container.delete_item(item["id"], partition_key=item["accountId"])  # the accounts and their archives


def _states(deps, ids):
    return [deps.store.get(i).subscriptions["s"].state for i in ids]


def test_a_sweep_deletes_no_more_than_its_cap_and_the_next_run_goes_on(clock, deps):
    ids = _disabled_past_deletion(clock.now(), uuid.uuid4().hex[:6])
    assert _states(deps, ids) == ["disabled"] * DUE
    first = run_sweep(deps, 600, max_deletions=2)
    assert first["deletionsStarted"] == 2 and first["deletionsHeld"] == 3
    assert sorted(_states(deps, ids)) == ["deleted"] * 2 + ["disabled"] * 3
    second = run_sweep(deps, 600, max_deletions=2)
    assert second["deletionsStarted"] == 2 and second["deletionsHeld"] == 1
    third = run_sweep(deps, 600, max_deletions=2)
    assert third["deletionsStarted"] == 1 and "deletionsHeld" not in third
    assert _states(deps, ids) == ["deleted"] * DUE


def test_a_dry_run_deletes_nothing_and_records_what_it_would_delete(clock, deps):
    ids = _disabled_past_deletion(clock.now(), uuid.uuid4().hex[:6])
    summary = run_sweep(deps, 600, max_deletions=100, dry_run=True)
    assert summary.get("deletionsStarted", 0) == 0 and summary["deletionsDryRun"] == DUE
    assert _states(deps, ids) == ["disabled"] * DUE
    for account_id in ids:
        kinds = [h["kind"] for h in full_history(deps.store, account_id)]
        assert "subscription.deletion.dry_run" in kinds and "subscription.data.deleted" not in kinds


def test_a_fanned_out_run_shares_one_cap_between_its_shards(clock, deps):
    """Four shards, a cap of 2: together they start 2 deletions, whichever shards hold the accounts (a cap
    split in shares would leave a shard with a share of 0 unable to delete ever)."""
    from pastdue.adapters.cosmos.sweep_runs import CosmosSweepRuns
    from pastdue.domain.shards import plan, slot_of
    from pastdue.services.sweep import sweep_shard

    run = next(
        r
        for r in (uuid.uuid4().hex[:6] for _ in range(1000))
        if len({slot_of(f"cap-{r}-{n}") % 4 for n in range(DUE)}) >= 3
    )  # accounts in several shards
    ids = _disabled_past_deletion(clock.now(), run)
    runs = CosmosSweepRuns(bootstrap.container("control"))

    def run_of_four() -> dict:
        tasks = plan(clock.now(), 4)
        runs.open(tasks[0].run_id, 4, clock.now(), max_deletions=2)
        closed = [sweep_shard(deps, runs, task, 600, last_try=False) for task in tasks]
        assert closed[:3] == [None, None, None]  # the last shard recorded closes the run
        run = bootstrap.container("control").read_item(tasks[0].run_id, partition_key=tasks[0].run_id)
        # The run's cap of 2, less what its shards started: never below 0, nothing reserved and not given back.
        summary = closed[3]
        assert summary is not None
        started = summary.get("deletionsStarted", 0)
        assert 0 <= started <= 2 and run["deletionsLeft"] == 2 - started, (run, summary)
        return summary

    first = run_of_four()
    assert first["deletionsStarted"] == 2 and first["deletionsHeld"] == 3 and first["shards"] == 4
    assert sorted(_states(deps, ids)) == ["deleted"] * 2 + ["disabled"] * 3
    second, third = run_of_four(), run_of_four()
    assert (second["deletionsStarted"], second["deletionsHeld"]) == (2, 1)
    assert third["deletionsStarted"] == 1 and "deletionsHeld" not in third
    assert _states(deps, ids) == ["deleted"] * DUE
