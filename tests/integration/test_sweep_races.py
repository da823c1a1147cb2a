"""daily_sweep against the local Cosmos: racing an update_payment, and stopping on its time budget."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from datetime import timedelta

from pastdue import bootstrap
from pastdue.adapters.gateway import ChargeOutcome, PaymentGateway
from pastdue.domain import events as ev
from pastdue.domain.model import CARD, SETTLED, Admin
from pastdue.domain.money import Money
from pastdue.services.billing import put_account, put_subscription, record_event
from pastdue.services.portal import pay_now
from pastdue.services.sweep import run_sweep
from tests.support.faulty_deps import ledger_entries
from tests.support.stored import stored


def _past_due(deps, subs: int = 3) -> str:
    account_id = f"race-{uuid.uuid4().hex[:10]}"
    put_account(
        deps,
        account_id,
        ev.ProfileSet(
            Admin("oid", "a@example.com", "Ada"), CARD, "EUR", deps.gateway.describe("tok_chargeCustomerFail"), None
        ),
    )
    for n in range(subs):
        put_subscription(deps, account_id, ev.SubscriptionSet(f"s{n}", f"S{n}", "default"))
        record_event(
            deps,
            account_id,
            ev.ChargeFailed(
                f"e{n}-{account_id}",
                f"s{n}",
                f"INV-{n:04d}",  # every tenant has its INV-0000
                Money(100 + n, "EUR"),
                "card_declined",
                deps.clock.now(),
            ),
        )
    return account_id


class HoldsTheSweep(PaymentGateway):
    """Holds each account's first sweep retry at the processor until another call for that account
    arrives (update_payment adopting it, or the new card): the race happens every run, not sometimes."""

    def __init__(self, inner: PaymentGateway, held_token: str, accounts: list[str]):
        self.inner, self.held_token, self.accounts = inner, held_token, set(accounts)
        self.held: dict[str, threading.Event] = {}
        self.release: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def events(self, account_id: str):
        with self.lock:
            return (
                self.held.setdefault(account_id, threading.Event()),
                self.release.setdefault(account_id, threading.Event()),
            )

    def describe(self, token):
        return self.inner.describe(token)

    def charge(
        self,
        token: str,
        amount: Money,
        idempotency_key: str,
        customer: str | None = None,
        metadata: dict | None = None,
        reference: str | None = None,
        resume: bool = False,
        on_session: bool = False,
    ) -> ChargeOutcome:
        account_id = (metadata or {}).get("accountId")
        if account_id not in self.accounts:  # other tests' accounts in the same database pass through
            return self.inner.charge(token, amount, idempotency_key, customer, metadata, reference, resume, on_session)
        held, release = self.events(account_id)
        if token == self.held_token and not held.is_set():
            held.set()
            assert release.wait(30), "update_payment never reached the processor"
        else:
            release.set()
        return self.inner.charge(token, amount, idempotency_key, customer, metadata, reference, resume, on_session)


def test_a_sweep_racing_a_payment_method_update_charges_each_charge_once(clock, app_env):
    base = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    accounts = [_past_due(base) for _ in range(4)]
    gateway = HoldsTheSweep(base.gateway, "tok_chargeCustomerFail", accounts)
    deps = dataclasses.replace(base, gateway=gateway)
    clock.advance(timedelta(days=29, hours=23))  # day-21 retry overdue, disable due in an hour
    answers: dict[str, str] = {}
    sweep = threading.Thread(target=run_sweep, args=(deps, 600))
    sweep.start()
    payers = []
    for account_id in accounts:
        held, _ = gateway.events(account_id)
        assert held.wait(30), "the sweep never retried this account"
        # The sweep's retry is at the processor now: the admin gives a new card.
        payer = threading.Thread(
            target=lambda a=account_id: answers.__setitem__(
                a, pay_now(deps, a, f"race-key-{a}", "h", deps.gateway.describe("tok_visa"), "user:1").outcome
            )
        )
        payer.start()
        payers.append(payer)
    for thread in [sweep, *payers]:
        thread.join(60)
    assert answers == dict.fromkeys(accounts, SETTLED)
    clock.advance(timedelta(hours=2))
    run_sweep(deps, 600)  # disable is due now, but every account is paid
    for account_id in accounts:
        account = stored(deps.store, account_id)
        assert account.balance().is_zero
        assert {s.state for s in account.subscriptions.values()} == {"active"}
        entries = ledger_entries(account_id)
        collected = Counter(e["id"] for e in entries if e["outcome"] == "succeeded")
        assert collected and set(collected.values()) == {1}  # each payment taken once
        # Each charge paid by one payment (the new card's pays the three at once).
        assert [len([a for a in c.attempts if a.outcome == "succeeded"]) for c in account.charges] == [1, 1, 1]
        taken = sum(e["amount"]["value"] for e in entries if e["outcome"] == "succeeded")
        applied = sum(c.paid.value for c in account.charges if c.paid)
        assert taken == applied + (account.credit.value if account.credit else 0)


def test_the_sweep_stops_on_its_time_budget_and_the_rest_stays_due(clock, app_env):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    accounts = [_past_due(deps, subs=1) for _ in range(6)]
    clock.advance(timedelta(days=3, hours=1))
    first = run_sweep(deps, budget_seconds=0, page_size=2, workers=1)
    assert first["stoppedOnBudget"] == 1 and first["accountsSeen"] == 2
    rest = run_sweep(deps, budget_seconds=600)
    assert rest["accountsSeen"] >= 4
    for account_id in accounts:
        assert [n.kind for n in stored(deps.store, account_id).outbox] == ["payment_failed", "reminder"]
