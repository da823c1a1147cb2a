"""What the Cosmos repository writes to the archive carries the retention period's TTL (Cosmos removes each
item when it ends; the container's default is -1, so an item without `ttl` would be kept for ever). The
adapter is driven over a container that records what it is asked to write: the local Cosmos stand-in has
no TTL, so what matters is the field on each item."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pastdue.adapters.cosmos.accounts import CosmosAccounts, charge_item_id, history_item_id
from pastdue.adapters.documents import from_document, to_document
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.money import Money
from pastdue.domain.retention import DEFAULT_RETENTION_DAYS, SETTLED_KEEP
from tests.unit.builders import POLICY, T0, account, failed

DAY_SECONDS = 86_400


class _Saved(dict):
    def get_response_headers(self) -> dict:
        return {"etag": '"2"'}


class RecordingContainer:
    """The few container calls a replace makes, recorded (items by id)."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}

    def upsert_item(self, body: dict, **kwargs) -> dict:
        self.items[body["id"]] = body
        return body

    def replace_item(self, item: str, body: dict, **kwargs) -> _Saved:
        self.items[item] = body
        return _Saved()

    def execute_item_batch(self, operations: list, partition_key: str) -> list[dict]:
        """A transactional batch, as the adapter sends it: each operation's item (a replace names its id)."""
        for kind, args, *_ in operations:
            if kind == "replace":
                self.items[args[0]] = args[1]
            else:
                self.items[args[0]["id"]] = args[0]
        return [{"eTag": '"2"'}] * len(operations)


def _stored(acc):
    """The account as the store reads it back: what its document holds for good is archived next write."""
    doc = to_document(acc)
    doc["_etag"] = '"1"'
    return from_document(doc)


@pytest.mark.parametrize("retention_days", [400, DEFAULT_RETENTION_DAYS])
def test_settled_charges_and_records_moved_to_the_archive_expire_when_the_retention_ends(retention_days):
    acc, _ = decide(account(), failed("ch-1", value=700), POLICY, T0)
    acc, _ = decide(acc, ev.PaymentReceived("tr-1", Money(700, "EUR"), "VIR-1"), POLICY, T0)
    later = T0 + SETTLED_KEEP + timedelta(hours=1)
    acc, _ = decide(acc, ev.SubscriptionSet("sub-1", "Staging", "default"), POLICY, later)  # trims: ch-1 leaves
    stored = _stored(acc)
    assert [c.charge_id for c in stored.archive_charges] == ["ch-1"]
    decided, _ = decide(stored, ev.SubscriptionSet("sub-2", "Test", "default"), POLICY, later)
    container = RecordingContainer()
    CosmosAccounts(container, retention_days=retention_days).replace(decided)  # type: ignore[arg-type]
    charge = container.items[charge_item_id("ch-1")]
    assert charge["type"] == "settledCharge" and charge["status"] == "paid"
    assert charge["ttl"] == retention_days * DAY_SECONDS
    chunk = container.items[history_item_id(1)]
    assert chunk["ttl"] == retention_days * DAY_SECONDS
    assert "ttl" not in container.items["acct-1"]  # the account document itself never expires
