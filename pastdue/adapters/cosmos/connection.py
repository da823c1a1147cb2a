"""The Cosmos DB connection every Cosmos adapter shares: the client, the containers, and how the SDK's
failures are seen (a transient one as the store port's StoreUnavailable)."""

from __future__ import annotations

import contextlib
from typing import Any

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey, exceptions

from pastdue.adapters.store import StoreUnavailable
from pastdue.settings import Settings

# Container name -> partition key path. Bicep creates the same in Azure.
CONTAINERS = {
    "accounts": "/accountId",
    "customerData": "/subscriptionId",
    "gatewayLedger": "/id",
    "control": "/id",
}


TRANSIENT_STATUS = {408, 429, 449, 503}


@contextlib.contextmanager
def transient_as_unavailable():
    """What the SDK's own retries gave up on, as one port-level exception."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as error:
        raise StoreUnavailable(f"connection: {error}") from None
    except exceptions.CosmosHttpResponseError as error:
        if error.status_code in TRANSIENT_STATUS:
            raise StoreUnavailable(f"cosmos answered {error.status_code}") from None
        raise
    except RuntimeError as error:
        # Seen under load with several threads querying through one client: the SDK's shared request
        # headers change while a request is built ("OrderedDict mutated during iteration"). Nothing was
        # sent or changed, so it is transient: the caller reads again.
        raise StoreUnavailable(f"client: {error}") from None


def read_or_none(container: ContainerProxy, item_id: str, partition_value: str) -> dict | None:
    """A point read that answers None for a missing item, in Azure and on the local stand-in alike."""
    try:
        return container.read_item(item_id, partition_key=partition_value)
    except exceptions.CosmosResourceNotFoundError:
        return None
    except exceptions.CosmosHttpResponseError as error:
        if error.status_code != 500:
            raise
    # The local stand-in answers a point read of a missing item with a 500 (a known gap); a
    # single-partition query, naming the partition key as the stand-in needs, answers the same everywhere.
    partition_field = CONTAINERS[container.id].lstrip("/")  # one of our own names, never input
    found = list(
        container.query_items(
            f"SELECT * FROM c WHERE c.{partition_field} = @p AND c.id = @id",  # noqa: S608
            parameters=[{"name": "@p", "value": partition_value}, {"name": "@id", "value": item_id}],
            partition_key=partition_value,
        )
    )
    return found[0] if found else None


def make_client(settings: Settings, **kwargs) -> CosmosClient:
    credential: Any
    if settings.cosmos_key:
        credential = settings.cosmos_key  # local stand-in only; Azure uses the managed identity
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return CosmosClient(
        settings.cosmos_endpoint, credential=credential, connection_verify=settings.cosmos_verify_tls, **kwargs
    )


# Containers whose items may expire: TTL on with no default (-1), so only items with a ttl of their own do.
TTL_CONTAINERS = {"accounts", "control"}  # control: sweep runs expire (adapters/sweep_runs.py)


def ensure_containers(client: CosmosClient, database: str) -> None:
    """Local runs and tests only: in Azure the data-plane identity may not create these."""
    db = client.create_database_if_not_exists(database)
    for name, path in CONTAINERS.items():
        db.create_container_if_not_exists(
            name, partition_key=PartitionKey(path), default_ttl=-1 if name in TTL_CONTAINERS else None
        )
