"""The account store in memory (its Cosmos adapters: pastdue/adapters/cosmos/accounts.py, queries.py and
queues.py), for fast tests of the use cases (change(), pay-now's rounds, the sweep's visit of an account, the
notice drain, the processor's events, which find an account by its processor customer) without a database.

It keeps the documents Cosmos would keep (adapters/documents.py writes and reads them, so a decision goes
through the same codec) and honours what the services rely on: a replace is If-Match on the etag the
account was read with (ConcurrencyConflict otherwise), an event id marked processed twice fails the whole
write (EventSeen), what a stored document held for good is archived before the write, and a decision that
changes nothing writes nothing. `before_replace` lets a test write in between, as a concurrent writer."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import msgspec

from pastdue.adapters.documents import (
    RECORD_FIELDS,
    count_failure,
    from_document,
    load_or_mark,
    plan_write,
    to_document,
    upgrade,
)
from pastdue.adapters.store import (
    AccountFilter,
    AccountStore,
    AlreadyExists,
    BadCursor,
    ConcurrencyConflict,
    EventSeen,
    HistoryPage,
    Unreadable,
)
from pastdue.domain.codec import dump, format_time, load, parse_time
from pastdue.domain.model import Account, Charge


def _copy(doc: dict) -> dict:
    return msgspec.json.decode(msgspec.json.encode(doc))


class MemoryAccounts(AccountStore):
    """Every port of the account store: the repository, the queries across accounts (support's lists, the
    portal's and the processor's look-ups, the dashboard's book, the paged history) and the work queues."""

    def __init__(self) -> None:
        self.documents: dict[str, dict] = {}
        self.records: dict[str, dict[int, dict]] = {}  # archived history records, per account, by seq
        self.charges: dict[str, dict[str, dict]] = {}  # archived settled charges, as stored
        self.events: dict[str, set[str]] = {}  # processed event ids
        self.writes = 0  # documents written (a decision that changes nothing is none)
        self.before_replace: Callable[[str], None] | None = None
        self._etags = itertools.count(1)

    def _store(self, account_id: str, doc: dict) -> str:
        etag = f'"{next(self._etags)}"'
        self.documents[account_id] = {**_copy(doc), "_etag": etag}
        self.writes += 1
        return etag

    def put_document(self, doc: dict) -> None:
        """A document as it is, for tests of documents that do not load."""
        self._store(doc["id"], doc)

    def get(self, account_id: str) -> Account | None:
        doc = self.documents.get(account_id)
        return from_document(_copy(doc)) if doc is not None else None

    def create(self, account: Account) -> Account:
        if account.account_id in self.documents:
            raise AlreadyExists(account.account_id)
        self._store(account.account_id, to_document(account))
        return self.get(account.account_id)  # type: ignore[return-value]

    def replace(self, account: Account) -> Account:
        write = plan_write(account)
        if write is None:
            return account
        if self.before_replace is not None:
            self.before_replace(account.account_id)
        stored = self.documents.get(account.account_id)
        if stored is None or stored["_etag"] != account.etag:
            raise ConcurrencyConflict(account.account_id)
        seen = self.events.setdefault(account.account_id, set())
        again = next((e for e in write.new_events if e in seen), None)
        if again is not None:
            raise EventSeen(again)
        self.records.setdefault(account.account_id, {}).update((r["seq"], r) for r in write.records)
        self.charges.setdefault(account.account_id, {}).update((c.charge_id, dump(c)) for c in write.settled)
        seen.update(write.earlier_events)
        seen.update(write.new_events)
        write.written.etag = self._store(account.account_id, write.document)
        return write.written

    def seen_event(self, account_id: str, event_id: str) -> bool:
        return event_id in self.events.get(account_id, set())

    def archived_charge(self, account_id: str, charge_id: str) -> bool:
        return charge_id in self.charges.get(account_id, {})

    def archived_charge_of(self, account_id: str, charge_id: str) -> Charge | None:
        stored = self.charges.get(account_id, {}).get(charge_id)
        return load(Charge, stored) if stored is not None else None

    # --- queries across accounts (AccountQueries), as the Cosmos queries answer them ----------------------
    def _accounts(self, keep: Callable[[dict], bool], limit: int | None = None) -> list[Account]:
        """Accounts whose document `keep`s, by account id; a document that no longer loads is left out."""
        found = (load_or_mark(_copy(doc)) for _, doc in sorted(self.documents.items()) if keep(doc))
        return [account for account in itertools.islice(found, limit) if isinstance(account, Account)]

    def by_gateway_customer(self, customer_id: str) -> list[Account]:
        return self._accounts(lambda doc: doc.get("gatewayCustomerId") == customer_id)

    def by_admin_email(self, email: str) -> list[Account]:
        return self._accounts(lambda doc: (doc.get("admin") or {}).get("email") == email)

    def by_admin_principal(self, object_id: str, limit: int = 100) -> list[Account]:
        return self._accounts(lambda doc: (doc.get("admin") or {}).get("principalId") == object_id, limit)

    def find(self, where: AccountFilter, limit: int, cursor: str | None = None) -> tuple[list[Account], str | None]:
        after = ""
        if cursor is not None:
            try:
                after = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))["after"]
                if not isinstance(after, str):
                    raise ValueError(after)
            except (ValueError, KeyError, TypeError, RecursionError):
                raise BadCursor("not a cursor this API gave") from None
        disable = format_time(where.disable_before) if where.disable_before else None
        delete = format_time(where.delete_before) if where.delete_before else None

        def matches(doc: dict) -> bool:
            return (
                doc.get("type", "account") == "account"
                and (where.state is None or where.state in (doc.get("states") or []))
                and (disable is None or _at_or_before(doc.get("nextDisableAt"), disable))
                and (delete is None or _at_or_before(doc.get("nextDeletionAt"), delete))
                and (where.admin_email is None or (doc.get("admin") or {}).get("email") == where.admin_email)
            )

        ids = [account_id for account_id, doc in sorted(self.documents.items()) if account_id > after and matches(doc)]
        page = ids[:limit]
        loaded = [load_or_mark(_copy(self.documents[a])) for a in page]
        more = len(ids) > limit
        token = (
            base64.urlsafe_b64encode(json.dumps({"after": page[-1]}).encode()).decode().rstrip("=") if more else None
        )
        return [a for a in loaded if isinstance(a, Account)], token

    def snapshot(self, now: datetime, within: timedelta) -> dict:
        real = [
            doc
            for doc in self.documents.values()
            if doc.get("type", "account") == "account" and doc.get("synthetic") is not True
        ]
        horizon, today = format_time(now + within), format_time(now)
        at_risk: dict[str, int] = {}
        for doc in real:
            owed = doc.get("openBalance")
            states = doc.get("states") or []
            if isinstance(owed, dict) and isinstance(owed.get("value"), int) and {"pastDue", "disabled"} & set(states):
                at_risk[owed["currency"]] = at_risk.get(owed["currency"], 0) + owed["value"]
        return {
            "byState": {
                state: sum(1 for doc in real if state in (doc.get("states") or []))
                for state in ("active", "pastDue", "disabled", "deleted")
            },
            "atRisk": at_risk,
            "disablesSoon": sum(1 for doc in real if _at_or_before(doc.get("nextDisableAt"), horizon)),
            "deletionsSoon": sum(1 for doc in real if _at_or_before(doc.get("nextDeletionAt"), horizon)),
            "stillDue": sum(1 for doc in real if _at_or_before(doc.get("nextActionAt"), today)),
        }

    def history(
        self, account_id: str, subscription_id: str | None = None, before: int | None = None, limit: int = 100
    ) -> HistoryPage | None:
        """The document's newest records, then the archived ones, newest first, as the Cosmos query pages them."""
        doc = self.documents.get(account_id)
        if doc is None or doc.get("type", "account") != "account":
            return None
        doc = upgrade(_copy(doc))
        stored_seq = doc.get("archivedSeq")
        archived = stored_seq if isinstance(stored_seq, int) and not isinstance(stored_seq, bool) else 0
        inline = [r for r in doc.get("history") or [] if isinstance(r, dict) and type(r.get("seq")) is int]
        records = [r for r in inline if r["seq"] > archived]
        records += [r for seq, r in self.records.get(account_id, {}).items() if seq <= archived]
        entries = sorted(
            (
                r
                for r in records
                if (before is None or r["seq"] < before)
                and (subscription_id is None or r.get("subscriptionId") == subscription_id)
            ),
            key=lambda r: -r["seq"],
        )
        more = len(entries) > limit
        entries = [{k: r.get(k) for k in RECORD_FIELDS} for r in entries[:limit]]
        return HistoryPage(entries, entries[-1]["seq"] if more else None)

    def _pages(
        self, field: str, now: datetime, page_size: int, slots: tuple[int, ...] | None = None
    ) -> Iterator[list[Account | Unreadable]]:
        due = sorted(
            account_id
            for account_id, doc in self.documents.items()
            if isinstance(doc.get(field), str)
            and parse_time(doc[field]) <= now
            and (slots is None or doc.get("sweepSlot", 0) in slots)
        )
        for start in range(0, len(due), page_size):
            yield [
                load_or_mark(_copy(self.documents[a])) for a in due[start : start + page_size] if a in self.documents
            ]

    def due(
        self, now: datetime, page_size: int, slots: tuple[int, ...] | None = None
    ) -> Iterator[list[Account | Unreadable]]:
        return self._pages("nextActionAt", now, page_size, slots)

    def notices_due(self, now: datetime, page_size: int) -> Iterator[list[Account | Unreadable]]:
        return self._pages("noticesDueAt", now, page_size)

    def record_failure(
        self, account_id: str, where: str, reason: str, now: datetime, permanent: bool = False
    ) -> dict | None:
        doc = self.documents.get(account_id)
        if doc is None:
            return None
        doc = _copy(doc)
        counted = count_failure(doc, where, reason, now, permanent)
        self._store(account_id, doc)
        return counted


def _at_or_before(stamp: object, limit: str) -> bool:
    """A stored time at or before `limit` (both in the codec's sortable format), as Cosmos compares them."""
    return isinstance(stamp, str) and stamp <= limit
