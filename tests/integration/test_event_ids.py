"""Event ids are items of their own, kept as long as the history and created with the write that applies the
event (one transactional batch): a redelivery however late, or a concurrent one, is a duplicate."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pastdue import bootstrap
from pastdue.adapters.cosmos.accounts import event_item_id
from pastdue.domain import events as ev
from pastdue.domain.money import Money
from pastdue.domain.retention import DEFAULT_RETENTION_DAYS, PROCESSED_EVENTS_KEEP
from pastdue.services.billing import record_event
from tests.support.busy import new_account
from tests.support.history import full_history


def _deps():
    return dataclasses.replace(bootstrap.deps(), after_notices_queued=None)


def _new(deps) -> str:
    account_id = f"evt-{uuid.uuid4().hex[:8]}"
    deps.store.create(new_account(account_id))
    return account_id


def test_a_transfer_reported_again_months_later_is_a_duplicate_and_is_not_applied_twice(clock, app_env):
    deps = _deps()
    account_id = _new(deps)
    record_event(deps, account_id, ev.ChargeFailed("cf-1", "s0", "ch-1", Money(5000, "EUR"), None, clock.now()))
    assert record_event(deps, account_id, ev.PaymentReceived("pr-1", Money(3000, "EUR"), "VIR-1")) == "processed"
    # Far past the ten days the document once remembered event ids for, and many writes later.
    for days in (PROCESSED_EVENTS_KEEP.days + 1, 40, 400):
        clock.advance(timedelta(days=days))
        record_event(deps, account_id, ev.PaymentReceived(f"pr-other-{days}", Money(1, "EUR"), "VIR-x"))
        assert record_event(deps, account_id, ev.PaymentReceived("pr-1", Money(3000, "EUR"), "VIR-1")) == "duplicate"
        assert (
            record_event(deps, account_id, ev.ChargeFailed("cf-1", "s0", "ch-1", Money(5000, "EUR"), None, clock.now()))
            == "duplicate"
        )
    account = deps.store.get(account_id)
    assert account.balance() == Money(5000 - 3000 - 3, "EUR")
    assert account.processed_events == {}  # none in the document: items of their own
    kinds = [r["kind"] for r in full_history(deps.store, account_id)]
    assert kinds.count("payment.received") == 4 and kinds.count("charge.failed") == 1
    item = bootstrap.container("accounts").read_item(event_item_id("pr-1"), partition_key=account_id)
    # An event id is kept as long as the history it guards.
    assert item["type"] == "processedEvent" and item["ttl"] >= DEFAULT_RETENTION_DAYS * 86_400


def test_one_event_delivered_eight_times_at_once_is_applied_once(clock, app_env):
    deps = _deps()
    account_id = _new(deps)
    record_event(deps, account_id, ev.ChargeFailed("cf-r", "s0", "ch-r", Money(9000, "EUR"), None, clock.now()))
    event = ev.PaymentReceived("pr-race", Money(2500, "EUR"), "VIR-race")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: record_event(deps, account_id, event), range(8)))
    assert sorted(answers) == ["duplicate"] * 7 + ["processed"], answers
    assert deps.store.get(account_id).balance() == Money(6500, "EUR")


def test_a_write_that_loses_its_race_leaves_no_event_id_behind(clock, app_env):
    """The batch is atomic: a 412 on the document leaves the event's item unwritten, so the decision made
    again on the new document applies the event (it is not taken for a duplicate)."""
    deps = _deps()
    account_id = _new(deps)
    stale = deps.store.get(account_id)
    record_event(deps, account_id, ev.ChargeFailed("cf-s", "s0", "ch-s", Money(700, "EUR"), None, clock.now()))
    from pastdue.adapters.store import ConcurrencyConflict
    from pastdue.domain.lifecycle import decide

    decided, _ = decide(stale, ev.PaymentReceived("pr-stale", Money(700, "EUR"), "VIR-s"), deps.policy, clock.now())
    try:
        deps.store.replace(decided)
        raise AssertionError("a stale write landed")
    except ConcurrencyConflict:
        pass
    assert not deps.store.seen_event(account_id, "pr-stale")
    assert record_event(deps, account_id, ev.PaymentReceived("pr-stale", Money(700, "EUR"), "VIR-s")) == "processed"
    assert deps.store.get(account_id).balance().is_zero


def test_a_redelivery_the_account_would_now_refuse_is_a_duplicate_not_an_error(clock, app_env):
    """Without a read spent asking first, a redelivered event is decided again; when the account has moved
    on so far that the decision refuses it (its subscription's data deleted since), the id is looked up."""
    deps = _deps()
    account_id = _new(deps)
    failed = ev.ChargeFailed("cf-gone", "s0", "ch-gone", Money(800, "EUR"), None, clock.now())
    assert record_event(deps, account_id, failed) == "processed"
    container = bootstrap.container("accounts")
    doc = container.read_item(account_id, partition_key=account_id)
    doc["subscriptions"]["s0"]["state"] = "deleted"  # as 90 days after it was disabled, its charge archived
    doc["charges"] = []
    container.replace_item(account_id, doc)
    assert record_event(deps, account_id, failed) == "duplicate"
    from pastdue.domain.errors import InvalidEvent

    try:  # a new event for it is refused as before
        record_event(deps, account_id, dataclasses.replace(failed, event_id="cf-new", charge_id="ch-new"))
        raise AssertionError("a charge was added to a deleted subscription")
    except InvalidEvent:
        pass
