"""Ports for storage: small abstract classes the services depend on. The account store is three:
the repository (one document at a time), the queries across accounts, and the work queues."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pastdue.domain.model import Account, Charge


class ConcurrencyConflict(Exception):
    """Someone else changed the document since it was read (HTTP 412)."""


class AlreadyExists(Exception):
    pass


class EventSeen(Exception):
    """The decision marks an event id as processed that the store already holds: a redelivery (or a
    concurrent delivery) of an event applied before. Nothing of the decision was written."""

    def __init__(self, event_id: str):
        super().__init__(f"event {event_id} was processed before")
        self.event_id = event_id


class StoreUnavailable(Exception):
    """A transient failure (throttled, timed out, connection lost): the write may or may not have landed.
    Callers re-read and decide again; If-Match makes a landed write show up as a 412 or as done."""


class UnreadableAccount(Exception):
    """A stored account document that no longer loads (it fails the model's rules)."""

    def __init__(self, account_id: str, reason: str):
        super().__init__(f"account {account_id} cannot be read: {reason}")
        self.account_id, self.reason = account_id, reason


@dataclass(frozen=True)
class Unreadable:
    """In a page of due accounts: a document that did not load. The run quarantines it and goes on."""

    account_id: str
    reason: str


@dataclass(frozen=True)
class HistoryPage:
    """Audit records, newest first; `before` continues after the last of them (None: that was all)."""

    entries: list[dict]
    before: int | None


@dataclass(frozen=True)
class AccountFilter:
    """What support lists accounts by; every field set must hold."""

    state: str | None = None  # one of the subscriptions is in this state
    disable_before: datetime | None = None  # a subscription is disabled at or before this time
    delete_before: datetime | None = None  # a subscription's data is deleted at or before this time
    admin_email: str | None = None


class BadCursor(ValueError):
    """A continuation this store did not give, or one it no longer accepts."""


class AccountRepository(ABC):
    """The account documents, one at a time: read, create, replace If-Match, and what the archive holds."""

    @abstractmethod
    def get(self, account_id: str) -> Account | None: ...

    @abstractmethod
    def create(self, account: Account) -> Account:
        """Store a new account; AlreadyExists if one has its id."""

    @abstractmethod
    def replace(self, account: Account) -> Account:
        """Write if the stored _etag still equals account.etag, else raise ConcurrencyConflict. The event ids
        the decision marked processed (account.processed_events) are stored with it, atomically, each as an
        item of its own kept as long as the history: one stored before raises EventSeen, nothing written.
        What the stored document already held for good is archived (adapters/documents.py)."""

    @abstractmethod
    def seen_event(self, account_id: str, event_id: str) -> bool:
        """Was this event id processed on the account (at any time within the history's retention)?"""

    @abstractmethod
    def archived_charge(self, account_id: str, charge_id: str) -> bool:
        """Is this charge in the account's archive (settled and moved out of the document)?"""

    def archived_charge_of(self, account_id: str, charge_id: str) -> Charge | None:
        """The charge as the account's archive holds it (settled and moved out of the document), or None."""
        return None


class AccountQueries(ABC):
    """Reads across accounts or across an account's archive, for the API's lists and the dashboard."""

    @abstractmethod
    def history(
        self, account_id: str, subscription_id: str | None = None, before: int | None = None, limit: int = 100
    ) -> HistoryPage | None:
        """The account's audit records older than `before` (a seq), newest first, from the document and
        its archive alike; None when the account does not exist."""

    @abstractmethod
    def find(self, where: AccountFilter, limit: int, cursor: str | None = None) -> tuple[list[Account], str | None]:
        """A page of the accounts that match, and the cursor of the next page (None: that was all).
        Raises BadCursor for a cursor it did not give."""

    @abstractmethod
    def snapshot(self, now: datetime, within: timedelta) -> dict:
        """What the dashboard shows of the whole book: accounts by state, open balance of the past-due and
        disabled ones by currency, accounts to be disabled or deleted within `within`, accounts still due."""

    @abstractmethod
    def by_admin_email(self, email: str) -> list[Account]: ...

    @abstractmethod
    def by_admin_principal(self, object_id: str, limit: int = 100) -> list[Account]:
        """Accounts whose admin is this signed-in user."""

    @abstractmethod
    def by_gateway_customer(self, customer_id: str) -> list[Account]:
        """Accounts linked to the processor's customer (normally one)."""


class WorkQueues(ABC):
    """The accounts with work due (the sweep's, the notice drain's), and the failures counted on them."""

    @abstractmethod
    def due(
        self, now: datetime, page_size: int, slots: tuple[int, ...] | None = None
    ) -> Iterator[list[Account | Unreadable]]:
        """Pages of accounts whose nextActionAt has come; with `slots`, only those in these slots (one
        shard of a fanned-out sweep, domain/shards.py)."""

    @abstractmethod
    def notices_due(self, now: datetime, page_size: int) -> Iterator[list[Account | Unreadable]]:
        """Pages of accounts with a notice to send."""

    @abstractmethod
    def record_failure(
        self, account_id: str, where: str, reason: str, now: datetime, permanent: bool = False
    ) -> dict | None:
        """Count a failed run on the stored document as it is (it may not load), with If-Match: back off
        (the due time of `where`, "sweep" or "notices", moves later) or quarantine it
        (domain/quarantine.py). Returns {"failures", "quarantined"}, or None if it is gone."""


class AccountStore(AccountRepository, AccountQueries, WorkQueues, ABC):
    """All three, as one store serves them (the use cases' `Deps.store`)."""


class CustomerData(ABC):
    @abstractmethod
    def purge(self, subscription_id: str) -> int:
        """Delete every item of the subscription's customer data; return how many. Idempotent."""
