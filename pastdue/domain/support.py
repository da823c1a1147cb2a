"""Support's actions on an account: resend a failed notice, pause and resume dunning, extend a grace period,
write off a charge. Each is bounded by the policy and lands in the history with the support principal."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.domain import events as ev
from pastdue.domain.errors import Conflict, InvalidEvent, NotOnAccount, UnknownSubscription
from pastdue.domain.history import RecordKind, record
from pastdue.domain.model import (
    FAILED,
    OPEN,
    PAST_DUE,
    QUEUED,
    WRITE_OFF,
    WRITTEN_OFF,
    Account,
    DunningPause,
    NoticeKind,
)
from pastdue.domain.notice_queue import queue_notice
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import reserve_settlement, settle_states


def _given(reason: str | None) -> dict:
    """The reason of an action whose reason is optional, in its history record only when one was given."""
    return {"reason": reason} if reason else {}


def paused(account: Account, now: datetime) -> bool:
    return account.dunning_paused is not None and account.dunning_paused.until > now


def notice_resent(account: Account, event: ev.NoticeResent, policy: Policy, now: datetime) -> list[ev.Effect]:
    notice = next((n for n in account.outbox if n.notice_id == event.notice_id), None)
    if notice is None:
        raise NotOnAccount(f"notice {event.notice_id} is not in this account's outbox")
    if notice.status != FAILED:
        raise Conflict(f"only a failed notice can be sent again; this one is {notice.status}")
    notice.status, notice.tries, notice.next_try_at, notice.last_error = QUEUED, 0, now, None
    record(
        account,
        now,
        RecordKind.NOTICE_RESENT,
        event.actor,
        notice.subscription_id,
        noticeId=notice.notice_id,
        notice=notice.kind,
        **_given(event.reason),
    )
    return []


def dunning_paused(account: Account, event: ev.DunningPaused, policy: Policy, now: datetime) -> list[ev.Effect]:
    longest = policy.default.max_pause_days
    if not now < event.until <= now + timedelta(days=longest):
        raise InvalidEvent(f"a pause ends in the future and within {longest} days")
    account.dunning_paused = DunningPause(event.until, event.reason, event.actor, now)
    record(account, now, RecordKind.DUNNING_PAUSED, event.actor, until=event.until, reason=event.reason)
    return []


def dunning_resumed(account: Account, event: ev.DunningResumed, policy: Policy, now: datetime) -> list[ev.Effect]:
    if account.dunning_paused is None:
        return []
    account.dunning_paused = None
    record(account, now, RecordKind.DUNNING_RESUMED, event.actor, **_given(event.reason))
    return []


def grace_extended(account: Account, event: ev.GraceExtended, policy: Policy, now: datetime) -> list[ev.Effect]:
    sub = account.subscriptions.get(event.subscription_id)
    if sub is None:
        raise UnknownSubscription(f"subscription {event.subscription_id} is not known for this account")
    if sub.state != PAST_DUE:
        raise InvalidEvent("only a past-due subscription (not yet disabled) has a grace period to extend")
    cal = policy.for_plan(sub.plan)
    if event.days < 1 or sub.grace_days + event.days > cal.max_grace_extension_days:
        raise InvalidEvent(
            f"the grace period can be extended by {cal.max_grace_extension_days} days at most "
            f"in all ({sub.grace_days} already)"
        )
    from pastdue.domain.schedule import cancellation_date

    before = cancellation_date(sub, cal)
    sub.grace_days += event.days
    record(
        account,
        now,
        RecordKind.SUBSCRIPTION_GRACE_EXTENDED,
        event.actor,
        sub.subscription_id,
        days=event.days,
        reason=event.reason,
        disableBefore=before,
        disableOn=cancellation_date(sub, cal),
    )
    return []


def charge_written_off(account: Account, event: ev.ChargeWrittenOff, policy: Policy, now: datetime) -> list[ev.Effect]:
    charge = account.charge(event.charge_id)
    if charge is None:
        raise NotOnAccount(f"charge {event.charge_id} is not open on this account")
    if charge.status != OPEN:
        raise InvalidEvent(f"charge {event.charge_id} is {charge.status}, not open")
    if charge.pending is not None:
        raise Conflict(
            "a payment attempt on this charge is waiting for the processor's answer; try again when it is answered"
        )
    written_off = charge.outstanding
    charge.status = WRITTEN_OFF
    record(
        account,
        now,
        RecordKind.CHARGE_WRITTEN_OFF,
        event.actor,
        charge.subscription_id,
        chargeId=charge.charge_id,
        amount=written_off,
        paidBefore=charge.paid,
        reason=event.reason,
    )
    reserve_settlement(account, charge, WRITE_OFF, now)  # a processor's invoice is settled there too
    settle_states(account, now, event.actor, reactivate_disabled=False)
    if event.notify:
        queue_notice(
            account,
            now,
            NoticeKind.CHARGE_WRITTEN_OFF,
            f"{charge.charge_id}:written_off",
            charge.subscription_id,
            policy=policy,
            amount=written_off,
            balance=account.balance(),
        )
    return []
