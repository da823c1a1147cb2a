"""The fault suite: injected Cosmos faults, gateway timeouts, failing e-mail, and processes killed
half-way. Each case ends with the invariants: no charge twice, no notice twice, no step lost,
balances right, nothing half-written."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos import CosmosAccountStore, make_client
from pastdue.adapters.cosmos.ledger import CosmosLedger
from pastdue.adapters.cosmos.quota import CosmosQuota
from pastdue.adapters.gateway import SandboxGateway
from pastdue.domain import events as ev
from pastdue.domain.model import CARD, INVOICE, SETTLED, Admin, PaymentMode, Remittance
from pastdue.domain.money import Money
from pastdue.services.billing import put_account, put_subscription, record_event
from pastdue.services.change import change_once
from pastdue.services.notices import drain_all
from pastdue.services.portal import OUTCOME_UNKNOWN, pay_now
from pastdue.services.sweep import run_sweep
from tests.integration.test_storage import FIXTURE
from tests.support.faults import Crash, CrashingGateway, CrashingTransport, FlakyGateway, FlakySender
from tests.support.faulty_deps import faulty_deps, ledger_entries, with_gateway
from tests.support.history import full_history
from tests.support.stored import stored

# Each test on a database of its own (tests/conftest.py, app_database): no scan of other tests' accounts.
pytestmark = pytest.mark.usefixtures("app_database")


def _open(deps, token: str | None, mode: PaymentMode = CARD, charges: int = 1, value: int = 1000) -> str:
    account_id = f"flt-{uuid.uuid4().hex[:10]}"
    method = deps.gateway.describe(token) if token else None
    remittance = Remittance("FR76", "AGRIFRPP", f"INV-{account_id}") if mode == INVOICE else None
    put_account(
        deps,
        account_id,
        ev.ProfileSet(Admin("oid", f"{account_id}@example.com", "Ada"), mode, "EUR", method, remittance),
    )
    for n in range(charges):
        put_subscription(deps, account_id, ev.SubscriptionSet(f"sub-{n}", f"Sub {n}", "default"))
        record_event(
            deps,
            account_id,
            ev.ChargeFailed(
                f"evt-{account_id}-{n}",
                f"sub-{n}",
                f"INV-{n:04d}",
                Money(value + n, "EUR"),
                "card_declined",
                deps.clock.now(),
            ),
        )
    return account_id


def _check_invariants(account_id: str, expect_paid: bool | None = None):
    account = stored(bootstrap.deps().store, account_id)
    history = full_history(bootstrap.deps().store, account_id)
    ledger = ledger_entries(account_id)
    # The ledger knows each payment by its (lead) attempt's `<accountId>:<chargeId>:<n>`: charge ids repeat
    # across accounts, and one payment may cover several charges (a combined payment names its lead).
    taken = Counter(entry["id"].removeprefix(f"{account_id}:") for entry in ledger if entry["outcome"] == "succeeded")
    assert all(n == 1 for n in taken.values()), f"a payment was collected twice: {taken}"
    by_charge = Counter(key.rsplit(":", 1)[0] for key in taken)
    assert all(n == 1 for n in by_charge.values()), f"a charge led two payments that took money: {by_charge}"
    leads = {a.payment or a.key for c in account.charges for a in c.attempts if a.outcome == "succeeded"}
    assert set(taken) <= leads, f"the processor took money the account does not know of: {set(taken) - leads}"
    for charge in account.charges:
        keys = [a.key for a in charge.attempts]
        assert len(keys) == len(set(keys)), "an attempt key was reused for a new attempt"
        succeeded = [a for a in charge.attempts if a.outcome == "succeeded"]
        assert len(succeeded) <= 1
        # What the processor collected is what the account recorded, no more, no less: a charge paid by a
        # card is paid by one payment the processor holds once.
        for attempt in succeeded:
            assert taken[attempt.payment or attempt.key] == 1, (charge.charge_id, attempt.key, taken)
        if charge.status == "paid" and not succeeded:
            assert any(h["kind"] in ("payment.received", "credit.applied") for h in history)
        assert 0 <= charge.outstanding.value <= charge.amount.value
    total = sum(c.outstanding.value for c in account.open_charges())
    assert account.balance().value == total
    ids = [n.notice_id for n in account.outbox]
    assert len(ids) == len(set(ids)), "a notice was queued twice"
    for sub in account.subscriptions.values():
        if sub.state in ("disabled", "deleted"):
            assert any(
                h["kind"] == "subscription.disabled" and h["subscriptionId"] == sub.subscription_id for h in history
            )
        if sub.state == "active":
            assert account.balance(sub.subscription_id).is_zero
    if expect_paid is not None:
        assert account.balance().is_zero == expect_paid
    return account


def _days(deps, clock, days, sender, quota, on_day=None):
    for day in range(1, days + 1):
        clock.advance(timedelta(days=1))
        run_sweep(deps, budget_seconds=600)
        drain_all(deps, sender, quota)
        if on_day:
            on_day(day)


def _flush(deps, clock, sender, quota):
    for _ in range(40):
        clock.advance(timedelta(minutes=30))
        drain_all(deps, sender, quota)


@pytest.mark.slow
def test_a_full_lifecycle_with_20_percent_429_and_503(clock, app_env):
    deps, transport = faulty_deps(0.2, faults=("429", "503"))
    deps = with_gateway(deps, FlakyGateway(deps.gateway, 0.2))
    sender, quota = FlakySender(0.2), CosmosQuota(bootstrap.container("control"), 10**4, 10**6, f"q-{uuid.uuid4()}")
    failing = _open(deps, "tok_chargeCustomerFail")
    recovering = _open(deps, "tok_chargeDeclinedInsufficientFunds", charges=2)
    invoice = _open(deps, None, mode=INVOICE, value=5000)

    def on_day(day):
        if day == 10:
            answer = pay_now(deps, recovering, "recover-key-1", "h", deps.gateway.describe("tok_visa"), "user:1")
            assert answer.outcome in (SETTLED, OUTCOME_UNKNOWN)
            if answer.outcome == OUTCOME_UNKNOWN:  # the same key resumes it
                answer = pay_now(deps, recovering, "recover-key-1", "h", deps.gateway.describe("tok_visa"), "user:1")
            assert answer.outcome == SETTLED
        if day == 35:
            record_event(deps, invoice, ev.PaymentReceived("evt-wire-1", Money(5000, "EUR"), "INV"))

    _days(deps, clock, 121, sender, quota, on_day)
    _flush(deps, clock, sender, quota)
    assert transport.injected["429"] > 0 and transport.injected["503"] > 0
    gone = _check_invariants(failing, expect_paid=False)
    assert gone.subscriptions["sub-0"].state == "deleted" and gone.subscriptions["sub-0"].purged_at
    assert len(gone.charges[0].attempts) == 6  # days 1, 3, 5, 7, 14, 21: none lost, none twice
    assert all(a.outcome == "declined" for a in gone.charges[0].attempts)
    paid = _check_invariants(recovering, expect_paid=True)
    assert {s.state for s in paid.subscriptions.values()} == {"active"}
    wired = _check_invariants(invoice, expect_paid=True)
    assert wired.subscriptions["sub-0"].state == "active"
    for account_id in (failing, recovering, invoice):
        account = stored(bootstrap.deps().store, account_id)
        assert {n.status for n in account.outbox} <= {"sent", "failed"}
    assert max(sender.delivered.values()) == 1, "a notice was delivered twice"


def test_every_kind_of_cosmos_fault_at_10_percent(clock, app_env):
    deps, transport = faulty_deps(0.1, seed=3)
    sender, quota = FlakySender(0.0), CosmosQuota(bootstrap.container("control"), 10**4, 10**6, f"q-{uuid.uuid4()}")
    accounts = [_open(deps, "tok_chargeCustomerFail") for _ in range(3)]
    _days(deps, clock, 35, sender, quota)
    _flush(deps, clock, sender, quota)
    assert {"412", "408", "drop-before", "drop-after"} <= set(transport.injected)
    for account_id in accounts:
        account = _check_invariants(account_id, expect_paid=False)
        assert account.subscriptions["sub-0"].state == "disabled"
        assert len(account.charges[0].attempts) == 6
        # Sent notices leave the document after 10 days; the history keeps every one queued.
        kinds = [
            h["detail"]["notice"]
            for h in full_history(bootstrap.deps().store, account_id)
            if h["kind"] == "notice.queued"
        ]
        assert kinds == [
            "payment_failed",
            "reminder",
            "reminder",
            "reminder",
            "reminder",
            "final_notice",
            "service_cancelled",
        ], kinds
    assert max(sender.delivered.values()) == 1


# One payment covers the three charges: the gateway is called once, so a crash at call 2 never comes.
@pytest.mark.parametrize("call, after", [(1, False), (1, True), (2, False)])
def test_a_crash_at_each_step_of_update_payment_then_the_same_key_again(clock, app_env, call, after):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    account_id = _open(deps, "tok_chargeCustomerFail", charges=3)
    method = deps.gateway.describe("tok_visa")
    crashing = with_gateway(deps, CrashingGateway(deps.gateway, at=call, after=after))
    try:
        pay_now(crashing, account_id, "crash-key-123", "h", method, "user:1")
        crashed = False
    except Crash:
        crashed = True
    assert crashed == (call == 1)
    first = pay_now(deps, account_id, "crash-key-123", "h", method, "user:1")
    again = pay_now(deps, account_id, "crash-key-123", "h", method, "user:1")
    assert first.outcome == again.outcome == SETTLED and again.settled == first.settled
    assert sorted(s.charge_id for s in first.settled) == [f"INV-{n:04d}" for n in range(3)]
    account = _check_invariants(account_id, expect_paid=True)
    assert {s.state for s in account.subscriptions.values()} == {"active"}
    (payment,) = [e for e in ledger_entries(account_id) if e["outcome"] == "succeeded"]  # one, for all three
    assert payment["amount"] == {"value": sum(c.amount.value for c in account.charges), "currency": "EUR"}


def test_a_crash_after_the_notices_were_queued_loses_none(clock, app_env):
    def die(account_id):
        raise Crash("killed while draining")

    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=die)
    account_id = _open(dataclasses.replace(deps, after_notices_queued=None), "tok_chargeCustomerFail")
    with pytest.raises(Crash):
        pay_now(deps, account_id, "crash-key-456", "h", deps.gateway.describe("tok_visa"), "user:1")
    quiet = dataclasses.replace(deps, after_notices_queued=None)
    assert (
        pay_now(quiet, account_id, "crash-key-456", "h", deps.gateway.describe("tok_visa"), "user:1").outcome == SETTLED
    )
    sender = FlakySender(0.0)
    drain_all(quiet, sender, CosmosQuota(bootstrap.container("control"), 10**4, 10**6, f"q-{uuid.uuid4()}"))
    account = _check_invariants(account_id, expect_paid=True)
    assert [n.status for n in account.outbox if n.kind == "payment_received"] == ["sent"]


def test_a_crash_mid_sweep_then_a_second_run(clock, app_env):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    accounts = [_open(deps, "tok_chargeCustomerFail") for _ in range(12)]
    clock.advance(timedelta(days=3, hours=1))
    inner = SandboxGateway(CosmosLedger(bootstrap.container("gatewayLedger")))
    with pytest.raises(Crash):
        run_sweep(with_gateway(deps, CrashingGateway(inner, at=5, after=True)), budget_seconds=600, workers=1)
    run_sweep(deps, budget_seconds=600)
    run_sweep(deps, budget_seconds=600)  # and once more the same day: nothing more happens
    for account_id in accounts:
        account = _check_invariants(account_id, expect_paid=False)
        charge = account.charges[0]
        assert [a.n for a in charge.attempts] == [1] and charge.attempts[0].outcome == "declined"
        assert [n.kind for n in account.outbox] == ["payment_failed", "reminder"]


@pytest.mark.parametrize("after", [False, True])
@pytest.mark.parametrize(
    "event_ids, at",
    [(4, 1), (4, 2)] + [(300, n) for n in range(1, 7)],
    ids=["one-batch-1", "one-batch-2"] + [f"in-parts-{n}" for n in range(1, 7)],
)
def test_a_crash_at_each_write_of_an_archiving_update_loses_no_record_and_writes_none_twice(
    clock, app_env, event_ids, at, after
):
    """An account of the earlier shape with 465 records and the event ids it kept: its next write archives
    three chunks and the ids, and writes the document; then one more event (its chunk, the document). With
    4 ids all of it is one transactional batch per event; with 300 (over a batch's 100 operations) the
    archive goes first in batches of its own (four), then the document. The process dies at each of those
    writes, before or after it lands; the events are then delivered again to a healthy process, as Stripe
    and the billing system deliver them (change_once: an id processed before is a duplicate)."""
    earlier = json.loads(FIXTURE.read_text(encoding="utf-8"))
    account_id = f"crash-arch-{uuid.uuid4().hex[:8]}"
    kept = earlier["processedEvents"] + [f"old-{n}" for n in range(event_ids - len(earlier["processedEvents"]))]
    earlier.update(id=account_id, accountId=account_id, history=earlier["history"] * 15, processedEvents=kept)
    bootstrap.container("accounts").create_item({k: v for k, v in earlier.items() if not k.startswith("_")})
    healthy = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    transport = CrashingTransport(at, after, connection_verify=False)
    database = bootstrap.settings().cosmos_database
    db = make_client(bootstrap.settings(), transport=transport).get_database_client(database)
    dying = dataclasses.replace(healthy, store=CosmosAccountStore(db.get_container_client("accounts")))
    events = [ev.PaymentReceived(f"{account_id}-p{n}", Money(100, "EUR"), f"ref-{n}") for n in range(2)]
    with pytest.raises(Crash):
        for event in events:
            change_once(dying, account_id, event.event_id, event)
    for event in events:  # delivered again: the first may have landed already, which changes nothing
        change_once(healthy, account_id, event.event_id, event)
    account = stored(healthy.store, account_id)
    entries = full_history(healthy.store, account_id)
    assert [e["seq"] for e in entries] == list(range(1, account.history_seq + 1)), "a record lost or twice"
    assert [e["kind"] for e in entries[:465]] == [r["kind"] for r in earlier["history"]]
    assert sum(1 for e in entries[465:] if e["kind"] == "payment.received") == 2
    assert account.balance() == Money(600, "EUR")  # each payment applied once: 800 - 2 x 100
    chunks = list(
        bootstrap.container("accounts").query_items(
            "SELECT c.seq, c.lastSeq FROM c WHERE c.accountId = @a AND c.type = 'history'",
            parameters=[{"name": "@a", "value": account_id}],
            partition_key=account_id,
        )
    )
    spans = sorted((c["seq"], c["lastSeq"]) for c in chunks)
    # The archived chunks never overlap: each archived record is in exactly one of them.
    assert all(a_last < b_first for (_, a_last), (b_first, _) in zip(spans, spans[1:], strict=False)), spans
