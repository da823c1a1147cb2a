"""What a test reads back and knows is there (the account it made, that account's history): the value, or
the test fails at the read, saying what was missing."""

from __future__ import annotations

from pastdue.adapters.store import AccountQueries, AccountRepository, HistoryPage
from pastdue.domain.model import Account


def stored(store: AccountRepository, account_id: str) -> Account:
    account = store.get(account_id)
    assert account is not None, f"account {account_id} is not stored"
    return account


def history_page(
    queries: AccountQueries,
    account_id: str,
    subscription_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> HistoryPage:
    page = queries.history(account_id, subscription_id, before, limit)
    assert page is not None, f"account {account_id} has no history: it is not stored"
    return page
