"""Card-expiry pre-dunning through the local host: an expiring card gets its two notices and its alert on
the policy's days (30 and 7 days before it expires), and none once a new card is on file."""

from __future__ import annotations


def test_an_expiring_card_gets_two_notices_and_an_alert_then_none_after_a_new_card(billing, portal, tools, new_id):
    account_id, sub_id = new_id(), new_id("sub")
    tools.set_clock("2030-11-20T03:00:00Z")
    assert billing.account(account_id, token="tok_visaExpiring").status_code == 201  # visa 1881, 12/2030
    assert billing.subscription(account_id, sub_id).status_code == 201

    def expiring_mails():
        return [m for m in tools.emails_to(f"admin@{account_id}.example") if "expires soon" in m["subject"]]

    tools.set_clock("2030-12-01T03:00:00Z")
    tools.run("daily_sweep")
    assert expiring_mails() == [] and portal.account(account_id).json()["alerts"] == []
    tools.set_clock("2030-12-02T03:00:00Z")  # 30 days before 2031-01-01
    tools.run("daily_sweep")
    (first,) = expiring_mails()
    assert "Visa\u00a0••••\u00a01881" in first["text"] and "December\u00a031,\u00a02030" in first["text"]
    assert f"http://localhost:7071/portal/billing/{account_id}/payment-method" in first["text"]
    (alert,) = portal.account(account_id).json()["alerts"]
    assert alert["kind"] == "cardExpiring" and alert["deadline"] == "2031-01-01T00:00:00.000000Z"
    tools.set_clock("2030-12-25T03:00:00Z")  # 7 days before
    tools.run("daily_sweep")
    assert len(expiring_mails()) == 2 and "7\u00a0days" in expiring_mails()[-1]["text"]

    assert portal.pay(account_id, "tok_mastercard").status_code == 200  # a new card: nothing owed, saved
    assert portal.account(account_id).json()["alerts"] == []
    for day in ("2030-12-28T03:00:00Z", "2031-01-02T03:00:00Z"):
        tools.set_clock(day)
        tools.run("daily_sweep")
    assert len(expiring_mails()) == 2
