import pytest
from hypothesis import given
from hypothesis import strategies as st

from pastdue.adapters.shard_queue import read_task, task_message
from pastdue.domain.shards import MAX_SHARDS, SLOTS, BadTask, ShardTask, combine, plan, slot_of
from tests.unit.builders import T0


@given(st.integers(1, MAX_SHARDS), st.booleans())
def test_a_run_covers_every_slot_once(shards, dry_run):
    tasks = plan(T0, shards, dry_run)
    covered = [slot for task in tasks for slot in task.slots]
    assert sorted(covered) == list(range(SLOTS))
    assert len({task.run_id for task in tasks}) == 1 and [t.shard for t in tasks] == list(range(shards))
    assert {task.dry_run for task in tasks} == {dry_run}


def test_two_runs_planned_in_one_minute_are_two_runs():
    assert plan(T0, 4)[0].run_id != plan(T0, 4)[0].run_id
    assert plan(T0, 4)[0].run_id.startswith("sweep-2026-01-05T0900-")


def test_an_account_keeps_its_slot_whatever_the_shard_count():
    assert slot_of("acct-1") == slot_of("acct-1") and 0 <= slot_of("acct-1") < SLOTS
    owners = {n: next(t.shard for t in plan(T0, n) if slot_of("acct-1") in t.slots) for n in (1, 4, 16, 64)}
    assert owners[1] == 0 and owners[64] == slot_of("acct-1") and owners[4] == slot_of("acct-1") % 4


@pytest.mark.parametrize("shards", [0, MAX_SHARDS + 1, -1])
def test_a_plan_has_one_to_max_shards(shards):
    with pytest.raises(ValueError, match="shards"):
        plan(T0, shards)


def test_a_message_reads_back_as_the_task_it_was():
    task = plan(T0, 4, dry_run=True)[2]
    assert read_task(task_message(task)) == task and read_task(task_message(task).encode()) == task


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        '{"runId": "r"}',
        '{"runId": "r", "shard": 0, "shards": 2, "slots": [0, 2]}',  # not shard 0's slots of 2
        '{"runId": "r", "shard": 2, "shards": 2, "slots": []}',
        '{"runId": "r", "shard": 0, "shards": 65, "slots": []}',
        '{"runId": "r", "shard": -1, "shards": 1, "slots": []}',
        '{"runId": 5, "shard": 0, "shards": 1, "slots": []}',
    ],
)
def test_a_message_that_is_not_a_shard_of_a_run_is_refused(body):
    with pytest.raises(BadTask):
        read_task(body)


def test_an_unknown_field_is_refused():
    good = task_message(ShardTask("r", 0, 1, tuple(range(SLOTS))))
    with pytest.raises(BadTask):
        read_task(good[:-1] + ', "extra": 1}')


def test_a_runs_summary_adds_its_shards_counts_and_keeps_the_longest_time():
    total = combine(
        [
            {"accountsSeen": 3, "noticesQueued": 1, "seconds": 2.5},
            {"accountsSeen": 4, "chargesRecovered": 2, "seconds": 4.0},
            {"seconds": 0.1},
        ]
    )
    assert total == {"accountsSeen": 7, "noticesQueued": 1, "chargesRecovered": 2, "seconds": 4.0}
