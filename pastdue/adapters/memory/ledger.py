"""The sandbox gateway's ledger in memory (its Cosmos adapter is pastdue/adapters/cosmos/ledger.py)."""

from __future__ import annotations

import threading

from pastdue.adapters.gateway import Ledger


class MemoryLedger(Ledger):
    """The sandbox gateway's record of what it charged, in memory: once per idempotency key."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}
        self._lock = threading.Lock()

    def record_once(self, key: str, entry: dict) -> dict:
        with self._lock:
            return self.entries.setdefault(key, dict(entry))
