"""The sweep fanned out through Azurite: a shard worker killed mid-shard, and the run finished by another
instance with nothing done twice (no second charge, no second record, one summary)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from pastdue.adapters.cosmos import CosmosAccountStore
from pastdue.adapters.cosmos.sweep_runs import CosmosSweepRuns
from pastdue.adapters.documents import to_document
from pastdue.adapters.storage_queue import StorageShardQueue
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import PAID, Account, Admin, Subscription
from pastdue.domain.shards import slot_of, slots_of
from pastdue.policy import shipped
from tests.conftest import RUN_DIR
from tests.support.stored import history_page, stored
from tests.unit.builders import VISA, failed

SHARDS, DUE = 4, 200


def seed(container, now: datetime) -> list[str]:
    """DUE card payers whose day-1 retry is due, all in shard 0's slots (so one shard holds the work)."""
    shard_zero = set(slots_of(0, SHARDS))
    ids: list[str] = []
    n = 0
    while len(ids) < DUE:
        candidate = f"kill-{n:05d}"
        n += 1
        if slot_of(candidate) in shard_zero:
            ids.append(candidate)
    failed_at = now - timedelta(days=1, hours=2)

    def make(account_id: str) -> None:
        account = Account(account_id, Admin("oid", f"{account_id}@example.com", "Ada"), payment_method=VISA)
        account.subscriptions["sub-0"] = Subscription("sub-0", "Production")
        account, _ = decide(account, failed("INV-0001", at=failed_at), shipped(), failed_at)
        account.outbox.clear()  # the failure notice went out long ago
        account.notices_due_at = None
        container.create_item(to_document(account))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, ids))
    return ids


def the_charge(account: Account):
    charge_id = "INV-0001"  # every tenant has one
    return account.charge(charge_id) or next(c for c in account.archive_charges if c.charge_id == charge_id)


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def test_a_shard_worker_killed_mid_shard_is_finished_by_another_with_nothing_done_twice(app_env, standins):
    from pastdue import bootstrap
    from pastdue.services.sweep import plan_sweep
    from tests.support.stack import new_database, start_host

    database, queue_name = new_database("fanout"), f"kill-{uuid.uuid4().hex[:8]}"
    db = bootstrap.cosmos_client().get_database_client(database)
    queue = StorageShardQueue(queue_name, standins.queue_connection())
    queue.create()
    ids = seed(db.get_container_client("accounts"), datetime.now(UTC))
    env = {**app_env, "COSMOS_DATABASE": database, "SWEEP_QUEUE": queue_name, "QUEUE_LEASE_SECONDS": "3"}
    first_log, second_log = RUN_DIR / "host-shard-killed.log", RUN_DIR / "host-shard-rerun.log"
    for log in (first_log, second_log):
        log.unlink(missing_ok=True)

    first, _ = start_host(env, first_log)
    runs = CosmosSweepRuns(db.get_container_client("control"))
    planned = plan_sweep(bootstrap.deps(), runs, queue, SHARDS, max_deletions=100)
    assert planned["messagesSent"] == SHARDS
    # Killed (SIGKILL: no clean-up of any kind) once the first page of shard 0 is swept.
    wait_for(lambda: "sweep progress: 100 accounts" in first_log.read_text(), 120, "the first page")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    store = CosmosAccountStore(db.get_container_client("accounts"))
    swept_before = sum(1 for account_id in ids if the_charge(stored(store, account_id)).status == PAID)
    assert 100 <= swept_before < DUE, "the kill landed mid-shard"

    second, _ = start_host(env, second_log)
    try:
        # The shard that closes the run sends its notices and reports the book, then logs its one summary.
        wait_for(lambda: "daily_sweep summary" in second_log.read_text(), 180, "the run's summary")
        closed = db.get_container_client("control").read_item(planned["runId"], partition_key=planned["runId"])
    finally:
        second.terminate()
        second.wait(10)

    # Every shard recorded once, none failed.
    assert sorted(closed["done"]) == ["0", "1", "2", "3"] and closed["failed"] == {}
    summaries = [
        line
        for log in (first_log, second_log)
        for line in log.read_text().splitlines()
        if "daily_sweep summary" in line
    ]
    assert len(summaries) == 1, "one run, one summary"
    # The killed worker's message came back when its lease ran out (not as a failure), and the second
    # instance swept what was left of the shard: the accounts the first one had not finished.
    assert "failed on message" not in second_log.read_text()
    assert closed["done"]["0"]["accountsSeen"] == DUE - swept_before

    # Nothing done twice: each account's charge was sent once (one gateway record, one retry attempt, paid
    # once for its amount), and each record of the retry is written once.
    ledger = db.get_container_client("gatewayLedger")
    keys = [item["id"] for item in ledger.query_items("SELECT c.id FROM c", enable_cross_partition_query=True)]
    assert len(keys) == len(set(keys)) == DUE
    for account_id in ids:
        account = stored(store, account_id)
        charge = the_charge(account)
        retries = [a for a in charge.attempts if a.source == "retry"]
        assert len(retries) == 1 and retries[0].processor_key(account_id) in keys, account_id
        assert charge.status == PAID and charge.paid == charge.amount, account_id
        kinds = [r["kind"] for r in history_page(store, account_id, limit=100).entries]
        assert kinds.count("charge.succeeded") == 1, (account_id, kinds)
        assert account.next_action_at is not None, account_id
        assert account.next_action_at > datetime.now(UTC), account_id  # nothing left due
