"""Property-based tests of the lifecycle over random event sequences (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pastdue.domain import events as ev
from pastdue.domain.errors import Rejected
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import ACTIVE, DECLINED, DELETED, DISABLED, ERROR, SUCCEEDED, AttemptOutcome
from pastdue.domain.money import Money
from tests.unit.builders import POLICY, T0, VISA, account

SUBS = 3
step = st.one_of(
    st.tuples(
        st.just("fail"),
        st.integers(0, SUBS - 1),
        st.integers(0, 5),
        st.integers(1, 100_000),
        st.sampled_from(["card_declined", "insufficient_funds", "expired_card"]),
    ),
    st.tuples(st.just("tick"), st.floats(0.1, 40)),
    st.tuples(st.just("answer"), st.sampled_from([SUCCEEDED, DECLINED, ERROR, None])),
    st.tuples(st.just("transfer"), st.integers(1, 150_000)),
    st.tuples(st.just("paynow"), st.booleans()),
    st.tuples(st.just("reactivate"), st.integers(0, SUBS - 1)),
)


class Processor:
    """Answers once per idempotency key, as real processors do: the first outcome is final, and a
    success takes the attempt's amount once."""

    def __init__(self):
        self.outcomes: dict[str, AttemptOutcome] = {}
        self.taken: dict[str, int] = {}

    def answer(self, tries, outcome: AttemptOutcome) -> tuple:
        results = []
        for e in tries:
            final = self.outcomes.setdefault(e.key, outcome)
            if final == SUCCEEDED:
                self.taken.setdefault(e.key, e.amount.value)
            results.append(ev.AttemptResult(e.charge_id, e.key, final, None if final == SUCCEEDED else "card_declined"))
        return tuple(results)


def _events(action, n, inflight, processor):
    kind = action[0]
    if kind == "fail":
        _, sub, charge, value, code = action
        yield ev.ChargeFailed(f"evt-{charge}-{sub}", f"sub-{sub}", f"ch-{sub}-{charge}", Money(value, "EUR"), code, T0)
    elif kind == "tick":
        yield ev.SweepTick()
    elif kind == "answer" and action[1] and inflight:
        yield ev.AttemptsResolved(processor.answer(inflight, action[1]))
    elif kind == "transfer":
        yield ev.PaymentReceived(f"pay-{n}", Money(action[1], "EUR"), "ref")
    elif kind == "paynow":
        yield ev.PayNowRequested(f"key-{n}", "h", VISA, "user:1")
    elif kind == "reactivate":
        yield ev.Reactivate(f"sub-{action[1]}", "user:1")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40))
def test_lifecycle_invariants(actions):
    # Tries stay in flight (at the processor) until an "answer" step, so transfers, pay-now and
    # ticks can land between an attempt and its answer.
    acc, now, received, processor = account(subs=SUBS), T0, 0, Processor()
    inflight: list[ev.TryCharge] = []
    for n, action in enumerate(actions):
        if action[0] == "tick":
            now += timedelta(days=action[1])
        for event in _events(action, n, inflight, processor):
            try:
                new, effects = decide(acc, event, POLICY, now)
                if isinstance(event, ev.PayNowRequested):
                    tries = [e for e in effects if isinstance(e, ev.TryCharge)]
                    results = processor.answer(tries, SUCCEEDED if action[1] else DECLINED)
                    new, effects = decide(
                        new, ev.PayNowCompleted(event.idempotency_key, VISA, results, "user:1"), POLICY, now
                    )
                    answered = {t.key for t in tries}
                    inflight = [t for t in inflight if t.key not in answered]
            except Rejected:
                continue
            if isinstance(event, ev.AttemptsResolved):
                inflight = []
            inflight = inflight + [e for e in effects if isinstance(e, ev.TryCharge)]
            _check_step(acc, new)
            # Applying the same event again changes nothing.
            if not isinstance(event, ev.PayNowRequested):
                again, _ = decide(new, event, POLICY, now)
                assert again == new, f"{type(event).__name__} is not idempotent"
            if isinstance(event, ev.PaymentReceived):
                received += event.amount.value
            acc = new
        _check_money(acc, received, sum(processor.taken.values()))


def _check_step(before, after):
    for sub_id, sub in after.subscriptions.items():
        previous = before.subscriptions[sub_id].state
        # Deleted only from disabled: never straight from active or past due.
        assert not (sub.state == DELETED and previous != DELETED and previous != DISABLED)
        if sub.state == DISABLED and previous != DISABLED:
            assert after.balance(sub_id).value > 0, "a paid subscription was disabled"
        if previous == DELETED:
            assert sub.state == DELETED


def _check_money(acc, received, taken_by_processor):
    total = Money.zero("EUR")
    for charge in acc.charges:
        assert 0 <= charge.outstanding.value <= charge.amount.value
        total = total + charge.outstanding
    assert acc.balance() == total
    credit = acc.credit.value if acc.credit else 0
    applied = sum(c.paid.value for c in acc.charges + acc.archive_charges if c.paid)  # archived: still counted
    by_card = sum(h["detail"]["amount"]["value"] for h in acc.history if h["kind"] == "charge.succeeded")
    # Every cent that came in sits on a charge or in credit: nothing created, nothing lost; and what
    # the history says the card paid is what the processor really took.
    assert applied + credit == received + taken_by_processor
    assert by_card == taken_by_processor
    for sub in acc.subscriptions.values():
        if sub.state == ACTIVE:
            assert acc.balance(sub.subscription_id).is_zero
