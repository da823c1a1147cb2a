"""Bulkheads against the local Cosmos: poisoned documents and notices never stop the others."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos.quota import CosmosQuota
from pastdue.adapters.documents import to_document
from pastdue.adapters.email import EmailSender, SendFailed
from pastdue.adapters.gateway import ChargeOutcome, PaymentGateway
from pastdue.adapters.smtp_sender import SmtpSender
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import FAILED, QUEUED, Account, Admin, Notice, NoticeKind, PaymentMethod, Subscription
from pastdue.domain.money import Money
from pastdue.domain.quarantine import MAX_FAILURES
from pastdue.services.notices import drain_all
from pastdue.services.sweep import run_sweep
from tests.support.history import full_history
from tests.support.smtp_sink import Sink
from tests.support.stored import stored

# Each test on a database of its own (tests/conftest.py, app_database): no scan of other tests' accounts.
pytestmark = pytest.mark.usefixtures("app_database")

ACCOUNTS, POISONED = 400, 10  # four of the sweep's pages, a poisoned document in each tenth


FAILING = PaymentMethod("tok_chargeCustomerFail", "visa", "0341", 12, 2034)


def _poison(doc: dict, n: int) -> dict:
    """Ways a stored document stops loading: a float amount past 2^53, a wrong type, a missing key."""
    way = n % 3
    if way == 0:
        doc["charges"][0]["amount"]["value"] = 1e21
    elif way == 1:
        doc["subscriptions"] = "not a mapping"
    else:
        del doc["admin"]["email"]
    return doc


def _seed_due(now, run: str, accounts: int, poisoned: int) -> tuple[list[str], list[str]]:
    container = bootstrap.container("accounts")
    good: list[str] = []
    bad: list[str] = []
    policy = bootstrap.deps().policy
    for n in range(accounts):
        account = Account(f"bulk-{run}-{n}", Admin("oid", f"a{n}@example.com", "Ada"), payment_method=FAILING)
        account.subscriptions["s"] = Subscription("s", "Production")
        account, _ = decide(
            account,
            ev.ChargeFailed(
                f"e-{n}", "s", f"c-{run}-{n}", Money(1000, "EUR"), "card_declined", now - timedelta(days=3, hours=1)
            ),
            policy,
            now,
        )
        account.outbox = []  # only the sweep's own work is looked at
        account.notices_due_at = None
        doc = to_document(account)
        if poisoned and n % (accounts // poisoned) == 0 and len(bad) < poisoned:
            bad.append(account.account_id)
            doc = _poison(doc, len(bad))
        else:
            good.append(account.account_id)
        container.create_item(doc)
    return good, bad


def test_a_sweep_over_poisoned_documents_serves_everyone_else_and_quarantines_the_poison(clock, app_env):
    run = uuid.uuid4().hex[:8]
    good, bad = _seed_due(clock.now(), run, ACCOUNTS, POISONED)
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    summary = run_sweep(deps, budget_seconds=600)
    assert summary["accountsQuarantined"] == POISONED
    assert summary["accountsSeen"] >= ACCOUNTS
    container = bootstrap.container("accounts")
    for account_id in good:
        account = stored(deps.store, account_id)
        assert [n.kind for n in account.outbox] == ["reminder"], account_id  # the day-3 reminder
    for account_id in bad:
        doc = container.read_item(account_id, partition_key=account_id)
        assert doc["quarantine"]["where"] == "sweep" and doc["nextActionAt"] is None
        assert doc["history"][-1]["kind"] == "account.quarantined"
    # The next sweep no longer sees them at all.
    again = run_sweep(deps, budget_seconds=600)
    assert again.get("accountsQuarantined", 0) == 0


def test_an_account_that_keeps_failing_backs_off_then_is_quarantined(clock, app_env):
    run = uuid.uuid4().hex[:8]
    (account_id,), _ = _seed_due(clock.now(), run, 1, 0)

    class Broken(Exception):
        pass

    class ExplodingGateway(PaymentGateway):
        def charge(self, *args, **kwargs) -> ChargeOutcome:
            raise Broken("processor adapter bug")

        def describe(self, token: str) -> PaymentMethod:
            return FAILING

    deps = dataclasses.replace(bootstrap.deps(), gateway=ExplodingGateway(), after_notices_queued=None)
    waits = []
    for attempt in range(1, MAX_FAILURES + 1):
        summary = run_sweep(deps, budget_seconds=600)
        doc = bootstrap.container("accounts").read_item(account_id, partition_key=account_id)
        assert doc["failures"] == attempt
        if attempt < MAX_FAILURES:
            assert summary["accountsFailed"] >= 1 and "quarantine" not in doc or doc["quarantine"] is None
            waits.append(doc["nextActionAt"])
            clock.set(
                max(clock.now(), stored(deps.store, account_id).next_action_at or clock.now()) + timedelta(seconds=1)
            )
        else:
            assert summary["accountsQuarantined"] == 1 and doc["quarantine"]["reason"].startswith("Broken")
    assert waits == sorted(waits) and len(set(waits)) == MAX_FAILURES - 1  # later each time


class FailsFor(EmailSender):
    """Refuses mail to some addresses (transient), passes the rest to the real SMTP sink."""

    def __init__(self, inner: EmailSender, refused: set[str]):
        self.inner, self.refused = inner, refused

    def send(self, email):
        if email.to in self.refused:
            raise SendFailed("smtp: 451 try later")
        self.inner.send(email)


def _seed_notices(now, run: str, accounts: int, poisoned: int) -> tuple[list[str], list[str]]:
    # (a kind that stays true whatever the account owes: one asking for money would be withdrawn, not sent)
    container = bootstrap.container("accounts")
    good: list[str] = []
    bad: list[str] = []
    for n in range(accounts):
        account = Account(f"drainbulk-{run}-{n}", Admin("oid", f"d{n}@example.com", "Ada"))
        account.outbox.append(
            Notice(
                "n-1",
                NoticeKind.ADMIN_EMAIL_CHANGED,
                account.admin.email,
                "en-US",
                {"accountId": account.account_id, "paymentMode": "card"},
                now,
                now,
            )
        )
        account.notices_due_at = now
        doc = to_document(account)
        if poisoned and n % (accounts // poisoned) == 0 and len(bad) < poisoned:
            bad.append(account.account_id)
            doc["outbox"][0]["createdAt"] = "not a time"
        else:
            good.append(account.account_id)
        container.create_item(doc)
    return good, bad


def test_send_notices_over_poisoned_documents_sends_everyone_else_and_quarantines_the_poison(clock, app_env):
    run = uuid.uuid4().hex[:8]
    good, bad = _seed_notices(clock.now(), run, ACCOUNTS, POISONED)
    quota = CosmosQuota(bootstrap.container("control"), 10**6, 10**7, quota_id=f"quota-{uuid.uuid4().hex}")
    with Sink() as sink:
        sender = SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port)
        stats = drain_all(bootstrap.deps(), sender, quota, budget_seconds=600)
        sent_to = set(sink.recipients)
    assert stats["accountsQuarantined"] == POISONED
    assert {f"d{good_id.rsplit('-', 1)[1]}@example.com" for good_id in good} <= sent_to
    for account_id in bad:
        doc = bootstrap.container("accounts").read_item(account_id, partition_key=account_id)
        assert doc["quarantine"]["where"] == "notices" and doc["noticesDueAt"] is None


def test_a_notice_that_cannot_render_ends_failed_and_a_failed_send_is_retried_later(clock, app_env):
    now, store = clock.now(), bootstrap.deps().store
    account = Account(f"render-{uuid.uuid4().hex[:8]}", Admin("oid", "r@example.com", "Ada"))
    params = {"accountId": account.account_id, "paymentMode": "card"}
    account.outbox += [
        Notice("broken", "no_such_kind", "r@example.com", "en-US", params, now, now),  # no catalog has it: render fails
        Notice("fine", NoticeKind.ADMIN_EMAIL_CHANGED, "r@example.com", "en-US", params, now, now),
    ]
    account.notices_due_at = now
    bootstrap.container("accounts").create_item(to_document(account))
    other = Account(f"refused-{uuid.uuid4().hex[:8]}", Admin("oid", "refused@example.com", "Ada"))
    other.outbox.append(
        Notice(
            "n",
            NoticeKind.ADMIN_EMAIL_CHANGED,
            "refused@example.com",
            "en-US",
            {"accountId": other.account_id, "paymentMode": "card"},
            now,
            now,
        )
    )
    other.notices_due_at = now
    bootstrap.container("accounts").create_item(to_document(other))
    quota = CosmosQuota(bootstrap.container("control"), 10**6, 10**7, quota_id=f"quota-{uuid.uuid4().hex}")
    started = clock.now()
    with Sink() as sink:
        sender = FailsFor(SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port), {"refused@example.com"})
        drain_all(bootstrap.deps(), sender, quota, budget_seconds=600)
        assert [to for to in sink.recipients if to == "r@example.com"] == ["r@example.com"]
    notices = {n.notice_id: n for n in stored(store, account.account_id).outbox}
    broken = notices["broken"]
    assert (
        broken.status == FAILED and broken.last_error is not None and broken.last_error.startswith("render: KeyError")
    )
    assert notices["fine"].status == "sent"
    refused = stored(store, other.account_id)
    (notice,) = refused.outbox
    assert notice.status == QUEUED and notice.tries == 1 and notice.last_error == "smtp: 451 try later"
    assert started + timedelta(minutes=2) <= notice.next_try_at <= clock.now() + timedelta(minutes=2)
    assert refused.notices_due_at == notice.next_try_at
    assert [h["kind"] for h in full_history(store, other.account_id)][-1] == "notice.retry"
