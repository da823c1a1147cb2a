"""Rules of money, notices and input that the pure core and the use cases on the in-memory repository hold:
each test here fails when its rule is broken (issue 41 lists the slip that nothing noticed before)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from pastdue.adapters.gateway import ChargeOutcome, OutcomeUnknown, SandboxGateway
from pastdue.adapters.memory import MemoryQuota, MemorySender
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import CARD, DISABLED, OPEN, PAID, QUEUED, SENT, WRITTEN_OFF
from pastdue.domain.money import Money
from pastdue.domain.quarantine import MAX_FAILURES
from pastdue.domain.schedule import DAY
from pastdue.http import strict
from pastdue.http.endpoint import text
from pastdue.http.principal import OBJECT_ID, parse_principal
from pastdue.http.problems import BadRequest
from pastdue.notices.formatting import money
from pastdue.notices.render import render
from pastdue.services.billing import record_event
from pastdue.services.change import change
from pastdue.services.notices import drain_all
from pastdue.services.stripe_events import CARD_UPDATED, handle_event
from pastdue.services.sweep import run_sweep
from tests.support.card_like import card_like, grouped
from tests.support.stored import stored
from tests.unit.builders import POLICY, T0, VISA, account, clock_of, days, failed
from tests.unit.test_use_cases_in_memory import opened, world

EUR = "EUR"


def _at(deps, when) -> None:
    deps.clock.at = when


# --- 1. a lost answer is sent again with the amount reserved under its key ----------------------------------


class AnswersLost(SandboxGateway):
    """The processor does what it is asked (its ledger keeps the first request under the key), and while
    `lose` is set the answer never comes back. Every request is kept, as the processor sees it."""

    lose = True

    def __init__(self, ledger):
        super().__init__(ledger)
        self.requests: list[tuple[str, Money]] = []

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
        self.requests.append((idempotency_key, amount))
        outcome = super().charge(token, amount, idempotency_key, customer, metadata, reference, resume, on_session)
        if self.lose:
            raise OutcomeUnknown("the answer was lost on the way back")
        return outcome


def test_an_attempt_whose_answer_was_lost_is_sent_again_with_its_reserved_amount_not_what_is_owed_now():
    deps, store, ledger = world(AnswersLost)
    store.create(account(method=VISA))
    assert record_event(deps, "acct-1", failed("ch-1", value=1000)) == "processed"
    _at(deps, T0 + days(1.1))
    run_sweep(deps, budget_seconds=30)  # the day-1 retry: reserved at 10.00, its answer lost
    (attempt,) = stored(store, "acct-1").charge_of("ch-1").attempts
    assert attempt.outcome is None and attempt.amount == Money(1000, EUR)
    # A transfer pays part of it while the card payment's fate is unknown: 6.00 is owed now.
    assert record_event(deps, "acct-1", ev.PaymentReceived("tr-1", Money(400, EUR), "VIR-1")) == "processed"
    assert stored(store, "acct-1").charge_of("ch-1").outstanding == Money(600, EUR)
    gateway = deps.gateway
    assert isinstance(gateway, AnswersLost)
    gateway.lose = False
    _at(deps, T0 + days(2.1))
    run_sweep(deps, budget_seconds=30)  # the same key again: the processor answers what it did
    key = attempt.processor_key("acct-1")  # the Idempotency-Key the processor knows the attempt by
    sent = [amount for sent_key, amount in gateway.requests if sent_key == key]
    assert len(sent) > 1 and set(sent) == {Money(1000, EUR)}, sent  # never 6.00 under a key that asked 10.00
    after = store.get("acct-1")
    assert after is not None and after.charge_of("ch-1").status == PAID
    assert after.credit == Money(400, EUR)  # what the card took beyond what was owed is kept as credit
    assert list(ledger.entries) == [key]


# --- 3. a drain sends no more than the quota granted it -----------------------------------------------------


@pytest.mark.parametrize("granted", [0, 1, 2])
def test_a_notice_drain_sends_no_more_than_its_quota_and_none_when_granted_none(granted):
    deps, store, _ = world()
    opened(deps, store, charges=0)
    for address in ("ops@example.com", "billing@example.com"):  # each told at the new and at the old address
        change(deps, "acct-1", ev.AdminContactChanged(address, None, "user:1"))
        clock_of(deps).at += timedelta(seconds=1)
    assert len(stored(store, "acct-1").outbox) == 4
    sender = MemorySender()
    stats = drain_all(deps, sender, MemoryQuota(per_minute=granted, per_hour=granted))
    assert len(sender.sent) == stats["sent"] == granted
    statuses = sorted(n.status for n in stored(store, "acct-1").outbox)
    assert statuses == sorted([SENT] * granted + [QUEUED] * (4 - granted))  # the rest wait, none lost
    again = drain_all(deps, sender, MemoryQuota(per_minute=10, per_hour=10))
    assert again["sent"] == 4 - granted  # the next drain sends the rest


# --- 4. the card updater's pay-now is keyed by its event, not by the card ----------------------------------


def test_a_second_card_refresh_within_seven_days_collects_what_is_owed_then():
    deps, store, ledger = world()  # the store finds accounts by their processor customer
    acc = account(method=VISA)
    acc.gateway_customer_id = "cus_1"
    store.create(acc)
    refreshed = {"id": VISA.token, "customer": "cus_1", "object": "payment_method"}
    assert record_event(deps, "acct-1", failed("ch-1", value=1000)) == "processed"
    assert handle_event(deps, "evt_update_1", CARD_UPDATED, refreshed) == "paid"
    _at(deps, T0 + days(2))
    assert record_event(deps, "acct-1", failed("ch-2", value=2500, at=T0 + days(2))) == "processed"
    _at(deps, T0 + days(3))
    assert handle_event(deps, "evt_update_2", CARD_UPDATED, refreshed) == "paid"  # same card, 3 days later
    after = store.get("acct-1")
    assert after is not None and [c.status for c in after.charges] == [PAID, PAID] and after.balance().is_zero
    assert sorted(after.idempotency) == ["stripe:evt_update_1", "stripe:evt_update_2"]
    assert len(ledger.entries) == 2


# --- 5. and 6. a write-off: only the remainder, in the history and the notice -------------------------------


def test_writing_off_a_partly_paid_charge_records_and_tells_only_the_remainder():
    acc, _ = decide(account(mode=CARD), failed("ch-1", value=1000), POLICY, T0)
    acc, _ = decide(acc, ev.PaymentReceived("tr-1", Money(300, EUR), "VIR-1"), POLICY, T0 + days(1))
    acc, _ = decide(acc, ev.ChargeWrittenOff("ch-1", "goodwill", "support:oid-s"), POLICY, T0 + days(2))
    assert acc.charge_of("ch-1").status == WRITTEN_OFF and acc.balance().is_zero
    (entry,) = [h for h in acc.history if h["kind"] == "charge.written_off"]
    assert entry["detail"]["amount"] == {"value": 700, "currency": EUR}
    (notice,) = [n for n in acc.outbox if n.kind == "charge_written_off"]
    assert notice.params["amount"] == {"value": 700, "currency": EUR}
    email = render(notice)
    remainder, whole = money({"value": 700, "currency": EUR}, "en-US"), money({"value": 1000, "currency": EUR}, "en-US")
    assert remainder in email.text and whole not in email.text


# --- 7., 8. and 14. text at the door --------------------------------------------------------------------------

# Card-shaped runs whose doubled digits are 5 or more (built, not written: tests/support/card_like.py), as typed.
MASTERCARD_STYLE = [
    grouped(card_like("555555555555444")),
    card_like("555555555555444"),
    grouped(card_like("510510510510510")).replace(" ", "-"),
    card_like("520082828282821"),
]


@pytest.mark.parametrize("number", MASTERCARD_STYLE)
def test_card_numbers_whose_doubled_digits_are_5_or_more_are_refused_in_stored_text(number):
    assert strict.luhn(number.replace(" ", "").replace("-", ""))
    with pytest.raises(ValueError, match="card number"):
        strict.check_text(f"my card is {number}, charge it")
    with pytest.raises(BadRequest) as refused:
        text({"name": f"Ada {number}"}, "name", "admin.")
    assert refused.value.extra["field"] == "admin.name" and number not in refused.value.detail


@pytest.mark.parametrize("char", ["\x80", "\x85", "\x9b", "\x9f", "\u2028", "\u2029"])
def test_c1_controls_and_the_unicode_line_separators_are_refused_in_stored_text(char):
    with pytest.raises(ValueError, match="control characters"):
        strict.check_text(f"Production{char}Bcc: x@evil.example")
    with pytest.raises(BadRequest) as refused:
        text({"displayName": f"Prod{char}"}, "displayName")
    assert refused.value.extra["field"] == "displayName"


@pytest.mark.parametrize("lone", ["\\udc00", "\\udfff", "\\ud800"])
def test_a_lone_surrogate_low_or_high_is_refused_at_the_door(lone):
    for raw, where in (
        (f'{{"admin": {{"name": "Ada {lone}"}}}}', "admin.name"),
        (f'{{"reason": "x", "n{lone}": 1}}', "?"),
    ):
        with pytest.raises(strict.InvalidText) as refused:
            strict.loads(raw.encode())
        assert refused.value.field == where
    with pytest.raises(ValueError, match="lone surrogate"):
        strict.check_text(json.loads(f'"Ada {lone}"'))


# --- 9. the deletion warning counts days up ------------------------------------------------------------------


@pytest.mark.parametrize("late", [timedelta(minutes=5), timedelta(hours=1), timedelta(hours=13), timedelta(hours=23)])
def test_the_deletion_warning_counts_the_days_left_up(late):
    acc, _ = decide(account(), failed("ch-1", code="expired_card"), POLICY, T0)
    acc, _ = decide(acc, ev.SweepTick(), POLICY, T0 + days(POLICY.default.disable_day) + timedelta(minutes=1))
    sub = acc.subscriptions["sub-0"]
    assert sub.state == DISABLED and sub.deletion_scheduled_at is not None
    for warn in sorted(POLICY.default.deletion_warning_days, reverse=True):
        visit = sub.deletion_scheduled_at - warn * DAY + late  # a sweep that came `late` after the step
        acc, _ = decide(acc, ev.SweepTick(), POLICY, visit)
        sub = acc.subscriptions["sub-0"]
        warning = max((n for n in acc.outbox if n.kind == "deletion_warning"), key=lambda n: n.created_at)
        left = sub.deletion_scheduled_at - visit  # e.g. 6 days 23 hours: "7 days"
        assert warning.params["daysLeft"] == warn, (warn, left)


# --- 10. a successful visit resets the count of transient failures ------------------------------------------


def test_transient_failures_far_apart_never_quarantine_an_account_that_succeeds_between_them():
    deps, store, _ = world()
    store.create(account())
    assert record_event(deps, "acct-1", failed("ch-1", value=1000)) == "processed"

    def fault(account_id: str) -> None:  # one write fails (a storage bug, say), once
        store.before_replace = None
        raise RuntimeError("transient fault in the store adapter")

    for n in range(MAX_FAILURES + 1):
        due = stored(store, "acct-1").next_action_at
        assert due is not None
        _at(deps, due)
        store.before_replace = fault
        assert run_sweep(deps, budget_seconds=30)["accountsFailed"] == 1, n
        assert store.documents["acct-1"]["failures"] == 1, n  # one failure since the last success
        _at(deps, due + timedelta(minutes=30))  # after the backoff, a visit that succeeds
        summary = run_sweep(deps, budget_seconds=30)
        assert summary["accountsSeen"] == 1 and summary.get("accountsFailed", 0) == 0, n
        assert store.documents["acct-1"].get("failures", 0) == 0, n
    assert "quarantine" not in store.documents["acct-1"]
    assert stored(store, "acct-1").charge_of("ch-1").status == OPEN


# --- 16. roles under the claim type App Service names in role_typ ------------------------------------------

ROLE_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"


def test_roles_under_the_long_role_claim_uri_named_by_role_typ_are_honoured():
    doc: dict[str, Any] = {
        "auth_typ": "aad",
        "claims": [
            {"typ": OBJECT_ID, "val": "oid-support"},
            {"typ": "name", "val": "Sam"},
            {"typ": ROLE_URI, "val": "Billing.Support"},
        ],
        "name_typ": "name",
        "role_typ": ROLE_URI,
    }
    principal = parse_principal(base64.b64encode(json.dumps(doc).encode()).decode())
    assert principal.object_id == "oid-support" and principal.has_role("Billing.Support")
    # A claim of that type counts only where role_typ names it: another type is not a role.
    doc["claims"][2]["typ"] = "http://schemas.example/other"
    assert not parse_principal(base64.b64encode(json.dumps(doc).encode()).decode()).has_role("Billing.Support")
