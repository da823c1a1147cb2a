"""send_notices against the local Cosmos: within quota, none lost, none sent twice, 429 resumes."""

from __future__ import annotations

import dataclasses
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from pastdue import bootstrap
from pastdue.adapters.cosmos.quota import CosmosQuota
from pastdue.adapters.documents import to_document
from pastdue.adapters.email import EmailSender, Throttled
from pastdue.adapters.memory import MemorySender
from pastdue.adapters.smtp_sender import SmtpSender
from pastdue.domain.model import INVOICE, Account, Admin, Notice, NoticeKind, Remittance
from pastdue.notices.message import Email
from pastdue.notices.render import render
from pastdue.services.notices import drain_all
from tests.support.smtp_sink import Sink
from tests.support.stored import stored

# Each test on a database of its own (tests/conftest.py, app_database): no scan of other tests' accounts.
pytestmark = pytest.mark.usefixtures("app_database")

ACCOUNTS, PER_ACCOUNT = 1000, 10
PER_MINUTE = 300  # the e-mail quota of the drains below


def _seed(now, accounts=ACCOUNTS, per_account=PER_ACCOUNT) -> set[str]:
    """Notices of a kind that stays true whatever the account owes (one asking for money when nothing is owed
    would be withdrawn, not sent)."""
    container, run = bootstrap.container("accounts"), uuid.uuid4().hex[:8]
    expected = set()
    for a in range(accounts):
        account = Account(f"drain-{run}-{a}", Admin("oid", f"admin{a}@example.com", "Ada"))
        for n in range(per_account):
            notice = Notice(
                f"n-{n}",
                NoticeKind.ADMIN_EMAIL_CHANGED,
                account.admin.email,
                "en-US",
                {"accountId": account.account_id, "paymentMode": "card"},
                now,
                now,
            )
            account.outbox.append(notice)
            expected.add(render(notice).operation_id)
        account.notices_due_at = now
        container.create_item(to_document(account))
    return expected


@pytest.mark.slow
def test_ten_thousand_notices_drain_within_the_quota_exactly_once_with_two_drains(clock, app_env):
    expected = _seed(clock.now())
    quota = CosmosQuota(bootstrap.container("control"), PER_MINUTE, 10**6, quota_id=f"quota-{uuid.uuid4().hex}")
    deps = bootstrap.deps()
    with Sink() as sink, ThreadPoolExecutor(2) as pool:
        sender = SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port)
        # Each round starts a second into a clock minute of its own: the quota counts fixed clock minutes.
        start = clock.now().replace(second=1, microsecond=0) + timedelta(minutes=1)
        for _minute in range(len(expected) // PER_MINUTE + 30):
            clock.set(start + timedelta(minutes=_minute))
            list(pool.map(lambda _: drain_all(deps, sender, quota), range(2)))
            if len(set(sink.received) & expected) == len(expected):
                break
        mine = {k: v for k, v in sink.received.items() if k in expected}
    assert len(mine) == len(expected), "a notice was lost"
    assert max(mine.values()) == 1, "a notice was sent twice"
    assert _minute >= len(expected) // PER_MINUTE - 1  # the quota held: no more than PER_MINUTE a minute


class ThrottledOnce(EmailSender):
    def __init__(self, inner: EmailSender):
        self.inner, self.calls = inner, 0

    def send(self, email):
        self.calls += 1
        if self.calls == 3:
            raise Throttled(120)
        self.inner.send(email)


def test_a_429_stops_the_drain_and_it_resumes_after_retry_after(clock, app_env):
    expected = _seed(clock.now(), accounts=1, per_account=6)
    quota = CosmosQuota(bootstrap.container("control"), 1000, 10**6, quota_id=f"quota-{uuid.uuid4().hex}")
    with Sink() as sink:
        sender = ThrottledOnce(SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port))
        stats = drain_all(bootstrap.deps(), sender, quota)
        assert stats["throttled"] and stats["sent"] == 2
        clock.advance(timedelta(seconds=60))
        assert drain_all(bootstrap.deps(), sender, quota)["sent"] == 0  # Retry-After not yet over
        clock.advance(timedelta(seconds=61))
        assert drain_all(bootstrap.deps(), sender, quota)["sent"] == 4
        mine = {k: v for k, v in sink.received.items() if k in expected}
    assert len(mine) == 6 and set(mine.values()) == {1}


def test_the_quota_is_one_small_document_shared_exactly_by_racing_drains(clock, app_env):
    quota_id = f"quota-{uuid.uuid4().hex}"
    quota = CosmosQuota(bootstrap.container("control"), 30, 50, quota_id=quota_id)
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    def grants(at):
        with ThreadPoolExecutor(4) as pool:
            return sum(pool.map(lambda _: quota.claim(1, at), range(40)))

    # Four drains racing in one minute get 30 between them, the next minute the 20 left in the hour,
    # then nothing until the next clock hour.
    assert [grants(start), grants(start + timedelta(minutes=1)), grants(start + timedelta(minutes=2))] == [30, 20, 0]
    assert grants(start + timedelta(hours=1)) == 30
    sizes = set()
    for minute in range(200):
        quota.claim(5, start + timedelta(hours=2, minutes=minute))
        doc = bootstrap.container("control").read_item(quota_id, partition_key=quota_id)
        sizes.add(len(json.dumps({k: v for k, v in doc.items() if not k.startswith("_")})))
    assert max(sizes) < 200, sizes  # O(1): the same few counters however many were sent


class Held(MemorySender):
    """The in-memory sender, holding every send until released: the e-mail service at its slowest."""

    def __init__(self) -> None:
        import threading

        super().__init__()
        self.release = threading.Event()

    def send(self, email: Email) -> None:
        assert self.release.wait(60), "never released"
        super().send(email)


def test_a_webhook_is_answered_before_its_notice_is_sent_and_the_notice_still_goes(clock, app_env, monkeypatch):
    from pastdue.domain import events as ev
    from pastdue.domain.money import Money
    from pastdue.services.billing import put_account, put_subscription, record_event
    from tests.support.busy import new_account

    held = Held()
    monkeypatch.setattr(bootstrap, "email_sender", lambda: held)
    deps = bootstrap.deps()  # as the app has it: notices queued by a call are sent after its answer
    account_id = f"held-{uuid.uuid4().hex[:8]}"
    admin = new_account(account_id).admin
    remittance = Remittance("FR7630006000011234567890189", "AGRIFRPP", f"INV-{account_id}")
    put_account(deps, account_id, ev.ProfileSet(admin, INVOICE, "EUR", None, remittance))
    put_subscription(deps, account_id, ev.SubscriptionSet("s0", "Production", "default"))
    # The e-mail service does not answer at all, and the webhook is answered all the same.
    answer = record_event(
        deps, account_id, ev.ChargeFailed("e-held", "s0", "ch-held", Money(900, "EUR"), None, clock.now())
    )
    assert answer == "processed" and held.sent == []
    assert [n.status for n in stored(deps.store, account_id).outbox] in (["queued"], ["sending"])
    held.release.set()
    bootstrap.settle()
    assert len(held.sent) == 1 and "€9.00" in held.sent[0].subject  # the account's total in the subject
    assert [n.status for n in stored(deps.store, account_id).outbox] == ["sent"]


def test_stored_text_no_email_can_carry_is_replaced_logged_and_the_notice_still_goes(clock, app_env, caplog):
    """A document written before the door refused lone surrogates (and line breaks): the failure notice of
    its charge is sent, the bad characters replaced, the replacement logged; it never fails for good."""
    from pastdue.domain import events as ev
    from pastdue.domain.model import Subscription
    from pastdue.domain.money import Money
    from pastdue.services.billing import record_event
    from tests.support.busy import new_account

    deps = bootstrap.deps()
    account = new_account(f"lone-{uuid.uuid4().hex[:8]}")
    account.admin.name = "Ada \ud800"
    account.subscriptions = {"s0": Subscription("s0", "Prod\ud800\nBcc: x@evil.example")}
    deps.store.create(account)
    record_event(
        dataclasses.replace(deps, after_notices_queued=None),
        account.account_id,
        ev.ChargeFailed("e-lone", "s0", "ch-lone", Money(1200, "EUR"), "card_declined", clock.now()),
    )
    quota = CosmosQuota(bootstrap.container("control"), 1000, 10**6, quota_id=f"quota-{uuid.uuid4().hex}")
    with Sink() as sink:
        stats = drain_all(deps, SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port), quota)
        assert stats["sent"] == 1, stats
        assert sink.recipients == [account.admin.email]
    outbox = stored(deps.store, account.account_id).outbox
    assert [n.status for n in outbox] == ["sent"]
    assert "could not" not in json.dumps([n.last_error for n in outbox])
    assert any("character(s) of stored text" in r.getMessage() for r in caplog.records)


def test_writers_racing_on_the_account_leave_its_notices_queued_without_a_traceback(clock, app_env, caplog):
    """The background sender meets contention (every write of the account loses its race for a while, as
    under thirty pay-nows at once): it tries again, then leaves the notices queued, logging a warning with
    no traceback; the next drain sends them, once."""
    import logging

    from pastdue.adapters.cosmos import CosmosAccountStore
    from pastdue.adapters.store import ConcurrencyConflict
    from pastdue.services.notices import drain_account

    class Busy(CosmosAccountStore):
        losing = True

        def replace(self, account):
            if self.losing:
                raise ConcurrencyConflict(account.account_id)
            return super().replace(account)

    now, account_id = clock.now(), f"busy-{uuid.uuid4().hex[:8]}"
    account = Account(account_id, Admin("oid", f"{account_id}@example.com", "Ada"), notices_due_at=now)
    account.outbox = [
        Notice(
            f"n-{n}",
            NoticeKind.ADMIN_EMAIL_CHANGED,
            account.admin.email,
            "en-US",
            {"accountId": account_id, "paymentMode": "card"},
            now,
            now,
        )
        for n in range(2)
    ]
    expected = {render(notice).operation_id for notice in account.outbox}
    bootstrap.container("accounts").create_item(to_document(account))
    store = Busy(bootstrap.container("accounts"))
    deps = dataclasses.replace(bootstrap.deps(), store=store)
    quota = CosmosQuota(bootstrap.container("control"), 1000, 10**6, quota_id=f"quota-{uuid.uuid4().hex}")
    with Sink() as sink, caplog.at_level(logging.WARNING):
        sender = SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port)
        assert drain_account(deps, sender, quota, account_id)["sent"] == 0
        assert not any(r.exc_info for r in caplog.records), [r.getMessage() for r in caplog.records if r.exc_info]
        assert any("left queued for send_notices" in r.getMessage() for r in caplog.records)
        store.losing = False
        assert drain_account(deps, sender, quota, account_id)["sent"] == 2
        assert {k: v for k, v in sink.received.items() if k in expected} == dict.fromkeys(expected, 1)
