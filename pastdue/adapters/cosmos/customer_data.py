"""Customer data on Cosmos DB: what a subscription's deletion purges (partitioned by subscription)."""

from __future__ import annotations

from azure.cosmos import ContainerProxy, exceptions

from pastdue.adapters.cosmos.connection import transient_as_unavailable
from pastdue.adapters.store import CustomerData


class CosmosCustomerData(CustomerData):
    def __init__(self, container: ContainerProxy):
        self._container = container

    def purge(self, subscription_id: str) -> int:
        deleted = 0
        with transient_as_unavailable():
            # The local stand-in needs the partition key named in the WHERE clause of a single-partition query.
            ids = list(
                self._container.query_items(
                    "SELECT c.id FROM c WHERE c.subscriptionId = @s",
                    parameters=[{"name": "@s", "value": subscription_id}],
                    partition_key=subscription_id,
                )
            )
            for item in ids:
                try:
                    self._container.delete_item(item["id"], partition_key=subscription_id)
                    deleted += 1
                except exceptions.CosmosResourceNotFoundError:
                    pass  # a concurrent or earlier purge got it first
        return deleted
