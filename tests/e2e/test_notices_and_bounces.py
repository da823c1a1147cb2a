"""Notices as the admin reads them (maildev), and delivery reports from Event Grid."""

from __future__ import annotations

import uuid


def _report(recipient: str, status: str, when: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
        "subject": f"sender/billing@pastdue.test/message/{uuid.uuid4()}",
        "dataVersion": "1.0",
        "eventTime": when,
        "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/x",
        "data": {
            "sender": "billing@pastdue.test",
            "recipient": recipient,
            "messageId": str(uuid.uuid4()),
            "status": status,
            "deliveryAttemptTimeStamp": when,
            "deliveryStatusDetails": {"statusMessage": "mailbox unavailable"},
        },
    }


def test_a_french_admin_gets_a_french_notice_with_french_amounts(billing, tools, new_id):
    account_id, sub_id = new_id(), new_id("sub")
    billing.account(account_id, locale="fr-FR")
    billing.subscription(account_id, sub_id, name="Production")
    billing.charge_failed(account_id, sub_id, new_id("ch"), value=123456)
    (mail,) = tools.emails_arrived(f"admin@{account_id}.example")
    assert mail["subject"].startswith("pastdue\u00a0: Échec du paiement, ") and mail["subject"].endswith(" à régler")
    assert "1\u202f234,56\xa0€" in mail["text"] and "Production" in mail["text"]
    assert "Si vous ajoutez une autre carte, elle sera débitée immédiatement" in mail["text"]
    assert "avec une autre carte" in mail["html"] and "maintenant" in mail["html"]  # another card, or the card again


def test_invoice_payers_are_told_where_to_send_the_transfer(billing, tools, portal, new_id):
    account_id, sub_id = new_id(), new_id("sub")
    billing.account(account_id, mode="invoice", token=None)
    billing.subscription(account_id, sub_id)
    billing.charge_failed(account_id, sub_id, new_id("ch"), value=50000, code="invoice_overdue")
    (mail,) = tools.emails_arrived(f"admin@{account_id}.example")
    assert "FR76 3000 6000 0112 3456 7890 189" in mail["text"] and f"INV-{account_id}" in mail["text"]
    assert "update your payment information" not in mail["text"].lower()
    alerts = portal.account(account_id).json()["alerts"]
    assert alerts[0]["kind"] == "pastDueInvoice" and "FR7630006000011234567890189" in alerts[0]["message"]


def test_a_bounce_reported_twice_and_out_of_order_marks_the_address_once(billing, portal, tools, host, new_id):
    account_id = new_id()
    billing.account(account_id)
    address = f"admin@{account_id}.example"
    hook = f"{host}/runtime/webhooks/eventgrid?functionName=email_events"
    later, earlier = (
        _report(address, "Bounced", "2026-11-24T10:00:00Z"),
        _report(address, "Bounced", "2026-11-24T09:00:00Z"),
    )
    for event in (later, earlier, later):
        assert tools.http.post(hook, json=[event]).status_code == 202
    assert tools.http.post(hook, json=[_report(address, "Delivered", "2026-11-24T11:00:00Z")]).status_code == 202
    view = portal.account(account_id).json()
    assert view["admin"]["emailUndeliverable"] is True
    assert [a["kind"] for a in view["alerts"]] == ["emailUndeliverable"]
    history = portal.history(account_id).json()["entries"]
    assert sum(1 for e in history if e["kind"] == "admin.email.undeliverable") == 1
    new_address = f"ops@{account_id}.example"  # this test's own: an inbox no other test writes to
    fixed = portal.http.put(f"/api/accounts/{account_id}/admin-contact", json={"email": new_address})
    assert fixed.status_code == 200 and fixed.json()["alerts"] == []
    assert tools.emails_arrived(new_address)


def test_a_malformed_delivery_report_is_dropped_not_retried(tools, host):
    hook = f"{host}/runtime/webhooks/eventgrid?functionName=email_events"
    assert tools.http.post(hook, json=[{"eventType": "Something.Else", "data": "x"}]).status_code == 202
    assert (
        tools.http.post(
            hook,
            json=[{"eventType": "Microsoft.Communication.EmailDeliveryReportReceived", "data": {"status": "Bounced"}}],
        ).status_code
        == 202
    )
