"""Requests to Stripe are spaced under its documented rate limits, and a 429 is retried after a pause
that grows, never three tries within a fraction of a second. Time is a fake clock: nothing here waits."""

from __future__ import annotations

import pytest

from pastdue.adapters.gateway import ChargeOutcome, OutcomeUnknown, SandboxGateway
from pastdue.adapters.memory import MemoryLedger
from pastdue.adapters.pacing import Pacer
from pastdue.domain import events as ev
from pastdue.domain.model import SUCCEEDED
from pastdue.domain.money import Money
from pastdue.services import effects
from tests.unit.builders import account
from tests.unit.test_use_cases_in_memory import world


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_searches_are_spaced_at_twenty_a_second_and_other_endpoints_at_twenty_five():
    time = FakeTime()
    pacer = Pacer(25, {"search": 20}, clock=time.clock, sleep=time.sleep)
    for _ in range(41):
        pacer.wait("search")
    assert time.now == pytest.approx(2.0)  # 41 searches take two seconds: 20 a second
    start = time.now
    for _ in range(26):
        pacer.wait("create")
    assert time.now - start == pytest.approx(1.0)  # 26 creates: 25 a second, its own turn from search's
    start = time.now
    pacer.wait("confirm")
    assert time.now == start  # an endpoint with no request before waits for nothing


class RateLimited(SandboxGateway):
    """Stripe answers 429 twice (a lock on the object), then takes the payment."""

    def __init__(self, ledger: MemoryLedger):
        super().__init__(ledger)
        self.calls = 0

    def charge(self, *args, **kwargs) -> ChargeOutcome:
        self.calls += 1
        if self.calls < 3:
            raise OutcomeUnknown("stripe: 429", None, retry_after=1.0)
        return super().charge(*args, **kwargs)


def test_a_429_is_retried_after_a_pause_that_grows_not_within_a_fraction_of_a_second(monkeypatch):
    deps, _, _ = world(RateLimited)
    slept: list[float] = []
    monkeypatch.setattr(effects.time, "sleep", slept.append)
    attempt = ev.TryCharge("INV-0001", "INV-0001:1", "tok_visa", Money(1000, "EUR"), "sub-0")
    answer = effects._charge_one(deps, account(), attempt)
    assert answer is not None and answer.outcome == SUCCEEDED
    assert len(slept) == 2 and 1.0 <= slept[0] <= 1.5 and 2.0 <= slept[1] <= 3.0


def test_a_lost_answer_is_asked_again_soon_and_the_last_try_is_not_followed_by_a_wait(monkeypatch):
    class Lost(SandboxGateway):
        def charge(self, *args, **kwargs) -> ChargeOutcome:
            raise OutcomeUnknown("timed out")

    deps, _, _ = world(Lost)
    slept: list[float] = []
    monkeypatch.setattr(effects.time, "sleep", slept.append)
    attempt = ev.TryCharge("INV-0001", "INV-0001:1", "tok_visa", Money(1000, "EUR"), "sub-0")
    assert effects._charge_one(deps, account(), attempt) is None
    assert slept == [0.05, 0.1]
