"""Ports for storage: small abstract classes the services depend on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime

from pastdue.domain.model import Account


class ConcurrencyConflict(Exception):
    """Someone else changed the document since it was read (HTTP 412)."""


class AlreadyExists(Exception):
    pass


class StoreUnavailable(Exception):
    """A transient failure (throttled, timed out, connection lost): the write may or may not have landed.
    Callers re-read and decide again; If-Match makes a landed write show up as a 412 or as done."""


class AccountStore(ABC):
    @abstractmethod
    def get(self, account_id: str) -> Account | None: ...

    @abstractmethod
    def create(self, account: Account) -> Account: ...

    @abstractmethod
    def replace(self, account: Account) -> Account:
        """Write if the stored _etag still equals account.etag, else raise ConcurrencyConflict."""

    @abstractmethod
    def due(self, now: datetime, page_size: int) -> Iterator[list[Account]]:
        """Pages of accounts whose nextActionAt has come."""

    @abstractmethod
    def by_admin_email(self, email: str) -> list[Account]: ...

    @abstractmethod
    def notices_due(self, now: datetime, page_size: int) -> Iterator[list[Account]]:
        """Pages of accounts with a notice to send."""


class CustomerData(ABC):
    @abstractmethod
    def purge(self, subscription_id: str) -> int:
        """Delete every item of the subscription's customer data; return how many. Idempotent."""
