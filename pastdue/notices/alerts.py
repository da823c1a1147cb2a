"""Portal alerts, derived from the account's state and worded in the admin's language."""

from __future__ import annotations

from datetime import timedelta

from pastdue.domain.codec import dump, format_time
from pastdue.domain.model import DELETED, DISABLED, INVOICE, PAST_DUE, Account
from pastdue.domain.policy import Policy
from pastdue.domain.schedule import cancellation_date, card_expires_at
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import catalog
from pastdue.notices.formatting import card_label, date, language, money
from pastdue.notices.reasons import reader_reason
from pastdue.policy import shipped


def _actions(account: Account, branding: Branding) -> dict:
    """What clears each alert: the API call the portal makes (method + route) and the portal page."""
    base = f"/api/accounts/{account.account_id}"
    pay = (
        {"kind": "sendTransfer", "link": branding.link("transfer_details", account.account_id)}
        if account.payment_mode == INVOICE
        else {
            "kind": "updatePaymentMethod",
            "method": "PUT",
            "route": f"{base}/payment-method",
            "link": branding.link("update_payment", account.account_id),
        }
    )
    return {
        "pay": pay,
        "confirm": {
            "kind": "confirmPayment",
            "method": "GET",
            "route": f"{base}/payment-confirmations",
            "link": branding.link("confirm_payment", account.account_id),
        },
        "verify": {
            "kind": "verifyEmail",
            "method": "PUT",
            "route": f"{base}/admin-contact",
            "link": branding.link("verify_email", account.account_id),
        },
    }


def alerts(account: Account, policy: Policy | None = None, branding: Branding | None = None) -> list[dict]:
    """The portal's alerts: each with a stable id, its kind and severity, the subscription, the amount,
    the next deadline, the action that clears it, and the text in the admin's language."""
    policy, branding = policy or shipped(), branding or Branding()
    tag = account.admin.locale
    words = catalog(language(tag))["alerts"]
    actions = _actions(account, branding)
    found = []

    def add(
        kind: str,
        severity: str,
        action: dict,
        subscription_id: str | None = None,
        charge_id: str | None = None,
        amount=None,
        deadline=None,
        **values,
    ):
        item = {
            "id": ":".join(filter(None, (kind, subscription_id, charge_id))),
            "kind": kind,
            "severity": severity,
            "message": words[kind].format(**values),
            "action": action,
        }
        for key, value in (
            ("subscriptionId", subscription_id),
            ("chargeId", charge_id),
            ("amount", dump(amount) if amount else None),
            ("deadline", format_time(deadline) if deadline else None),
        ):
            if value:
                item[key] = value
        found.append(item)

    if account.admin.email_undeliverable:
        add("emailUndeliverable", "warning", actions["verify"], email=account.admin.email)
    remit = dump(account.remittance) if account.remittance else {"iban": "-", "bic": "-", "reference": "-"}
    for sub in account.subscriptions.values():
        owed = account.balance(sub.subscription_id)
        name, amount = sub.display_name, money(dump(owed), tag)
        cancel = cancellation_date(sub, policy.for_plan(sub.plan))
        if sub.state == PAST_DUE and account.payment_mode == INVOICE:
            add(
                "pastDueInvoice",
                "error",
                actions["pay"],
                sub.subscription_id,
                None,
                owed,
                cancel,
                name=name,
                amount_text=amount,
                **remit,
            )
        elif sub.state == PAST_DUE:
            add(
                "pastDue",
                "error",
                actions["pay"],
                sub.subscription_id,
                None,
                owed,
                cancel,
                name=name,
                amount_text=amount,
            )
        elif sub.state == DISABLED and not owed.is_zero:
            add(
                "disabled",
                "critical",
                actions["pay"],
                sub.subscription_id,
                None,
                owed,
                sub.deletion_scheduled_at,
                name=name,
                amount_text=amount,
                date=date(sub.deletion_scheduled_at, tag),
            )
        elif sub.state == DELETED and not owed.is_zero:
            add(
                "deletedOwed",
                "warning",
                actions["pay"],
                sub.subscription_id,
                None,
                owed,
                None,
                name=name,
                amount_text=amount,
            )
        elif sub.state == DISABLED:
            reactivate = {
                "kind": "reactivate",
                "method": "POST",
                "route": f"/api/accounts/{account.account_id}/subscriptions/{sub.subscription_id}/reactivate",
                "link": branding.link("reactivate", account.account_id, sub.subscription_id),
            }
            add(
                "paidDisabled",
                "warning",
                reactivate,
                sub.subscription_id,
                None,
                None,
                sub.deletion_scheduled_at,
                name=name,
            )
    for charge in account.open_charges():
        if charge.awaiting_action is not None and account.payment_mode != INVOICE:
            owner = account.subscriptions.get(charge.subscription_id)
            add(
                "confirmPayment",
                "error",
                actions["confirm"],
                charge.subscription_id,
                charge.charge_id,
                charge.outstanding,
                None,
                name=owner.display_name if owner else charge.subscription_id,
                amount_text=money(dump(charge.outstanding), tag),
            )
    method, ends = account.payment_method, card_expires_at(account)
    if (
        account.payment_mode != INVOICE
        and method is not None
        and ends is not None
        and any(
            n.startswith(f"{method.token}:{method.exp_year:04d}-{method.exp_month:02d}:")
            for n in account.expiry_notified
        )
    ):
        add(
            "cardExpiring",
            "warning",
            actions["pay"],
            None,
            None,
            None,
            ends,
            card=card_label(method.brand, method.last4),
            date=date(ends - timedelta(days=1), tag),
        )
    refused = next((c for c in account.open_charges() if c.hard), None)
    if refused is not None and account.payment_mode != INVOICE:
        reason = catalog(language(tag))["reasons"][reader_reason(refused.decline_code)]
        add(
            "cardRefused",
            "error",
            actions["pay"],
            refused.subscription_id,
            refused.charge_id,
            refused.outstanding,
            None,
            reason=reason,
        )
    return found
