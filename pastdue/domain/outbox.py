"""The notice outbox: claim with a lease, then record what the sender answered. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.domain.events import ClaimNotices, Effect, NoticesSent
from pastdue.domain.history import RecordKind, record
from pastdue.domain.model import FAILED, QUEUED, SENDING, SENT, Account, Notice
from pastdue.domain.notice_queue import refresh, withdraw_stale
from pastdue.domain.policy import Policy

LEASE = timedelta(minutes=5)
MAX_TRIES = 6


def claimable(notice: Notice, now: datetime) -> bool:
    if notice.status == QUEUED:
        return notice.next_try_at <= now
    # A drain that died while sending: its lease ran out, so the notice is sent again with the
    # same operation id, which the e-mail service deduplicates.
    return notice.status == SENDING and notice.lease_until is not None and notice.lease_until <= now


def claim(account: Account, event: ClaimNotices, policy: Policy, now: datetime) -> list[Effect]:
    """Claim what is due, once what is no longer true is withdrawn; a notice asking for money goes with the
    table and total of now."""
    withdraw_stale(account, now)
    due = sorted((n for n in account.outbox if claimable(n, now)), key=lambda n: n.created_at)
    for notice in due[: event.limit]:
        notice.status, notice.lease_until, notice.tries = SENDING, now + LEASE, notice.tries + 1
        notice.claim_id = event.claim_id
        refresh(account, notice, policy)
    return []


def backoff(tries: int) -> timedelta:
    return timedelta(minutes=min(2**tries, 240))


def sent(account: Account, event: NoticesSent, policy: Policy, now: datetime) -> list[Effect]:
    by_id = {n.notice_id: n for n in account.outbox}
    for result in event.results:
        notice = by_id.get(result.notice_id)
        if notice is None or notice.status != SENDING or notice.claim_id != event.claim_id:
            continue  # answered already, or re-claimed by another drain after our lease ran out
        notice.lease_until = None
        if result.outcome == "sent":
            notice.status, notice.sent_at, notice.last_error = SENT, now, None
            record(
                account,
                now,
                RecordKind.NOTICE_SENT,
                "system",
                notice.subscription_id,
                noticeId=notice.notice_id,
                notice=notice.kind,
                to=notice.to,
            )
        elif result.outcome == "throttled":
            # Not the notice's fault: it keeps its place and its count of tries.
            notice.status, notice.tries = QUEUED, notice.tries - 1
            notice.next_try_at = now + timedelta(seconds=result.retry_after_seconds)
        elif result.permanent or notice.tries >= MAX_TRIES:
            notice.status, notice.last_error = FAILED, result.error
            record(
                account,
                now,
                RecordKind.NOTICE_FAILED,
                "system",
                notice.subscription_id,
                noticeId=notice.notice_id,
                notice=notice.kind,
                reason=result.error,
                tries=notice.tries,
            )
        else:
            notice.status, notice.last_error = QUEUED, result.error
            notice.next_try_at = now + backoff(notice.tries)
            record(
                account,
                now,
                RecordKind.NOTICE_RETRY,
                "system",
                notice.subscription_id,
                noticeId=notice.notice_id,
                reason=result.error,
                tries=notice.tries,
            )
    return []
