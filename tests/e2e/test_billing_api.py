"""The billing system's signed routes and charge_failed, over real HTTP against the local Cosmos."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pastdue import bootstrap
from tests.support.history import full_history


def _doc(account_id):
    found = list(
        bootstrap.container("accounts").query_items(
            "SELECT * FROM c WHERE c.accountId = @a AND c.id = @a",
            parameters=[{"name": "@a", "value": account_id}],
            partition_key=account_id,
        )
    )
    return found[0] if found else None


def _notices_sent(account_id):
    """The account's document once every notice it queued is recorded sent (None before)."""
    doc = _doc(account_id)
    sent = doc is not None and doc.get("outbox") and all(n.get("status") == "sent" for n in doc["outbox"])
    return doc if sent else None


@pytest.fixture()
def card_account(billing, new_id):
    account_id, sub_id = new_id(), new_id("sub")
    assert billing.account(account_id).status_code == 201
    assert billing.subscription(account_id, sub_id).status_code == 201
    return account_id, sub_id


def test_put_account_creates_then_updates_and_never_stores_card_data(billing, portal, new_id):
    account_id = new_id()
    created = billing.account(account_id, token="tok_visa")
    assert created.status_code == 201, created.text
    assert created.json()["paymentMethod"] == {"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}
    assert billing.account(account_id, mode="invoice", token=None).status_code == 200
    doc = _doc(account_id)
    assert doc["paymentMode"] == "invoice" and doc["remittance"]["reference"] == f"INV-{account_id}"
    assert set(doc["paymentMethod"]) == {"token", "brand", "last4", "expMonth", "expYear"}


def test_a_failed_charge_is_stored_and_its_notice_queued_and_sent(billing, portal, card_account, new_id, tools):
    account_id, sub_id = card_account
    charge_id = new_id("ch")
    assert billing.charge_failed(account_id, sub_id, charge_id, 2500).json() == {"status": "processed"}
    # The notice goes out right after the answer, not before it (or, queued, with the timer's drain).
    doc = tools.notices_out(lambda: _notices_sent(account_id)) or _doc(account_id)
    assert doc["charges"][0]["chargeId"] == charge_id and doc["charges"][0]["declineCode"] == "card_declined"
    assert doc["subscriptions"][sub_id]["state"] == "pastDue"
    assert [(n["kind"], n["status"]) for n in doc["outbox"]] == [("payment_failed", "sent")]
    assert doc["nextActionAt"] > doc["subscriptions"][sub_id]["pastDueSince"]


def test_the_same_event_five_times_at_once_changes_state_once(billing, card_account, new_id, tools):
    account_id, sub_id = card_account
    event_id, charge_id = new_id("evt"), new_id("ch")
    with ThreadPoolExecutor(5) as pool:
        answers = list(
            pool.map(lambda _: billing.charge_failed(account_id, sub_id, charge_id, 700, event_id=event_id), range(5))
        )
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["duplicate"] * 4 + ["processed"]
    doc = _doc(account_id)
    assert len(doc["charges"]) == 1 and len(doc["outbox"]) == 1
    history = full_history(bootstrap.deps().store, account_id)
    assert sum(1 for h in history if h["kind"] == "charge.failed") == 1
    assert len(tools.emails_arrived(f"admin@{account_id}.example")) == 1


def test_two_writers_racing_on_one_account_both_land(billing, new_id):
    account_id = new_id()
    billing.account(account_id)
    subs = [new_id("sub") for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        assert all(a.status_code == 201 for a in pool.map(lambda s: billing.subscription(account_id, s), subs))
        answers = list(pool.map(lambda s: billing.charge_failed(account_id, s, f"ch-{s}", 100), subs))
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    doc = _doc(account_id)
    assert set(doc["subscriptions"]) == set(subs) and len(doc["charges"]) == 6
    assert all(s["state"] == "pastDue" for s in doc["subscriptions"].values())


def _bad_requests(billing, account_id, sub_id):
    good: dict[str, Any] = {
        "id": "evt_bad",
        "type": "charge.failed",
        "createdAt": "2026-11-24T00:00:00Z",
        "data": {
            "accountId": account_id,
            "subscriptionId": sub_id,
            "chargeId": "ch_bad",
            "amount": {"value": 100, "currency": "EUR"},
            "declineCode": "card_declined",
        },
    }
    post = "/api/webhooks/charge-failed"
    yield "bad signature", 401, billing.send("POST", post, good, secret="not-the-secret-0123456789")
    yield "stale timestamp", 401, billing.send("POST", post, good, timestamp=int(time.time()) - 301)
    yield (
        "no signature",
        401,
        billing.http.post(post, content=json.dumps(good), headers={"Content-Type": "application/json"}),
    )
    for field, value in (("type", "charge.succeeded"), ("createdAt", "yesterday"), ("id", None)):
        yield f"bad {field}", 400, billing.send("POST", post, {**good, field: value})
    bad_data: tuple[tuple[str, object], ...] = (
        ("amount", {"value": 1.5, "currency": "EUR"}),
        ("amount", {"value": 100}),
        ("chargeId", ""),
        ("subscriptionId", None),
    )
    for field, wrong in bad_data:
        yield f"bad data.{field}", 400, billing.send("POST", post, {**good, "data": {**good["data"], field: wrong}})
    yield (
        "not json",
        400,
        billing.http.post(
            post,
            content=b"{",
            headers={
                "Webhook-Signature": __import__("pastdue.http.signing", fromlist=["sign"]).sign(
                    billing.secret, "POST", post, b"{", int(time.time())
                ),
                "Content-Type": "application/json",
            },
        ),
    )
    yield "unknown account", 404, billing.send("POST", post, {**good, "data": {**good["data"], "accountId": "nope-1"}})
    yield (
        "unknown subscription",
        404,
        billing.send("POST", post, {**good, "data": {**good["data"], "subscriptionId": "sub-nope"}}),
    )
    yield (
        "wrong currency",
        422,
        billing.send("POST", post, {**good, "data": {**good["data"], "amount": {"value": 100, "currency": "USD"}}}),
    )


def test_bad_input_gets_its_4xx_as_problem_json_and_writes_nothing(billing, card_account):
    account_id, sub_id = card_account
    before = _doc(account_id)["_etag"]
    for what, status, answer in _bad_requests(billing, account_id, sub_id):
        assert answer.status_code == status, (what, answer.text)
        problem = answer.json()
        assert problem["status"] == status and problem["title"] and problem["detail"], what
        assert answer.headers["content-type"].startswith("application/problem+json"), what
    assert _doc(account_id)["_etag"] == before
    assert _doc("nope-1") is None


def test_billing_routes_refuse_bad_bodies_with_the_field_named(billing, new_id):
    account_id = new_id()
    answer = billing.send(
        "PUT", f"/api/accounts/{account_id}", {"admin": {"email": "x@example.com"}, "paymentMode": "card"}
    )
    assert answer.status_code == 400 and "admin.principalId" in answer.json()["detail"]
    answer = billing.account(account_id, token="tok_unknownCard")
    assert answer.status_code == 400 and answer.json()["field"] == "paymentMethodToken"
    answer = billing.send(
        "PUT",
        f"/api/accounts/{account_id}",
        {"admin": {"principalId": "p", "email": "a@b.co", "name": "n"}, "paymentMode": "invoice"},
    )
    assert answer.status_code == 400 and answer.json()["field"] == "remittance"
    assert billing.send("PUT", "/api/accounts/bad%20id", {}).status_code == 400
    assert _doc(account_id) is None


def test_health_answers_liveness_to_anyone_and_versions_and_cosmos_to_support_only(host):
    import httpx

    from pastdue.http.principal import encode_principal

    answer = httpx.get(f"{host}/api/health")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}  # no version, no database read
    deep = f"{host}/api/health/deep"
    assert httpx.get(deep).status_code == 401
    admin = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-admin")}
    assert httpx.get(deep, headers=admin).status_code == 403
    support = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-support", ("Billing.Support",))}
    body = httpx.get(deep, headers=support).json()
    assert body["status"] == "ok" and body["cosmos"] == {"reachable": True}
    assert body["version"] and body["packages"]["azure-cosmos"] == "4.17.1"


def test_the_calendar_counts_from_the_failure_time_the_billing_system_reports(billing, portal, card_account):
    """A failure reported late (createdAt three days ago) is three days into its calendar already."""
    account_id, sub_id = card_account
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3 * 86400))
    assert billing.charge_failed(account_id, sub_id, "ch-late", created_at=occurred).status_code == 200
    sub = portal.account(account_id).json()["subscriptions"][0]
    assert sub["pastDueSince"][:19] == occurred[:19]
    alert = portal.account(account_id).json()["alerts"][0]
    assert alert["deadline"][:10] == time.strftime("%Y-%m-%d", time.gmtime(time.time() + 27 * 86400))


def test_the_portal_finds_the_accounts_of_the_signed_in_admin(billing, portal, new_id):
    from tests.support.clients import Portal

    account_id = new_id()
    assert billing.account(account_id, admin_oid="00000000-0000-0000-0000-00000000beef").status_code == 201
    mine = Portal(portal.http.base_url, object_id="00000000-0000-0000-0000-00000000beef")
    listed = mine.http.get("/api/me/accounts").json()["accounts"]
    assert [a["accountId"] for a in listed] == [account_id]
    assert account_id not in [a["accountId"] for a in portal.http.get("/api/me/accounts").json()["accounts"]]


def test_a_charges_invoice_page_is_kept_for_its_receipt_and_must_be_on_the_portal(billing, card_account, new_id, tools):
    account_id, sub_id = card_account
    charge_id = new_id("ch")

    def failed(url):
        body = {
            "id": f"evt_{new_id('e')}",
            "type": "charge.failed",
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": {
                "accountId": account_id,
                "subscriptionId": sub_id,
                "chargeId": charge_id,
                "amount": {"value": 1500, "currency": "EUR"},
                "invoiceUrl": url,
            },
        }
        return billing.send("POST", "/api/webhooks/charge-failed", body)

    for elsewhere in ("https://evil.example/invoice/1", "javascript:alert(1)", "http://localhost:5173 /x"):
        refused = failed(elsewhere)
        assert refused.status_code == 400 and refused.json()["field"] == "data.invoiceUrl", refused.text
    invoice = f"http://localhost:7071/portal/billing/{account_id}/invoices/{charge_id}"
    assert failed(invoice).status_code == 200
    assert _doc(account_id)["charges"][0]["invoiceUrl"] == invoice
    assert billing.payment_received(account_id, 1500, "TR-9").status_code == 200
    receipts = tools.notices_out(
        lambda: [m for m in tools.inbox(f"admin@{account_id}.example") if "Thank you for your payment" in m["subject"]]
    )
    assert len(receipts) == 1 and invoice in receipts[0]["text"] and "TR-9" in receipts[0]["text"]
