"""The other ways out of past due: a card that starts working, a hard decline, a bank transfer."""

from __future__ import annotations


def _kinds(portal, account_id):
    return [e["kind"] for e in reversed(portal.history(account_id).json()["entries"])]


def _notices(portal, account_id):
    return [
        e["detail"]["notice"]
        for e in reversed(portal.history(account_id).json()["entries"])
        if e["kind"] == "notice.queued"
    ]


def _past_due(billing, new_id, value: int, code: str, mode: str = "card", token: str | None = None):
    account_id, sub_id = new_id(), new_id("sub")
    billing.account(account_id, mode=mode, token=token)
    billing.subscription(account_id, sub_id)
    billing.charge_failed(account_id, sub_id, new_id("ch"), value=value, code=code)
    return account_id


def _days(tools, days: int) -> None:
    for _ in range(days):
        tools.advance("P1D")
        tools.run("daily_sweep")


def test_a_card_that_starts_succeeding_on_a_retry_goes_back_to_active(billing, portal, tools, new_id):
    account_id = _past_due(billing, new_id, 900, "card_declined", token="tok_chargeCustomerFail")
    _days(tools, 3)
    assert _kinds(portal, account_id).count("charge.declined") == 2  # days 1 and 3
    billing.account(account_id, token="tok_visa")  # funds arrived: the processor's card now succeeds
    _days(tools, 4)
    view = portal.account(account_id).json()
    assert view["subscriptions"][0]["state"] == "active" and view["balance"]["value"] == 0
    assert view["alerts"] == []
    assert _notices(portal, account_id) == ["payment_failed", "reminder", "payment_received"]
    _days(tools, 30)
    assert _notices(portal, account_id) == ["payment_failed", "reminder", "payment_received"]  # nothing more
    assert portal.account(account_id).json()["subscriptions"][0]["state"] == "active"


def test_a_hard_decline_is_never_retried_and_asks_for_a_new_card(billing, portal, tools, new_id):
    account_id = _past_due(billing, new_id, 900, "expired_card", token="tok_chargeDeclinedExpiredCard")
    _days(tools, 25)
    assert "charge.declined" not in _kinds(portal, account_id)
    alerts = {a["kind"] for a in portal.account(account_id).json()["alerts"]}
    assert alerts == {"pastDue", "cardRefused"}
    (first,) = [m for m in tools.emails_to(f"admin@{account_id}.example") if "Payment failed" in m["subject"]]
    assert "If you add another card, we'll charge it" in first["text"]


def test_an_invoice_payer_is_never_retried_and_a_transfer_settles_and_reactivates(billing, portal, tools, new_id):
    account_id = _past_due(billing, new_id, 20000, "invoice_overdue", mode="invoice")
    _days(tools, 31)
    assert "charge.declined" not in _kinds(portal, account_id)
    assert portal.account(account_id).json()["subscriptions"][0]["state"] == "disabled"
    assert _notices(portal, account_id) == [
        "invoice_overdue",
        "reminder",
        "reminder",
        "reminder",
        "reminder",
        "final_notice",
        "service_cancelled",
    ]
    reminder = [m for m in tools.emails_to(f"admin@{account_id}.example") if "Final notice" in m["subject"]][0]
    assert f"INV-{account_id}" in reminder["text"] and "See your invoices" in reminder["text"]
    assert billing.payment_received(account_id, 15000).json() == {"status": "processed"}
    assert portal.account(account_id).json()["subscriptions"][0]["state"] == "disabled"  # 50.00 still due
    answer = billing.payment_received(account_id, 5000, event_id="evt-final-transfer")
    assert answer.json() == {"status": "processed"}
    assert billing.payment_received(account_id, 5000, event_id="evt-final-transfer").json() == {"status": "duplicate"}
    view = portal.account(account_id).json()
    assert view["subscriptions"][0]["state"] == "active" and view["balance"]["value"] == 0 and view["credit"] is None


def test_insufficient_funds_are_retried_on_the_pay_days_in_the_accounts_time_zone(billing, portal, tools, new_id):
    account_id, sub_id = new_id(), new_id("sub")
    tools.set_clock("2027-03-09T23:30:00Z")
    billing.account(account_id, token="tok_chargeDeclinedInsufficientFunds", timeZone="Asia/Tokyo")
    billing.subscription(account_id, sub_id)
    billing.charge_failed(
        account_id, sub_id, new_id("ch"), value=900, code="insufficient_funds", created_at="2027-03-09T23:30:00Z"
    )
    for day in range(1, 24):
        tools.set_clock(f"2027-03-{9 + day:02d}T03:00:00Z" if 9 + day <= 31 else f"2027-04-{day - 22:02d}T03:00:00Z")
        tools.run("daily_sweep")
    declined = [
        e["at"][:10] for e in reversed(portal.history(account_id).json()["entries"]) if e["kind"] == "charge.declined"
    ]
    # Pay days 1 and 15 at 10:00 in Tokyo are 01:00 UTC: the 03:00 sweeps of March 15 and April 1.
    assert declined == ["2027-03-15", "2027-04-01"]
