"""send_notices: drain the outbox within the quota; each notice sent at least once, delivered at most once."""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid

from pastdue.adapters.email import EmailSender, SendFailed, Throttled
from pastdue.adapters.store import StoreUnavailable, Unreadable
from pastdue.adapters.telemetry import Metrics
from pastdue.domain.events import ClaimNotices, NoticesSent, RunSucceeded, SendResult
from pastdue.domain.model import SENDING, Account
from pastdue.domain.outbox import claimable
from pastdue.notices.render import render
from pastdue.services.bulkhead import isolate
from pastdue.services.change import MAX_CONFLICTS, change
from pastdue.services.deps import AccountNotFound, Contention, Deps

log = logging.getLogger("pastdue.notices")
QUOTA_BATCH = 50  # notices one drain claims from one account at a time


class QuotaSpent(Exception):
    pass


def drain_all(deps: Deps, sender: EmailSender, quota, budget_seconds: float = 50) -> dict:
    started = time.monotonic()
    stats = {"sent": 0, "failed": 0, "throttled": False, "accountsFailed": 0, "accountsQuarantined": 0}
    try:
        # No bigger pages than the quota can serve: a throttled drain reads little.
        for page in deps.store.notices_due(deps.clock.now(), max(1, min(100, quota.per_minute))):
            random.shuffle(page)  # two drains at once start on different accounts
            for account in page:
                _drain_isolated(deps, sender, quota, account, stats)
                if time.monotonic() - started > budget_seconds:
                    return stats
    except QuotaSpent:
        pass  # what is left stays queued for the next run
    except StoreUnavailable as error:
        log.warning("drain interrupted (%s): the rest stays queued for the next run", error)
    log.info("notices drained: %s", stats)
    return stats


# Writers racing on one account (many pay-nows at once) are expected: what was sent is written with more
# tries than a decision gets, or the notices would be sent again after their lease.
RECORD_SENT_TRIES = 3 * MAX_CONFLICTS


def drain_account(deps: Deps, sender: EmailSender, quota, account_id: str) -> dict:
    """Send what one request just queued. If writers racing on the account keep the claim from being
    written, the notices stay queued for send_notices (a warning, no traceback)."""
    stats = {"sent": 0, "failed": 0, "throttled": False}
    account = deps.store.get(account_id)
    if account is None:
        raise AccountNotFound(account_id)
    try:
        with contextlib.suppress(QuotaSpent):
            _drain(deps, sender, quota, account, stats)
    except (Contention, StoreUnavailable) as busy:
        log.warning("notices of account %s left queued for send_notices: %s", account_id, busy)
    return stats


def _drain_isolated(deps: Deps, sender: EmailSender, quota, account: Account | Unreadable, stats: dict) -> None:
    """A bulkhead: one account's failure is recorded on it and the drain goes on with the others."""
    if isinstance(account, Unreadable):
        counts = isolate(deps, "notices", account.account_id, account.reason, permanent=True)
    else:
        try:
            _drain(deps, sender, quota, account, stats)
            return
        except (QuotaSpent, StoreUnavailable):
            raise
        except Contention as busy:  # writers racing on it: expected, not a fault of the account
            log.warning("notices of account %s wait for the next run: %s", account.account_id, busy)
            return
        except Exception as error:
            log.exception("notice drain failed for account %s", account.account_id)
            counts = isolate(deps, "notices", account.account_id, f"{type(error).__name__}: {error}")
    for key, value in counts.items():
        stats[key] = stats.get(key, 0) + value


def _drain(deps: Deps, sender: EmailSender, quota, account: Account, stats: dict) -> None:
    now = deps.clock.now()
    metrics = Metrics() if account.synthetic else deps.metrics  # a test account counts in no metric
    if not any(claimable(n, now) for n in account.outbox):
        return
    claim_id = uuid.uuid4().hex
    # The claim is an If-Match write: of two drains, only one moves a notice to "sending".
    account = change(deps, account.account_id, ClaimNotices(QUOTA_BATCH, claim_id), account=account).account
    mine = [n for n in account.outbox if n.status == SENDING and n.claim_id == claim_id]
    if not mine:
        return
    # Quota is taken for what this drain really holds, so racing drains never waste it.
    granted = quota.claim(len(mine), now)
    results, retry_after = [], 0.0
    for n, notice in enumerate(mine):
        if n >= granted or retry_after:
            # Not sent: back in the queue with its tries untouched, after the throttle if there was one.
            results.append(SendResult(notice.notice_id, "throttled", retry_after_seconds=retry_after))
            continue
        try:
            email = render(notice, deps.branding)
        except Exception as error:  # a template or parameter fault: retrying cannot help
            log.exception("notice %s of account %s cannot be rendered", notice.notice_id, account.account_id)
            stats["failed"] += 1
            metrics.emit("pastdue_notices_failed", 1, kind=notice.kind, why="render")
            results.append(
                SendResult(notice.notice_id, "failed", f"render: {type(error).__name__}: {error}"[:300], permanent=True)
            )
            continue
        try:
            sender.send(email)
            results.append(SendResult(notice.notice_id, "sent"))
            stats["sent"] += 1
            metrics.emit("pastdue_notices_sent", 1, kind=notice.kind)
        except Throttled as error:
            retry_after = error.retry_after_seconds
            stats["throttled"] = True
            results.append(SendResult(notice.notice_id, "throttled", retry_after_seconds=retry_after))
        except SendFailed as error:
            log.warning("notice %s not sent: %s", notice.notice_id, error)
            stats["failed"] += 1
            metrics.emit("pastdue_notices_failed", 1, kind=notice.kind, why="send")
            results.append(SendResult(notice.notice_id, "failed", str(error), permanent=error.permanent))
    throttled = sum(1 for r in results if r.outcome == "throttled")
    if throttled:
        metrics.emit("pastdue_notices_throttled", throttled, by="service" if retry_after else "quota")
    account = change(deps, account.account_id, NoticesSent(claim_id, tuple(results)), tries=RECORD_SENT_TRIES).account
    if account.failures:
        change(deps, account.account_id, RunSucceeded())
    if retry_after or granted < len(mine):
        raise QuotaSpent()
