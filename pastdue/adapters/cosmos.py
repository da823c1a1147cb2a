"""Cosmos DB for NoSQL adapters (azure-cosmos). Imported lazily: the SDK is not needed at cold start."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from azure.core import MatchConditions
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey, exceptions
from msgspec import structs

from pastdue.adapters.store import (
    AccountFilter,
    AccountStore,
    AlreadyExists,
    BadCursor,
    ConcurrencyConflict,
    CustomerData,
    EventSeen,
    HistoryPage,
    StoreUnavailable,
    Unreadable,
    UnreadableAccount,
)
from pastdue.domain.codec import dump, format_time, load
from pastdue.domain.model import Account
from pastdue.domain.quarantine import after_failure
from pastdue.domain.shards import slot_of
from pastdue.settings import Settings

# Container name -> partition key path. Bicep creates the same in Azure.
CONTAINERS = {
    "accounts": "/accountId",
    "customerData": "/subscriptionId",
    "gatewayLedger": "/id",
    "control": "/id",
}


TRANSIENT_STATUS = {408, 429, 449, 503}
# Accounts that count on the dashboard: not the smoke script's test accounts.
REAL = "(NOT IS_DEFINED(c.synthetic) OR c.synthetic = false)"


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


# Containers whose items may expire: TTL on with no default (-1), so only items with a ttl of their own do.
TTL_CONTAINERS = {"accounts", "control"}  # control: sweep runs expire (adapters/sweep_runs.py)


def ensure_containers(client: CosmosClient, database: str) -> None:
    """Local runs and tests only: in Azure the data-plane identity may not create these."""
    db = client.create_database_if_not_exists(database)
    for name, path in CONTAINERS.items():
        ttl = {"default_ttl": -1} if name in TTL_CONTAINERS else {}
        db.create_container_if_not_exists(name, partition_key=PartitionKey(path), **ttl)


# Archived items live beside their account document, in its partition. Their ids start with "~", which
# an account id never does (ID_PATTERN), and are deterministic: writing one again changes nothing.
# The history is archived in chunks: the records a stored document holds, at most CHUNK to an item,
# each named by its first seq. Which records a document holds is fixed once it is stored, so whoever
# archives them (again, after a crash or a 412) writes the same chunks.
HISTORY_ITEM, CHARGE_ITEM, NOTICE_ITEM = "history", "settledCharge", "sentNotice"
CHUNK = 200
DAY_SECONDS = 86_400


# Event ids processed on the account are items of their own, "~e~<event id>", kept as long as the history:
# created in one transactional batch with the document's write, a 409 on one is a redelivery.
EVENT_ITEM = "processedEvent"
BATCH_MAX = 100  # operations in one Cosmos transactional batch


def event_item_id(event_id: str) -> str:
    """Cosmos ids are at most 255 characters; a longer event id is named by its hash."""
    if len(event_id) <= 200:
        return f"~e~{event_id}"
    import hashlib

    return f"~e~sha256:{hashlib.sha256(event_id.encode()).hexdigest()}"


def history_item_id(first_seq: int) -> str:
    return f"~h~{first_seq:012d}"


def charge_item_id(charge_id: str) -> str:
    return f"~c~{charge_id}"


def notice_item_id(notice_id: str) -> str:
    return f"~n~{notice_id}"


# The times the store queries on (`c.nextActionAt <= @now`): written fixed-width so they compare as strings.
QUERIED_TIMES = (("nextActionAt", "next_action_at"), ("noticesDueAt", "notices_due_at"),
                 ("nextDisableAt", "next_disable_at"), ("nextDeletionAt", "next_deletion_at"))


def to_document(account: Account) -> dict:
    # One pass, from the model's declared types (domain/model.py); the store's own notes are no part of it.
    doc = dump(structs.replace(account, etag=None, stored=None))
    for key, name in QUERIED_TIMES:
        if (at := getattr(account, name)) is not None:
            doc[key] = format_time(at)
    doc["sweepSlot"] = slot_of(account.account_id)  # which shard of a fanned-out sweep visits it
    doc["id"] = account.account_id
    doc["type"] = "account"
    return doc


def upgrade(doc: dict) -> dict:
    """A document written by an earlier release, in this release's shape (in memory; the next write
    stores it): history records get their seq, processed event ids the time they were last written."""
    if "historySeq" not in doc and isinstance(doc.get("history"), list):
        for n, entry in enumerate(doc["history"], 1):
            if isinstance(entry, dict):
                entry["seq"] = n
        doc["historySeq"], doc["archivedSeq"] = len(doc["history"]), 0
    if isinstance(doc.get("processedEvents"), list):
        ts = doc.get("_ts")
        at = format_time(datetime.fromtimestamp(ts, UTC)) if isinstance(ts, int) else format_time(datetime.now(UTC))
        doc["processedEvents"] = {event_id: at for event_id in doc["processedEvents"] if isinstance(event_id, str)}
    return doc


def from_document(doc: dict) -> Account:
    try:
        doc = upgrade(doc)
        account = load(Account, doc)  # one pass; the keys Cosmos adds (_rid, _etag, ...), id and type are ignored
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
        raise UnreadableAccount(str(doc.get("id")), f"{type(error).__name__}: {error}"[:300]) from None
    account.etag = doc.get("_etag")
    account.stored = Stored.of(account, frozenset(account.processed_events.items()), doc)
    return account


class Stored(NamedTuple):
    """What a stored document already holds for good: its records, and the charges and notices it hands to
    the archive. Only these are archived by the next write (whatever that write decides, they happened).
    `events`: the (event id, when) the document itself kept (an earlier release): every one becomes an item
    on the next write, also those the decision forgets meanwhile (older than the window the document had)."""

    seq: int
    charges: frozenset[str]
    notices: frozenset[str]
    events: frozenset[tuple[str, str]]
    # The document as read or written (Cosmos's own `_` keys aside): a decision whose document is the same
    # is not written (no request, no new etag).
    document: dict | None = None

    @classmethod
    def of(cls, account: Account, events: frozenset[tuple[str, str]] = frozenset(),
           document: dict | None = None) -> Stored:
        return cls(account.history_seq, frozenset(c.charge_id for c in account.archive_charges),
                   frozenset(n.notice_id for n in account.archive_notices), events,
                   None if document is None else {k: v for k, v in document.items() if not k.startswith("_")})


def _load_or_mark(doc: dict) -> Account | Unreadable:
    try:
        return from_document(doc)
    except UnreadableAccount as error:
        return Unreadable(error.account_id, error.reason)


class CosmosAccountStore(AccountStore):
    def __init__(self, container: ContainerProxy, retention_days: int = 2557):
        self._container = container
        self._ttl = retention_days * DAY_SECONDS

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
        """Archive what the stored document already holds for good (records, settled charges) as items
        with deterministic ids, then write the document without them, If-Match. A crash or a 412 between
        the two leaves them in the document, and the next write archives them again to the same ids:
        nothing is lost and nothing is written twice."""
        stored = account.stored or Stored(account.archived_seq, frozenset(), frozenset(), frozenset())
        doc = to_document(account)
        if doc == stored.document:
            return account  # the decision changed nothing: no write
        records = [r for r in account.history if r["seq"] <= stored.seq]
        settled = [c for c in account.archive_charges if c.charge_id in stored.charges]
        sent = [n for n in account.archive_notices if n.notice_id in stored.notices]
        earlier = dict(stored.events)
        new_events = {k: at for k, at in account.processed_events.items() if k not in earlier}
        self._archive(account.account_id, records, settled, sent, earlier)
        doc.pop("processedEvents", None)  # items of their own now (an earlier release's list goes too)
        if doc.get("history") and doc["history"][0]["seq"] <= stored.seq:
            doc["history"] = [r for r in doc["history"] if r["seq"] > stored.seq]
        if settled:
            doc["archiveCharges"] = [c for c in doc["archiveCharges"] if c["chargeId"] not in stored.charges]
        if sent:
            doc["archiveNotices"] = [n for n in doc["archiveNotices"] if n["noticeId"] not in stored.notices]
        archived = max(account.archived_seq, stored.seq)
        if archived:
            doc["archivedSeq"] = archived
        etag = self._write_with_events(account, doc, new_events) if new_events else self._write(account, doc)
        # What was written is what was decided, less what went to the archive: no second load.
        written = structs.replace(
            account, history=[r for r in account.history if r["seq"] > stored.seq] if records else account.history,
            archive_charges=[c for c in account.archive_charges if c.charge_id not in stored.charges],
            archive_notices=[n for n in account.archive_notices if n.notice_id not in stored.notices],
            archived_seq=archived, processed_events={})
        written.etag = etag
        written.stored = Stored.of(written, document=doc)
        return written

    def _write(self, account: Account, doc: dict) -> str | None:
        try:
            with transient_as_unavailable():
                # No body in the answer (Prefer: return=minimal): its etag is all that is new.
                saved = self._container.replace_item(
                    account.account_id, doc, etag=account.etag, match_condition=MatchConditions.IfNotModified,
                    no_response=True)
        except exceptions.CosmosAccessConditionFailedError:
            raise ConcurrencyConflict(account.account_id) from None
        return saved.get_response_headers().get("etag") or saved.get("_etag")

    def _write_with_events(self, account: Account, doc: dict, events: dict[str, str]) -> str | None:
        """The document If-Match and one new item per event id, in one transactional batch (all or none):
        an event id stored before fails its create with a 409, and then nothing is written."""
        if len(events) >= BATCH_MAX:
            raise ValueError(f"one decision marks {len(events)} events processed; a batch holds {BATCH_MAX - 1}")
        names = list(events)
        operations: list = [("create", (self._event_item(account.account_id, name, events[name]),))
                            for name in names]
        operations.append(("replace", (account.account_id, doc), {"if_match_etag": account.etag}))
        try:
            with transient_as_unavailable():
                answers = self._container.execute_item_batch(operations, partition_key=account.account_id)
        except exceptions.CosmosBatchOperationError as error:
            if error.status_code == 409 and error.error_index < len(names):
                raise EventSeen(names[error.error_index]) from None
            if error.status_code == 412:
                raise ConcurrencyConflict(account.account_id) from None
            if error.status_code in TRANSIENT_STATUS:
                raise StoreUnavailable(f"cosmos answered {error.status_code} to a batch") from None
            raise
        last = answers[-1]
        return last.get("eTag") or (last.get("resourceBody") or {}).get("_etag")

    def _event_item(self, account_id: str, event_id: str, at: str) -> dict:
        return {"id": event_item_id(event_id), "accountId": account_id, "type": EVENT_ITEM, "eventId": event_id,
                "at": at, "ttl": self._ttl}

    def seen_event(self, account_id: str, event_id: str) -> bool:
        with transient_as_unavailable():
            return read_or_none(self._container, event_item_id(event_id), account_id) is not None

    def _archive(self, account_id: str, records: list[dict], settled: list, sent: list,
                 events: dict[str, str]) -> None:
        with transient_as_unavailable():
            for start in range(0, len(records), CHUNK):
                chunk = records[start:start + CHUNK]
                self._container.upsert_item({
                    "id": history_item_id(chunk[0]["seq"]), "accountId": account_id, "type": HISTORY_ITEM,
                    "seq": chunk[0]["seq"], "lastSeq": chunk[-1]["seq"], "records": chunk,
                    "subscriptionIds": sorted({r["subscriptionId"] for r in chunk if r.get("subscriptionId")}),
                    "ttl": self._ttl})
            for charge in settled:
                self._container.upsert_item({**dump(charge), "id": charge_item_id(charge.charge_id),
                                             "accountId": account_id, "type": CHARGE_ITEM, "ttl": self._ttl})
            for notice in sent:
                self._container.upsert_item({**dump(notice), "id": notice_item_id(notice.notice_id),
                                             "accountId": account_id, "type": NOTICE_ITEM, "ttl": self._ttl})
            for event_id, at in events.items():  # ids a document of an earlier release kept
                self._container.upsert_item(self._event_item(account_id, event_id, at))

    def find(self, where: AccountFilter, limit: int, cursor: str | None = None) -> tuple[list[Account], str | None]:
        clauses, parameters = ["c.type = 'account'"], []
        for clause, name, value in (
                ("ARRAY_CONTAINS(c.states, @state)", "@state", where.state),
                ("c.nextDisableAt <= @disable", "@disable", where.disable_before and format_time(where.disable_before)),
                ("c.nextDeletionAt <= @delete", "@delete", where.delete_before and format_time(where.delete_before)),
                ("c.admin.email = @email", "@email", where.admin_email)):
            if value is not None:
                clauses.append(clause)
                parameters.append({"name": name, "value": value})
        continuation = None
        if cursor is not None:
            try:
                continuation = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
                json.loads(continuation)
            except (ValueError, RecursionError):
                raise BadCursor("not a cursor this API gave") from None
        query = f"SELECT * FROM c WHERE {' AND '.join(clauses)}"  # noqa: S608 - clauses are our own
        try:
            with transient_as_unavailable():
                pages = self._container.query_items(query, parameters=parameters, enable_cross_partition_query=True,
                                                    max_item_count=limit).by_page(continuation)
                docs = list(next(pages, []))
                token = pages.continuation_token
        except exceptions.CosmosHttpResponseError as error:
            if error.status_code == 400 and cursor is not None:
                raise BadCursor("not a cursor this API gave, or one that expired") from None
            raise
        accounts = [a for a in map(_load_or_mark, docs) if isinstance(a, Account)]
        return accounts, base64.urlsafe_b64encode(token.encode()).decode().rstrip("=") if token else None

    def snapshot(self, now: datetime, within: timedelta) -> dict:
        def count(where: str, **values) -> int:
            parameters = [{"name": f"@{k}", "value": v} for k, v in values.items()]
            with transient_as_unavailable():
                found = list(self._container.query_items(
                    f"SELECT VALUE COUNT(1) FROM c WHERE c.type = 'account' AND {REAL} AND {where}",  # noqa: S608
                    parameters=parameters, enable_cross_partition_query=True))
            return int(sum(found))

        horizon = format_time(now + within)
        at_risk: dict[str, int] = {}
        with transient_as_unavailable():
            # Only the small openBalance of each past-due or disabled account is read (no GROUP BY: the
            # local stand-in has none).
            for owed in self._container.query_items(
                    f"SELECT VALUE c.openBalance FROM c WHERE c.type = 'account' AND {REAL} AND "  # noqa: S608
                    "IS_DEFINED(c.openBalance) AND "
                    "(ARRAY_CONTAINS(c.states, 'pastDue') OR ARRAY_CONTAINS(c.states, 'disabled'))",
                    enable_cross_partition_query=True, max_item_count=1000):
                if isinstance(owed, dict) and isinstance(owed.get("value"), int):
                    at_risk[owed["currency"]] = at_risk.get(owed["currency"], 0) + owed["value"]
        return {"byState": {state: count("ARRAY_CONTAINS(c.states, @s)", s=state)
                            for state in ("active", "pastDue", "disabled", "deleted")},
                "atRisk": at_risk,
                "disablesSoon": count("c.nextDisableAt <= @t", t=horizon),
                "deletionsSoon": count("c.nextDeletionAt <= @t", t=horizon),
                "stillDue": count("c.nextActionAt <= @t", t=format_time(now))}

    def archived_charge(self, account_id: str, charge_id: str) -> bool:
        with transient_as_unavailable():
            return read_or_none(self._container, charge_item_id(charge_id), account_id) is not None

    def history(self, account_id: str, subscription_id: str | None = None, before: int | None = None,
                limit: int = 100) -> HistoryPage | None:
        with transient_as_unavailable():
            doc = read_or_none(self._container, account_id, account_id)
        if doc is None or doc.get("type", "account") != "account":
            return None
        doc = upgrade(doc)
        archived = doc.get("archivedSeq") if type(doc.get("archivedSeq")) is int else 0

        def wanted(record, archived_ones: bool) -> bool:
            seq = record.get("seq") if isinstance(record, dict) else None
            return type(seq) is int and (seq <= archived if archived_ones else seq > archived) \
                and (before is None or seq < before) \
                and (subscription_id is None or record.get("subscriptionId") == subscription_id)

        # The newest, still in the document; then the archived chunks, only up to the archivedSeq read with
        # this document: a record being archived right now is seen once (here or there), never twice or lost.
        entries = sorted((r for r in doc.get("history") or [] if wanted(r, False)), key=lambda r: -r["seq"])
        if len(entries) <= limit:
            clauses = ["c.accountId = @a", "c.type = @t", "c.seq <= @archived"]
            parameters = [{"name": "@a", "value": account_id}, {"name": "@t", "value": HISTORY_ITEM},
                          {"name": "@archived", "value": archived}]
            if before is not None:
                clauses.append("c.seq < @before")
                parameters.append({"name": "@before", "value": before})
            if subscription_id is not None:
                clauses.append("ARRAY_CONTAINS(c.subscriptionIds, @s)")
                parameters.append({"name": "@s", "value": subscription_id})
            query = f"SELECT c.records FROM c WHERE {' AND '.join(clauses)} ORDER BY c.seq DESC"  # noqa: S608
            with transient_as_unavailable():
                pages = self._container.query_items(query, parameters=parameters, partition_key=account_id,
                                                    max_item_count=50).by_page()
                for page in pages:
                    for chunk in page:
                        entries += sorted((r for r in chunk["records"] if wanted(r, True)), key=lambda r: -r["seq"])
                    if len(entries) > limit:
                        break
        more = len(entries) > limit
        entries = [{k: r.get(k) for k in ("seq", "at", "kind", "actor", "detail", "subscriptionId")}
                   for r in entries[:limit]]
        return HistoryPage(entries, entries[-1]["seq"] if more else None)

    def due(self, now: datetime, page_size: int,
            slots: tuple[int, ...] | None = None) -> Iterator[list[Account | Unreadable]]:
        if slots is None:
            return self._pages("SELECT * FROM c WHERE c.nextActionAt <= @now", now, page_size)
        # Equality on the slot and a range on the time: the composite index (sweepSlot, nextActionAt)
        # serves it (infra/modules/cosmos.bicep). A document written before slots existed has none: it is
        # slot 0's until its next write gives it its own.
        names = {f"@s{n}": slot for n, slot in enumerate(slots)}
        where = f"c.sweepSlot IN ({', '.join(names)})"
        if 0 in slots:
            where = f"({where} OR NOT IS_DEFINED(c.sweepSlot))"
        return self._pages(f"SELECT * FROM c WHERE c.nextActionAt <= @now AND {where}",  # noqa: S608 - our names
                           now, page_size, [{"name": k, "value": v} for k, v in names.items()])

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
        with transient_as_unavailable():
            items = self._container.query_items(
                f"SELECT * FROM c WHERE {field} = @v", parameters=[{"name": "@v", "value": value}],  # noqa: S608
                enable_cross_partition_query=True, max_item_count=limit)
            docs = list(itertools.islice(items, limit))
        loaded = [_load_or_mark(doc) for doc in docs]
        return [account for account in loaded if isinstance(account, Account)]

    def _pages(self, query: str, now: datetime, page_size: int,
               parameters: list[dict] | None = None) -> Iterator[list[Account | Unreadable]]:
        with transient_as_unavailable():  # the query plan is asked for here
            pages = self._container.query_items(
                query, parameters=[{"name": "@now", "value": format_time(now)}, *(parameters or [])],
                enable_cross_partition_query=True, max_item_count=page_size).by_page()
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
                if "history" not in doc:  # left out while empty: none yet, or all archived (historySeq kept)
                    doc["history"] = []
                    doc.setdefault("historySeq", 0)
                if isinstance(doc.get("history"), list):
                    entry = {"at": format_time(now), "kind": "account.quarantined", "actor": "system",
                             "detail": {"where": where, "reason": reason, "failures": decision.failures},
                             "subscriptionId": None}
                    if type(doc.get("historySeq")) is int:  # else upgrade() numbers it with the others
                        doc["historySeq"] += 1
                        entry["seq"] = doc["historySeq"]
                    doc["history"].append(entry)
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
        with transient_as_unavailable():
            # The local stand-in needs the partition key named in the WHERE clause of a single-partition query.
            ids = list(self._container.query_items(
                "SELECT c.id FROM c WHERE c.subscriptionId = @s",
                parameters=[{"name": "@s", "value": subscription_id}], partition_key=subscription_id))
            for item in ids:
                try:
                    self._container.delete_item(item["id"], partition_key=subscription_id)
                    deleted += 1
                except exceptions.CosmosResourceNotFoundError:
                    pass  # a concurrent or earlier purge got it first
        return deleted
