"""The account's audit timeline and the event ids it has processed: records are written once, numbered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pastdue.domain.codec import dump, format_time
from pastdue.domain.model import Account


class RecordKind(StrEnum):
    """What a history record says happened: its `kind`, as stored and as GET history answers it."""

    ACCOUNT_UPDATED = "account.updated"
    ADMIN_CONTACT_CHANGED = "admin.contact.changed"
    ADMIN_EMAIL_UNDELIVERABLE = "admin.email.undeliverable"
    ADMIN_TRANSFERRED = "admin.transferred"
    CARD_EXPIRING_NOTIFIED = "card.expiring.notified"
    CHARGE_ACTION_REQUIRED = "charge.action_required"
    CHARGE_AUTHENTICATION_FAILED = "charge.authentication_failed"
    CHARGE_DECLINED = "charge.declined"
    CHARGE_ERROR = "charge.error"
    CHARGE_FAILED = "charge.failed"
    CHARGE_FAILED_REPEATED = "charge.failed.repeated"
    CHARGE_NOT_TRIED = "charge.not_tried"
    CHARGE_PROCESSING = "charge.processing"
    CHARGE_REDUCED = "charge.reduced"
    CHARGE_SETTLED = "charge.settled"
    CHARGE_SETTLED_ELSEWHERE = "charge.settled_elsewhere"
    CHARGE_SETTLEMENT_DONE = "charge.settlement.done"
    CHARGE_SETTLEMENT_RESERVED = "charge.settlement.reserved"
    CHARGE_SUCCEEDED = "charge.succeeded"
    CHARGE_UNCOLLECTIBLE = "charge.uncollectible"
    CHARGE_VOIDED = "charge.voided"
    CHARGE_WRITTEN_OFF = "charge.written_off"
    CREDIT_ADDED = "credit.added"
    CREDIT_APPLIED = "credit.applied"
    DUNNING_PAUSED = "dunning.paused"
    DUNNING_RESUMED = "dunning.resumed"
    GATEWAY_CUSTOMER_LINKED = "gateway.customer.linked"
    NOTICE_FAILED = "notice.failed"
    NOTICE_QUEUED = "notice.queued"
    NOTICE_RESENT = "notice.resent"
    NOTICE_RETRY = "notice.retry"
    NOTICE_SENT = "notice.sent"
    NOTICE_SUPERSEDED = "notice.superseded"
    NOTICE_WITHDRAWN = "notice.withdrawn"
    PAYMENT_ALLOCATED = "payment.allocated"
    PAYMENT_DISPUTE_FUNDS_REINSTATED = "payment.dispute_funds_reinstated"
    PAYMENT_DISPUTE_FUNDS_WITHDRAWN = "payment.dispute_funds_withdrawn"
    PAYMENT_DISPUTE_LOST = "payment.dispute_lost"
    PAYMENT_DISPUTE_WON = "payment.dispute_won"
    PAYMENT_DISPUTED = "payment.disputed"
    PAYMENT_INQUIRY = "payment.inquiry"
    PAYMENT_INQUIRY_CLOSED = "payment.inquiry_closed"
    PAYMENT_METHOD_DECLINED = "payment.method.declined"
    PAYMENT_METHOD_SUBMITTED = "payment.method.submitted"
    PAYMENT_METHOD_UPDATED = "payment.method.updated"
    PAYMENT_RECEIVED = "payment.received"
    PAYMENT_REFUND_FAILED = "payment.refund_failed"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_UNEXPECTED = "payment.unexpected"
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_DATA_DELETED = "subscription.data.deleted"
    SUBSCRIPTION_DELETION_CANCELLED = "subscription.deletion.cancelled"
    SUBSCRIPTION_DELETION_DRY_RUN = "subscription.deletion.dry_run"
    SUBSCRIPTION_DELETION_SCHEDULED = "subscription.deletion.scheduled"
    SUBSCRIPTION_DELETION_STARTED = "subscription.deletion.started"
    SUBSCRIPTION_DISABLED = "subscription.disabled"
    SUBSCRIPTION_GRACE_EXTENDED = "subscription.grace.extended"
    SUBSCRIPTION_PAST_DUE = "subscription.pastDue"
    SUBSCRIPTION_REACTIVATED = "subscription.reactivated"
    SUBSCRIPTION_RECOVERED = "subscription.recovered"
    SUBSCRIPTION_UPDATED = "subscription.updated"


def record(
    account: Account, now: datetime, kind: RecordKind, actor: str, subscription_id: str | None = None, **detail
) -> None:
    account.history_seq += 1
    account.history.append(
        {
            "seq": account.history_seq,
            "at": format_time(now),
            "kind": str(kind),
            "actor": actor,
            "detail": dump(detail),
            "subscriptionId": subscription_id,
        }
    )


def seen(account: Account, event_id: str, now: datetime) -> None:
    account.processed_events[event_id] = format_time(now)
