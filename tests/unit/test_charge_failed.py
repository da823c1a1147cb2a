import pytest

from pastdue.domain import events as ev
from pastdue.domain.errors import InvalidEvent, UnknownSubscription
from pastdue.domain.model import DELETED, DISABLED, INVOICE
from pastdue.domain.money import Money
from tests.unit.builders import T0, account, apply, failed, notice_kinds


def test_a_failed_charge_makes_the_subscription_past_due_and_queues_one_notice():
    acc, effects = apply(account(), failed())
    sub = acc.subscriptions["sub-0"]
    assert sub.state == "pastDue" and sub.past_due_since == T0
    assert acc.balance() == Money(1000, "EUR")
    assert notice_kinds(acc) == ["payment_failed"]
    assert acc.outbox[0].to == "admin@example.com" and acc.outbox[0].locale == "en-US"
    assert ev.NoticesQueued(1) in effects
    assert acc.next_action_at == T0 + __import__("datetime").timedelta(days=1)  # first retry


def test_the_same_event_twice_changes_nothing():
    once, _ = apply(account(), failed())
    twice, effects = apply(once, failed())
    assert twice == once and effects == []


def test_the_same_charge_reported_by_another_event_queues_no_second_notice():
    acc, _ = apply(account(), failed(), failed(event_id="evt-other", code="insufficient_funds"))
    assert notice_kinds(acc) == ["payment_failed"]
    assert acc.charges[0].decline_code == "insufficient_funds" and len(acc.charges) == 1


def test_invoice_payers_are_told_where_to_send_the_transfer():
    acc, _ = apply(account(INVOICE), failed())
    assert notice_kinds(acc) == ["invoice_overdue"]
    assert acc.outbox[0].params["remittance"]["iban"].startswith("FR76")


@pytest.mark.parametrize("code", ["expired_card", "lost_card", "stolen_card"])
def test_hard_declines_are_not_retried(code):
    acc, _ = apply(account(), failed(code=code))
    assert acc.charges[0].hard
    assert acc.next_action_at == T0 + __import__("datetime").timedelta(days=3)  # first reminder, no retry


def test_unknown_subscription_wrong_currency_and_non_positive_amounts_are_rejected():
    with pytest.raises(UnknownSubscription):
        apply(account(), failed(sub="sub-9"))
    with pytest.raises(InvalidEvent):
        apply(account(), ev.ChargeFailed("e", "sub-0", "c", Money(5, "USD"), None, T0))
    with pytest.raises(InvalidEvent):
        apply(account(), failed(value=0))


def test_credit_pays_a_new_charge_before_any_dunning():
    acc, _ = apply(account(), ev.PaymentReceived("evt-pay", Money(1500, "EUR"), "ref"), failed())
    assert acc.balance().is_zero and acc.credit == Money(500, "EUR")
    assert acc.subscriptions["sub-0"].state == "active"


def test_reactivating_one_paid_disabled_subscription_leaves_the_others_alone():
    from pastdue.domain.errors import BalanceOutstanding, SubscriptionGone

    acc = account(subs=3)
    for sub in acc.subscriptions.values():
        sub.state = DISABLED
    acc.subscriptions["sub-2"].state = DELETED
    acc, _ = apply(acc, failed(sub="sub-1"))
    acc, _ = apply(acc, ev.Reactivate("sub-0", "user:1"))
    assert [s.state for s in acc.subscriptions.values()] == ["active", "disabled", "deleted"]
    with pytest.raises(BalanceOutstanding) as owed:
        apply(acc, ev.Reactivate("sub-1", "user:1"))
    assert owed.value.amount == Money(1000, "EUR")
    with pytest.raises(SubscriptionGone):
        apply(acc, ev.Reactivate("sub-2", "user:1"))
