"""Queueing a notice once, with what it shows: who it is for, what is owed, what a payment paid for.

One message per account per event: a notice is about the account (its total, and a row per open charge with
its subscription's state and deadline), never one subscription beside another. A notice that asks for money
replaces an older one of its kind still waiting in the outbox (that one is withdrawn, never sent), and says
so when the customer already has one asking for another total. Receipts of one day waiting together become
one. What is no longer true when its turn comes is withdrawn (`withdraw_stale`), recorded in the history."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pastdue.domain import schedule
from pastdue.domain.codec import dump, format_time
from pastdue.domain.history import RecordKind, record
from pastdue.domain.model import (
    ACTIVE,
    DISABLED,
    INVOICE,
    PAST_DUE,
    QUEUED,
    WITHDRAWN,
    Account,
    Asked,
    Notice,
    NoticeKind,
)
from pastdue.domain.money import Money
from pastdue.domain.policy import Policy

# Rows of the "what is owed" table a notice carries; more than this are summed into the total only.
NOTICE_CHARGE_ROWS = 10
# The notices that ask the customer to pay (or to act so that a payment goes through).
ASKING = frozenset(
    {
        "payment_failed",
        "invoice_overdue",
        "card_declined_for_good",
        "confirm_payment",
        "reminder",
        "final_notice",
        "service_cancelled",
        "deletion_warning",
    }
)
# Kinds a newer notice of the same kind replaces while it waits (a sweep's purges, one after the other).
MERGING = ASKING | {"data_deleted"}
CONTACT = frozenset({"admin_email_changed", "admin_email_replaced"})
RECEIPT = "payment_received"
# A merged receipt names at most this many transfer references and invoices (the portal has them all).
RECEIPT_ITEMS = 10


def queue_notice(
    account: Account,
    now: datetime,
    kind: NoticeKind,
    notice_id: str,
    subscription_id: str | None = None,
    to: str | None = None,
    policy: Policy | None = None,
    about: list[str] | None = None,
    **params,
) -> bool:
    """Queue once: a notice id already in the outbox (or in its history) is never queued again. It goes to
    the admin, or to `to` (the address a change of contact left). `about`: the subscriptions the event
    concerns (default: `subscription_id`); `policy` gives each owed row its subscription's deadline."""
    if notice_id in [n.notice_id for n in account.outbox]:
        return False
    about = list(about or ([subscription_id] if subscription_id else []))
    sub = account.subscriptions.get(about[0]) if len(about) == 1 else None
    # What every notice shows, built JSON-ready (only the caller's params need dumping).
    base: dict[str, Any] = {
        "accountId": account.account_id,
        "paymentMode": str(account.payment_mode),
        "timeZone": account.time_zone,
        "adminName": account.admin.name,
        "subscriptionName": sub.display_name if sub else None,
    }
    if about:
        base["subscriptions"] = [_name(account, s) for s in about]
        base["subscriptionIds"] = about
    if account.payment_method:
        base["card"] = {"brand": account.payment_method.brand, "last4": account.payment_method.last4}
    if account.remittance:
        base["remittance"] = dump(account.remittance)
    if kind not in CONTACT:
        base["openCharges"] = owed_rows(account, policy)
    if kind == RECEIPT:
        # A receipt a customer keeps: when, with what (the card, or the transfer's reference), and its number.
        base.update(paidAt=dump(now), receiptNumber=receipt_number(account.account_id, notice_id))
        if "transferReference" not in params and "card" in base:
            base["paidCard"] = dict(base["card"])
    values = {**base, **dump(params)}
    if values.get("invoiceUrls"):
        # Each invoice paid, by its number (the charge's id) and its page: a receipt links them by number.
        numbers = {c.invoice_url: c.charge_id for c in account.charges if c.invoice_url}
        values["invoices"] = [{"number": numbers.get(u, ""), "url": u} for u in values.pop("invoiceUrls")]
    if kind in MERGING:
        _replace_waiting(account, now, kind, notice_id, values)
    elif kind == RECEIPT:
        _coalesce_receipts(account, now, notice_id, values)
    notice = Notice(notice_id, kind, to or account.admin.email, account.admin.locale, values, now, now, subscription_id)
    account.outbox.append(notice)
    record(account, now, RecordKind.NOTICE_QUEUED, "system", subscription_id, noticeId=notice_id, notice=kind)
    return True


def _name(account: Account, subscription_id: str) -> str:
    sub = account.subscriptions.get(subscription_id)
    return sub.display_name if sub else subscription_id


def waiting(notice: Notice) -> bool:
    """Queued and never handed to a sender: it can still be withdrawn or merged."""
    return notice.status == QUEUED and notice.tries == 0


def withdraw(account: Account, notice: Notice, now: datetime, reason: str, by: str | None = None) -> None:
    """A queued notice no longer true: never sent, kept for its id only, and the history says why."""
    notice.status, notice.params, notice.to, notice.lease_until, notice.claim_id = WITHDRAWN, {}, "", None, None
    record(
        account,
        now,
        RecordKind.NOTICE_WITHDRAWN,
        "system",
        notice.subscription_id,
        noticeId=notice.notice_id,
        notice=notice.kind,
        reason=reason,
        replacedBy=by,
    )


def _replace_waiting(account: Account, now: datetime, kind: str, notice_id: str, values: dict) -> None:
    """A new notice asking for money takes the place of those of its kind still waiting (their subscriptions
    join its own), and says that it replaces the last one the customer may have read if that asked for
    another total."""
    total = account.balance()
    carried = None
    for old in [n for n in account.outbox if n.kind == kind and waiting(n)]:
        for key in ("subscriptions", "subscriptionIds"):
            values[key] = list(dict.fromkeys([*(old.params.get(key) or []), *(values.get(key) or [])]))
        carried = old.params.get("replaces") or carried
        withdraw(account, old, now, "replaced", by=notice_id)
    asked = account.asked
    if asked is not None:
        earlier = _in_outbox(account, asked.notice_id)
        if earlier is None or earlier.status not in (QUEUED, WITHDRAWN):  # sent (or on its way): read
            carried = {"at": format_time(asked.at), "amount": dump(asked.amount)}
    if carried is not None and carried["amount"] != dump(total):
        values["replaces"] = carried
    if len(values.get("subscriptions") or []) > 1:
        values["subscriptionName"] = None
    account.asked = Asked(notice_id, now, total) if total.value > 0 else None


def _in_outbox(account: Account, notice_id: str) -> Notice | None:
    """The notice of this id in the outbox, if it is still there."""
    for notice in account.outbox:
        if notice.notice_id == notice_id:
            return notice
    return None


def _local_day(at: datetime, zone: str) -> str:
    try:
        return at.astimezone(ZoneInfo(zone)).date().isoformat()
    except (ZoneInfoNotFoundError, ValueError):
        return at.date().isoformat()


def _coalesce_receipts(account: Account, now: datetime, notice_id: str, values: dict) -> None:
    """Receipts of one day (the account's) still waiting together go as one: the payments added up, what
    they paid for per subscription, their references and invoices (the first few)."""
    today = _local_day(now, account.time_zone)
    for old in [
        n
        for n in account.outbox
        if n.kind == RECEIPT and waiting(n) and _local_day(n.created_at, account.time_zone) == today
    ]:
        earlier = old.params
        values["amount"] = _add(earlier.get("amount"), values.get("amount"))
        if earlier.get("credit") or values.get("credit"):
            values["credit"] = _add(earlier.get("credit"), values.get("credit"))
        values["payments"] = int(earlier.get("payments") or 1) + int(values.get("payments") or 1)
        paid: dict[str, dict] = {}
        for row in [*(earlier.get("paidFor") or []), *(values.get("paidFor") or [])]:
            known = paid.get(row["subscriptionName"])
            paid[row["subscriptionName"]] = {**row, "amount": _add(known["amount"], row["amount"])} if known else row
        values["paidFor"] = list(paid.values())
        invoices = {i["url"]: i for i in [*(earlier.get("invoices") or []), *(values.get("invoices") or [])]}
        values["invoices"] = list(invoices.values())[:RECEIPT_ITEMS] or None
        references = [*_references(earlier), *_references(values)]
        if references:
            values.pop("transferReference", None)
            values["transferReferences"] = references[:RECEIPT_ITEMS]
            values["moreReferences"] = int(earlier.get("moreReferences") or 0) + max(0, len(references) - RECEIPT_ITEMS)
        if earlier.get("paidCard") and not values.get("paidCard"):
            values["paidCard"] = earlier["paidCard"]
        withdraw(account, old, now, "merged", by=notice_id)


def _references(params: dict) -> list[str]:
    if params.get("transferReferences"):
        return list(params["transferReferences"])
    return [params["transferReference"]] if params.get("transferReference") else []


def _add(a: dict | None, b: dict | None) -> dict | None:
    if not a or not b:
        return a or b
    return {"value": a["value"] + b["value"], "currency": b["currency"]}


def withdraw_stale(account: Account, now: datetime, balance: Money | None = None) -> None:
    """Notices waiting in the outbox that are no longer true are withdrawn: one asking for money when nothing
    is owed any more, or when every subscription it was about is active again; a card-expiry notice for a
    card no longer on file. `balance`: the account's, when the caller has it."""
    if balance is None:
        if not any(waiting(n) for n in account.outbox):
            return
        balance = account.balance()
    owed = not balance.is_zero
    for notice in account.outbox:
        if not waiting(notice):
            continue
        if notice.kind in ASKING:
            if not owed:
                withdraw(account, notice, now, "paid")
            elif _all_back(account, notice):
                withdraw(account, notice, now, "restored")
            elif notice.kind == NoticeKind.DELETION_WARNING and not _deletion_ahead(account, notice):
                withdraw(account, notice, now, "deletion cancelled")
        elif notice.kind == "card_expiring":
            method = account.payment_method
            if method is None or not notice.notice_id.startswith(f"{method.token}:"):
                withdraw(account, notice, now, "card replaced")


def _deletion_ahead(account: Account, notice: Notice) -> bool:
    """A deletion warning is still true while one of its subscriptions has its deletion scheduled (one paid
    meanwhile keeps its data: settlement.deletion_follows_balance); kept when it names none."""
    subs = [account.subscriptions.get(s) for s in notice.params.get("subscriptionIds") or []]
    return not subs or any(s is not None and s.state == DISABLED and s.deletion_scheduled_at for s in subs)


def _all_back(account: Account, notice: Notice) -> bool:
    ids = notice.params.get("subscriptionIds") or []
    for subscription_id in ids:
        sub = account.subscriptions.get(subscription_id)
        if sub is None or sub.state != ACTIVE:
            return False
    return bool(ids)


def refresh(account: Account, notice: Notice, policy: Policy | None) -> None:
    """A notice asking for money, about to go: its table and total as they are now (a payment meanwhile
    changed them), so that it never asks for another amount than what is owed."""
    if notice.kind in ASKING and notice.params:
        notice.params = {
            **notice.params,
            "openCharges": owed_rows(account, policy),
            "balance": dump(account.balance()),
        }


def receipt_number(account_id: str, notice_id: str) -> str:
    """A receipt's number: short, stable for the same receipt (a resend shows the same one), unique per account."""
    return "R-" + hashlib.sha256(f"{account_id}/{notice_id}".encode()).hexdigest()[:10].upper()


def owed_rows(account: Account, policy: Policy | None = None) -> list[dict]:
    """The account's open charges as the rows of a notice's table (oldest first): what each is for, since
    when, and where its subscription stands: past due until its suspension, or suspended until its data is
    deleted. Invoice payers see the invoice number."""
    rows = []
    for charge in account.open_charges()[:NOTICE_CHARGE_ROWS]:
        sub = account.subscriptions.get(charge.subscription_id)
        row: dict[str, Any] = {
            "subscriptionName": sub.display_name if sub else charge.subscription_id,
            "amount": charge.outstanding.to_json(),
            "since": format_time(charge.failed_at),
            "state": str(sub.state) if sub else None,
        }
        if account.payment_mode == INVOICE:
            row["invoice"] = charge.charge_id
        if sub is not None and sub.state == PAST_DUE and policy is not None:
            suspend = schedule.cancellation_date(sub, policy.for_plan(sub.plan))
            if suspend is not None:
                row["suspendAt"] = format_time(suspend)
        elif sub is not None and sub.state == DISABLED and sub.deletion_scheduled_at is not None:
            row["deleteAt"] = format_time(sub.deletion_scheduled_at)
        rows.append(row)
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
