"""Money is conserved against the processor in every interleaving of a transfer, a pay-now and a sweep
retry: what the processor took plus what was transferred equals what was applied to charges plus credit.

Each actor is a sequence of steps (decide, or a call to a processor model that charges once per
idempotency key, as real processors do); every interleaving of the three sequences is run."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import PAID, Account
from pastdue.domain.money import Money
from tests.unit.builders import FAILING, POLICY, T0, VISA, account, days, failed


@dataclass
class Processor:
    """Charges once per key: the same key answers the first outcome and never takes money twice."""

    cards: dict
    ledger: dict = field(default_factory=dict)

    def charge(self, attempt: ev.TryCharge) -> ev.AttemptResult:
        if attempt.key not in self.ledger:
            outcome = self.cards[attempt.token]
            self.ledger[attempt.key] = (outcome, attempt.amount if outcome == "succeeded" else None)
        outcome, taken = self.ledger[attempt.key]
        return ev.AttemptResult(
            attempt.charge_id, attempt.key, outcome, None if outcome == "succeeded" else "card_declined", taken
        )

    def taken(self) -> int:
        return sum(taken.value for outcome, taken in self.ledger.values() if outcome == "succeeded")


@dataclass
class World:
    acc: Account
    processor: Processor
    now: datetime
    transferred: int = 0
    pending: dict = field(default_factory=dict)

    def apply(self, event):
        self.acc, effects = decide(self.acc, event, POLICY, self.now)
        return effects


def pay_now(world: World, ok: bool):
    token = "tok_visa" if ok else "tok_chargeCustomerFail"
    method = VISA if ok else FAILING
    yield
    effects = world.apply(ev.PayNowRequested("key-1", "h", method, "user:1"))
    yield
    results = tuple(world.processor.charge(e) for e in effects if isinstance(e, ev.TryCharge))
    assert all(r.key for r in results) and token
    yield
    for _ in range(3):  # the rounds update_payment runs
        effects = world.apply(ev.PayNowCompleted("key-1", method, results, "user:1"))
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        if not tries:
            break
        results = tuple(world.processor.charge(e) for e in tries)


def transfer(world: World, value: int):
    yield
    world.apply(ev.PaymentReceived("pay-1", Money(value, "EUR"), "transfer"))
    world.transferred += value


def sweep(world: World, ok: bool):
    yield
    effects = world.apply(ev.SweepTick())
    yield
    results = tuple(world.processor.charge(e) for e in effects if isinstance(e, ev.TryCharge))
    yield
    if results:
        world.apply(ev.AttemptsResolved(results))


def _run(order: tuple[int, ...], pay_ok: bool, sweep_ok: bool, transfer_value: int) -> World:
    acc, _ = decide(account(subs=2), failed("ch-1", "sub-0", 1000), POLICY, T0)
    acc, _ = decide(acc, failed("ch-2", "sub-1", 500), POLICY, T0)
    cards = {"tok_visa": "succeeded", "tok_chargeCustomerFail": "succeeded" if sweep_ok else "declined"}
    world = World(acc, Processor(cards), T0 + days(1))
    actors = [pay_now(world, pay_ok), transfer(world, transfer_value), sweep(world, sweep_ok)]
    for actor in actors:
        next(actor)
    for who in order:
        next(actors[who], None)
    for actor in actors:  # whatever is left of each, in order
        for _ in actor:
            pass
    return world


def _interleavings():
    steps = [0] * 3 + [1] + [2] * 3
    return sorted(set(itertools.permutations(steps)))


CASES = [
    (order, pay_ok, sweep_ok, value)
    for order in _interleavings()
    for pay_ok, sweep_ok, value in ((True, False, 1000), (True, True, 1500), (False, True, 400), (True, False, 2000))
]


def test_there_are_at_least_two_hundred_interleavings():
    assert len(CASES) >= 200


@pytest.mark.parametrize("order, pay_ok, sweep_ok, value", CASES)
def test_money_taken_is_always_applied_or_credited(order, pay_ok, sweep_ok, value):
    world = _run(order, pay_ok, sweep_ok, value)
    acc = world.acc
    applied = sum(c.paid.value for c in acc.charges if c.paid)
    credit = acc.credit.value if acc.credit else 0
    assert world.processor.taken() + world.transferred == applied + credit
    for charge in acc.charges:
        assert charge.paid is None or charge.paid.value <= charge.amount.value
        if charge.status == PAID:
            assert charge.outstanding.is_zero
    if credit:  # the history says where the surplus came from: a card overpayment or a transfer
        sources = [
            h
            for h in acc.history
            if h["kind"] == "credit.added" or (h["kind"] == "payment.received" and h["detail"]["credit"])
        ]
        assert sources, "credit with no record of where it came from"
