"""Charge ids are unique only within an account: billing systems number invoices per tenant, so every
tenant has an INV-0001. What the processor knows an attempt by (its key, the sandbox ledger's id) names
the account, and one account's answer is never given to another."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pastdue.adapters.gateway import OutcomeUnknown, SandboxGateway
from pastdue.adapters.memory import MemoryAccounts, MemoryLedger
from pastdue.domain.model import PAID, PAY_NOW_DECLINED, SETTLED, Attempt, AttemptSource
from pastdue.domain.money import Money
from pastdue.domain.settlement import try_charge
from pastdue.services.billing import record_event
from pastdue.services.portal import pay_now
from tests.unit.builders import FAILING, T0, VISA, account, apply, failed
from tests.unit.test_use_cases_in_memory import world


def _tenant(deps, store: MemoryAccounts, account_id: str, value: int) -> None:
    store.create(account(account_id=account_id, method=FAILING))
    assert record_event(deps, account_id, failed("INV-0001", "sub-0", value)) == "processed"


def test_a_declined_card_of_one_tenant_is_not_the_answer_of_another_tenants_invoice_of_the_same_number():
    deps, store, ledger = world()
    _tenant(deps, store, "tenant-x", 49000)
    _tenant(deps, store, "tenant-y", 4900)
    x = pay_now(deps, "tenant-x", "key-x-0000001", "h", FAILING, "user:x")
    y = pay_now(deps, "tenant-y", "key-y-0000001", "h", VISA, "user:y")
    assert (x.outcome, x.code) == (PAY_NOW_DECLINED, "card_declined")
    assert y.outcome == SETTLED and [(s.charge_id, s.amount) for s in y.settled] == [("INV-0001", Money(4900, "EUR"))]
    assert sorted(ledger.entries) == ["tenant-x:INV-0001:1", "tenant-y:INV-0001:1"]
    assert x.account.balance() == Money(49000, "EUR") and y.account.balance().is_zero


def test_a_good_card_of_one_tenant_does_not_pay_another_tenants_invoice_of_the_same_number():
    deps, store, ledger = world()
    _tenant(deps, store, "tenant-x", 49000)
    _tenant(deps, store, "tenant-y", 4900)
    y = pay_now(deps, "tenant-y", "key-y-0000002", "h", VISA, "user:y")
    x = pay_now(deps, "tenant-x", "key-x-0000002", "h", FAILING, "user:x")
    assert y.outcome == SETTLED and x.outcome == PAY_NOW_DECLINED
    stored = store.get("tenant-x")
    assert stored is not None and stored.charge_of("INV-0001").status != PAID
    assert stored.balance() == Money(49000, "EUR")
    assert ledger.entries["tenant-y:INV-0001:1"]["amount"] == {"value": 4900, "currency": "EUR"}
    assert ledger.entries["tenant-x:INV-0001:1"]["outcome"] == "declined"


def test_an_attempt_reserved_before_keys_named_their_account_keeps_the_key_it_was_sent_with():
    acc = account(account_id="tenant-x")
    acc, _ = apply(acc, failed("INV-0001"))
    charge = acc.charge_of("INV-0001")
    charge.attempts.append(Attempt(1, "INV-0001:1", "tok_visa", AttemptSource.RETRY, T0, amount=charge.outstanding))
    assert try_charge(acc, charge, T0 + timedelta(hours=1)).processor_key == "INV-0001:1"
    charge.attempts[-1].scoped = True
    assert try_charge(acc, charge, T0 + timedelta(hours=1)).processor_key == "tenant-x:INV-0001:1"


def test_the_sandbox_never_answers_one_account_with_a_payment_another_made_under_the_same_key():
    ledger = MemoryLedger()
    gateway = SandboxGateway(ledger)
    amount = Money(4900, "EUR")
    taken = gateway.charge("tok_visa", amount, "INV-0001:1", metadata={"accountId": "tenant-y"})
    assert taken.amount == amount
    with pytest.raises(OutcomeUnknown):  # a key sent before keys named their account: never the answer
        gateway.charge("tok_chargeCustomerFail", amount, "INV-0001:1", metadata={"accountId": "tenant-x"})
