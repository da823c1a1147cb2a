"""send_notices: drain the outbox within the quota; each notice sent at least once, delivered at most once."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid

from pastdue.adapters.email import EmailSender, SendFailed, Throttled
from pastdue.domain.model import SENDING, Account
from pastdue.domain.outbox import ClaimNotices, NoticesSent, SendResult, claimable
from pastdue.notices.render import render
from pastdue.services.unit import AccountNotFound, Deps, change

log = logging.getLogger("pastdue.notices")


class QuotaSpent(Exception):
    pass


def drain_all(deps: Deps, sender: EmailSender, quota, budget_seconds: float = 50) -> dict:
    started, stats = time.monotonic(), {"sent": 0, "failed": 0, "throttled": False}
    try:
        for page in deps.store.notices_due(deps.clock.now(), 100):
            for account in page:
                _drain(deps, sender, quota, account, stats)
                if time.monotonic() - started > budget_seconds:
                    return stats
    except QuotaSpent:
        pass  # what is left stays queued for the next run
    log.info("notices drained: %s", stats)
    return stats


def drain_account(deps: Deps, sender: EmailSender, quota, account_id: str) -> dict:
    stats = {"sent": 0, "failed": 0, "throttled": False}
    account = deps.store.get(account_id)
    if account is None:
        raise AccountNotFound(account_id)
    with contextlib.suppress(QuotaSpent):
        _drain(deps, sender, quota, account, stats)
    return stats


def _drain(deps: Deps, sender: EmailSender, quota, account: Account, stats: dict) -> None:
    now = deps.clock.now()
    wanted = sum(1 for n in account.outbox if claimable(n, now))
    if wanted == 0:
        return
    granted = quota.claim(wanted, now)
    if granted == 0:
        raise QuotaSpent()
    claim_id = uuid.uuid4().hex
    # The claim is an If-Match write: of two drains, only one moves a notice to "sending".
    account, _ = change(deps, account.account_id, ClaimNotices(granted, claim_id), account=account)
    mine = [n for n in account.outbox if n.status == SENDING and n.claim_id == claim_id]
    results, throttled, retry_after = [], False, 0.0
    for notice in mine:
        if throttled:
            results.append(SendResult(notice.notice_id, "throttled", retry_after_seconds=retry_after))
            continue
        try:
            sender.send(render(notice))
            results.append(SendResult(notice.notice_id, "sent"))
            stats["sent"] += 1
        except Throttled as error:
            throttled, retry_after = True, error.retry_after_seconds
            stats["throttled"] = True
            results.append(SendResult(notice.notice_id, "throttled", retry_after_seconds=retry_after))
        except SendFailed as error:
            log.warning("notice %s not sent: %s", notice.notice_id, error)
            stats["failed"] += 1
            results.append(SendResult(notice.notice_id, "failed", str(error), permanent=error.permanent))
    change(deps, account.account_id, NoticesSent(claim_id, tuple(results)))
    if throttled:
        raise QuotaSpent()
