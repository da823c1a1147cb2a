"""Every port in memory, for fast tests of the use cases without a database, a queue, a mail service or a
running clock. Each keeps what its real adapter keeps and refuses what that one refuses:

- accounts.py: the account store (the repository with its If-Match, event-id and archive rules, the queries
  across accounts and the work queues), on the documents Cosmos would keep;
- ledger.py: the sandbox gateway's ledger, once per idempotency key;
- customer_data.py: what a subscription's deletion purges;
- runs.py: the sweep runs' record (each shard recorded once, the last one closes the run, the deletion cap);
- shard_queue.py: the sweep's queue, with visibility timeouts and at-least-once delivery;
- email.py: an e-mail sender that records what it sent, and can be told to throttle or fail;
- quota.py: the e-mail quota per clock minute and clock hour;
- clock.py: business time that moves only when a test moves it.

Nothing here imports a cloud SDK (tests/unit/test_ports_load_no_sdk.py)."""

from pastdue.adapters.memory.accounts import MemoryAccounts
from pastdue.adapters.memory.clock import MemoryClock
from pastdue.adapters.memory.customer_data import MemoryCustomerData
from pastdue.adapters.memory.email import MemorySender
from pastdue.adapters.memory.ledger import MemoryLedger
from pastdue.adapters.memory.quota import MemoryQuota
from pastdue.adapters.memory.runs import MemorySweepRuns
from pastdue.adapters.memory.shard_queue import LeaseLost, MemoryShardQueue, QueuedMessage

__all__ = [
    "LeaseLost",
    "MemoryAccounts",
    "MemoryClock",
    "MemoryCustomerData",
    "MemoryLedger",
    "MemoryQuota",
    "MemorySender",
    "MemoryShardQueue",
    "MemorySweepRuns",
    "QueuedMessage",
]
