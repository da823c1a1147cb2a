"""The account repository on Cosmos DB: one document per account, If-Match on its _etag, and the archive
beside it in the same partition (history chunks, settled charges, sent notices, processed event ids)."""

from __future__ import annotations

import json

from azure.core import MatchConditions
from azure.cosmos import exceptions

from pastdue.adapters.cosmos.connection import TRANSIENT_STATUS, read_or_none, transient_as_unavailable
from pastdue.adapters.cosmos.on_container import OnContainer
from pastdue.adapters.documents import SYNTHETIC_TTL_SECONDS, from_document, plan_write, to_document
from pastdue.adapters.store import AccountRepository, AlreadyExists, ConcurrencyConflict, EventSeen, StoreUnavailable
from pastdue.domain.codec import dump, load
from pastdue.domain.model import Account, Charge

# Archived items live beside their account document, in its partition. Their ids start with "~", which
# an account id never does (ID_PATTERN), and are deterministic: writing one again changes nothing.
# The history is archived in chunks: the records a stored document holds, at most CHUNK to an item,
# each named by its first seq. Which records a document holds is fixed once it is stored, so whoever
# archives them (again, after a crash or a 412) writes the same chunks.
HISTORY_ITEM, CHARGE_ITEM, NOTICE_ITEM = "history", "settledCharge", "sentNotice"
CHUNK = 200


# Event ids processed on the account are items of their own, "~e~<event id>", kept as long as the history:
# created in one transactional batch with the document's write, a 409 on one is a redelivery.
EVENT_ITEM = "processedEvent"
BATCH_MAX = 100  # operations in one Cosmos transactional batch
# A batch's request is at most 2 MB: what its items weigh as JSON, less room for the request's own framing.
BATCH_BYTES = 2 * 1024 * 1024 - 64 * 1024


def _item(body: dict, item_id: str, account_id: str, kind: str, ttl: int) -> dict:
    """An archived settled charge or sent notice: as the document held it, under its own id and TTL."""
    return {**body, "id": item_id, "accountId": account_id, "type": kind, "ttl": ttl}


class _BatchTooLarge(Exception):
    """A write's batch would exceed what Cosmos takes in one (100 operations, 2 MB): nothing was written."""


def _size(items: list[dict]) -> int:
    """What the items weigh as JSON, at most what the SDK sends (escaped to ASCII: never less than UTF-8)."""
    return sum(len(json.dumps(item, separators=(",", ":"))) for item in items)


def _parts(items: list[dict]) -> list[list[dict]]:
    """Items in batches that each fit Cosmos's limits (an item is at most 2 MB itself)."""
    parts: list[list[dict]] = []
    weight = 0
    for item in items:
        size = _size([item])
        if not parts or len(parts[-1]) >= BATCH_MAX or weight + size > BATCH_BYTES:
            parts.append([])
            weight = 0
        parts[-1].append(item)
        weight += size
    return parts


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


class CosmosAccounts(OnContainer, AccountRepository):
    """The repository: an account's document and its archive, in its own partition."""

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
        """Archive what the stored document already holds for good (records, settled charges, sent notices)
        as items with deterministic ids, and write the document without them, If-Match: one transactional
        batch with the new events' items when all of it fits one (Cosmos's 100 operations and 2 MB), so
        the archive and the document change together. Otherwise the archive goes first, in batches of
        its own, then the document: a crash or a 412 between the two leaves them in the document, and the
        next write archives them again to the same ids: nothing is lost and nothing is written twice."""
        write = plan_write(account)
        if write is None:
            return account  # the decision changed nothing: no write
        ttl = self._ttl_of(account)
        archive = self._archive_items(
            account.account_id, write.records, write.settled, write.sent, write.earlier_events, ttl
        )
        doc, events = write.document, write.new_events
        if not archive and not events:
            etag = self._write(account, doc)
        else:
            try:
                etag = self._write_in_batch(account, doc, archive, events)
            except _BatchTooLarge:  # over 100 operations, or Cosmos's 413 (over 2 MB): the archive goes first
                for part in _parts(archive):
                    with transient_as_unavailable():
                        self._container.execute_item_batch(
                            [("upsert", (item,)) for item in part], partition_key=account.account_id
                        )
                if len(events) >= BATCH_MAX:
                    raise ValueError(
                        f"one decision marks {len(events)} events processed; a batch holds fewer"
                    ) from None
                etag = self._write_in_batch(account, doc, [], events) if events else self._write(account, doc)
        write.written.etag = etag
        return write.written

    def _ttl_of(self, account: Account) -> int:
        """How long an archived item lives: the retention, or a test account's own short life."""
        return min(self._ttl, SYNTHETIC_TTL_SECONDS) if account.synthetic else self._ttl

    def _write(self, account: Account, doc: dict) -> str | None:
        try:
            with transient_as_unavailable():
                # No body in the answer (Prefer: return=minimal): its etag is all that is new.
                saved = self._container.replace_item(
                    account.account_id,
                    doc,
                    etag=account.etag,
                    match_condition=MatchConditions.IfNotModified,
                    no_response=True,
                )
        except exceptions.CosmosAccessConditionFailedError:
            raise ConcurrencyConflict(account.account_id) from None
        return saved.get_response_headers().get("etag") or saved.get("_etag")

    def _write_in_batch(self, account: Account, doc: dict, archive: list[dict], events: dict[str, str]) -> str | None:
        """Archived items, one new item per event id and the document If-Match, in one transactional batch
        (all or none): an event id stored before fails its create with a 409, and then nothing is written.
        Raises _BatchTooLarge for more than Cosmos's 100 operations or its 2 MB (a 413: nothing written)."""
        if len(archive) + len(events) >= BATCH_MAX:
            raise _BatchTooLarge()
        names = list(events)
        ttl = self._ttl_of(account)
        operations: list = [("upsert", (item,)) for item in archive]
        operations += [("create", (self._event_item(account.account_id, name, events[name], ttl),)) for name in names]
        operations.append(("replace", (account.account_id, doc), {"if_match_etag": account.etag}))
        try:
            with transient_as_unavailable():
                answers = self._container.execute_item_batch(operations, partition_key=account.account_id)
        except exceptions.CosmosHttpResponseError as error:
            if error.status_code != 413:
                raise
            raise _BatchTooLarge() from None
        except exceptions.CosmosBatchOperationError as error:
            failed = error.error_index - len(archive)
            if error.status_code == 409 and 0 <= failed < len(names):
                raise EventSeen(names[failed]) from None
            if error.status_code == 412:
                raise ConcurrencyConflict(account.account_id) from None
            if error.status_code in TRANSIENT_STATUS:
                raise StoreUnavailable(f"cosmos answered {error.status_code} to a batch") from None
            raise
        last = answers[-1]
        return last.get("eTag") or (last.get("resourceBody") or {}).get("_etag")

    def _event_item(self, account_id: str, event_id: str, at: str, ttl: int) -> dict:
        return {
            "id": event_item_id(event_id),
            "accountId": account_id,
            "type": EVENT_ITEM,
            "eventId": event_id,
            "at": at,
            "ttl": ttl,
        }

    def seen_event(self, account_id: str, event_id: str) -> bool:
        with transient_as_unavailable():
            return read_or_none(self._container, event_item_id(event_id), account_id) is not None

    def _archive_items(
        self, account_id: str, records: list[dict], settled: list, sent: list, events: dict[str, str], ttl: int
    ) -> list[dict]:
        """The items that archive what a stored document held for good, each with its deterministic id."""
        items = [
            {
                "id": history_item_id(chunk[0]["seq"]),
                "accountId": account_id,
                "type": HISTORY_ITEM,
                "seq": chunk[0]["seq"],
                "lastSeq": chunk[-1]["seq"],
                "records": chunk,
                "subscriptionIds": sorted({r["subscriptionId"] for r in chunk if r.get("subscriptionId")}),
                "ttl": ttl,
            }
            for chunk in (records[start : start + CHUNK] for start in range(0, len(records), CHUNK))
        ]
        items += [_item(dump(c), charge_item_id(c.charge_id), account_id, CHARGE_ITEM, ttl) for c in settled]
        items += [_item(dump(n), notice_item_id(n.notice_id), account_id, NOTICE_ITEM, ttl) for n in sent]
        # Ids a document of an earlier release kept in its own list.
        items += [self._event_item(account_id, event_id, at, ttl) for event_id, at in events.items()]
        return items

    def archived_charge(self, account_id: str, charge_id: str) -> bool:
        with transient_as_unavailable():
            return read_or_none(self._container, charge_item_id(charge_id), account_id) is not None

    def archived_charge_of(self, account_id: str, charge_id: str) -> Charge | None:
        with transient_as_unavailable():
            item = read_or_none(self._container, charge_item_id(charge_id), account_id)
        return load(Charge, item) if item is not None else None
