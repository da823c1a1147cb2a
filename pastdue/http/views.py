"""The JSON views the API answers with (docs/openapi.yaml), built from the aggregate."""

from __future__ import annotations

from pastdue.domain.codec import dump, format_time
from pastdue.domain.model import Account, Subscription
from pastdue.services.portal import Confirmation


def subscription_view(account: Account, sub: Subscription) -> dict:
    view = {
        "subscriptionId": sub.subscription_id,
        "displayName": sub.display_name,
        "plan": sub.plan,
        "state": sub.state,
        "balance": dump(account.balance(sub.subscription_id)),
    }
    for key, value in (
        ("pastDueSince", sub.past_due_since),
        ("disabledAt", sub.disabled_at),
        ("deletionScheduledAt", sub.deletion_scheduled_at),
        ("deletedAt", sub.deleted_at),
    ):
        if value is not None:
            view[key] = format_time(value)
    return view


def account_view(account: Account, deps=None) -> dict:
    """`deps` (the use cases' dependencies) give the policy (deadlines) and the branding (links)."""
    from pastdue.notices.alerts import alerts  # Babel loads on first use, not at cold start

    method = account.payment_method
    return {
        "accountId": account.account_id,
        "paymentMode": account.payment_mode,
        "paymentMethod": None
        if method is None
        else {"brand": method.brand, "last4": method.last4, "expMonth": method.exp_month, "expYear": method.exp_year},
        "balance": dump(account.balance()),
        "credit": dump(account.credit) if account.credit else None,
        "admin": {
            "email": account.admin.email,
            "name": account.admin.name,
            "locale": account.admin.locale,
            "emailUndeliverable": account.admin.email_undeliverable,
        },
        "subscriptions": [subscription_view(account, s) for s in account.subscriptions.values()],
        "alerts": alerts(account, *((deps.policy, deps.branding) if deps else ())),
    }


def history_view(account_id: str, page) -> dict:
    """One page of the audit timeline (a HistoryPage), newest first, and the cursor of the next one."""
    return {
        "accountId": account_id,
        "entries": page.entries,
        "next": None if page.before is None else f"h{page.before}",
    }


def account_summary(account: Account, deps=None) -> dict:
    """One line of GET /api/me/accounts."""
    from pastdue.notices.alerts import alerts

    return {
        "accountId": account.account_id,
        "paymentMode": account.payment_mode,
        "balance": dump(account.balance()),
        "subscriptions": len(account.subscriptions),
        "alerts": len(alerts(account, *((deps.policy, deps.branding) if deps else ()))),
    }


def support_summary(account: Account) -> dict:
    """One line of support's account lists: who, what state, what is owed, what comes next."""
    return {
        "accountId": account.account_id,
        "adminEmail": account.admin.email,
        "adminName": account.admin.name,
        "paymentMode": account.payment_mode,
        "states": account.states,
        "balance": dump(account.balance()),
        "nextDisableAt": format_time(account.next_disable_at) if account.next_disable_at else None,
        "nextDeletionAt": format_time(account.next_deletion_at) if account.next_deletion_at else None,
        "dunningPausedUntil": format_time(account.dunning_paused.until) if account.dunning_paused else None,
        "quarantined": account.quarantine is not None,
    }


def confirmation_view(confirmation: Confirmation) -> dict:
    return {
        "chargeId": confirmation.charge_id,
        "subscriptionId": confirmation.subscription_id,
        "amount": confirmation.amount.to_json(),
        **confirmation.details,
    }
