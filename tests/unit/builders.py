"""Small builders for the pure core's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pastdue.adapters.memory import MemoryClock
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import (
    CARD,
    INVOICE,
    SENDING,
    Account,
    Admin,
    Notice,
    PaymentMethod,
    PaymentMode,
    Remittance,
    Subscription,
)
from pastdue.domain.money import Money
from pastdue.domain.policy import Policy
from pastdue.policy import shipped

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POLICY = shipped()
VISA = PaymentMethod("tok_visa", "visa", "4242", 12, 2034)
FAILING = PaymentMethod("tok_chargeCustomerFail", "visa", "0341", 12, 2034)


def account(
    mode: PaymentMode = CARD, subs: int = 1, method: PaymentMethod | None = FAILING, locale="en-US", account_id="acct-1"
) -> Account:
    acc = Account(
        account_id,
        Admin("oid-1", "admin@example.com", "Ada", locale),
        payment_mode=mode,
        payment_method=method if mode == CARD else None,
        remittance=Remittance("FR76300060000112345", "AGRIFRPP", "INV-1") if mode == INVOICE else None,
    )
    for n in range(subs):
        acc.subscriptions[f"sub-{n}"] = Subscription(f"sub-{n}", f"Sub {n}")
    return acc


def failed(
    charge: str = "ch-1",
    sub: str = "sub-0",
    value: int = 1000,
    code: str | None = "card_declined",
    at: datetime = T0,
    event_id: str | None = None,
) -> ev.ChargeFailed:
    return ev.ChargeFailed(event_id or f"evt-{charge}", sub, charge, Money(value, "EUR"), code, at)


def apply(acc: Account, *events, at: datetime = T0, policy: Policy = POLICY):
    effects = []
    for event in events:
        acc, more = decide(acc, event, policy, at)
        effects += more
    return acc, effects


def days(n: float) -> timedelta:
    return timedelta(days=n)


def notice_kinds(acc: Account) -> list[str]:
    return [n.kind for n in sorted(acc.outbox, key=lambda n: n.created_at)]


def deliver(acc: Account, at: datetime, policy: Policy = POLICY) -> tuple[Account, list[Notice]]:
    """What a drain at `at` sends, as the real outbox decides it (claim, then sent): the account after, and the
    notices it sent, with their parameters as they went."""
    acc, _ = decide(acc, ev.ClaimNotices(10_000, "deliver"), policy, at)
    sending = [n for n in acc.outbox if n.status == SENDING and n.claim_id == "deliver"]
    results = tuple(ev.SendResult(n.notice_id, "sent") for n in sending)
    after, _ = decide(acc, ev.NoticesSent("deliver", results), policy, at)  # decides on a copy: `sending` stays
    return after, sending


def clock_of(deps) -> MemoryClock:
    """The stopped clock a test's Deps were built with, to move it (Deps names only the Clock port)."""
    assert isinstance(deps.clock, MemoryClock), f"these deps run on {type(deps.clock).__name__}, not a MemoryClock"
    return deps.clock
