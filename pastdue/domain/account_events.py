"""Transitions about the account itself: profile, subscriptions, admin contact, reactivation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec.structs import replace

from pastdue.domain import events as ev
from pastdue.domain.errors import (
    BalanceOutstanding,
    InvalidEvent,
    MissingRemittance,
    SubscriptionGone,
    UnknownSubscription,
)
from pastdue.domain.history import RecordKind, record
from pastdue.domain.model import DELETED, DISABLED, INVOICE, Account, NoticeKind, Subscription
from pastdue.domain.notice_queue import queue_notice
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import settle_states


def profile_set(account: Account, event: ev.ProfileSet, policy: Policy, now: datetime) -> list[ev.Effect]:
    if event.payment_mode == INVOICE and event.remittance is None and account.remittance is None:
        raise MissingRemittance("invoice payers need 'remittance' (iban, bic, reference)")
    if event.currency != account.currency and account.charges:
        raise InvalidEvent("the currency of an account with charges cannot change")
    same_address = event.admin.email.lower() == account.admin.email.lower()
    undeliverable = account.admin.email_undeliverable and same_address
    account.admin = replace(event.admin, email_undeliverable=undeliverable)
    account.payment_mode, account.currency = event.payment_mode, event.currency
    if event.payment_method is not None:
        account.payment_method = event.payment_method
    if event.remittance is not None:
        account.remittance = event.remittance
    if event.gateway_customer_id is not None:
        account.gateway_customer_id = event.gateway_customer_id
    if event.time_zone is not None:
        account.time_zone = event.time_zone
    account.synthetic = account.synthetic or event.synthetic  # once a test account, always one
    record(account, now, RecordKind.ACCOUNT_UPDATED, "billing", paymentMode=event.payment_mode)
    return []


def gateway_customer_linked(
    account: Account, event: ev.GatewayCustomerLinked, policy: Policy, now: datetime
) -> list[ev.Effect]:
    if account.gateway_customer_id is None:
        account.gateway_customer_id = event.customer_id
        record(account, now, RecordKind.GATEWAY_CUSTOMER_LINKED, "system", customerId=event.customer_id)
    return []


def subscription_set(account: Account, event: ev.SubscriptionSet, policy: Policy, now: datetime) -> list[ev.Effect]:
    sub = account.subscriptions.get(event.subscription_id)
    if sub is None:
        account.subscriptions[event.subscription_id] = Subscription(
            event.subscription_id, event.display_name, event.plan
        )
        record(account, now, RecordKind.SUBSCRIPTION_CREATED, "billing", event.subscription_id, plan=event.plan)
    else:
        sub.display_name, sub.plan = event.display_name, event.plan
        record(account, now, RecordKind.SUBSCRIPTION_UPDATED, "billing", event.subscription_id, plan=event.plan)
    return []


def reactivate(account: Account, event: ev.Reactivate, policy: Policy, now: datetime) -> list[ev.Effect]:
    sub = account.subscriptions.get(event.subscription_id)
    if sub is None:
        raise UnknownSubscription(f"subscription {event.subscription_id} is not known for this account")
    if sub.state == DELETED:
        raise SubscriptionGone("the subscription's data was deleted; it cannot be reactivated")
    due = account.balance(sub.subscription_id)
    if not due.is_zero:
        raise BalanceOutstanding(f"{due.value} {due.currency} (minor units) is still due", amount=due)
    if sub.state == DISABLED:
        settle_states(account, now, event.actor, reactivate_disabled=True, only=sub.subscription_id)
        queue_notice(
            account,
            now,
            NoticeKind.REACTIVATED,
            f"{sub.subscription_id}:{now.isoformat()}:reactivated",
            sub.subscription_id,
            policy=policy,
            balance=account.balance(),
        )
    return []


def contact_changed(account: Account, event: ev.AdminContactChanged, policy: Policy, now: datetime) -> list[ev.Effect]:
    previous = account.admin.email
    account.admin.email = event.email
    account.admin.locale = event.locale or account.admin.locale
    account.admin.email_undeliverable = False
    record(account, now, RecordKind.ADMIN_CONTACT_CHANGED, event.actor, previous=previous, email=event.email)
    # Who made the change and when, told at both addresses; the new one is greeted without a name (whoever
    # reads it there may not be the admin the profile names).
    changed: dict[str, Any] = {"changedBy": _who(event.actor), "changedAt": now}
    queue_notice(
        account,
        now,
        NoticeKind.ADMIN_EMAIL_CHANGED,
        f"contact:{now.isoformat()}:{event.email}",
        previousEmail=previous,
        adminName=None,
        **changed,
    )
    if previous.lower() != event.email.lower():
        # The address left is told too: if someone else made the change, its owner learns of it there.
        queue_notice(
            account,
            now,
            NoticeKind.ADMIN_EMAIL_REPLACED,
            f"contact:{now.isoformat()}:{event.email}:previous",
            to=previous,
            newEmail=event.email,
            **changed,
        )
    return []


def _who(actor: str) -> str:
    """Who made a change, as a notice says it: the admin in the portal, our support, or the billing system."""
    kind = actor.split(":", 1)[0]
    return kind if kind in ("support", "billing") else "admin"


def admin_transferred(account: Account, event: ev.AdminTransferred, policy: Policy, now: datetime) -> list[ev.Effect]:
    previous = account.admin.principal_id
    account.admin = replace(event.admin)
    record(
        account,
        now,
        RecordKind.ADMIN_TRANSFERRED,
        event.actor,
        previousPrincipalId=previous,
        principalId=event.admin.principal_id,
        email=event.admin.email,
        **({"reason": event.reason} if event.reason else {}),
    )
    queue_notice(
        account,
        now,
        NoticeKind.ADMIN_EMAIL_CHANGED,
        f"transfer:{now.isoformat()}:{event.admin.principal_id}",
        transferred=True,
        previousEmail=None,
        changedBy=_who(event.actor),
        changedAt=now,
    )
    return []


def email_bounced(account: Account, event: ev.EmailBounced, policy: Policy, now: datetime) -> list[ev.Effect]:
    if event.address.lower() != account.admin.email.lower() or account.admin.email_undeliverable:
        return []  # an old address, or already marked: once, whatever the order of reports
    account.admin.email_undeliverable = True
    record(
        account,
        now,
        RecordKind.ADMIN_EMAIL_UNDELIVERABLE,
        "system",
        address=event.address,
        status=event.status,
        messageId=event.message_id,
    )
    return []
