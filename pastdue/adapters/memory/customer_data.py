"""Customer data in memory (the port: pastdue/adapters/store.py; on Cosmos: cosmos/customer_data.py)."""

from __future__ import annotations

import threading

from pastdue.adapters.store import CustomerData


class MemoryCustomerData(CustomerData):
    """Items by subscription; `purged` lists the subscriptions a purge was asked for, in order."""

    def __init__(self) -> None:
        self.items: dict[str, set[str]] = {}
        self.purged: list[str] = []
        self._lock = threading.Lock()

    def add(self, subscription_id: str, item_id: str) -> None:
        with self._lock:
            self.items.setdefault(subscription_id, set()).add(item_id)

    def purge(self, subscription_id: str) -> int:
        with self._lock:
            self.purged.append(subscription_id)
            return len(self.items.pop(subscription_id, set()))  # a second purge finds nothing: idempotent
