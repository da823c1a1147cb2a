"""Recovering more, on the pure core: retries timed by the decline reason, pay days in the account's time
zone, the 30-day attempt cap, and card-expiry notices that stop with a new card."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pastdue.domain import events as ev
from pastdue.domain import retries
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import CARD, DISABLED, INVOICE, WITHDRAWN, PaymentMethod
from pastdue.domain.money import Money
from pastdue.policy import shipped
from tests.unit.builders import POLICY, T0, account, failed, notice_kinds

ZONES = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Pacific/Kiritimati"]


def _daily(acc, start, days_, answer=("declined", "insufficient_funds"), hour=2, policy=POLICY):
    """One sweep a day at `hour` UTC; every retry answered `answer`. Returns the account and the attempt times."""
    tried = []
    for day in range(1, days_ + 1):
        at = start.replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=day)
        acc, effects = decide(acc, ev.SweepTick(), policy, at)
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        tried += [at] * len(tries)
        if tries:
            results = tuple(ev.AttemptResult(e.charge_id, e.key, answer[0], answer[1]) for e in tries)
            acc, _ = decide(acc, ev.AttemptsResolved(results), policy, at)
    return acc, tried


@settings(max_examples=60, deadline=None)
@given(
    offset=st.integers(0, 365 * 24 * 60),
    zone=st.sampled_from(ZONES),
    pay_days=st.sets(st.integers(1, 28), min_size=1, max_size=3),
)
def test_insufficient_funds_are_retried_on_the_pay_days_whatever_the_failure_time_and_zone(offset, zone, pay_days):
    policy = replace(shipped(), default=replace(shipped().default, pay_days=tuple(sorted(pay_days))))
    when = T0 + timedelta(minutes=offset)
    acc = account()
    acc.time_zone = zone
    acc, _ = decide(acc, failed(code="insufficient_funds", at=when), policy, when)
    plan = retries.plan(acc, acc.charges[0], policy.default)
    window = (when + timedelta(hours=12), when + timedelta(days=policy.default.disable_day))
    on_pay_days = retries.pay_days(*window, policy.default, zone)
    if on_pay_days:
        assert list(plan) == on_pay_days
        for at in plan:
            local = at.astimezone(ZoneInfo(zone))
            assert local.day in pay_days and local.hour == policy.default.pay_day_hour
            assert window[0] < at < window[1]
    else:  # no pay day in the grace period (one pay day a month, just outside it): the usual days
        assert list(plan) == [when + timedelta(days=d) for d in policy.default.retry_days]
    acc, tried = _daily(acc, when, 31, policy=policy)
    # The sweep retries at its first run after each pay-day time: within a day of it, once each.
    assert len(tried) == len(plan)
    assert all(timedelta(0) <= t - p < timedelta(days=1) for t, p in zip(tried, plan, strict=True))


@settings(max_examples=40, deadline=None)
@given(code=st.sampled_from(sorted(POLICY.hard_decline_codes) + ["authentication_required"]), at_retry=st.booleans())
def test_no_automatic_retry_ever_follows_a_do_not_retry_or_authentication_decline(code, at_retry):
    acc, _ = decide(account(), failed(code="card_declined" if at_retry else code), POLICY, T0)
    if at_retry:  # the first retry is refused for good: nothing after it
        acc, tried = _daily(acc, T0, 2, answer=("declined", code))
        assert len(tried) == 1
        acc, tried = _daily(acc, T0 + timedelta(days=2), 40, answer=("declined", code))
    else:
        acc, tried = _daily(acc, T0, 40, answer=("declined", code))
    assert tried == []


@settings(max_examples=40, deadline=None)
@given(
    charges=st.integers(1, 6),
    spread=st.integers(0, 20),
    cap=st.integers(3, 15),
    days_=st.lists(st.integers(1, 29), min_size=3, max_size=3, unique=True),
)
def test_no_charge_and_no_card_is_tried_more_than_the_cap_in_any_30_days(charges, spread, cap, days_):
    cal = replace(
        shipped().default, retry_days=tuple(sorted(days_)), retry_days_try_later=(1, 2), max_attempts_30_days=cap
    )
    policy = replace(shipped(), default=cal)
    acc = account(subs=charges)
    for n in range(charges):
        at = T0 + timedelta(days=n * spread / 6)
        acc, _ = decide(acc, failed(f"ch-{n}", f"sub-{n}", code="card_declined", at=at), policy, at)
    acc, tried = _daily(acc, T0, 60, answer=("declined", "card_declined"), policy=policy)
    for start in tried:
        assert sum(1 for t in tried if start <= t < start + timedelta(days=30)) <= cap


def test_a_try_again_later_error_is_retried_the_next_day():
    acc, _ = decide(account(), failed(code="processing_error"), POLICY, T0)
    acc, tried = _daily(acc, T0, 5, answer=("declined", "processing_error"), hour=9)
    assert [(t - T0).days for t in tried] == [1, 2, 4]


def _card(month, year, token="tok_visa"):
    return PaymentMethod(token, "visa", "4242", month, year)


def test_an_expiring_card_gets_its_two_notices_and_an_alert_and_none_after_a_new_card():
    from pastdue.notices.alerts import alerts

    acc = account(method=_card(2, 2026))
    acc, _ = decide(acc, ev.SubscriptionSet("sub-0", "Sub 0", "default"), POLICY, T0)
    expires = datetime(2026, 3, 1, tzinfo=UTC)
    assert acc.next_action_at == expires - timedelta(days=30)
    acc, _ = _daily(acc, datetime(2026, 1, 29, tzinfo=UTC), 2)  # Jan 30, Jan 31: the 30-day notice on Jan 30
    assert notice_kinds(acc) == ["card_expiring"] and acc.outbox[0].params["daysLeft"] == 30
    (alert,) = alerts(acc, POLICY)
    assert alert["kind"] == "cardExpiring" and alert["deadline"] == "2026-03-01T00:00:00.000000Z"
    acc, _ = _daily(acc, datetime(2026, 1, 31, tzinfo=UTC), 30)  # ... the 7-day one on Feb 22
    assert notice_kinds(acc) == ["card_expiring", "card_expiring"]
    renewed = _card(2, 2029, "tok_mastercard")
    changed = datetime(2026, 2, 25, tzinfo=UTC)
    acc, _ = decide(acc, ev.ProfileSet(acc.admin, CARD, "EUR", renewed, None), POLICY, changed)
    assert alerts(acc, POLICY) == [] and acc.next_action_at == datetime(2029, 1, 30, tzinfo=UTC)
    # Still waiting when the card was replaced: no longer true, withdrawn (never sent), and the history says so.
    assert {n.status for n in acc.outbox} == {WITHDRAWN}
    assert [r["detail"]["reason"] for r in acc.history if r["kind"] == "notice.withdrawn"] == ["card replaced"] * 2
    acc, _ = _daily(acc, datetime(2026, 2, 25, tzinfo=UTC), 60)
    assert not [n for n in acc.outbox if n.status != WITHDRAWN]  # none for the old card, none yet for the new


def test_invoice_payers_and_accounts_without_active_subscriptions_get_no_expiry_notice():
    invoice = account(mode=INVOICE)
    invoice, _ = _daily(invoice, datetime(2034, 11, 1, tzinfo=UTC), 40)
    assert notice_kinds(invoice) == []
    cancelled = account(method=_card(2, 2026))
    cancelled.subscriptions["sub-0"].state = DISABLED
    cancelled, _ = _daily(cancelled, datetime(2026, 1, 25, tzinfo=UTC), 40)
    assert "card_expiring" not in notice_kinds(cancelled)


def test_a_card_already_expired_gets_no_pre_dunning_notice():
    acc = account(method=_card(1, 2026))
    acc, _ = decide(acc, failed(value=100), POLICY, T0)
    acc, _ = decide(acc, ev.PaymentReceived("evt-1", Money(100, "EUR"), "r"), POLICY, T0)
    acc, _ = _daily(acc, datetime(2026, 2, 10, tzinfo=UTC), 3)
    assert "card_expiring" not in notice_kinds(acc)
