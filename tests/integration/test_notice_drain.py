"""send_notices against the local Cosmos: within quota, none lost, none sent twice, 429 resumes."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pastdue import bootstrap
from pastdue.adapters.cosmos import to_document
from pastdue.adapters.email import EmailSender, SmtpSender, Throttled
from pastdue.adapters.quota import CosmosQuota
from pastdue.domain.model import Account, Admin, Notice
from pastdue.notices.render import render
from pastdue.services.notices import drain_all
from tests.support.smtp_sink import Sink

ACCOUNTS, PER_ACCOUNT = 1000, 10


def _seed(now, accounts=ACCOUNTS, per_account=PER_ACCOUNT) -> set[str]:
    container, run = bootstrap.container("accounts"), uuid.uuid4().hex[:8]
    expected = set()
    for a in range(accounts):
        account = Account(f"drain-{run}-{a}", Admin("oid", f"admin{a}@example.com", "Ada"))
        for n in range(per_account):
            notice = Notice(f"n-{n}", "reminder", account.admin.email, "en-US",
                            {"accountId": account.account_id, "paymentMode": "card"}, now, now)
            account.outbox.append(notice)
            expected.add(render(notice).operation_id)
        account.notices_due_at = now
        container.create_item(to_document(account))
    return expected


def test_ten_thousand_notices_drain_at_30_a_minute_exactly_once_with_two_drains(clock, app_env):
    expected = _seed(clock.now())
    quota = CosmosQuota(bootstrap.container("control"), 30, 10**6, quota_id=f"quota-{uuid.uuid4().hex}")
    deps = bootstrap.deps()
    with Sink() as sink, ThreadPoolExecutor(2) as pool:
        sender = SmtpSender("billing@pastdue.test", "127.0.0.1", sink.port)
        for _minute in range(len(expected) // 30 + 30):
            list(pool.map(lambda _: drain_all(deps, sender, quota), range(2)))
            if len(set(sink.received) & expected) == len(expected):
                break
            clock.advance(timedelta(minutes=1))
        mine = {k: v for k, v in sink.received.items() if k in expected}
    assert len(mine) == len(expected), "a notice was lost"
    assert max(mine.values()) == 1, "a notice was sent twice"
    assert _minute >= len(expected) // 30 - 1  # the quota held: no more than 30 a minute


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
