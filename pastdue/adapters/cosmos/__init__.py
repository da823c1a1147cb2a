"""Cosmos DB for NoSQL adapters (azure-cosmos). Imported lazily: the SDK is not needed at cold start.

connection.py (client, containers, transient failures), accounts.py (the repository), queries.py (reads
across accounts), queues.py (the sweep's and the drain's work), customer_data.py (purges); the account store
the use cases get is the three store ports on one container."""

from __future__ import annotations

from pastdue.adapters.cosmos.accounts import CosmosAccounts
from pastdue.adapters.cosmos.connection import ensure_containers, make_client, read_or_none, transient_as_unavailable
from pastdue.adapters.cosmos.customer_data import CosmosCustomerData
from pastdue.adapters.cosmos.queries import CosmosQueries
from pastdue.adapters.cosmos.queues import CosmosWorkQueues
from pastdue.adapters.store import AccountStore

__all__ = [
    "CosmosAccountStore",
    "CosmosCustomerData",
    "ensure_containers",
    "make_client",
    "read_or_none",
    "transient_as_unavailable",
]


class CosmosAccountStore(CosmosAccounts, CosmosQueries, CosmosWorkQueues, AccountStore):
    """The repository, the queries and the work queues, on one container."""
