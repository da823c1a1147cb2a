"""A charge the billing system reports failed: a new debt (past due, a notice) or a repeat of one known."""

from __future__ import annotations

from datetime import datetime

from pastdue.domain import events as ev
from pastdue.domain import retries, schedule
from pastdue.domain.errors import InvalidEvent, UnknownSubscription
from pastdue.domain.history import RecordKind, record, seen
from pastdue.domain.model import (
    ACTIVE,
    DELETED,
    OPEN,
    PAST_DUE,
    Account,
    Charge,
    NoticeKind,
    looks_like_processor_invoice,
)
from pastdue.domain.notice_queue import queue_notice
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import apply_credit, deletion_follows_balance


def charge_failed(account: Account, event: ev.ChargeFailed, policy: Policy, now: datetime) -> list[ev.Effect]:
    if event.event_id in account.processed_events:
        return []
    sub = account.subscriptions.get(event.subscription_id)
    if sub is None:
        raise UnknownSubscription(f"subscription {event.subscription_id} is not known for this account")
    if event.amount.currency != account.currency:
        raise InvalidEvent(f"the account is billed in {account.currency}, not {event.amount.currency}")
    if event.amount.value <= 0:
        raise InvalidEvent("a failed charge must have a positive amount")
    existing = account.charge(event.charge_id)
    if existing is not None and existing.subscription_id != sub.subscription_id:
        raise InvalidEvent(f"charge {event.charge_id} belongs to another subscription")
    archived = existing is None and (
        event.archived or any(c.charge_id == event.charge_id for c in account.archive_charges)
    )
    if sub.state == DELETED and existing is None and not archived:
        raise InvalidEvent(f"subscription {sub.subscription_id} is deleted; no charge can be added")
    seen(account, event.event_id, now)
    hard = policy.is_hard(event.decline_code)
    if existing is not None or archived:
        # The same charge reported again: keep the newest decline code, never a second notice.
        if existing is not None and existing.status == OPEN:
            existing.decline_code, existing.hard = event.decline_code, existing.hard or hard
        record(
            account,
            now,
            RecordKind.CHARGE_FAILED_REPEATED,
            "billing",
            sub.subscription_id,
            chargeId=event.charge_id,
            eventId=event.event_id,
        )
        return []
    failed_at = min(event.occurred_at, now)
    charge = Charge(
        event.charge_id,
        sub.subscription_id,
        event.amount,
        failed_at,
        event.decline_code,
        hard,
        invoice_url=event.invoice_url,
        processor_invoice=_processor_invoice(event),
        processor_paid=event.processor_paid if event.processor_invoice else None,
    )
    account.charges.append(charge)
    record(
        account,
        now,
        RecordKind.CHARGE_FAILED,
        "billing",
        sub.subscription_id,
        chargeId=charge.charge_id,
        amount=event.amount,
        declineCode=event.decline_code,
        hardDecline=hard,
        eventId=event.event_id,
    )
    apply_credit(account, charge, now)
    if charge.status != OPEN:
        return []
    if sub.state == ACTIVE:
        sub.state, sub.past_due_since, sub.steps_done = PAST_DUE, failed_at, []
        sub.episode += 1
        record(account, now, RecordKind.SUBSCRIPTION_PAST_DUE, "system", sub.subscription_id, since=failed_at)
    # Owed again while suspended (a lost dispute, a refund re-opened): its deletion is scheduled before the
    # notice is queued, so the notice gives the date to pay by to keep the data, and no suspension date.
    deletion_follows_balance(account, policy, now)
    cal = policy.for_plan(sub.plan)
    kind = NoticeKind.INVOICE_OVERDUE if account.payment_mode == "invoice" else NoticeKind.PAYMENT_FAILED
    next_retry, retries_left = retries.outlook(account, charge, cal, now)
    queue_notice(
        account,
        now,
        kind,
        f"{charge.charge_id}:failed",
        sub.subscription_id,
        policy=policy,
        amount=charge.amount,
        declineCode=event.decline_code,
        hardDecline=hard,
        balance=account.balance(),
        cancellationDate=schedule.cancellation_date(sub, cal),
        nextRetryAt=next_retry,
        retriesLeft=retries_left or None,
    )
    return []


def _processor_invoice(event: ev.ChargeFailed) -> bool | None:
    """Marked on the charge: True for a processor's invoice; False for a charge of the billing system whose id
    would be read as one if it were not marked (model.Charge.is_processor_invoice); None otherwise."""
    if event.processor_invoice:
        return True
    return False if looks_like_processor_invoice(event.charge_id, event.subscription_id) else None
