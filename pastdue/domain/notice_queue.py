"""Queueing a notice once, with what it shows: who it is for, what is owed, what a payment paid for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pastdue.domain.codec import dump, format_time
from pastdue.domain.history import record
from pastdue.domain.model import Account, Notice
from pastdue.domain.money import Money

# Rows of the "what is owed" table a notice carries; more than this are summed into the total only.
NOTICE_CHARGE_ROWS = 10


def queue_notice(
    account: Account,
    now: datetime,
    kind: str,
    notice_id: str,
    subscription_id: str | None = None,
    to: str | None = None,
    **params,
) -> bool:
    """Queue once: a notice id already in the outbox (or in its history) is never queued again. It goes to
    the admin, or to `to` (the address a change of contact left)."""
    if any(n.notice_id == notice_id for n in account.outbox):
        return False
    sub = account.subscriptions.get(subscription_id) if subscription_id else None
    base: dict[str, Any] = {
        "accountId": account.account_id,
        "paymentMode": account.payment_mode,
        "timeZone": account.time_zone,
        "adminName": account.admin.name,
        "subscriptionName": sub.display_name if sub else None,
    }
    if account.payment_method:
        base["card"] = {"brand": account.payment_method.brand, "last4": account.payment_method.last4}
    if account.remittance:
        base["remittance"] = dump(account.remittance)
    if kind not in ("admin_email_changed", "admin_email_replaced"):
        base["openCharges"] = owed_rows(account)
    if kind == "payment_received":
        # A receipt a customer keeps: when, with what (the card, or the transfer's reference), and its number.
        base.update(paidAt=now, receiptNumber=receipt_number(account.account_id, notice_id))
        if "transferReference" not in params and "card" in base:
            base["paidCard"] = base["card"]
    notice = Notice(
        notice_id,
        kind,
        to or account.admin.email,
        account.admin.locale,
        dump({**base, **params}),
        now,
        now,
        subscription_id,
    )
    account.outbox.append(notice)
    record(account, now, "notice.queued", "system", subscription_id, noticeId=notice_id, notice=kind)
    return True


def receipt_number(account_id: str, notice_id: str) -> str:
    """A receipt's number: short, stable for the same receipt (a resend shows the same one), unique per account."""
    import hashlib

    return "R-" + hashlib.sha256(f"{account_id}/{notice_id}".encode()).hexdigest()[:10].upper()


def owed_rows(account: Account) -> list[dict]:
    """The account's open charges as the rows of a notice's table (oldest first), what each is for."""
    rows = []
    for charge in account.open_charges()[:NOTICE_CHARGE_ROWS]:
        sub = account.subscriptions.get(charge.subscription_id)
        rows.append(
            {
                "subscriptionName": sub.display_name if sub else charge.subscription_id,
                "amount": dump(charge.outstanding),
                "since": format_time(charge.failed_at),
                "state": sub.state if sub else None,
            }
        )
    return rows


def paid_for(account: Account, paid: dict[str, Money]) -> list[dict]:
    """What a receipt's payment went to: per subscription, the amount and where it stands now
    (active again, still disabled, or deleted, with the date its data was deleted)."""
    rows = []
    for subscription_id, amount in paid.items():
        sub = account.subscriptions.get(subscription_id)
        rows.append(
            {
                "subscriptionName": sub.display_name if sub else subscription_id,
                "amount": dump(amount),
                "state": sub.state if sub else None,
                "deletedAt": format_time(sub.deleted_at) if sub and sub.deleted_at else None,
            }
        )
    return rows
