"""The JSON views the API answers with (docs/openapi.yaml), built from the aggregate."""

from __future__ import annotations

from pastdue.domain.codec import dump, format_time
from pastdue.domain.model import FAILED, RENAMED_NOTICE_KINDS, Account, Notice, Subscription
from pastdue.policy import shipped
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
        "openCharges": open_charges_view(account, deps),
        "transfer": transfer_view(account, deps),
    }


def open_charges_view(account: Account, deps=None) -> list[dict]:
    """What is owed, a row per open charge (oldest first), with the next automatic retry and how many are
    left: the portal's owed table."""
    from datetime import UTC, datetime

    from pastdue.domain import retries

    policy = deps.policy if deps else shipped()
    now = deps.clock.now() if deps else datetime.now(UTC)
    rows = []
    for charge in account.open_charges():
        sub = account.subscriptions.get(charge.subscription_id)
        cal = policy.for_plan(sub.plan if sub else "default")
        next_retry, left = retries.outlook(account, charge, cal, now)
        rows.append(
            {
                "chargeId": charge.charge_id,
                "subscriptionId": charge.subscription_id,
                "amount": dump(charge.outstanding),
                "failedAt": format_time(charge.failed_at),
                "nextRetryAt": format_time(next_retry) if next_retry else None,
                "retriesLeft": left,
            }
        )
    return rows


def transfer_view(account: Account, deps=None) -> dict | None:
    """Where an invoice payer sends the transfer (None for card payers): the payee, IBAN, BIC, the one
    reference, the amount owed, and for euros the EPC QR code a banking app scans, as a PNG data URL."""
    import base64

    from pastdue.domain.model import INVOICE
    from pastdue.notices.branding import Branding
    from pastdue.notices.render import epc_qr

    if account.payment_mode != INVOICE or account.remittance is None:
        return None
    branding = deps.branding if deps else Branding()
    details, owed = dump(account.remittance), dump(account.balance())
    payee = branding.payee_name or branding.brand_name
    iban = str(details.get("iban", "")).replace(" ", "")
    qr = (
        epc_qr(payee, iban, details.get("bic"), details.get("reference"), owed["value"])
        if owed["currency"] == "EUR" and owed["value"]
        else None
    )
    return {
        "payee": payee,
        "iban": iban,
        "bic": details.get("bic"),
        "reference": details.get("reference"),
        "amount": owed,
        "qrCode": "data:image/png;base64," + base64.b64encode(qr.png).decode() if qr else None,
    }


def history_view(account_id: str, page) -> dict:
    """One page of the audit timeline (a HistoryPage), newest first, and the cursor of the next one. A record
    stays as it was written; a notice kind renamed since is shown by today's name."""
    return {
        "accountId": account_id,
        "entries": [_renamed_notice(entry) for entry in page.entries],
        "next": None if page.before is None else f"h{page.before}",
    }


def _renamed_notice(entry: dict) -> dict:
    detail = entry.get("detail")
    if not isinstance(detail, dict):
        return entry
    notice = detail.get("notice")
    if not isinstance(notice, str) or notice not in RENAMED_NOTICE_KINDS:
        return entry
    return {**entry, "detail": {**detail, "notice": str(RENAMED_NOTICE_KINDS[notice])}}


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


def notices_view(account_id: str, notices: list[Notice]) -> dict:
    """Support's list of an account's notices: what each is, to whom, where it stands, and whether it can be
    sent again (only a notice that ended failed can)."""
    rows = []
    for notice in notices:
        row = {
            "noticeId": notice.notice_id,
            "kind": notice.kind,
            "to": notice.to,
            "status": notice.status,
            "tries": notice.tries,
            "createdAt": format_time(notice.created_at),
            "sentAt": format_time(notice.sent_at) if notice.sent_at else None,
            "lastError": notice.last_error,
            "subscriptionId": notice.subscription_id,
            "resendable": notice.status == FAILED,
        }
        rows.append(row)
    return {"accountId": account_id, "notices": rows}


def confirmation_view(confirmation: Confirmation) -> dict:
    return {
        "chargeId": confirmation.charge_id,
        "subscriptionId": confirmation.subscription_id,
        "amount": confirmation.amount.to_json(),
        **confirmation.details,
    }
