"""Cosmos DB for NoSQL adapters (azure-cosmos). Imported lazily: the SDK is not needed at cold start."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey, exceptions

from pastdue.adapters.store import (
    AccountStore,
    AlreadyExists,
    ConcurrencyConflict,
    CustomerData,
    StoreUnavailable,
    Unreadable,
    UnreadableAccount,
)
from pastdue.domain.codec import dump, format_time, load
from pastdue.domain.model import Account
from pastdue.domain.quarantine import after_failure
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
    found = list(container.query_items(
        f"SELECT * FROM c WHERE c.{partition_field} = @p AND c.id = @id",  # noqa: S608
        parameters=[{"name": "@p", "value": partition_value}, {"name": "@id", "value": item_id}],
        partition_key=partition_value))
    return found[0] if found else None


def make_client(settings: Settings, **kwargs) -> CosmosClient:
    if settings.cosmos_key:
        credential = settings.cosmos_key  # local stand-in only; Azure uses the managed identity
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return CosmosClient(settings.cosmos_endpoint, credential=credential,
                        connection_verify=settings.cosmos_verify_tls, **kwargs)


def ensure_containers(client: CosmosClient, database: str) -> None:
    """Local runs and tests only: in Azure the data-plane identity may not create these."""
    db = client.create_database_if_not_exists(database)
    for name, path in CONTAINERS.items():
        db.create_container_if_not_exists(name, partition_key=PartitionKey(path))


def to_document(account: Account) -> dict:
    doc = dump(account)
    doc["id"] = account.account_id
    doc["type"] = "account"
    return doc


def from_document(doc: dict) -> Account:
    try:
        account = load(Account, {k: v for k, v in doc.items() if not k.startswith("_") and k not in ("id", "type")})
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
        raise UnreadableAccount(str(doc.get("id")), f"{type(error).__name__}: {error}"[:300]) from None
    account.etag = doc.get("_etag")
    return account


def _load_or_mark(doc: dict) -> Account | Unreadable:
    try:
        return from_document(doc)
    except UnreadableAccount as error:
        return Unreadable(error.account_id, error.reason)


class CosmosAccountStore(AccountStore):
    def __init__(self, container: ContainerProxy):
        self._container = container

    def get(self, account_id: str) -> Account | None:
        with transient_as_unavailable():
            doc = read_or_none(self._container, account_id, account_id)
        return from_document(doc) if doc else None

    def create(self, account: Account) -> Account:
        try:
            with transient_as_unavailable():
                return from_document(self._container.create_item(to_document(account)))
        except exceptions.CosmosResourceExistsError:
            raise AlreadyExists(account.account_id) from None

    def replace(self, account: Account) -> Account:
        try:
            with transient_as_unavailable():
                saved = self._container.replace_item(
                    account.account_id, to_document(account),
                    etag=account.etag, match_condition=MatchConditions.IfNotModified)
        except exceptions.CosmosAccessConditionFailedError:
            raise ConcurrencyConflict(account.account_id) from None
        return from_document(saved)

    def due(self, now: datetime, page_size: int) -> Iterator[list[Account]]:
        return self._pages("SELECT * FROM c WHERE c.nextActionAt <= @now", now, page_size)

    def notices_due(self, now: datetime, page_size: int) -> Iterator[list[Account]]:
        return self._pages("SELECT * FROM c WHERE c.noticesDueAt <= @now", now, page_size)

    def by_admin_email(self, email: str) -> list[Account]:
        return self._accounts_where("c.admin.email", email)

    def by_admin_principal(self, object_id: str, limit: int = 100) -> list[Account]:
        return self._accounts_where("c.admin.principalId", object_id, limit)

    def by_gateway_customer(self, customer_id: str) -> list[Account]:
        return self._accounts_where("c.gatewayCustomerId", customer_id)

    def _accounts_where(self, field: str, value: str, limit: int | None = None) -> list[Account]:
        """Accounts whose `field` (one of our own paths, never input) equals `value`; documents that no
        longer load are left out."""
        items = self._container.query_items(
            f"SELECT * FROM c WHERE {field} = @v", parameters=[{"name": "@v", "value": value}],  # noqa: S608
            enable_cross_partition_query=True, max_item_count=limit)
        loaded = [_load_or_mark(doc) for doc in itertools.islice(items, limit)]
        return [account for account in loaded if isinstance(account, Account)]

    def _pages(self, query: str, now: datetime, page_size: int) -> Iterator[list[Account]]:
        items = self._container.query_items(
            query, parameters=[{"name": "@now", "value": format_time(now)}],
            enable_cross_partition_query=True, max_item_count=page_size)
        pages = items.by_page()
        while True:
            with transient_as_unavailable():
                page = next(pages, None)
                if page is None:
                    return
                docs = list(page)
            # One document that no longer loads is handed on as Unreadable, never stops the page.
            yield [_load_or_mark(doc) for doc in docs]

    def record_failure(self, account_id: str, where: str, reason: str, now: datetime,
                       permanent: bool = False) -> dict | None:
        due_field = {"sweep": "nextActionAt", "notices": "noticesDueAt"}[where]
        for _ in range(8):
            with transient_as_unavailable():
                doc = read_or_none(self._container, account_id, account_id)
            if doc is None:
                return None
            previous = doc.get("failures")
            decision = after_failure(previous if type(previous) is int else 0, now, permanent)
            doc["failures"] = decision.failures
            if decision.quarantined:
                doc["quarantine"] = {"at": format_time(now), "where": where, "reason": reason,
                                     "failures": decision.failures}
                doc["nextActionAt"] = doc["noticesDueAt"] = None
                if isinstance(doc.get("history"), list):
                    doc["history"].append({"at": format_time(now), "kind": "account.quarantined", "actor": "system",
                                           "detail": {"where": where, "reason": reason,
                                                      "failures": decision.failures}, "subscriptionId": None})
            else:
                doc[due_field] = format_time(decision.retry_at)
            try:
                with transient_as_unavailable():
                    self._container.replace_item(account_id, doc, etag=doc.get("_etag"),
                                                 match_condition=MatchConditions.IfNotModified)
                return {"failures": decision.failures, "quarantined": decision.quarantined}
            except exceptions.CosmosAccessConditionFailedError:
                continue  # written meanwhile: count again on what is there now
        return None


class CosmosCustomerData(CustomerData):
    def __init__(self, container: ContainerProxy):
        self._container = container

    def purge(self, subscription_id: str) -> int:
        deleted = 0
        # The local stand-in needs the partition key named in the WHERE clause of a single-partition query.
        ids = self._container.query_items(
            "SELECT c.id FROM c WHERE c.subscriptionId = @s",
            parameters=[{"name": "@s", "value": subscription_id}], partition_key=subscription_id)
        for item in list(ids):
            try:
                self._container.delete_item(item["id"], partition_key=subscription_id)
                deleted += 1
            except exceptions.CosmosResourceNotFoundError:
                pass  # a concurrent or earlier purge got it first
        return deleted
