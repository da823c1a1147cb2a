"""The sweep's work queue, its port: one message per shard (the Azure Storage queue adapter, which the
queue-triggered `sweep_shard` function reads, is pastdue/adapters/storage_queue.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable


class ShardQueue(ABC):
    @abstractmethod
    def send(self, messages: Iterable[str]) -> int:
        """Put each message on the queue; raises StoreUnavailable when the queue cannot be reached (the
        planner fails, and the timer runs again: planning twice only sends shards that change nothing)."""
