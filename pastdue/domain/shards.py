"""How a sweep run is cut into shards that instances sweep side by side.

Every account document carries a slot, fixed by its id (one of SLOTS); a run of N shards gives shard i
the slots s with s % N == i. A slot never changes, so N can: a run of 4 and a run of 16 both cover every
account exactly once. The run's deletion cap is one counter in the run's record that every shard takes
from (adapters/sweep_runs.py), so a fanned-out run never deletes more than one run on one instance would.
"""

from __future__ import annotations

import secrets
import zlib
from datetime import datetime

import msgspec

from pastdue.domain.codec import format_time

SLOTS = 64  # fixed: a document's slot is stored with it (changing this re-slots every document)
MAX_SHARDS = SLOTS


def slot_of(account_id: str) -> int:
    return zlib.crc32(account_id.encode("utf-8")) % SLOTS


class ShardTask(msgspec.Struct, rename="camel", forbid_unknown_fields=True, frozen=True):
    """One queue message: sweep these slots for this run (a dry run deletes nothing)."""

    run_id: str
    shard: int
    shards: int
    slots: tuple[int, ...]
    dry_run: bool = False


class BadTask(ValueError):
    pass


def checked(task: ShardTask) -> ShardTask:
    """The task if it is a shard of a run (its slots those of its shard), or BadTask: the message goes to the
    poison queue, never half-swept. The queue message's codec is the port's (adapters/shard_queue.py)."""
    if (
        not 1 <= task.shards <= MAX_SHARDS
        or not 0 <= task.shard < task.shards
        or task.slots != slots_of(task.shard, task.shards)
    ):
        raise BadTask(f"shard {task.shard} of {task.shards} with slots {list(task.slots)} is not a shard of a run")
    return task


def slots_of(shard: int, shards: int) -> tuple[int, ...]:
    return tuple(s for s in range(SLOTS) if s % shards == shard)


def run_id(planned_at: datetime) -> str:
    """A run's name: when it was planned, and a random part (two runs planned in one minute, say by a
    timer fired again, are two runs: each shard of either finds only what is still due)."""
    return f"sweep-{format_time(planned_at)[:16].replace(':', '')}-{secrets.token_hex(3)}"


def plan(planned_at: datetime, shards: int, dry_run: bool = False) -> list[ShardTask]:
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"a sweep has 1 to {MAX_SHARDS} shards, not {shards}")
    name = run_id(planned_at)
    return [ShardTask(name, i, shards, slots_of(i, shards), dry_run) for i in range(shards)]


def combine(summaries: list[dict]) -> dict:
    """One run's summary from its shards' (counts add up; seconds is the longest shard's)."""
    total: dict = {}
    for summary in summaries:
        for key, value in summary.items():
            if key == "seconds":
                total[key] = max(total.get(key, 0), value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total
