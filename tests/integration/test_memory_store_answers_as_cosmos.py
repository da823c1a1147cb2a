"""The in-memory account store answers every query as the Cosmos one does: the same accounts, driven through
the same decisions into both (a database of its own on the local Cosmos, the real SDK), then asked the
same questions: the paged history (filtered by subscription, continued with its cursor), support's lists
(by state, by dates, by admin e-mail, page after page), the dashboard's book, and the portal's and the
processor's look-ups. The use-case tests that run on the fake (`make unit`) rest on this."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos import CosmosAccountStore
from pastdue.adapters.memory import MemoryAccounts
from pastdue.adapters.store import AccountFilter, BadCursor
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import DECLINED, Admin
from pastdue.domain.money import Money
from pastdue.policy import shipped
from tests.support.busy import drain, drive, new_account
from tests.support.stack import new_database

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
POLICY = shipped()


@pytest.fixture(scope="module")
def stores(app_env):
    client, name = bootstrap.cosmos_client(), new_database("memory_matches")
    cosmos = CosmosAccountStore(client.get_database_client(name).get_container_client("accounts"))
    memory = MemoryAccounts()
    for store in (cosmos, memory):
        _book(store)
    yield cosmos, memory
    client.delete_database(name)


def _book(store) -> None:
    """Eight accounts: two tenants' ids that look alike, one admin with two accounts, a synthetic one, some
    paid up, some past due, one through 300 events (its history mostly archived), one suspended."""
    for n in range(8):
        account_id = f"acct-{n:02d}" if n % 2 else f"tenant-b-acct-{n:02d}"
        account = new_account(account_id)
        admin = "shared-admin" if n in (1, 2) else f"oid-{n}"
        account = msgspec.structs.replace(
            account,
            admin=Admin(admin, f"{admin}@example.com", "Ada"),
            gateway_customer_id=f"cus_{n % 3}",
            synthetic=n == 7,
        )
        account = store.create(account)
        events = {0: 0, 1: 1, 2: 2, 3: 300, 4: 5, 5: 1, 6: 3, 7: 1}[n]
        account, at = drive(store, POLICY, account, 0, events, T0, write_every=7) if events else (account, T0)
        if n == 5:  # never paid: suspended, then its deletion is due
            for day in range(1, 40):
                when = at + timedelta(days=day)
                account, effects = decide(account, ev.SweepTick(), POLICY, when)
                tries = [e for e in effects if isinstance(e, ev.TryCharge)]
                if tries:  # each retry declined
                    declined = tuple(ev.AttemptResult(t.charge_id, t.key, DECLINED, "generic_decline") for t in tries)
                    account, _ = decide(account, ev.AttemptsResolved(declined), POLICY, when)
                account = store.replace(drain(account, POLICY, when))
        if n == 6:
            account, _ = decide(account, ev.ChargeFailed("x-6", "s2", "c-x", Money(999, "EUR"), None, at), POLICY, at)
            store.replace(drain(account, POLICY, at))


def _ids(accounts) -> list[str]:
    return sorted(a.account_id for a in accounts)


def test_history_pages_are_the_same_records_with_the_same_cursors(stores):
    cosmos, memory = stores
    for account_id in ("acct-03", "acct-05", "tenant-b-acct-06", "tenant-b-acct-00"):
        for subscription_id in (None, "s1"):
            for limit in (25, 100) if account_id == "acct-03" else (1, 7, 100):  # (300 records: 12 pages of 25)
                pages = []
                for store in (cosmos, memory):
                    before, seen = None, []
                    while True:
                        page = store.history(account_id, subscription_id, before, limit)
                        seen.append(page.entries)
                        if page.before is None:
                            break
                        before = page.before
                    pages.append(seen)
                assert pages[0] == pages[1], (account_id, subscription_id, limit)
    assert cosmos.history("acct-03", None, None, 1000).entries == memory.history("acct-03", None, None, 1000).entries
    assert len(memory.history("acct-03", None, None, 1000).entries) > 300  # archived and inline alike
    assert cosmos.history("nobody", None, None, 10) is None and memory.history("nobody", None, None, 10) is None


@pytest.mark.parametrize(
    "where",
    [
        AccountFilter(),
        AccountFilter(state="pastDue"),
        AccountFilter(state="disabled"),
        AccountFilter(state="active"),
        AccountFilter(disable_before=T0 + timedelta(days=60)),
        AccountFilter(delete_before=T0 + timedelta(days=200)),
        AccountFilter(admin_email="shared-admin@example.com"),
    ],
)
def test_supports_lists_hold_the_same_accounts_page_after_page(stores, where):
    cosmos, memory = stores
    found = []
    for store in (cosmos, memory):
        ids, cursor = [], None
        while True:
            page, cursor = store.find(where, 2, cursor)
            assert len(page) <= 2
            ids += [a.account_id for a in page]
            if cursor is None:
                break
        assert len(ids) == len(set(ids))  # no account twice across pages
        found.append(sorted(ids))
    assert found[0] == found[1], where


def test_a_cursor_neither_store_gave_is_refused(stores):
    for store in stores:
        with pytest.raises(BadCursor):
            store.find(AccountFilter(), 2, "bm90LWEtY3Vyc29y")


def test_the_book_and_the_look_ups_are_the_same(stores):
    cosmos, memory = stores
    now = T0 + timedelta(days=45)
    assert cosmos.snapshot(now, timedelta(days=7)) == memory.snapshot(now, timedelta(days=7))
    assert memory.snapshot(now, timedelta(days=7))["byState"]["disabled"] >= 1
    for email in ("shared-admin@example.com", "oid-4@example.com", "nobody@example.com"):
        assert _ids(cosmos.by_admin_email(email)) == _ids(memory.by_admin_email(email))
    assert _ids(cosmos.by_admin_principal("shared-admin")) == _ids(memory.by_admin_principal("shared-admin"))
    assert len(memory.by_admin_principal("shared-admin")) == 2
    for customer in ("cus_0", "cus_1", "cus_9"):
        assert _ids(cosmos.by_gateway_customer(customer)) == _ids(memory.by_gateway_customer(customer))
