"""The sweep's work queue, its port: one message per shard, and the message's text (JSON of a ShardTask) both
ways (the Azure Storage queue adapter, which the queue-triggered `sweep_shard` function reads, is
pastdue/adapters/storage_queue.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import msgspec

from pastdue.domain.shards import BadTask, ShardTask, checked


class ShardQueue(ABC):
    @abstractmethod
    def send(self, messages: Iterable[str]) -> int:
        """Put each message on the queue; raises StoreUnavailable when the queue cannot be reached (the
        planner fails, and the timer runs again: planning twice only sends shards that change nothing)."""


def task_message(task: ShardTask) -> str:
    """A task as the queue message's text."""
    return msgspec.json.encode(task).decode()


def read_task(body: str | bytes) -> ShardTask:
    """A queue message as a task, or BadTask (the message goes to the poison queue, never half-swept)."""
    try:
        task = msgspec.json.decode(body, type=ShardTask)
    except msgspec.DecodeError as error:
        raise BadTask(f"not a sweep shard message: {error}") from None
    return checked(task)
