"""Money given back after it was collected: refunds and disputes (domain/reversals.payment_reversed)."""

from __future__ import annotations

from dataclasses import replace

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import ACTIVE, OPEN, PAST_DUE, SUCCEEDED
from pastdue.domain.money import Money
from pastdue.domain.policy import Policy
from pastdue.policy import shipped
from tests.unit.builders import POLICY, T0, account, days, failed


def _paid():
    """An account whose only charge (1,000) was collected by a card retry (pi_1)."""
    acc, _ = decide(account(), failed("ch-1", value=1000), POLICY, T0)
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    (retry,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    result = ev.AttemptResult(retry.charge_id, retry.key, SUCCEEDED, None, Money(1000, "EUR"), "pi_1")
    acc, _ = decide(acc, ev.AttemptsResolved((result,)), POLICY, T0 + days(1))
    assert acc.balance().is_zero and acc.subscriptions["sub-0"].state == ACTIVE
    return acc


def _reversal(event_id, kind, value, processor_id="ch_1"):
    return ev.PaymentReversed(
        event_id, ev.ReversalKind(kind), processor_id, "pi_1", "ch-1", "sub-0", Money(value, "EUR"), "fraudulent"
    )


REOPEN_REFUNDS = replace(shipped(), reopen_refunds=True)


def test_a_refund_is_owed_again_when_the_policy_says_so_and_partial_refunds_count_only_what_is_new():
    acc = _paid()
    acc, _ = decide(acc, _reversal("evt_r1", "refunded", 400), REOPEN_REFUNDS, T0 + days(5))
    assert acc.balance() == Money(400, "EUR") and acc.subscriptions["sub-0"].state == PAST_DUE
    acc, _ = decide(acc, _reversal("evt_r1", "refunded", 400), REOPEN_REFUNDS, T0 + days(5))  # delivered again
    acc, _ = decide(acc, _reversal("evt_r2", "refunded", 1000), REOPEN_REFUNDS, T0 + days(6))  # total now 1,000
    assert acc.balance() == Money(1000, "EUR")
    reopened = [c for c in acc.charges if c.decline_code == "refunded"]
    assert sorted(c.amount.value for c in reopened) == [400, 600] and all(c.status == OPEN for c in reopened)
    records = [h for h in acc.history if h["kind"] == "payment.refunded"]
    assert [r["detail"]["givenBack"]["value"] for r in records] == [400, 600]
    assert any(n.kind == "payment_failed" for n in acc.outbox if n.created_at == T0 + days(5))


def test_a_lost_dispute_is_owed_again_and_the_card_is_not_retried():
    acc = _paid()
    acc, _ = decide(acc, _reversal("evt_d1", "dispute_opened", 1000, "dp_1"), POLICY, T0 + days(5))
    assert acc.balance().is_zero  # opened: recorded only
    acc, _ = decide(acc, _reversal("evt_d2", "dispute_lost", 1000, "dp_1"), POLICY, T0 + days(40))
    (owed,) = [c for c in acc.charges if c.decline_code == "dispute_lost"]
    assert owed.amount == Money(1000, "EUR") and owed.hard
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(41))
    assert not [e for e in effects if isinstance(e, ev.TryCharge)]  # never retried on the disputed card
    assert [h["kind"] for h in acc.history].count("payment.disputed") == 1


def test_a_won_dispute_and_a_refund_made_on_purpose_change_no_balance_by_default():
    acc = _paid()
    acc, _ = decide(acc, _reversal("evt_d3", "dispute_won", 1000, "dp_2"), POLICY, T0 + days(30))
    assert not POLICY.reopen_refunds and POLICY.reopen_lost_disputes  # the defaults
    acc, _ = decide(acc, _reversal("evt_r3", "refunded", 1000), POLICY, T0 + days(31))
    assert acc.balance().is_zero and acc.subscriptions["sub-0"].state == ACTIVE
    (refund,) = [h for h in acc.history if h["kind"] == "payment.refunded"]
    assert refund["detail"]["reopened"] is False and refund["detail"]["givenBack"]["value"] == 1000


def test_the_policy_document_sets_what_reversals_do():
    policy = Policy.from_document({"reopenRefunds": True, "reopenLostDisputes": False}, base=shipped())
    assert (policy.reopen_refunds, policy.reopen_lost_disputes) == (True, False)
    assert (shipped().reopen_refunds, shipped().reopen_lost_disputes) == (False, True)
    import pytest

    from pastdue.domain.policy import PolicyError

    with pytest.raises(PolicyError, match="reopenRefunds"):
        Policy.from_document({"reopenRefunds": "yes"}, base=shipped())


def test_a_failed_refund_undoes_the_refund_its_money_is_credit_that_pays_the_debt_it_reopened():
    acc = _paid()
    acc, _ = decide(acc, _reversal("evt_r1", "refunded", 1000), REOPEN_REFUNDS, T0 + days(5))
    assert acc.balance() == Money(1000, "EUR")
    failed_refund = ev.PaymentReversed(
        "evt_rf", ev.ReversalKind.REFUND_FAILED, "ch_1", "pi_1", "ch-1", "sub-0", Money(1000, "EUR"), None, "re_1"
    )
    acc, _ = decide(acc, failed_refund, REOPEN_REFUNDS, T0 + days(6))
    assert acc.balance().is_zero and acc.subscriptions["sub-0"].state == ACTIVE
    assert acc.credit is not None and acc.credit.is_zero
    assert acc.reversed == {"ch_1": 0}
    kinds = [h["kind"] for h in acc.history]
    assert kinds.count("payment.refund_failed") == 1 and "credit.applied" in kinds
    # Once only; and a refund recorded only (the default) leaves its money as credit when it fails.
    again, _ = decide(acc, failed_refund, REOPEN_REFUNDS, T0 + days(6))
    assert [h["kind"] for h in again.history].count("payment.refund_failed") == 1
    kept = _paid()
    kept, _ = decide(kept, _reversal("evt_r9", "refunded", 300), POLICY, T0 + days(5))
    kept, _ = decide(kept, replace(failed_refund, amount=Money(300, "EUR")), POLICY, T0 + days(6))
    assert kept.credit == Money(300, "EUR") and kept.balance().is_zero


def test_partial_disputes_inquiries_and_withdrawn_funds_only_a_lost_dispute_reopens():
    acc = _paid()
    for n, kind in enumerate(("inquiry_opened", "inquiry_closed", "dispute_opened", "funds_withdrawn")):
        acc, _ = decide(acc, _reversal(f"evt_q{n}", kind, 300, "dp_9"), POLICY, T0 + days(5))
        assert acc.balance().is_zero
    acc, _ = decide(acc, _reversal("evt_q8", "funds_reinstated", 300, "dp_9"), POLICY, T0 + days(6))
    assert acc.balance().is_zero
    acc, _ = decide(acc, _reversal("evt_q9", "dispute_lost", 300, "dp_9"), POLICY, T0 + days(40))
    assert acc.balance() == Money(300, "EUR")  # the disputed part of the 1,000 only
    kinds = [h["kind"] for h in acc.history]
    for kind in ("payment.inquiry", "payment.inquiry_closed", "payment.dispute_funds_withdrawn"):
        assert kinds.count(kind) == 1, kind


def _by_id(event_id, kind, value, refunds, refund_id=None):
    """A reversal as the webhook builds it now: each refund that stands at Stripe, by its id."""
    return ev.PaymentReversed(
        event_id,
        ev.ReversalKind(kind),
        "ch_1",
        "pi_1",
        "ch-1",
        "sub-0",
        Money(value, "EUR"),
        None,
        refund_id,
        refunds=refunds,
    )


def test_refunds_are_counted_once_each_by_id_in_whatever_order_their_events_come():
    m = lambda v: Money(v, "EUR")  # noqa: E731
    # A refund of 500 fails, another of 500 stands: the charge's total refunded is 500 at the end.
    in_order = _paid()
    for event in (
        _by_id("evt_1", "refunded", 500, (("re_1", m(500)),)),
        _by_id("evt_2", "refund_failed", 500, None, "re_1"),
        _by_id("evt_3", "refunded", 500, (("re_2", m(500)),)),  # Stripe lists what stands when it is heard
    ):
        in_order, _ = decide(in_order, event, POLICY, T0 + days(5))
    newest_first = _paid()
    for event in (
        _by_id("evt_3", "refunded", 500, (("re_2", m(500)),)),
        _by_id("evt_2", "refund_failed", 500, None, "re_1"),
        _by_id("evt_1", "refunded", 500, (("re_2", m(500)),)),  # re_1 failed by then: not listed
        _by_id("evt_4", "refund_failed", 500, None, "re_1"),  # the failure told twice: credited once
    ):
        newest_first, _ = decide(newest_first, event, POLICY, T0 + days(5))
    for acc in (in_order, newest_first):  # the same money, whatever the order
        assert acc.reversed == {"re_1": 0, "re_2": 500}
        assert acc.credit == m(500)  # the failed refund's money, back with us: the customer's credit
        assert [h["kind"] for h in acc.history].count("payment.refund_failed") == 2 - (acc is in_order)
