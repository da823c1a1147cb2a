"""The sweep's cheaper computations decide as the plain ones they replace, on generated data (hypothesis):
the 30-day caps counted in one pass and skipped when the account holds too few attempts to reach them, the
last retry found in a loop, a notice's merged step values picked without lists, the next step found
without building the pending ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pastdue.domain import retries, schedule, sweep
from pastdue.domain.model import (
    PAST_DUE,
    RETRY,
    UPDATE,
    Attempt,
    AttemptOutcome,
    Charge,
    NoticeKind,
    Subscription,
)
from pastdue.domain.money import Money
from tests.unit.builders import POLICY, T0, account

TOKENS = ("tok_a", "tok_b")
attempt = st.tuples(
    st.sampled_from(TOKENS),
    st.sampled_from([RETRY, UPDATE]),
    st.integers(-40, 40),  # days from T0 (before the failure too)
    st.sampled_from([None, *AttemptOutcome]),
    st.integers(0, 3),  # 0: a payment of its own, else a combined payment's lead
)
charges = st.lists(st.lists(attempt, max_size=8), min_size=1, max_size=4)


def _account(attempts_by_charge):
    acc = account()
    for i, attempts in enumerate(attempts_by_charge):
        charge = Charge(f"ch-{i}", "sub-0", Money(1000, "EUR"), T0)
        for n, (token, source, day, outcome, lead) in enumerate(attempts, 1):
            charge.attempts.append(
                Attempt(
                    n,
                    f"ch-{i}:{n}",
                    token,
                    source,
                    T0 + timedelta(days=day),
                    outcome=outcome,
                    payment=f"ch-0:{lead}" if lead else None,
                )
            )
        acc.charges.append(charge)
    return acc


def _tries_within(acc, now, charge=None, token=None) -> int:
    """The plain count the one pass replaces: distinct payments of the 30-day window, on one charge or of
    one card, skipped and unsent attempts left out."""
    payments = {
        a.payment or f"{c.charge_id}:{a.key}"
        for c in acc.charges
        if charge is None or c is charge
        for a in c.attempts
        if now - a.at < retries.WINDOW
        and (token is None or a.token == token)
        and a.outcome not in (AttemptOutcome.SKIPPED, AttemptOutcome.NOT_SENT)
    }
    return len(payments)


@settings(max_examples=300, deadline=None)
@given(charges, st.integers(0, 3), st.sampled_from(TOKENS), st.integers(0, 50), st.integers(1, 15))
def test_caps_in_one_pass_count_as_two(attempts_by_charge, which, token, day, cap):
    acc = _account(attempts_by_charge)
    charge = acc.charges[which % len(acc.charges)]
    now = T0 + timedelta(days=day)
    by_charge = _tries_within(acc, now, charge=charge)
    by_card = _tries_within(acc, now, token=token)
    assert retries.counts_within(acc, charge, token, now) == (by_charge, by_card)
    cal = replace(POLICY.default, max_attempts_30_days=cap)
    assert retries.capped(acc, charge, token, cal, now) == (by_charge >= cap or by_card >= cap)


@settings(max_examples=200, deadline=None)
@given(charges, st.integers(0, 3))
def test_last_retry_is_the_latest_retry_or_the_failure(attempts_by_charge, which):
    acc = _account(attempts_by_charge)
    charge = acc.charges[which % len(acc.charges)]
    expected = max((a.at for a in charge.attempts if a.source == RETRY), default=charge.failed_at)
    assert retries.last_retry(charge) == expected


value = st.one_of(st.none(), st.integers(0, 60))
step_params = st.fixed_dictionaries(
    {"step": st.sampled_from(["reminder:3", "final:20", "warn:7"])},
    optional={
        "cancellationDate": st.one_of(st.none(), st.integers(0, 60).map(lambda d: T0 + timedelta(days=d))),
        "deletionDate": st.one_of(st.none(), st.integers(0, 60).map(lambda d: T0 + timedelta(days=d))),
        "daysPastDue": value,
        "daysLeft": value,
        "nextRetryAt": st.one_of(st.none(), st.integers(0, 5).map(lambda d: T0 + timedelta(days=d))),
        "retriesLeft": value,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step_params, min_size=1, max_size=4))
def test_merged_step_values_as_picked_from_lists(params):
    steps = [sweep.Due(NoticeKind.REMINDER, f"n{i}", f"sub-{i}", p) for i, p in enumerate(params)]
    expected = {}
    for name, pick in sweep.PICKED:
        found = [s.params[name] for s in steps if s.params.get(name) is not None]
        if found:
            expected[name] = pick(found)
    assert list(sweep._picked(steps).items()) == list(expected.items())  # the same values, in the same order
    retry = [s.params for s in steps if s.params.get("nextRetryAt") is not None]
    first = min(retry, key=lambda p: p["nextRetryAt"]) if retry else None
    assert sweep._first_retry(steps) is first


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["reminder:3", "reminder:7", "reminder:14", "final:20", "disable", "x"]), max_size=6))
def test_next_step_is_the_first_not_done(done):
    sub = Subscription("sub-0", "Sub 0", state=PAST_DUE, past_due_since=T0, steps_done=list(done))
    steps = schedule.subscription_steps(sub, POLICY.default)
    pending = [s for s in steps if s.name not in sub.steps_done]
    assert schedule.next_step(sub, POLICY.default) == (pending[0] if pending else None)
