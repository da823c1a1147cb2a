"""Pay now is one payment: everything the new card pays goes in one processor payment, allocated to the
charges oldest first in one write; a decline, a bank challenge, a refund or a lost dispute of it is one
event for every charge it covered. The sweep's retries of one day on one card are one payment too."""

from __future__ import annotations

from dataclasses import replace

from pastdue.domain import events as ev
from pastdue.domain import retries
from pastdue.domain.model import (
    AUTHENTICATION_REQUIRED,
    DECLINED,
    OPEN,
    PAID,
    PAY_NOW_DECLINED,
    REQUIRES_ACTION,
    SETTLED,
    SUCCEEDED,
)
from pastdue.domain.money import Money
from tests.unit.builders import POLICY, T0, VISA, account, apply, days, failed


def _owing(subs: int = 2, values=(1000, 2000, 3000, 4000, 500)):
    """Five open charges on two subscriptions, failed a day apart (INV-0000 the oldest)."""
    events = [failed(f"INV-{n:04d}", f"sub-{n % subs}", v, at=T0 + days(n)) for n, v in enumerate(values)]
    acc, _ = apply(account(subs=subs), *events, at=T0 + days(len(values)))
    return acc


def _pay_now(acc, key="key-00000001", at=T0 + days(6)):
    acc, effects = apply(acc, ev.PayNowRequested(key, "h", VISA, "user:1", True), at=at)
    return acc, [e for e in effects if isinstance(e, ev.TryCharge)]


def test_pay_now_sends_one_payment_for_everything_owed_and_allocates_it_oldest_first():
    acc, tries = _pay_now(_owing())
    (payment,) = tries
    assert (payment.charge_id, payment.amount, payment.covers) == ("INV-0000", Money(10500, "EUR"), 5)
    taken = ev.AttemptResult("INV-0000", payment.key, SUCCEEDED, None, Money(10500, "EUR"), "pi_1")
    acc, _ = apply(acc, ev.PayNowCompleted("key-00000001", VISA, (taken,), "user:1"), at=T0 + days(6))
    entry = acc.idempotency["key-00000001"]
    assert entry.response.kind == SETTLED and [c.charge_id for c in entry.response.settled] == [
        f"INV-{n:04d}" for n in range(5)
    ]
    assert all(c.status == PAID for c in acc.charges) and acc.balance().is_zero and acc.credit is None
    (allocated,) = [h for h in acc.history if h["kind"] == "payment.allocated"]
    assert [(a["chargeId"], a["amount"]["value"]) for a in allocated["detail"]["allocation"]] == [
        ("INV-0000", 1000),
        ("INV-0001", 2000),
        ("INV-0002", 3000),
        ("INV-0003", 4000),
        ("INV-0004", 500),
    ]
    assert [n.kind for n in acc.outbox].count("payment_received") == 1  # one receipt, listing both subs
    (receipt,) = [n for n in acc.outbox if n.kind == "payment_received"]
    assert receipt.params["amount"] == {"value": 10500, "currency": "EUR"}


def test_more_taken_than_owed_is_credit_and_less_pays_the_oldest_first():
    acc, (payment,) = _pay_now(_owing(values=(1000, 2000)))
    more = ev.AttemptResult("INV-0000", payment.key, SUCCEEDED, None, Money(3500, "EUR"), "pi_1")
    paid, _ = apply(acc, ev.AttemptsResolved((more,)), at=T0 + days(6))
    assert paid.balance().is_zero and paid.credit == Money(500, "EUR")
    acc, (payment,) = _pay_now(_owing(values=(1000, 2000)))
    less = ev.AttemptResult("INV-0000", payment.key, SUCCEEDED, None, Money(1500, "EUR"), "pi_1")
    part, _ = apply(acc, ev.AttemptsResolved((less,)), at=T0 + days(6))
    assert [(c.charge_id, c.status, c.outstanding.value) for c in part.charges] == [
        ("INV-0000", PAID, 0),
        ("INV-0001", OPEN, 1500),
    ]


def test_a_declined_combined_payment_declines_every_charge_it_covered_and_is_one_try_of_the_card():
    acc, (payment,) = _pay_now(_owing())
    no = ev.AttemptResult("INV-0000", payment.key, DECLINED, "insufficient_funds")
    acc, _ = apply(acc, ev.PayNowCompleted("key-00000001", VISA, (no,), "user:1"), at=T0 + days(6))
    assert acc.idempotency["key-00000001"].response.kind == PAY_NOW_DECLINED
    assert {c.attempts[-1].outcome for c in acc.charges} == {DECLINED}
    now = T0 + days(6)
    # One try of the card, and one on each charge it covered.
    assert all(retries.counts_within(acc, c, VISA.token, now) == (1, 1) for c in acc.charges)


def test_one_bank_challenge_for_the_combined_payment_and_one_confirmation_settles_every_charge():
    acc, (payment,) = _pay_now(_owing())
    challenge = ev.AttemptResult("INV-0000", payment.key, REQUIRES_ACTION, "authentication_required", None, "pi_3ds")
    acc, _ = apply(acc, ev.PayNowCompleted("key-00000001", VISA, (challenge,), "user:1"), at=T0 + days(6))
    entry = acc.idempotency["key-00000001"]
    assert (entry.response.kind, entry.response.charge_id) == (AUTHENTICATION_REQUIRED, "INV-0000")
    (confirm,) = [n for n in acc.outbox if n.kind == "confirm_payment"]  # one notice, for the total
    assert confirm.params["amount"] == {"value": 10500, "currency": "EUR"}
    confirmed = ev.AttemptResult("INV-0000", payment.key, SUCCEEDED, None, Money(10500, "EUR"), "pi_3ds")
    acc, _ = apply(acc, ev.AttemptsResolved((confirmed,), "evt_confirmed"), at=T0 + days(6))
    assert acc.balance().is_zero and all(c.status == PAID for c in acc.charges)
    assert [n.kind for n in acc.outbox].count("payment_received") == 1


def test_a_lost_dispute_of_a_combined_payment_is_owed_again_newest_charge_first_as_allocated():
    acc, (payment,) = _pay_now(_owing(values=(1000, 2000, 3000)))
    taken = ev.AttemptResult("INV-0000", payment.key, SUCCEEDED, None, Money(6000, "EUR"), "pi_1")
    acc, _ = apply(acc, ev.AttemptsResolved((taken,)), at=T0 + days(6))
    lead = acc.charge_of("INV-0000").attempts[-1]
    allocation = tuple((a.charge_id, a.subscription_id, a.amount) for a in lead.allocation or ())
    lost = ev.PaymentReversed(
        "evt_dp",
        ev.ReversalKind.DISPUTE_LOST,
        "dp_1",
        "pi_1",
        "INV-0000",
        "sub-0",
        Money(3500, "EUR"),
        allocation=allocation,
    )
    acc, _ = apply(acc, lost, at=T0 + days(7))
    reopened = sorted((c.subscription_id, c.amount.value) for c in acc.open_charges())
    # 3,500 given back: INV-0002 (3,000, sub-0) then 500 of INV-0001 (sub-1).
    assert reopened == [("sub-0", 3000), ("sub-1", 500)]
    more = replace(lost, event_id="evt_dp2", processor_id="dp_1", amount=Money(6000, "EUR"))
    acc, _ = apply(acc, more, at=T0 + days(8))  # the rest: 1,500 of INV-0001, then INV-0000's 1,000
    assert sorted(c.amount.value for c in acc.open_charges()) == [500, 1000, 1500, 3000]


def test_the_sweeps_retries_of_one_day_on_one_card_are_one_payment_unless_the_policy_says_otherwise():
    events = [failed(f"INV-{n:04d}", f"sub-{n % 2}", 1000 + n) for n in range(3)]
    acc, _ = apply(account(subs=2), *events)
    swept, effects = apply(acc, ev.SweepTick(), at=T0 + days(1.1))
    tries = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert [(t.charge_id, t.amount.value, t.covers) for t in tries] == [("INV-0000", 3003, 3)]
    apart, effects = apply(acc, ev.SweepTick(), at=T0 + days(1.1), policy=replace(POLICY, combine_retries=False))
    assert len([e for e in effects if isinstance(e, ev.TryCharge)]) == 3
