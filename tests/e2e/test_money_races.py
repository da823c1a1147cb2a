"""Over real HTTP: a new card and a transfer for the same charge at once. Whatever wins, the processor's
ledger and the account agree: every cent taken is applied to a charge or kept as credit, and the
history says which."""

from __future__ import annotations

import threading

import pytest

from pastdue import bootstrap
from tests.support.faulty_deps import ledger_entries
from tests.support.history import full_history

ACCOUNTS = 24


def _doc(account_id):
    return bootstrap.container("accounts").read_item(account_id, partition_key=account_id)


@pytest.mark.slow
def test_a_transfer_racing_a_new_card_never_loses_the_surplus(billing, portal, new_id):
    accounts = []
    for _ in range(ACCOUNTS):
        account_id = new_id("race")
        assert billing.account(account_id, token="tok_chargeCustomerFail").status_code == 201
        assert billing.subscription(account_id, "sub-1").status_code == 201
        assert billing.charge_failed(account_id, "sub-1", "INV-0001", 1000).status_code == 200
        accounts.append(account_id)

    def pay(account_id, start, answers):
        start.wait()
        answers["card"] = portal.pay(account_id, "tok_visa").status_code

    def transfer(account_id, start, answers):
        start.wait()
        answers["transfer"] = billing.payment_received(account_id, 1000).status_code

    for account_id in accounts:
        start, answers = threading.Barrier(2), dict[str, int]()
        threads = [threading.Thread(target=fn, args=(account_id, start, answers)) for fn in (pay, transfer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert answers == {"card": 200, "transfer": 200}
    overpaid = 0
    for account_id in accounts:
        doc = _doc(account_id)
        taken = sum(e["amount"]["value"] for e in ledger_entries(account_id) if e["outcome"] == "succeeded")
        applied = sum(c["paid"]["value"] for c in doc["charges"] if c.get("paid"))
        credit = doc["credit"]["value"] if doc.get("credit") else 0
        assert taken + 1000 == applied + credit, account_id
        assert applied == 1000 and doc["charges"][0]["status"] == "paid"
        if taken:
            overpaid += 1
            history = full_history(bootstrap.deps().store, account_id)
            kinds = [h["kind"] for h in history]
            assert "credit.added" in kinds or any(
                h["kind"] == "payment.received" and h["detail"]["credit"] for h in history
            )
            assert portal.account(account_id).json()["credit"] == {"value": credit, "currency": "EUR"}
    print(f"{overpaid} of {ACCOUNTS} accounts: the card and the transfer both paid; the surplus is credit")
