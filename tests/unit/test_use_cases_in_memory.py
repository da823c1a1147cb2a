"""The use cases on the in-memory adapters (adapters/memory/): change()'s If-Match loop, pay-now's
rounds, the sweep's visit of an account, the notice drain, Stripe's events, delivery reports and support's
list and actions, in milliseconds (the fake answers as Cosmos does:
tests/integration/test_memory_store_answers_as_cosmos.py). The same flows run against
the Cosmos stand-in and through the local host in tests/integration and tests/e2e."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from pastdue.adapters.documents import to_document
from pastdue.adapters.gateway import ChargeOutcome, OutcomeUnknown, SandboxGateway
from pastdue.adapters.memory import (
    MemoryAccounts,
    MemoryClock,
    MemoryCustomerData,
    MemoryLedger,
    MemoryQuota,
    MemorySender,
)
from pastdue.domain import events as ev
from pastdue.domain.errors import IdempotencyMismatch
from pastdue.domain.model import (
    AUTHENTICATION_REQUIRED,
    DISABLED,
    PAID,
    PAY_NOW_DECLINED,
    REQUIRES_ACTION,
    SENT,
    SETTLED,
    SUCCEEDED,
    Account,
)
from pastdue.domain.money import Money
from pastdue.services.billing import record_event
from pastdue.services.change import change
from pastdue.services.deps import Deps
from pastdue.services.notices import drain_all
from pastdue.services.portal import OUTCOME_UNKNOWN, pay_now
from pastdue.services.stripe_events import handle_event
from pastdue.services.sweep import run_sweep
from tests.support.stored import history_page, stored
from tests.unit.builders import FAILING, POLICY, T0, VISA, account, clock_of, days, failed


class Unanswered(SandboxGateway):
    """The processor takes the request but no answer comes back."""

    def charge(self, *args, **kwargs) -> ChargeOutcome:
        raise OutcomeUnknown("timed out")


def world(gateway_class=SandboxGateway) -> tuple[Deps, MemoryAccounts, MemoryLedger]:
    store, ledger = MemoryAccounts(), MemoryLedger()
    deps = Deps(
        store=store,
        customer_data=MemoryCustomerData(),
        gateway=gateway_class(ledger),
        policy=POLICY,
        clock=MemoryClock(T0),
    )
    return deps, store, ledger


def opened(deps: Deps, store: MemoryAccounts, charges: int = 1, subs: int = 1) -> Account:
    store.create(account(subs=subs, method=FAILING))
    for n in range(charges):
        assert record_event(deps, "acct-1", failed(f"ch-{n}", f"sub-{n % subs}", 1000 + n)) == "processed"
    return stored(store, "acct-1")


def test_change_reads_and_decides_again_when_another_writer_came_first():
    deps, store, _ = world()
    opened(deps, store, charges=0)

    def intruder(account_id: str) -> None:
        store.before_replace = None
        other = store.get(account_id)
        assert other is not None
        change(deps, account_id, ev.SubscriptionSet("sub-9", "Written meanwhile", "default"), account=other)

    store.before_replace = intruder
    written = change(deps, "acct-1", failed("ch-1")).account
    assert "sub-9" in written.subscriptions and written.charge("ch-1") is not None  # both decisions kept
    assert stored(store, "acct-1").etag == written.etag


def test_a_decision_that_changes_nothing_writes_nothing():
    deps, store, _ = world()
    before = opened(deps, store)
    writes = store.writes
    written = change(deps, "acct-1", ev.DunningResumed("support:1")).account  # nothing was paused
    assert store.writes == writes and written.etag == before.etag


def test_an_event_id_seen_before_is_a_duplicate_and_changes_nothing():
    deps, store, _ = world()
    opened(deps, store)
    writes = store.writes
    assert record_event(deps, "acct-1", failed("ch-0", value=1000)) == "duplicate"
    acc = store.get("acct-1")
    assert acc is not None and len(acc.charges) == 1 and store.writes == writes
    assert [r["kind"] for r in acc.history].count("charge.failed") == 1


def test_pay_now_settles_every_charge_of_every_subscription_once_per_key():
    deps, store, ledger = world()
    opened(deps, store, charges=3, subs=2)
    answer = pay_now(deps, "acct-1", "key-00000001", "h", VISA, "user:1")
    assert answer.outcome == SETTLED
    assert sorted((s.charge_id, s.amount) for s in answer.settled) == [
        ("ch-0", Money(1000, "EUR")),
        ("ch-1", Money(1001, "EUR")),
        ("ch-2", Money(1002, "EUR")),
    ]
    assert all(c.status == PAID for c in answer.account.charges) and answer.account.balance().is_zero
    # One payment for everything owed: one entry in the processor's ledger, for the total.
    (entry,) = ledger.entries.values()
    assert entry["amount"] == {"value": 3003, "currency": "EUR"}
    again = pay_now(deps, "acct-1", "key-00000001", "h", VISA, "user:1")
    assert (again.outcome, again.settled) == (answer.outcome, answer.settled) and len(ledger.entries) == 1
    with pytest.raises(IdempotencyMismatch):
        pay_now(deps, "acct-1", "key-00000001", "another body", VISA, "user:1")


def test_a_declined_card_is_tried_on_one_charge_only_and_changes_nothing_owed():
    deps, store, ledger = world()
    opened(deps, store, charges=3, subs=2)
    answer = pay_now(deps, "acct-1", "key-00000002", "h", FAILING, "user:1")
    assert (answer.outcome, answer.code, answer.settled) == (PAY_NOW_DECLINED, "card_declined", ())
    assert len(ledger.entries) == 1 and answer.account.balance() == Money(3003, "EUR")


def test_an_unknown_outcome_is_resumed_by_the_same_key_without_a_second_charge():
    deps, store, ledger = world(Unanswered)
    opened(deps, store, charges=2)
    assert pay_now(deps, "acct-1", "key-00000003", "h", VISA, "user:1").outcome == OUTCOME_UNKNOWN
    stored = store.get("acct-1")
    assert stored is not None
    # One payment covers both charges: both wait for its one answer.
    assert {c.charge_id: c.pending.key for c in stored.charges if c.pending} == {"ch-0": "ch-0:1", "ch-1": "ch-1:1"}
    answered = dataclasses.replace(deps, gateway=SandboxGateway(ledger))
    answer = pay_now(answered, "acct-1", "key-00000003", "h", VISA, "user:1")
    assert answer.outcome == SETTLED and len(answer.settled) == 2
    first = answer.account.charge("ch-0")
    assert first is not None and [a.key for a in first.attempts if a.outcome == SUCCEEDED] == ["ch-0:1"]
    assert list(ledger.entries) == ["acct-1:ch-0:1"]  # the reserved key, sent again: one payment for both


def test_the_sweep_visits_a_due_account_once_and_disables_it_at_the_end_of_grace():
    deps, store, ledger = world()
    opened(deps, store)
    clock_of(deps).at = T0 + days(POLICY.default.disable_day) + days(0.1)
    summary = run_sweep(deps, budget_seconds=30)
    acc = store.get("acct-1")
    assert acc is not None and acc.subscriptions["sub-0"].state == DISABLED
    assert summary["accountsSeen"] == 1 and summary["subscriptionsDisabled"] == 1
    writes = store.writes
    assert run_sweep(deps, budget_seconds=30)["accountsSeen"] == 0 and store.writes == writes  # nothing due


def test_one_unreadable_document_is_quarantined_and_the_sweep_goes_on():
    deps, store, _ = world()
    opened(deps, store)
    broken = to_document(account())
    broken.update(id="acct-bad", accountId="acct-bad", charges="not a list", nextActionAt="2026-01-01T00:00:00.000000Z")
    store.put_document(broken)
    clock_of(deps).at = T0 + days(POLICY.default.disable_day) + days(0.1)
    summary = run_sweep(deps, budget_seconds=30)
    assert summary["accountsSeen"] == 2 and summary["subscriptionsDisabled"] == 1
    assert store.documents["acct-bad"]["quarantine"]["where"] == "sweep"
    assert store.documents["acct-bad"]["nextActionAt"] is None


def test_the_drain_sends_the_declined_notice_once_with_its_amount():
    deps, store, _ = world()
    opened(deps, store)
    sender = MemorySender()
    stats = drain_all(deps, sender, MemoryQuota())
    assert stats["sent"] == 1 and [e.to for e in sender.sent] == ["admin@example.com"]
    assert "10.00" in sender.sent[0].text
    assert [n.status for n in stored(store, "acct-1").outbox] == [SENT]
    assert drain_all(deps, sender, MemoryQuota())["sent"] == 0 and len(sender.sent) == 1


def _linked(account_id: str, customer: str | None) -> Account:
    acc = account(account_id=account_id)
    acc.gateway_customer_id = customer
    return acc


def test_accounts_are_found_by_their_processor_customer_and_a_document_that_does_not_load_is_left_out():
    _, store, _ = world()
    for account_id, customer in [("acct-b", "cus_1"), ("acct-a", "cus_1"), ("acct-c", "cus_2"), ("acct-d", None)]:
        store.create(_linked(account_id, customer))
    broken = to_document(_linked("acct-bad", "cus_1"))
    broken["charges"] = "not a list"
    store.put_document(broken)
    assert [a.account_id for a in store.by_gateway_customer("cus_1")] == ["acct-a", "acct-b"]
    assert [a.account_id for a in store.by_gateway_customer("cus_2")] == ["acct-c"]
    assert store.by_gateway_customer("cus_9") == []
    found = store.by_gateway_customer("cus_2")[0]
    assert found.etag == store.documents["acct-c"]["_etag"]  # read as get() reads it: replace() takes it


class AsksToAuthenticate(SandboxGateway):
    """The bank asks the customer present to authenticate; reading what Stripe.js needs gets no answer."""

    def charge(self, token, amount, idempotency_key, *args, **kwargs) -> ChargeOutcome:
        return ChargeOutcome(REQUIRES_ACTION, "authentication_required", reference="pi_waits")

    def confirmation(self, reference: str) -> dict | None:
        raise OutcomeUnknown("connection dropped")


def test_a_pay_now_the_bank_asks_to_authenticate_answers_so_when_its_confirmation_details_cannot_be_read():
    deps, store, _ = world(AsksToAuthenticate)
    opened(deps, store)
    answer = pay_now(deps, "acct-1", "key-00000004", "h", VISA, "user:1")
    assert (answer.outcome, answer.confirmation) == (AUTHENTICATION_REQUIRED, {"chargeId": "ch-0"})
    waiting = answer.account.charge("ch-0")
    assert waiting is not None and waiting.awaiting_action is not None
    assert waiting.awaiting_action.reference == "pi_waits"


class WithReferences(SandboxGateway):
    """A sandbox whose payments have the processor's ids and metadata, as Stripe's PaymentIntents do."""

    def charge(self, token, amount, idempotency_key, customer=None, metadata=None, *args, **kwargs) -> ChargeOutcome:
        outcome = super().charge(token, amount, idempotency_key, customer, metadata, *args, **kwargs)
        return dataclasses.replace(outcome, reference=f"pi_{idempotency_key}")

    def payment_metadata(self, reference: str) -> dict:
        return {"accountId": "acct-1", "chargeId": reference.split(":")[1]}


def test_a_failed_refund_delivered_again_after_it_was_applied_is_a_duplicate_not_an_event_too_early():
    deps, store, _ = world(WithReferences)
    store.create(account(method=VISA))
    record_event(deps, "acct-1", failed("ch-0", value=1000))
    clock_of(deps).at = T0 + days(1.1)
    run_sweep(deps, budget_seconds=30)
    paid = store.get("acct-1")
    assert paid is not None and paid.balance().is_zero
    (reference,) = [a.reference for a in paid.charges[0].attempts]
    refunded = {"id": "ch_1", "payment_intent": reference, "amount_refunded": 1000, "currency": "eur"}
    assert handle_event(deps, "evt_refunded", "charge.refunded", refunded) == "recorded"
    failed_refund = {"id": "re_1", "charge": "ch_1", "payment_intent": reference, "amount": 1000, "currency": "eur"}
    assert handle_event(deps, "evt_refund_failed", "refund.failed", failed_refund) == "recorded"
    assert handle_event(deps, "evt_refund_failed", "refund.failed", failed_refund) == "duplicate"
    again = store.get("acct-1")
    assert again is not None and again.credit == Money(1000, "EUR") and again.reversed == {"ch_1": 0}


def test_a_refund_of_a_charge_settled_long_ago_and_waiting_in_the_document_for_the_archive_is_recorded():
    deps, store, _ = world(WithReferences)
    store.create(account(method=VISA))
    record_event(deps, "acct-1", failed("ch-0", value=1000))
    clock_of(deps).at = T0 + days(1.1)
    run_sweep(deps, budget_seconds=30)
    clock_of(deps).at = T0 + days(12)
    record_event(deps, "acct-1", failed("ch-1", value=500))  # a write: ch-0 waits in the document now
    waiting = store.get("acct-1")
    assert waiting is not None and [c.charge_id for c in waiting.archive_charges] == ["ch-0"]
    assert not store.archived_charge("acct-1", "ch-0")
    (reference,) = [a.reference for a in waiting.archive_charges[0].attempts]
    refunded = {"id": "ch_1", "payment_intent": reference, "amount_refunded": 300, "currency": "eur"}
    assert handle_event(deps, "evt_refunded", "charge.refunded", refunded) == "recorded"
    after = store.get("acct-1")
    assert after is not None and after.reversed == {"ch_1": 300}


def test_a_bounced_notice_marks_every_account_of_that_admin_and_no_other():
    from pastdue.services.delivery import REPORT, handle_delivery_report

    deps, store, _ = world()
    store.create(account(account_id="acct-1"))
    store.create(account(account_id="acct-2"))  # the same admin address
    other = account(account_id="acct-3")
    store.create(msgspec.structs.replace(other, admin=msgspec.structs.replace(other.admin, email="bob@example.com")))
    report = {"status": "Bounced", "recipient": "admin@example.com", "messageId": "m-1"}
    assert handle_delivery_report(deps, REPORT, report) == "marked"
    for account_id, bounced in (("acct-1", True), ("acct-2", True), ("acct-3", False)):
        kinds = [r["kind"] for r in history_page(store, account_id).entries]
        assert ("admin.email.undeliverable" in kinds) is bounced, (account_id, kinds)
    assert handle_delivery_report(deps, REPORT, {**report, "recipient": "nobody@example.com"}) == "unknown"
    assert handle_delivery_report(deps, REPORT, {**report, "status": "Delivered"}) == "delivered"


def test_support_finds_past_due_accounts_page_by_page_and_acts_with_a_reason_in_the_history():
    from pastdue.adapters.store import AccountFilter
    from pastdue.services.support import find_accounts, run_support_action

    deps, store, _ = world()
    for n in range(5):
        store.create(account(account_id=f"acct-{n}"))
        if n % 2 == 0:
            record_event(deps, f"acct-{n}", failed(f"ch-{n}", "sub-0", 1000 + n))
    ids, cursor = [], None
    while True:
        page, cursor = find_accounts(deps, AccountFilter(state="pastDue"), 2, cursor)
        ids += [a.account_id for a in page]
        if cursor is None:
            break
    assert ids == ["acct-0", "acct-2", "acct-4"]
    run_support_action(deps, "acct-2", ev.ChargeWrittenOff("ch-2", "goodwill after an outage", "support:oid-sam"))
    (entry,) = [e for e in history_page(store, "acct-2").entries if e["kind"] == "charge.written_off"]
    assert entry["actor"] == "support:oid-sam" and entry["detail"]["reason"] == "goodwill after an outage"
    assert stored(store, "acct-2").balance().is_zero
    assert [a.account_id for a in find_accounts(deps, AccountFilter(state="pastDue"), 10, None)[0]] == [
        "acct-0",
        "acct-4",
    ]


def test_a_processor_out_of_reach_leaves_the_default_card_behind_logged_without_a_traceback(caplog):
    """The new card paid; making it the processor's default then finds Stripe out of reach: a known failure,
    an operator's error line and a metric, never a traceback (an unexpected error keeps its traceback)."""
    import logging

    from pastdue.services.portal import card_has_paid

    class OutOfReach(SandboxGateway):
        def make_default(self, token: str, customer: str | None) -> None:
            raise OutcomeUnknown("stripe: APIConnectionError")

    class Broken(SandboxGateway):
        def make_default(self, token: str, customer: str | None) -> None:
            raise KeyError("default_payment_method")

    for gateway_class, traceback in ((OutOfReach, False), (Broken, True)):
        deps, store, _ = world(gateway_class)
        created = store.create(msgspec.structs.replace(account(), gateway_customer_id="cus_1"))
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="pastdue"):
            card_has_paid(deps, created, "pm_new")
        (logged,) = [r for r in caplog.records if "default" in r.getMessage()]
        assert (logged.exc_info is not None) is traceback, gateway_class.__name__
