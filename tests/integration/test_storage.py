"""Storage that holds for years, on the real SDK and the local Cosmos: a lean account document, an archive
that keeps every record once, paged history, and documents of the earlier shape converted as they are
written."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos import CosmosAccountStore
from pastdue.adapters.cosmos.accounts import CHUNK, charge_item_id, event_item_id, history_item_id
from pastdue.adapters.store import ConcurrencyConflict
from pastdue.domain import events as ev
from pastdue.domain.model import CARD, SETTLED
from pastdue.domain.money import Money
from pastdue.domain.retention import DEFAULT_RETENTION_DAYS, KEEP_SENT_COUNT, KEEP_SETTLED_COUNT, SETTLED_KEEP
from pastdue.http.views import account_view
from pastdue.policy import shipped
from pastdue.services.billing import record_event
from pastdue.services.change import change
from tests.support.busy import drive, new_account, stored_size
from tests.support.history import full_history
from tests.support.stack import new_database
from tests.support.stored import history_page, stored

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "account_2026_11.json"
GOAL_BYTES = 16 * 1024


@pytest.fixture(scope="module")
def own_database(app_env):
    """A database of its own: the 10,000-event account leaves thousands of archive items, which the local
    stand-in (no indexes) would scan in every other test's sweep query."""
    client, name = bootstrap.cosmos_client(), new_database("storage")
    yield client.get_database_client(name)
    client.delete_database(name)


@pytest.fixture()
def burst_database(app_env):
    """Another: the burst's 600 writes should not scan what the 10,000-event account left."""
    client, name = bootstrap.cosmos_client(), new_database("burst")
    yield client.get_database_client(name)
    client.delete_database(name)


def _seqs(entries):
    return [e["seq"] for e in entries]


@pytest.mark.slow
def test_an_account_through_10000_events_stays_lean_writable_and_its_history_pages_through_every_record(
    own_database, clock
):
    container = own_database.get_container_client("accounts")
    store = CosmosAccountStore(container, retention_days=DEFAULT_RETENTION_DAYS)
    account = store.create(new_account("busy-10k"))
    sizes = {0: stored_size(container, "busy-10k")}
    account, at, done = account, clock.now(), 0
    for checkpoint in (100, 1_000, 10_000):
        # The fast path writes every 10 events (the local stand-in slows with every item it holds); the
        # last two events before a measure are written one by one, as the app writes them, so the
        # document holds what it holds in production: the windows, plus one event's records.
        account, at = drive(store, shipped(), account, done, checkpoint - 2, at, write_every=10)
        account, at = drive(store, shipped(), account, checkpoint - 2, checkpoint, at, write_every=1)
        done = checkpoint
        sizes[checkpoint] = stored_size(container, "busy-10k")
    assert all(size <= GOAL_BYTES for size in sizes.values()), sizes
    # Flat: the document after 10,000 events is no bigger than after 100 (same rolling windows).
    assert sizes[10_000] <= sizes[100] * 1.05, sizes
    # Still writable, and every record is there once, newest first, across pages.
    account, _ = drive(store, shipped(), account, 10_000, 10_002, at)
    entries = full_history(store, "busy-10k")
    assert _seqs(entries) == list(range(1, account.history_seq + 1))
    assert account.history_seq > 30_000  # several records an event
    first = history_page(store, "busy-10k", limit=50)
    assert _seqs(first.entries) == list(range(account.history_seq, account.history_seq - 50, -1))
    assert first.before == account.history_seq - 49
    # The filter by subscription pages too, and returns only that subscription's records.
    page = history_page(store, "busy-10k", subscription_id="s1", before=account.history_seq // 2, limit=300)
    assert len(page.entries) == 300 and {e["subscriptionId"] for e in page.entries} == {"s1"}
    assert _seqs(page.entries) == sorted(_seqs(page.entries), reverse=True)
    # Archived records expire by the retention (Cosmos TTL in Azure); the field is set on each item.
    chunk = container.read_item(history_item_id(1), partition_key="busy-10k")
    assert chunk["ttl"] == DEFAULT_RETENTION_DAYS * 86_400 and chunk["records"][0]["seq"] == 1


BURST_GOAL_BYTES = 64 * 1024


def test_600_events_in_one_day_keep_the_document_under_64_kb_and_every_record_in_the_archive(burst_database, clock):
    """A burst: 600 billing events (300 failures, 300 transfers) within one day on one account, each written
    as the app writes it. The document keeps the newest settled charges and sent notices by count; the
    rest, and every event id, are items of their own."""
    container = burst_database.get_container_client("accounts")
    store = CosmosAccountStore(container, retention_days=DEFAULT_RETENTION_DAYS)
    account = store.create(new_account("burst-600"))
    account, _ = drive(store, shipped(), account, 0, 600, clock.now(), step=timedelta(seconds=86_400 / 600))
    size = stored_size(container, "burst-600")
    assert size <= BURST_GOAL_BYTES, size
    doc = container.read_item("burst-600", partition_key="burst-600")
    assert len(doc["charges"]) <= KEEP_SETTLED_COUNT + 1 and len(doc["outbox"]) <= KEEP_SENT_COUNT + 1
    assert doc.get("processedEvents", {}) == {}  # no event id kept in the document (left out when empty)
    # Nothing was lost: every charge is in the document or archived, every event id is an item.
    archived = {
        i["chargeId"]
        for i in container.query_items(
            "SELECT c.chargeId FROM c WHERE c.accountId = @a AND c.type = 'settledCharge'",
            parameters=[{"name": "@a", "value": "burst-600"}],
            partition_key="burst-600",
        )
    }
    in_document = {c["chargeId"] for c in doc["charges"] + doc["archiveCharges"]}  # the latter: archived next
    assert archived | in_document == {f"c{i}" for i in range(300)}
    events = list(
        container.query_items(
            "SELECT VALUE COUNT(1) FROM c WHERE c.accountId = @a AND c.type = 'processedEvent'",
            parameters=[{"name": "@a", "value": "burst-600"}],
            partition_key="burst-600",
        )
    )
    assert events == [600]
    assert _seqs(full_history(store, "burst-600")) == list(range(1, account.history_seq + 1))
    # A charge archived early (within its ten days) reported again under a new id: found in the archive,
    # a repeat, no new debt.
    assert "c5" in archived
    deps = dataclasses.replace(bootstrap.deps(), store=store, after_notices_queued=None)
    assert (
        record_event(
            deps,
            "burst-600",
            ev.ChargeFailed("late-e5", "s2", "c5", Money(1005, "EUR"), "insufficient_funds", clock.now()),
        )
        == "processed"
    )
    assert stored(store, "burst-600").balance().is_zero
    assert full_history(store, "burst-600")[-1]["kind"] == "charge.failed.repeated"


def test_a_document_of_the_earlier_shape_is_read_and_converted_on_its_next_write(app_env, clock):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    earlier = json.loads(FIXTURE.read_text(encoding="utf-8"))
    account_id = f"v1-{uuid.uuid4().hex[:8]}"
    earlier.update(id=account_id, accountId=account_id)
    records = earlier["history"]
    bootstrap.container("accounts").create_item({k: v for k, v in earlier.items() if not k.startswith("_")})

    loaded = stored(deps.store, account_id)
    assert [r["seq"] for r in loaded.history] == list(range(1, len(records) + 1))
    assert set(loaded.processed_events) == set(earlier["processedEvents"])
    assert loaded.balance() == Money(800, "EUR")
    # Before any write, GET history already answers everything, newest first.
    assert [r["kind"] for r in full_history(deps.store, account_id)] == [r["kind"] for r in records]

    change(deps, account_id, ev.PaymentReceived("evt-v2", Money(800, "EUR"), "VIR-2026-04"))
    doc = bootstrap.container("accounts").read_item(account_id, partition_key=account_id)
    assert doc["archivedSeq"] == len(records) and all(r["seq"] > len(records) for r in doc["history"])
    # The event ids the earlier document kept are items now, beside the new one, and the document has none.
    assert doc.get("processedEvents", {}) == {}  # no event id kept in the document (left out when empty)
    for event_id in [*earlier["processedEvents"], "evt-v2"]:
        assert deps.store.seen_event(account_id, event_id), event_id
        item = bootstrap.container("accounts").read_item(event_item_id(event_id), partition_key=account_id)
        assert item["eventId"] == event_id and item["ttl"] == DEFAULT_RETENTION_DAYS * 86_400
    chunk = bootstrap.container("accounts").read_item(history_item_id(1), partition_key=account_id)
    assert [r["kind"] for r in chunk["records"]] == [r["kind"] for r in records]
    everything = full_history(deps.store, account_id)
    assert _seqs(everything) == list(range(1, doc["historySeq"] + 1))
    assert everything[0]["detail"] == records[0]["detail"]
    written = [r["kind"] for r in everything[len(records) :]]  # what the payment's one write recorded
    assert "payment.received" in written and "notice.queued" in written  # its receipt


def test_a_settled_charge_moves_to_the_archive_and_a_late_report_of_it_is_a_repeat(app_env, clock):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    account_id = f"arch-{uuid.uuid4().hex[:8]}"
    deps.store.create(new_account(account_id))
    failed_at = clock.now()
    record_event(
        deps, account_id, ev.ChargeFailed("e-1", "s0", "ch-old", Money(700, "EUR"), "card_declined", failed_at)
    )
    record_event(deps, account_id, ev.PaymentReceived("p-1", Money(700, "EUR"), "ref-1"))
    clock.advance(SETTLED_KEEP + timedelta(hours=1))
    record_event(deps, account_id, ev.PaymentReceived("p-2", Money(100, "EUR"), "ref-2"))  # moves it out
    record_event(deps, account_id, ev.PaymentReceived("p-3", Money(100, "EUR"), "ref-3"))  # archives it
    account = stored(deps.store, account_id)
    assert account.charge("ch-old") is None and account.archive_charges == []
    item = bootstrap.container("accounts").read_item(charge_item_id("ch-old"), partition_key=account_id)
    assert item["status"] == "paid" and item["paid"] == {"value": 700, "currency": "EUR"}
    # The billing system reports the same charge again, late and under a new event id: a repeat, no debt.
    assert (
        record_event(
            deps, account_id, ev.ChargeFailed("e-2", "s0", "ch-old", Money(700, "EUR"), "card_declined", failed_at)
        )
        == "processed"
    )
    account = stored(deps.store, account_id)
    assert account.balance().is_zero and account.subscriptions["s0"].state == "active"
    assert full_history(deps.store, account_id)[-1]["kind"] == "charge.failed.repeated"


def test_history_read_while_records_are_archived_sees_each_record_once(app_env, clock):
    store = CosmosAccountStore(bootstrap.container("accounts"))
    account_id = f"race-{uuid.uuid4().hex[:8]}"
    account = store.create(new_account(account_id))
    account, at = drive(store, shipped(), account, 0, 40, clock.now())
    stop, problems = threading.Event(), []

    def writer():
        nonlocal account, at
        n = 40
        while not stop.is_set() and n < 200:
            account, at = drive(store, shipped(), account, n, n + 2, at, write_every=1)
            n += 2

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(15):
            page = history_page(store, account_id, limit=7)
            seqs, newest = _seqs(page.entries), page.entries[0]["seq"]
            while page.before is not None:
                page = history_page(store, account_id, before=page.before, limit=7)
                seqs += _seqs(page.entries)
            if seqs != list(range(newest, 0, -1)):
                problems.append(seqs)
    finally:
        stop.set()
        thread.join()
    assert problems == []


def test_a_write_archives_an_earlier_document_in_chunks_of_a_fixed_size(app_env, clock):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    earlier = json.loads(FIXTURE.read_text(encoding="utf-8"))
    account_id = f"big-{uuid.uuid4().hex[:8]}"
    earlier.update(id=account_id, accountId=account_id, history=earlier["history"] * 15)  # 465 records
    bootstrap.container("accounts").create_item({k: v for k, v in earlier.items() if not k.startswith("_")})
    change(deps, account_id, ev.PaymentReceived("evt-big", Money(800, "EUR"), "VIR-BIG"))
    chunks = list(
        bootstrap.container("accounts").query_items(
            "SELECT c.id, c.seq, c.lastSeq FROM c WHERE c.accountId = @a AND c.type = 'history'",
            parameters=[{"name": "@a", "value": account_id}],
            partition_key=account_id,
        )
    )
    assert sorted((c["seq"], c["lastSeq"]) for c in chunks) == [
        (1, CHUNK),
        (CHUNK + 1, 2 * CHUNK),
        (2 * CHUNK + 1, 465),
    ]
    assert _seqs(full_history(deps.store, account_id))[:466] == list(range(1, 467))


def test_an_idempotency_record_keeps_the_outcome_only_and_a_replay_answers_the_same(app_env, clock):
    from pastdue.services.billing import put_account, put_subscription
    from pastdue.services.portal import pay_now

    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    account_id = f"idem-{uuid.uuid4().hex[:8]}"
    put_account(
        deps,
        account_id,
        ev.ProfileSet(
            new_account(account_id).admin, CARD, "EUR", deps.gateway.describe("tok_chargeCustomerFail"), None
        ),
    )
    for n in range(40):
        put_subscription(deps, account_id, ev.SubscriptionSet(f"s{n}", f"Subscription {n}", "default"))
        record_event(
            deps,
            account_id,
            ev.ChargeFailed(
                f"e{n}", f"s{n}", f"{account_id}-c{n}", Money(1000 + n, "EUR"), "card_declined", clock.now()
            ),
        )
    method = deps.gateway.describe("tok_visa")
    first = pay_now(deps, account_id, "idem-key-0001", "h", method, "user:1")
    again = pay_now(deps, account_id, "idem-key-0001", "h", method, "user:1")
    assert first.outcome == again.outcome == SETTLED and len(first.settled) == 40
    # The same outcome, and the same account, as nothing changed since.
    assert (again.settled, again.code, account_view(again.account)) == (
        first.settled,
        first.code,
        account_view(first.account),
    )
    entry = bootstrap.container("accounts").read_item(account_id, partition_key=account_id)["idempotency"][
        "idem-key-0001"
    ]
    assert "account" not in entry["response"]
    assert len(json.dumps(entry)) < 6_000  # the outcome of 40 charges; the view was 10.6 kB alone


def _earlier_document(account_id: str, **changes) -> None:
    earlier = json.loads(FIXTURE.read_text(encoding="utf-8"))
    earlier.update(id=account_id, accountId=account_id, **changes)
    bootstrap.container("accounts").create_item({k: v for k, v in earlier.items() if not k.startswith("_")})


def _archived(account_id: str) -> list[dict]:
    return list(
        bootstrap.container("accounts").query_items(
            "SELECT c.id, c.type FROM c WHERE c.accountId = @a AND STARTSWITH(c.id, '~')",
            parameters=[{"name": "@a", "value": account_id}],
            partition_key=account_id,
        )
    )


def test_an_archive_that_fits_one_batch_is_written_with_the_document_or_not_at_all(app_env, clock):
    """The archive and the document go in one transactional batch: a write that loses the race (412) leaves
    no archived item behind, and the write that follows archives the same records once."""
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    account_id = f"one-{uuid.uuid4().hex[:8]}"
    _earlier_document(account_id)
    stale = stored(deps.store, account_id)
    bootstrap.container("accounts").upsert_item(  # someone else wrote meanwhile (same content, new _etag)
        {k: v for k, v in bootstrap.container("accounts").read_item(account_id, account_id).items() if k[0] != "_"}
    )
    with pytest.raises(ConcurrencyConflict):  # the document it would write: the records archived, ids as items
        deps.store.replace(stale)
    assert _archived(account_id) == []  # neither the history chunk nor the event ids: all or nothing
    change(deps, account_id, ev.PaymentReceived("evt-x", Money(800, "EUR"), "VIR-1"))
    kinds = sorted(item["type"] for item in _archived(account_id))
    assert kinds == ["history"] + ["processedEvent"] * 5  # the 4 ids the document kept, and evt-x


@pytest.mark.parametrize("kept_ids", [300, 4], ids=["over-100-operations", "over-2-mb"])
def test_an_archive_over_one_batch_goes_first_in_parts_that_each_fit_cosmoss_limits(app_env, clock, kept_ids):
    """465 records of 3.5 kB each (three chunks of 0.7 MB: with the document, over a batch's 2 MB, which the
    local Cosmos refuses with a 413 as Cosmos does) and the event ids an earlier document kept (300: over a
    batch's 100 operations too): archived in batches that each fit, then the document; every record once."""
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    account_id = f"parts-{uuid.uuid4().hex[:8]}"
    earlier = json.loads(FIXTURE.read_text(encoding="utf-8"))
    records = [
        {**record, "seq": n + 1, "detail": {**record["detail"], "note": "x" * 3500}}
        for n, record in enumerate(earlier["history"] * 15)
    ]
    ids = [f"e-{n}" for n in range(kept_ids)]
    _earlier_document(account_id, history=records, historySeq=len(records), processedEvents=ids)
    change(deps, account_id, ev.PaymentReceived("evt-parts", Money(800, "EUR"), "VIR-2"))
    kinds = [item["type"] for item in _archived(account_id)]
    assert kinds.count("processedEvent") == kept_ids + 1 and kinds.count("history") == 3
    assert _seqs(full_history(deps.store, account_id))[:466] == list(range(1, 467))


def test_the_local_cosmos_refuses_a_request_over_2_mb_as_cosmos_does(app_env):
    from azure.cosmos import exceptions

    account_id = f"big-{uuid.uuid4().hex[:8]}"
    with pytest.raises(exceptions.CosmosHttpResponseError) as refused:
        bootstrap.container("accounts").create_item({"id": account_id, "accountId": account_id, "x": "y" * 2_200_000})
    assert refused.value.status_code == 413
    item = {"id": "~probe", "accountId": account_id, "x": "y" * 800_000}
    operations = [("upsert", ({**item, "id": f"~probe-{n}"},)) for n in range(3)]  # 2.4 MB in one batch
    with pytest.raises(exceptions.CosmosHttpResponseError) as refused:
        bootstrap.container("accounts").execute_item_batch(operations, partition_key=account_id)
    assert refused.value.status_code == 413
