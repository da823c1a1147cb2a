"""Three money and receipt promises of docs/design.md, each held by a test that fails when it breaks
(and by a mutant in tests/mutation_check.py):

1. a surplus kept as credit pays the account's other open charges at once;
2. a pay-now receipt's "this payment covers" rows show what was taken per subscription, never what is
   still owed after the payment;
3. a charge whose customer was asked to authenticate stays in the document while the confirmation may
   still arrive (35 days), so a confirmation on day 20 is applied, with one receipt.
"""

from __future__ import annotations

import re

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import ACTIVE, OPEN, PAID, PAST_DUE, REQUIRES_ACTION, SUCCEEDED
from pastdue.domain.money import Money
from pastdue.notices.render import render
from tests.unit.builders import POLICY, T0, VISA, account, days, failed

EUR = "EUR"


def _step(acc, event, at):
    return decide(acc, event, POLICY, at)


def _retry_in_flight(acc, at):
    """A sweep retry of every due charge, reserved (sent, no answer yet)."""
    acc, effects = _step(acc, ev.SweepTick(), at)
    return acc, [e for e in effects if isinstance(e, ev.TryCharge)]


def test_a_card_success_after_a_transfer_settled_its_charge_pays_the_other_open_charges_at_once():
    acc = account(subs=2)
    acc, _ = _step(acc, failed("ch-1", "sub-0", 1000), T0)
    acc, (retry,) = _retry_in_flight(acc, T0 + days(1))  # ch-1 is retried on its day 1
    acc, _ = _step(acc, failed("ch-2", "sub-1", 400, at=T0 + days(1)), T0 + days(1))
    # A transfer pays 1,000: the oldest charge (ch-1) first, nothing left for ch-2.
    acc, _ = _step(acc, ev.PaymentReceived("evt-t", Money(1000, EUR), "TR-1"), T0 + days(2))
    assert acc.charge("ch-1").status == PAID and acc.charge("ch-2").status == OPEN
    # Then the card retry of ch-1 answers: it took 1,000 that ch-1 no longer owes.
    result = ev.AttemptResult(retry.charge_id, retry.key, SUCCEEDED, None, Money(1000, EUR), "pi_1")
    acc, _ = _step(acc, ev.AttemptsResolved((result,)), T0 + days(2))
    assert acc.charge("ch-2").status == PAID  # the credit paid it at once...
    assert acc.credit == Money(600, EUR) and acc.balance().is_zero
    assert acc.subscriptions["sub-1"].state == ACTIVE  # ...so nobody is dunned for it
    kinds = [h["kind"] for h in acc.history]
    assert kinds.count("credit.added") == 1 and kinds.count("credit.applied") == 1
    acc, effects = _step(acc, ev.SweepTick(), T0 + days(3))
    assert not [e for e in effects if isinstance(e, ev.TryCharge)]


def test_a_payment_larger_than_what_is_owed_is_credit_that_pays_the_next_failure_at_once():
    acc = account(subs=2)
    acc, _ = _step(acc, failed("ch-1", "sub-0", 1000), T0)
    acc, _ = _step(acc, ev.PaymentReceived("evt-t", Money(1500, EUR), "TR-1"), T0 + days(1))
    assert acc.credit == Money(500, EUR)
    acc, _ = _step(acc, failed("ch-2", "sub-1", 300, at=T0 + days(2)), T0 + days(2))
    assert acc.charge("ch-2").status == PAID and acc.credit == Money(200, EUR)
    assert acc.subscriptions["sub-1"].state == ACTIVE
    assert not [n for n in acc.outbox if n.subscription_id == "sub-1" and n.kind == "payment_failed"]


def test_the_pay_now_receipt_shows_what_was_taken_per_subscription_not_what_is_left():
    acc = account(subs=2)
    acc, _ = _step(acc, failed("ch-1", "sub-0", 1250), T0)
    acc, _ = _step(acc, failed("ch-2", "sub-1", 4999), T0)
    acc, effects = _step(acc, ev.PayNowRequested("key-1", "h", VISA, "user:1"), T0 + days(1))
    results = tuple(
        ev.AttemptResult(t.charge_id, t.key, SUCCEEDED, None, t.amount, f"pi_{t.charge_id}")
        for t in effects
        if isinstance(t, ev.TryCharge)
    )
    acc, _ = _step(acc, ev.PayNowCompleted("key-1", VISA, results, "user:1"), T0 + days(1))
    (receipt,) = [n for n in acc.outbox if n.kind == "payment_received"]
    email = render(receipt)
    for part in (email.text, email.html):
        assert "This payment covers" in part
        assert "“Sub 0”: €12.50" in part and "“Sub 1”: €49.99" in part
        assert not re.search(r"Sub \d”: €0\.00", part)  # never what is left after the payment


def test_a_confirmation_on_day_20_of_a_charge_paid_meanwhile_is_applied_with_one_receipt():
    acc = account(subs=1)
    acc, _ = _step(acc, failed("ch-1", "sub-0", 2000), T0)
    acc, (retry,) = _retry_in_flight(acc, T0 + days(1))
    asked = ev.AttemptResult(retry.charge_id, retry.key, REQUIRES_ACTION, "authentication_required", None, "pi_9")
    acc, _ = _step(acc, ev.AttemptsResolved((asked,)), T0 + days(1))
    acc, _ = _step(acc, ev.PaymentReceived("evt-t", Money(2000, EUR), "TR-1"), T0 + days(2))
    assert acc.charge("ch-1").status == PAID
    for day in range(3, 20):  # daily sweeps: paid charges older than 10 days leave the document
        acc, _ = _step(acc, ev.SweepTick(), T0 + days(day))
    assert acc.charge("ch-1") is not None  # the confirmation may still come: kept
    confirmed = ev.AttemptResult(retry.charge_id, retry.key, SUCCEEDED, None, Money(2000, EUR), "pi_9")
    acc, _ = _step(acc, ev.AttemptsResolved((confirmed,), "evt_confirm"), T0 + days(20))
    acc, _ = _step(acc, ev.AttemptsResolved((confirmed,), "evt_confirm"), T0 + days(20))  # delivered twice
    assert acc.credit == Money(2000, EUR)  # the money Stripe took is the customer's credit
    receipts = [n for n in acc.outbox if n.kind == "payment_received" and n.notice_id.startswith("ch-1")]
    assert len(receipts) == 1
    assert acc.subscriptions["sub-0"].state != PAST_DUE
    acc, _ = _step(acc, ev.SweepTick(), T0 + days(40))
    assert acc.charge("ch-1") is None  # after 35 days it is archived like any paid charge
