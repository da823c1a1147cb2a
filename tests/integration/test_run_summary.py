"""The sweep's summary counts what the accounts' histories say it did, on a database of its own (so that
no other test's account is due): retries recovered and declined, notices, disables, deletions."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from pastdue import bootstrap
from pastdue.domain import events as ev
from pastdue.domain.model import CARD, PaymentMode
from pastdue.domain.money import Money
from pastdue.services.billing import put_account, put_subscription, record_event
from pastdue.services.sweep import COUNTED, report_book, run_sweep
from tests.support.busy import new_account
from tests.support.history import full_history


@pytest.fixture()
def own(app_database, clock):
    """The app's dependencies on a database of its own (tests/conftest.py), notices sent by the test."""
    return dataclasses.replace(bootstrap.deps(), after_notices_queued=None)


def _open(deps, token: str | None, mode: PaymentMode = CARD, at=None) -> str:
    account_id = f"sum-{uuid.uuid4().hex[:8]}"
    method = deps.gateway.describe(token) if token else None
    remittance = new_account(account_id).remittance
    put_account(deps, account_id, ev.ProfileSet(new_account(account_id).admin, mode, "EUR", method, remittance))
    put_subscription(deps, account_id, ev.SubscriptionSet("s0", "Production", "default"))
    record_event(
        deps,
        account_id,
        ev.ChargeFailed(
            f"e-{account_id}", "s0", f"c-{account_id}", Money(2500, "EUR"), "card_declined", at or deps.clock.now()
        ),
    )
    return account_id


def test_the_sweep_summary_counts_what_the_histories_say_it_did(own, clock):
    start = clock.now()
    declined = [_open(own, "tok_chargeCustomerFail") for _ in range(3)]
    recovered = [_open(own, "tok_visa") for _ in range(2)]
    disabled = [_open(own, "tok_chargeCustomerFail", at=start - timedelta(days=31))]
    clock.advance(timedelta(days=1, hours=1))
    since = clock.now()
    summary = run_sweep(own, 600)
    did: Counter = Counter()
    for account_id in declined + recovered + disabled:
        did.update(
            COUNTED[e["kind"]]
            for e in full_history(own.store, account_id)
            if e["kind"] in COUNTED and e["at"] >= since.isoformat().replace("+00:00", "Z")[:19]
        )
    for key, value in did.items():
        assert summary.get(key, 0) == value, (key, summary, did)
    assert summary["chargesRecovered"] == 2 and summary["chargesDeclined"] == 4  # 3, and the 31-day-old one
    assert summary["subscriptionsDisabled"] == 1 and summary["accountsSeen"] == 6
    assert summary["chargesRetried"] == 6
    book = report_book(own)
    assert book is not None
    assert book["byState"]["pastDue"] == 3 and book["byState"]["disabled"] == 1 and book["byState"]["active"] == 2
    assert book["atRisk"] == {"EUR": 4 * 2500} and book["stillDue"] == 0
