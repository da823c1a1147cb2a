"""Every store call, throttled for good by Cosmos (429 on every request, the SDK's own retries spent), raises
the port's StoreUnavailable: the HTTP layer answers 503 + Retry-After, the runs back off; never a 500."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest

from pastdue.adapters.store import AccountFilter, AccountStore, CustomerData, StoreUnavailable
from tests.support.busy import new_account
from tests.support.faulty_deps import faulty_deps

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _calls(store, customer_data):
    """One call of each method of the ports, by name, its result consumed (pages are lazy)."""
    account = new_account("throttled-1")
    account.etag = "etag"
    return {
        "get": lambda: store.get("throttled-1"),
        "create": lambda: store.create(new_account("throttled-2")),
        "replace": lambda: store.replace(account),
        "history": lambda: store.history("throttled-1"),
        "find": lambda: store.find(AccountFilter(state="pastDue"), 10),
        "snapshot": lambda: store.snapshot(NOW, timedelta(days=7)),
        "archived_charge": lambda: store.archived_charge("throttled-1", "ch-1"),
        "due": lambda: list(store.due(NOW, 10)),
        "notices_due": lambda: list(store.notices_due(NOW, 10)),
        "by_admin_email": lambda: store.by_admin_email("a@example.com"),
        "by_admin_principal": lambda: store.by_admin_principal("oid-1"),
        "by_gateway_customer": lambda: store.by_gateway_customer("cus_1"),
        "record_failure": lambda: store.record_failure("throttled-1", "sweep", "why", NOW),
        "seen_event": lambda: store.seen_event("throttled-1", "evt_1"),
        "purge": lambda: customer_data.purge("sub-1"),
    }


def _port_methods() -> set[str]:
    return {
        name
        for port in (AccountStore, CustomerData)
        for name, member in inspect.getmembers(port)
        if getattr(member, "__isabstractmethod__", False)
    }


def test_every_method_of_the_storage_ports_is_called_here(app_env):
    deps, _ = faulty_deps(0.0)
    assert set(_calls(deps.store, deps.customer_data)) == _port_methods()


@pytest.mark.parametrize("method", sorted(_port_methods()))
def test_a_throttled_store_call_raises_store_unavailable(app_env, method):
    deps, transport = faulty_deps(0.0, faults=("429",))
    transport.rate = 1.0  # from here on: the client itself was made while Cosmos still answered
    with pytest.raises(StoreUnavailable):
        _calls(deps.store, deps.customer_data)[method]()
    assert transport.injected["429"] > 0
