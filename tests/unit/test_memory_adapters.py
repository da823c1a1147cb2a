"""The in-memory adapters (pastdue/adapters/memory/) keep their ports' promises, as the real adapters do:
the shard queue hides a taken message for its visibility timeout and hands it out again when nobody
deleted it, the run record takes each shard once and closes the run on the last, the quota never grants
past its limits, the sender records what it sent, the clock moves only when told to."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pastdue.adapters.email import SendFailed, Throttled
from pastdue.adapters.memory import (
    LeaseLost,
    MemoryClock,
    MemoryCustomerData,
    MemoryQuota,
    MemorySender,
    MemoryShardQueue,
    MemorySweepRuns,
)
from pastdue.adapters.shard_queue import read_task
from pastdue.adapters.store import StoreUnavailable
from pastdue.notices.message import Email
from pastdue.services.sweep import plan_sweep, sweep_shard
from tests.unit.builders import T0, clock_of

SECONDS = timedelta(seconds=1)

# --- the shard queue ------------------------------------------------------------------------------------


def test_a_taken_message_is_hidden_for_its_visibility_timeout_then_handed_out_again_with_its_try_counted():
    clock = MemoryClock(T0)
    queue = MemoryShardQueue(clock)
    assert queue.send(iter(["shard-0"])) == 1
    (first,) = queue.receive(visibility_timeout=30 * SECONDS)
    assert (first.content, first.dequeue_count) == ("shard-0", 1)
    assert queue.receive() == [] and queue.peek() == [] and len(queue) == 1  # hidden, still on the queue
    clock.advance(29 * SECONDS)
    assert queue.receive() == []
    clock.advance(1 * SECONDS)  # not deleted: at least once
    (again,) = queue.receive()
    assert (again.id, again.dequeue_count) == (first.id, 2) and again.pop_receipt != first.pop_receipt
    with pytest.raises(LeaseLost):  # the first taker's receipt is no longer the message's
        queue.delete(first)
    queue.delete(again)
    assert len(queue) == 0 and queue.receive() == []
    with pytest.raises(LeaseLost):
        queue.delete(again)


def test_a_receipt_holds_after_the_timeout_until_another_receive_and_an_update_gives_the_message_back():
    clock = MemoryClock(T0)
    queue = MemoryShardQueue(clock)
    queue.send(["a", "b"])
    taken = queue.receive(max_messages=32)
    assert [m.content for m in taken] == ["a", "b"]
    back = queue.update(taken[0], timedelta(0))  # the host gives a failed message back
    assert queue.peek() == ["a"]
    with pytest.raises(LeaseLost):
        queue.update(taken[0], timedelta(0))  # its receipt changed with the update
    clock.advance(timedelta(minutes=5))
    queue.delete(taken[1])  # no one took it since: the old receipt still deletes it
    (a,) = queue.receive()
    assert (a.content, a.dequeue_count) == ("a", 2) and back.pop_receipt != a.pop_receipt


def test_the_queue_refuses_what_azure_storage_refuses():
    clock = MemoryClock(T0)
    queue = MemoryShardQueue(clock)
    with pytest.raises(StoreUnavailable, match="after 1 message"):
        queue.send(["small", "x" * (48 * 1024 + 1)])  # over 64 KiB once in Base64
    assert queue.peek() == ["small"]
    for bad in ({"max_messages": 0}, {"max_messages": 33}, {"visibility_timeout": timedelta(0)}):
        with pytest.raises(ValueError):
            queue.receive(**bad)
    clock.advance(timedelta(days=7))  # a message lives a week, taken or not
    assert len(queue) == 0 and queue.receive() == []


def test_a_shard_handed_out_again_after_its_run_recorded_it_is_not_swept_twice():
    from tests.unit.test_use_cases_in_memory import world

    deps, _, _ = world()
    runs, queue = MemorySweepRuns(), MemoryShardQueue(deps.clock)
    planned = plan_sweep(deps, runs, queue, shard_count=2, max_deletions=10)
    assert planned["messagesSent"] == 2 and len(queue) == 2
    first, second = queue.receive(max_messages=2, visibility_timeout=60 * SECONDS)
    assert sweep_shard(deps, runs, read_task(first.content), 30, last_try=False) is None  # one shard to come
    queue.delete(first)
    closed = sweep_shard(deps, runs, read_task(second.content), 30, last_try=False)  # its delete is lost
    assert closed is not None and closed["runId"] == planned["runId"]
    clock_of(deps).advance(60 * SECONDS)
    (again,) = queue.receive()
    assert again.dequeue_count == 2
    assert sweep_shard(deps, runs, read_task(again.content), 30, last_try=False) is None  # recorded: skipped


# --- the sweep runs' record ------------------------------------------------------------------------------


def test_a_run_is_opened_once_each_shard_recorded_once_and_the_last_shard_closes_it():
    runs = MemorySweepRuns()
    assert runs.open("run-1", 2, T0, 10) and not runs.open("run-1", 2, T0, 10)
    assert runs.finish("run-1", 0, {"accountsSeen": 3}, at=T0) is None
    assert runs.finished("run-1", 0) and not runs.finished("run-1", 1)
    assert runs.finish("run-1", 0, {"accountsSeen": 99}, at=T0) is None  # a redelivered shard changes nothing
    closed = runs.finish("run-1", 1, failure="Broken: gave up", at=T0 + SECONDS)
    assert closed is not None and closed["closedAt"] == "2026-01-05T09:00:01.000000Z"
    assert closed["done"] == {"0": {"accountsSeen": 3}} and closed["failed"] == {"1": "Broken: gave up"}
    assert runs.finish("run-1", 1, {}, at=T0) is None  # closed: once only
    assert not runs.finished("run-9", 0) and runs.finish("run-9", 0, {}) is None  # a run it does not know


def test_the_runs_deletion_cap_is_taken_whole_or_not_at_all_and_given_back():
    runs = MemorySweepRuns()
    runs.open("run-1", 1, T0, 10)
    assert runs.take_deletions("run-1", 7) and not runs.take_deletions("run-1", 4)
    runs.give_back_deletions("run-1", 2)
    assert runs.take_deletions("run-1", 5) and not runs.take_deletions("run-1", 1)
    assert not runs.take_deletions("run-9", 1)  # a run it does not know deletes nothing


# --- the e-mail quota and sender ------------------------------------------------------------------------


def test_the_quota_grants_no_more_than_a_clock_minute_and_a_clock_hour_allow():
    quota = MemoryQuota(per_minute=30, per_hour=50)
    start = T0.replace(minute=0)

    def grants(at) -> int:
        return sum(quota.claim(1, at) for _ in range(40))

    minutes = [grants(start + timedelta(minutes=n)) for n in range(3)]
    assert minutes == [30, 20, 0] and grants(start + timedelta(hours=1)) == 30
    assert quota.claim(5, start + timedelta(hours=1, minutes=1)) == 5
    assert MemoryQuota(per_minute=0, per_hour=0).claim(1, T0) == 0


def _email(subject: str = "Payment declined", to: str = "admin@example.com") -> Email:
    return Email("notice-1", to, subject, "text", "<p>html</p>")


def test_the_sender_records_what_it_sent_and_throttles_or_fails_when_told():
    sender = MemorySender()
    sender.send(_email())
    assert sender.sent == [_email()]
    sender.fail_next(Throttled(30), SendFailed("smtp: 451"))
    with pytest.raises(Throttled):
        sender.send(_email("second"))
    with pytest.raises(SendFailed):
        sender.send(_email("second"))
    sender.send(_email("second"))
    assert [e.subject for e in sender.sent] == ["Payment declined", "second"]


def test_the_sender_refuses_for_good_a_header_no_message_can_carry():
    sender = MemorySender()
    sender.fail_next(Throttled(30))
    with pytest.raises(SendFailed) as refused:
        sender.send(_email("Declined\nBcc: x@evil.example"))
    assert refused.value.permanent and sender.sent == []
    with pytest.raises(Throttled):  # what the service would answer is still to come
        sender.send(_email())


# --- the clock and customer data ------------------------------------------------------------------------


def test_the_clock_moves_only_when_told_and_keeps_aware_times():
    clock = MemoryClock(T0)
    assert clock.now() == clock.now() == T0
    assert clock.advance(timedelta(days=1)) == clock.now() == T0 + timedelta(days=1)
    assert clock.set(T0) == clock.now() == T0
    with pytest.raises(ValueError):
        clock.at = T0.replace(tzinfo=None)
    assert clock.now() == T0


def test_a_purge_deletes_a_subscriptions_items_once():
    data = MemoryCustomerData()
    for item in ("i-1", "i-2"):
        data.add("sub-0", item)
    data.add("sub-1", "i-3")
    assert data.purge("sub-0") == 2 and data.purge("sub-0") == 0
    assert data.items == {"sub-1": {"i-3"}} and data.purged == ["sub-0", "sub-0"]
