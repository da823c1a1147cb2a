"""PAYMENT_GATEWAY=stripe end to end: the local host (its own Cosmos database), the real stripe SDK, the
local Stripe stand-in posting signed events back to the host, maildev."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
import stripe

from devhost.stripe_standin import StripeStandIn
from pastdue import bootstrap
from pastdue.adapters.stripe_gateway import StripeGateway
from tests.conftest import RUN_DIR
from tests.support.clients import Billing, Portal
from tests.support.host_tools import HostTools
from tests.support.waiting import DEADLINE_SECONDS

KEY, WEBHOOK_SECRET = "sk_test_e2e_standin", "whsec_e2e_standin"


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn(KEY, contract=True) as running:
        yield running


@pytest.fixture(scope="module")
def stripe_env(app_env, standin):
    return {
        **app_env,
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_SECRET_KEY": KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_e2e",
        "COSMOS_DATABASE": f"stripe_{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="module")
def stripe_host(stripe_env, standin):
    from tests.support.stack import start_host

    process, base = start_host(stripe_env, RUN_DIR / "host-stripe.log")
    standin.state.webhook_url, standin.state.webhook_secret = f"{base}/api/webhooks/stripe", WEBHOOK_SECRET
    yield base
    process.terminate()
    process.wait(10)


@pytest.fixture()
def s(stripe_host, standin, standins):
    """Everything a Stripe test drives: billing, portal, host tools, the SDK and the stand-in."""
    tools = HostTools(stripe_host, standins.maildev_web_port)
    tools.set_clock(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    standin.state.delivery = "async"
    standin.clock = tools.epoch_clock()  # Stripe's 24-hour key expiry and search lag follow the test clock

    url = standin.url  # (read here: a name the class body annotates is looked up there and globally, not here)

    class Drive:
        billing, portal, host = Billing(stripe_host), Portal(stripe_host), tools
        gateway = StripeGateway(KEY, url)
        client = stripe.StripeClient(KEY, base_addresses={"api": url})
        standin: StripeStandIn

    Drive.standin = standin
    return Drive


def _account(s, token: str | None, subs: int = 1, **extra) -> tuple[str, list[str]]:
    """An account the billing system created with its own Stripe customer and saved card."""
    account_id = f"stripe-{uuid.uuid4().hex[:10]}"
    customer = s.gateway.ensure_customer(account_id, "x@example.com", "Ada", None)
    method = s.gateway.adopt(s.standin.set_up_card(customer, token), customer) if token else None
    if method is not None:
        s.gateway.make_default(method.token, customer)  # the billing system's saved card is Stripe's default
    extra = {"gatewayCustomerId": customer, **extra}
    answer = s.billing.account(account_id, token=method.token if method else None, **extra)
    assert answer.status_code == 201, answer.text
    sub_ids = [f"sub-{n}" for n in range(subs)]
    for sub_id in sub_ids:
        assert s.billing.subscription(account_id, sub_id).status_code == 201
    return account_id, sub_ids


def _kinds(s, account_id) -> Counter:
    return Counter(e["kind"] for e in s.portal.history(account_id).json()["entries"])


def _delivered(s, kind: str, object_id: str) -> list[dict]:
    """The stand-in's deliveries of events of this kind about this object, as the app answered them."""
    with s.standin.state.lock:
        return [d for d in s.standin.state.deliveries if d["type"] == kind and d["object"] == object_id]


def _wait(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_a_failing_card_is_retried_through_stripe_on_the_policy_days_then_disabled_then_deleted(s, stripe_env):
    account_id, (sub_id,) = _account(s, "pm_card_chargeCustomerFail")
    data = (
        bootstrap.cosmos_client()
        .get_database_client(stripe_env["COSMOS_DATABASE"])
        .get_container_client("customerData")
    )
    data.create_item({"id": f"{sub_id}-{account_id}", "subscriptionId": f"{sub_id}", "payload": 1})
    assert s.billing.charge_failed(account_id, sub_id, "INV-0001", 4999).json() == {"status": "processed"}
    declined, states = {}, {}
    for day in range(1, 121):
        s.host.advance("P1D")
        s.host.run("daily_sweep")
        declined[day] = _kinds(s, account_id)["charge.declined"]
        states[day] = s.portal.account(account_id).json()["subscriptions"][0]["state"]
    steps = [d for d in range(1, 121) if declined[d] != declined.get(d - 1, 0)]
    assert steps == [1, 3, 5, 7, 14, 21]
    intents = [pi for pi in s.standin.state.payment_intents.values() if pi["metadata"].get("accountId") == account_id]
    assert len(intents) == 6 and {pi["amount"] for pi in intents} == {4999}
    assert {pi["metadata"]["attempt"] for pi in intents} == {f"INV-0001:{n}" for n in range(1, 7)}
    assert states[29] == "pastDue" and states[30] == "disabled" and states[119] == "disabled"
    assert states[120] == "deleted"
    assert not list(
        data.query_items(
            "SELECT * FROM c WHERE c.subscriptionId = @s",
            parameters=[{"name": "@s", "value": sub_id}],
            partition_key=sub_id,
        )
    )


def test_a_hard_decline_through_stripe_stops_the_retries(s):
    account_id, (sub_id,) = _account(s, "pm_card_chargeDeclinedStolenCard")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 1000, code="card_declined")
    for _ in range(1, 10):
        s.host.advance("P1D")
        s.host.run("daily_sweep")
    assert _kinds(s, account_id)["charge.declined"] == 1  # day 1, then never again (advice do_not_try_again)
    view = s.portal.account(account_id).json()
    assert [a["kind"] for a in view["alerts"]] == ["pastDue", "cardRefused"]


def test_pay_now_of_three_subscriptions_with_a_card_from_the_setup_route(s):
    account_id, subs = _account(s, "pm_card_chargeCustomerFail", subs=3)
    for n, sub_id in enumerate(subs):
        s.billing.charge_failed(account_id, sub_id, f"INV-{n:04d}", 1000 + n)
    setup = s.portal.http.post(f"/api/accounts/{account_id}/payment-method/setup", json={})
    assert setup.status_code == 200, setup.text
    body = setup.json()
    assert body["gateway"] == "stripe" and body["publishableKey"] == "pk_test_e2e"
    assert body["clientSecret"].startswith(body["setupIntentId"])
    # What Stripe Elements does in the browser: confirm the SetupIntent with the card the admin typed.
    confirmed = s.client.v1.setup_intents.confirm(body["setupIntentId"], {"payment_method": "pm_card_visa"})
    paid = s.portal.pay(account_id, confirmed.payment_method)
    assert paid.status_code == 200, paid.text
    assert sorted(c["chargeId"] for c in paid.json()["settled"]) == [f"INV-{n:04d}" for n in range(3)]
    view = paid.json()["account"]
    assert view["paymentMethod"]["last4"] == "4242" and view["balance"]["value"] == 0
    assert {sub["state"] for sub in view["subscriptions"]} == {"active"}
    customer = s.standin.state.customers[s.standin.state.payment_methods[confirmed.payment_method]["customer"]]
    # Made Stripe's default once it has paid, right after the answer.
    assert _wait(lambda: customer["invoice_settings"]["default_payment_method"] == confirmed.payment_method)
    receipts = [
        m
        for m in s.host.emails_to(f"admin@{account_id}.example")
        if "thank you for your payment" in m["subject"].lower()
    ]
    assert len(receipts) == 1


def test_an_authentication_request_asks_the_admin_and_stripes_event_settles_it(s):
    account_id, (sub_id,) = _account(s, "pm_card_authenticationRequired")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 2500)
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    view = s.portal.account(account_id).json()
    assert [a["kind"] for a in view["alerts"]] == ["pastDue", "confirmPayment"]
    assert view["alerts"][1]["chargeId"] == "INV-0001"
    subjects = [m["subject"] for m in s.host.emails_to(f"admin@{account_id}.example")]
    assert any("confirm your payment of €25.00" in subject for subject in subjects), subjects
    (confirm,) = s.portal.http.get(f"/api/accounts/{account_id}/payment-confirmations").json()["confirmations"]
    assert confirm["clientSecret"].startswith(confirm["paymentIntentId"])
    s.host.advance("P2D")
    s.host.run("daily_sweep")  # day 3: no automatic retry of a charge waiting for its customer
    assert (
        _kinds(s, account_id)["charge.action_required"] == 1
        and len(
            [pi for pi in s.standin.state.payment_intents.values() if pi["metadata"].get("accountId") == account_id]
        )
        == 1
    )
    # The admin confirms in the portal (Stripe.js); Stripe then sends payment_intent.succeeded.
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{confirm['paymentIntentId']}/authenticate", json={})
    assert _wait(lambda: s.portal.account(account_id).json()["subscriptions"][0]["state"] == "active")
    assert _kinds(s, account_id)["charge.succeeded"] == 1
    assert s.portal.account(account_id).json()["alerts"] == []


@pytest.mark.parametrize("delivery, times", [("before", 1), ("manual", 1), ("manual", 2)])
def test_a_payment_event_before_after_or_twice_settles_once(s, delivery, times):
    account_id, (sub_id,) = _account(s, "pm_card_chargeCustomerFail")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 1500)
    setup = s.portal.http.post(f"/api/accounts/{account_id}/payment-method/setup", json={}).json()
    card = s.client.v1.setup_intents.confirm(setup["setupIntentId"], {"payment_method": "pm_card_visa"})
    s.standin.state.delivery = delivery  # "before": the event reaches the host before the API answer
    assert s.portal.pay(account_id, card.payment_method).status_code == 200
    if delivery == "manual":
        assert s.standin.deliver_held(times)
    kinds = _kinds(s, account_id)
    assert kinds["charge.succeeded"] == 1 and kinds["payment.method.updated"] == 1
    history = s.portal.history(account_id).json()["entries"]
    paid = sum(e["detail"]["applied"]["value"] for e in history if e["kind"] == "charge.succeeded")
    assert paid == 1500 and s.portal.account(account_id).json()["credit"] is None


def test_the_card_updater_pays_everything_outstanding_with_one_receipt(s):
    account_id, subs = _account(s, "pm_card_chargeCustomerFail", subs=2)
    for n, sub_id in enumerate(subs):
        s.billing.charge_failed(account_id, sub_id, f"INV-{n:04d}", 700)
    assert s.portal.account(account_id).json()["balance"]["value"] == 1400
    method = [
        pm
        for pm in s.standin.state.payment_methods.values()
        if pm["customer"] and s.standin.state.customers[pm["customer"]]["metadata"].get("accountId") == account_id
    ]
    assert len(method) == 1
    httpx.post(
        f"{s.standin.url}/_standin/payment_methods/{method[0]['id']}/update_card",
        json={"exp_month": 11, "exp_year": 2031},
    )
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0)
    view = s.portal.account(account_id).json()
    assert view["paymentMethod"]["expYear"] == 2031
    assert _wait(
        lambda: any(
            "thank you for your payment" in m["subject"].lower()
            for m in s.host.emails_to(f"admin@{account_id}.example")
        )
    )
    receipts = [
        m
        for m in s.host.emails_to(f"admin@{account_id}.example")
        if "thank you for your payment" in m["subject"].lower()
    ]
    assert len(receipts) == 1, [m["subject"] for m in s.host.emails_to(f"admin@{account_id}.example")]


def test_stripe_events_are_verified_and_checked(s, stripe_host):
    url = f"{stripe_host}/api/webhooks/stripe"
    event = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    stamp = int(time.time())
    good = f"t={stamp},v1={_sig(WEBHOOK_SECRET, stamp, event)}"
    answer = httpx.post(url, content=event, headers={"Content-Type": "application/json", "Stripe-Signature": good})
    assert answer.status_code == 200 and answer.json() == {"status": "ignored"}  # not one of ours
    for header in (
        "",
        f"t={stamp},v1={_sig('whsec_other', stamp, event)}",
        f"t={stamp - 400},v1={_sig(WEBHOOK_SECRET, stamp - 400, event)}",
    ):
        refused = httpx.post(
            url, content=event, headers={"Content-Type": "application/json", "Stripe-Signature": header}
        )
        assert refused.status_code == 401
    bad = b'{"id": "nope", "type": "x", "data": {}}'
    signed = f"t={stamp},v1={_sig(WEBHOOK_SECRET, stamp, bad)}"
    answer = httpx.post(url, content=bad, headers={"Content-Type": "application/json", "Stripe-Signature": signed})
    assert answer.status_code == 400
    unknown = b'{"id": "evt_2", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}'
    answer = httpx.post(
        url,
        content=unknown,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={stamp},v1={_sig(WEBHOOK_SECRET, stamp, unknown)}",
        },
    )
    assert answer.json() == {"status": "ignored"}


def test_a_stripe_event_is_at_most_512_kib_as_the_contract_says(s, stripe_host):
    """Up to 512 KiB (Stripe's events carry whole objects) is read; above, signed or not, a 413 problem."""
    url, stamp = f"{stripe_host}/api/webhooks/stripe", int(time.time())

    def event(size: int) -> bytes:
        head = b'{"id": "evt_big", "type": "customer.updated", "data": {"object": {"id": "cus_1", "note": "'
        return head + b"x" * (size - len(head) - 4) + b'"}}}'

    for size, status in ((64 * 1024 + 10, 200), (512 * 1024, 200), (512 * 1024 + 1, 413), (5 * 1024 * 1024, 413)):
        body = event(size)
        assert len(body) == size
        signature = f"t={stamp},v1={_sig(WEBHOOK_SECRET, stamp, body)}"
        answer = httpx.post(
            url, content=body, timeout=60, headers={"Content-Type": "application/json", "Stripe-Signature": signature}
        )
        assert answer.status_code == status, (size, answer.text[:200])
        if status == 413:
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["status"] == 413


def _sig(secret: str, stamp: int, body: bytes) -> str:
    """The v1 signature as the SDK's own helper computes it (Stripe's documented scheme)."""
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, stamp)
    return dict(part.split("=", 1) for part in header.split(","))["v1"]


def test_an_answer_dropped_after_stripe_charged_stays_in_flight_and_is_collected_once(s):
    """The stand-in creates and confirms the PaymentIntent, then drops the connection: the SDK's retries and
    the sweep's own tries with the same key are dropped too, so no id reaches us and the attempt stays
    reserved, in flight. Stripe's event is refused while the attempt is young (Stripe delivers it again
    later), then settles it; the next sweep has nothing left to ask."""
    account_id, (sub_id,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 3000)
    s.standin.state.delivery = "manual"
    # The create and its SDK retries dropped, for each of the sweep's three tries.
    s.standin.state.faults.extend(["create:drop"] * 9)
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    key = "INV-0001:1"
    intents = [pi for pi in _intents_of(s, account_id) if pi["metadata"].get("attempt") == key]
    assert len(intents) == 1 and intents[0]["status"] == "succeeded"  # Stripe charged...
    assert _kinds(s, account_id)["charge.succeeded"] == 0  # ...but nobody here knows yet
    assert _kinds(s, account_id)["charge.processing"] == 0  # no id reached us: the attempt waits with its key
    assert not s.standin.state.faults
    assert s.portal.account(account_id).json()["subscriptions"][0]["state"] == "pastDue"
    events = [
        e
        for e in s.standin.state.held_events
        if e["data"]["object"]["metadata"].get("attempt") == key
        and e["data"]["object"]["metadata"].get("accountId") == account_id
    ]
    s.standin.state.held_events.clear()
    assert [s.standin.deliver(e) for e in events] == [[503]]  # too early: the attempt is in flight
    s.host.advance("PT3M")
    assert [s.standin.deliver(e, times=2) for e in events] == [[200, 200]]
    assert _kinds(s, account_id)["charge.succeeded"] == 1
    assert s.portal.account(account_id).json()["subscriptions"][0]["state"] == "active"
    s.host.run("daily_sweep")
    assert _kinds(s, account_id)["charge.succeeded"] == 1
    assert [pi for pi in _intents_of(s, account_id) if pi["metadata"].get("attempt") == key] == intents


def test_an_unanswered_attempt_with_no_event_is_collected_by_the_next_sweep_with_the_same_key(s):
    account_id, (sub_id,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 3000)
    s.standin.state.delivery = "manual"
    s.standin.state.faults.extend(["create:drop"] * 9)  # three tries by the sweep, x3 by the SDK
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    assert _kinds(s, account_id)["charge.succeeded"] == 0 and not s.standin.state.faults
    s.host.run("daily_sweep")  # the unanswered attempt is resolved by its key, replayed: the same PaymentIntent
    assert _kinds(s, account_id)["charge.succeeded"] == 1
    key = "INV-0001:1"
    assert len([pi for pi in _intents_of(s, account_id) if pi["metadata"].get("attempt") == key]) == 1
    s.standin.state.held_events.clear()


def _intents_of(s, account_id):
    return [pi for pi in s.standin.state.payment_intents.values() if pi["metadata"].get("accountId") == account_id]


def _new_card(s, account_id, token):
    """What the front end does: the setup route's SetupIntent confirmed by Stripe.js; its id is sent."""
    setup = s.portal.http.post(f"/api/accounts/{account_id}/payment-method/setup", json={}).json()
    intent = s.client.v1.setup_intents.confirm(setup["setupIntentId"], {"payment_method": token})
    if intent.status == "requires_action":  # the bank's 3-D Secure challenge, passed by the admin in Stripe.js
        s.standin.authenticate_setup(intent.id)
    return intent.id


def test_a_create_whose_answer_was_lost_is_found_a_day_later_after_stripe_forgot_the_key(s):
    """The create ran (and charged the card) but its answers were lost (no id kept). A day later Stripe has
    pruned the key, so sending it again would be a second payment: the sweep finds the first one by its
    metadata instead."""
    account_id, (sub_id,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 3000)
    s.standin.state.faults.extend(["create:drop"] * 9)  # 3 tries by the sweep x 3 by the SDK
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    (intent,) = _intents_of(s, account_id)
    assert intent["status"] == "succeeded" and _kinds(s, account_id)["charge.succeeded"] == 0
    s.standin.state.held_events.clear()  # its events are lost too
    s.host.advance("PT25H")  # past Stripe's 24 hours: the stand-in's clock follows the test clock
    s.host.run("daily_sweep")
    assert [pi["id"] for pi in _intents_of(s, account_id)] == [intent["id"]]
    assert s.standin.taken(account_id) == 3000 and _kinds(s, account_id)["charge.succeeded"] == 1
    assert s.portal.account(account_id).json()["subscriptions"][0]["state"] == "active"


def _retried_a_day_later(s, token: str, value: int) -> tuple[str, dict]:
    """An account whose charge failed, then the day-1 sweep retried it: its one PaymentIntent."""
    account_id, (sub_id,) = _account(s, token)
    s.billing.charge_failed(account_id, sub_id, "INV-0001", value)
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    (intent,) = _intents_of(s, account_id)
    return account_id, intent


def test_a_success_after_a_failed_3d_secure_is_applied_never_ignored(s):
    account_id, intent = _retried_a_day_later(s, "pm_card_authenticationRequired", 2500)
    s.host.advance("PT3M")
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{intent['id']}/authenticate", json={"succeed": False})
    assert _wait(lambda: _kinds(s, account_id)["charge.authentication_failed"] == 1)
    history = s.portal.history(account_id).json()["entries"]
    assert [e["detail"]["code"] for e in history if e["kind"] == "charge.authentication_failed"] == [
        "payment_intent_authentication_failure"
    ]
    assert _kinds(s, account_id)["charge.declined"] == 0  # not final: the customer may confirm it again
    # The customer tries again on the same PaymentIntent, and it succeeds: Stripe holds the money.
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{intent['id']}/authenticate", json={"succeed": True})
    assert _wait(lambda: s.portal.account(account_id).json()["subscriptions"][0]["state"] == "active")
    (paid,) = [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == "charge.succeeded"]
    assert paid["detail"]["applied"]["value"] == 2500 and paid["detail"]["previousOutcome"] == "requires_action"
    assert "unexpected" not in paid["detail"]
    assert s.standin.taken(account_id) == 2500 and s.portal.account(account_id).json()["balance"]["value"] == 0


def test_pay_now_asks_the_present_admin_to_authenticate_and_keeps_the_card(s):
    account_id, (sub_id,) = _account(s, "pm_card_chargeCustomerFail")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 1800)
    card = _new_card(s, account_id, "pm_card_authenticationRequired")
    answer = s.portal.pay(account_id, card)
    assert answer.status_code == 402 and answer.json()["declineCode"] == "authentication_required", answer.text
    assert answer.json()["type"].endswith("/authentication-required")
    confirm = answer.json()["confirmation"]
    assert confirm["paymentMethodId"] == s.client.v1.setup_intents.retrieve(card).payment_method
    assert confirm["amount"] == {"value": 1800, "currency": "EUR"}
    assert confirm["clientSecret"].startswith(confirm["paymentIntentId"]) and confirm["status"] == "requires_action"
    (intent,) = _intents_of(s, account_id)
    (created,) = [
        r
        for r in s.standin.state.requests
        if r["path"] == "/v1/payment_intents" and r["params"].get("metadata", {}).get("accountId") == account_id
    ]
    assert created["params"]["confirm"] == "true" and "off_session" not in created["params"]  # the admin is there
    assert s.portal.account(account_id).json()["paymentMethod"]["last4"] == "3184"  # the card is saved
    listed = s.portal.http.get(f"/api/accounts/{account_id}/payment-confirmations").json()["confirmations"]
    assert [c["paymentIntentId"] for c in listed] == [intent["id"]] and listed[0]["amount"]["value"] == 1800
    s.host.advance("PT3M")
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{intent['id']}/authenticate", json={})
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0)
    assert s.portal.http.get(f"/api/accounts/{account_id}/payment-confirmations").json()["confirmations"] == []
    assert len(_intents_of(s, account_id)) == 1 and s.standin.taken(account_id) == 1800


def test_a_payment_waiting_for_the_customer_is_cancelled_when_a_new_card_pays(s):
    account_id, waiting = _retried_a_day_later(s, "pm_card_authenticationRequired", 2200)
    assert s.portal.http.get(f"/api/accounts/{account_id}/payment-confirmations").json()["confirmations"]
    paid = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_visa"))
    assert paid.status_code == 200, paid.text
    assert s.standin.state.payment_intents[waiting["id"]]["status"] == "canceled"
    assert s.standin.taken(account_id) == 2200 and len(_intents_of(s, account_id)) == 2
    assert s.portal.http.get(f"/api/accounts/{account_id}/payment-confirmations").json()["confirmations"] == []


def test_a_processing_payment_stays_in_flight_until_its_event(s):
    account_id, (sub_id,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 2600)
    s.standin.state.faults.append("processing")
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    (intent,) = _intents_of(s, account_id)
    assert intent["status"] == "processing" and _kinds(s, account_id)["charge.processing"] == 1
    s.host.advance("P1D")
    s.host.run("daily_sweep")  # still processing: asked by id, nothing new created
    assert len(_intents_of(s, account_id)) == 1
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{intent['id']}/settle", json={"succeed": True})
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0)
    assert _kinds(s, account_id)["charge.succeeded"] == 1 and s.standin.taken(account_id) == 2600


def test_an_amount_stripe_cannot_take_is_never_sent_nor_told_as_a_card_refusal(s):
    account_id, (sub_id,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 30)  # below Stripe's EUR 0.50
    before = len(s.host.emails_to(f"admin@{account_id}.example"))
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    assert _intents_of(s, account_id) == []
    (error,) = [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == "charge.error"]
    assert error["detail"]["code"] == "amount_too_small" and error["detail"]["refusedByProcessor"] is True
    assert len(s.host.emails_to(f"admin@{account_id}.example")) == before
    assert [a["kind"] for a in s.portal.account(account_id).json()["alerts"]] == ["pastDue"]


def test_pay_now_takes_a_set_up_card_and_refuses_a_bare_method_it_never_saw_set_up(s):
    account_id, (sub_id,) = _account(s, "pm_card_chargeCustomerFail")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 1200)
    refused = s.portal.pay(account_id, "pm_card_visa")
    assert refused.status_code == 400 and refused.json()["field"] == "paymentMethodToken", refused.text
    unconfirmed = s.portal.http.post(f"/api/accounts/{account_id}/payment-method/setup", json={}).json()
    assert s.portal.pay(account_id, unconfirmed["setupIntentId"]).status_code == 400
    assert _intents_of(s, account_id) == [] or all(pi["status"] != "succeeded" for pi in _intents_of(s, account_id))
    paid = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_visa"))
    assert paid.status_code == 200 and paid.json()["account"]["balance"]["value"] == 0, paid.text


def test_a_refund_is_recorded_a_lost_dispute_is_owed_again_a_won_dispute_is_not(s):
    account_id, subs = _account(s, "pm_card_visa", subs=2)
    for n, sub_id in enumerate(subs):
        s.billing.charge_failed(account_id, sub_id, f"INV-{n:04d}", 1000 + n * 500)
    s.host.advance("P1D")
    s.host.run("daily_sweep")  # both collected by their day-1 retries: one payment on the one card
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0, DEADLINE_SECONDS)
    (payment,) = _intents_of(s, account_id)
    assert payment["amount"] == 2500
    s.host.advance("P3D")
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{payment['id']}/refund", json={"amount": 400})
    # A refund is made on purpose (the Dashboard, goodwill): recorded, not owed again (reopenRefunds: false).
    assert _wait(lambda: _kinds(s, account_id)["payment.refunded"] == 1, DEADLINE_SECONDS)
    view = s.portal.account(account_id).json()
    assert view["balance"]["value"] == 0 and {sub["state"] for sub in view["subscriptions"]} == {"active"}
    # The payment is disputed: opened changes nothing; lost, it is owed again (not on that card), on each
    # charge it paid as it was allocated, newest first.
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{payment['id']}/dispute", json={"outcome": "lost"})
    # The two events (opened, closed lost) come each on its own, in either order: wait for both.
    assert _wait(
        lambda: (
            s.portal.account(account_id).json()["balance"]["value"] == 2500
            and _kinds(s, account_id)["payment.disputed"] == 1
            and _kinds(s, account_id)["payment.dispute_lost"] == 1
        ),
        DEADLINE_SECONDS,
    )
    kinds = _kinds(s, account_id)
    assert kinds["payment.refunded"] == 1 and kinds["payment.disputed"] == 1 and kinds["payment.dispute_lost"] == 1
    owed = {
        sub["subscriptionId"]: sub["balance"]["value"] for sub in s.portal.account(account_id).json()["subscriptions"]
    }
    assert owed == {subs[0]: 1000, subs[1]: 1500}
    (refund,) = [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == "payment.refunded"]
    assert refund["detail"]["givenBack"]["value"] == 400 and refund["detail"]["payment"] == payment["id"]
    # A dispute won: recorded, nothing owed.
    other_id, (other_sub,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(other_id, other_sub, "INV-0001", 800)
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    (pi,) = _intents_of(s, other_id)
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{pi['id']}/dispute", json={"outcome": "won"})
    assert _wait(
        lambda: _kinds(s, other_id)["payment.dispute_won"] == 1 and _kinds(s, other_id)["payment.disputed"] == 1,
        DEADLINE_SECONDS,
    )
    assert s.portal.account(other_id).json()["balance"]["value"] == 0


def _invoice_account(s, token):
    account_id, _ = _account(s, token, subs=0)
    customer = s.portal.account(account_id).json().get("gatewayCustomerId") or next(
        c for c, v in s.standin.state.customers.items() if v["metadata"].get("accountId") == account_id
    )
    sub_id = f"sub_{uuid.uuid4().hex[:12]}"  # Stripe Billing's subscription id is pastdue's
    assert s.billing.subscription(account_id, sub_id).status_code == 201
    return account_id, customer, sub_id


def _invoice_intents(s, invoice_id):
    """Stripe Billing's PaymentIntents of an invoice (they carry no metadata: the Invoice Payments say which)."""
    paid = {
        p["payment"]["payment_intent"] for p in s.standin.state.invoice_payments.values() if p["invoice"] == invoice_id
    }
    return [pi for pi in s.standin.state.payment_intents.values() if pi["id"] in paid]


def test_stripe_billing_invoices_are_dunned_and_paid_once_whoever_pays_them(s):
    """Stripe Billing: invoice.payment_failed is the failure; retries and pay-now pay that invoice (never a
    PaymentIntent of pastdue's own), and invoice.paid from Stripe's own retry settles it: one debit."""
    account_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    invoice = httpx.post(
        f"{s.standin.url}/_standin/invoices", json={"customer": customer, "amount": 2000, "subscription": sub_id}
    ).json()
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 2000)
    assert s.portal.account(account_id).json()["subscriptions"][0]["state"] == "pastDue"
    s.host.advance("P1D")
    s.host.run("daily_sweep")  # the retry pays the invoice with the card on file: declined
    assert _kinds(s, account_id)["charge.declined"] == 1 and s.standin.state.invoices[invoice["id"]]["status"] == "open"
    paid = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_visa"))
    assert paid.status_code == 200, paid.text
    assert s.standin.state.invoices[invoice["id"]]["status"] == "paid"
    assert [pi["amount_received"] for pi in _invoice_intents(s, invoice["id"])] == [2000]
    assert s.standin.taken(account_id) == 0  # no PaymentIntent of pastdue's own: the invoice was paid
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0)
    # invoice.paid arrives after the answer: once the app has answered it, it changed nothing.
    assert _wait(lambda: _delivered(s, "invoice.paid", invoice["id"])), s.standin.state.deliveries[-5:]
    assert [d["status"] for d in _delivered(s, "invoice.paid", invoice["id"])] == [200]
    assert s.portal.account(account_id).json()["credit"] is None and _kinds(s, account_id)["charge.settled"] == 0

    # Stripe's own retry pays another invoice: invoice.paid settles it, and pastdue never charges it again.
    other_id, other_customer, other_sub = _invoice_account(s, "pm_card_visa")
    second = httpx.post(
        f"{s.standin.url}/_standin/invoices",
        json={"customer": other_customer, "amount": 1500, "subscription": other_sub},
    ).json()
    assert _wait(lambda: s.portal.account(other_id).json()["balance"]["value"] == 1500)
    httpx.post(f"{s.standin.url}/_standin/invoices/{second['id']}/retry", json={})
    assert _wait(lambda: s.portal.account(other_id).json()["balance"]["value"] == 0)
    assert s.portal.account(other_id).json()["subscriptions"][0]["state"] == "active"
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    assert [pi["amount_received"] for pi in _invoice_intents(s, second["id"])] == [1500]
    assert _kinds(s, other_id)["charge.settled"] == 1
    receipts = [
        m for m in s.host.emails_to(f"admin@{other_id}.example") if "thank you for your payment" in m["subject"].lower()
    ]
    assert len(receipts) == 1


def test_declines_keep_stripes_advice_and_network_codes_and_events_carry_the_pinned_version(s):
    account_id, (sub_id,) = _account(s, "pm_card_chargeDeclinedInsufficientFunds")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 1000)  # no reason given: retried on day 1
    s.standin.state.delivery = "manual"
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    (declined,) = [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == "charge.declined"]
    assert declined["detail"]["code"] == "insufficient_funds" and declined["detail"]["hardDecline"] is False
    assert (declined["detail"]["adviceCode"], declined["detail"]["networkDeclineCode"]) == ("try_again_later", "51")
    from pastdue.adapters.stripe_gateway import API_VERSION

    held = [
        e for e in s.standin.state.held_events if e["data"]["object"].get("metadata", {}).get("accountId") == account_id
    ]
    assert held and {e["api_version"] for e in held} == {API_VERSION}
    assert s.standin.deliver_held() == [200] * len(held)  # the same decline again: nothing changes
    assert _kinds(s, account_id)["charge.declined"] == 1


def test_an_idempotency_error_is_unknown_then_resolved_without_a_second_debit(s):
    """Someone used the retry's key with other parameters: Stripe answers an IdempotencyError. Nothing is
    assumed: the attempt stays in flight; a day later (the key forgotten) it is charged, once."""
    account_id, (sub_id,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 2100)
    s.host.advance("P1D")
    s.client.v1.payment_intents.create(
        {"amount": 999, "currency": "eur", "payment_method": "pm_card_visa"},
        {"idempotency_key": f"{account_id}:INV-0001:1"},
    )
    s.host.run("daily_sweep")
    assert s.portal.account(account_id).json()["balance"]["value"] == 2100
    assert _kinds(s, account_id)["charge.error"] == 0 and _kinds(s, account_id)["charge.declined"] == 0
    s.host.advance("PT25H")
    s.host.run("daily_sweep")
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0)
    assert s.standin.taken(account_id) == 2100 and len(_intents_of(s, account_id)) == 1


def test_amounts_go_to_stripe_in_its_decimals_and_the_receipt_is_in_the_accounts(s):
    account_id, (sub_id,) = _account(s, "pm_card_visa", currency="ISK")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 4990, currency="ISK")  # ISK 4,990
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    (intent,) = _intents_of(s, account_id)
    assert (intent["amount"], intent["currency"]) == (499000, "isk")  # two decimals at Stripe
    assert _wait(lambda: s.portal.account(account_id).json()["balance"] == {"value": 0, "currency": "ISK"})
    (paid,) = [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == "charge.succeeded"]
    assert paid["detail"]["applied"] == {"value": 4990, "currency": "ISK"}
    receipts = [
        m
        for m in s.host.emails_to(f"admin@{account_id}.example")
        if "thank you for your payment" in m["subject"].lower()
    ]
    (receipt,) = receipts
    text = receipt["text"]  # maildev's copy of the text part
    assert "payment of ISK4,990" in text and "“Production”: ISK4,990. The subscription is active." in text, text


def test_the_card_updater_waits_while_support_paused_dunning(s):
    from tests.support.clients import Support

    account_id, (sub_id,) = _account(s, "pm_card_chargeCustomerFail")
    s.billing.charge_failed(account_id, sub_id, "INV-0001", 700)
    until = (datetime.fromisoformat(s.host.now().replace("Z", "+00:00")) + timedelta(days=10)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert Support(s.host.http.base_url).pause(account_id, until).status_code == 200
    (method,) = [
        pm
        for pm in s.standin.state.payment_methods.values()
        if pm["customer"] and s.standin.state.customers[pm["customer"]]["metadata"].get("accountId") == account_id
    ]
    httpx.post(
        f"{s.standin.url}/_standin/payment_methods/{method['id']}/update_card", json={"exp_month": 11, "exp_year": 2031}
    )
    assert _wait(lambda: _kinds(s, account_id)["charge.not_tried"] == 1)
    assert _intents_of(s, account_id) == [] and s.portal.account(account_id).json()["balance"]["value"] == 700
    assert s.portal.account(account_id).json()["paymentMethod"]["expYear"] == 2031  # the card is refreshed


@pytest.mark.parametrize("declined_first", [True, False], ids=["declined-card-first", "good-card-first"])
def test_two_tenants_invoice_0001_each_get_their_own_cards_answer(s, declined_first):
    """Billing systems number invoices per tenant: both accounts owe an INV-0001. Each pay-now is answered
    by its own card at Stripe, whichever pays first."""
    x, (x_sub,) = _account(s, "pm_card_chargeCustomerFail")
    y, (y_sub,) = _account(s, "pm_card_chargeCustomerFail")
    s.billing.charge_failed(x, x_sub, "INV-0001", 49000)
    s.billing.charge_failed(y, y_sub, "INV-0001", 4900)
    order = [(x, "pm_card_chargeDeclined"), (y, "pm_card_visa")]
    answers = {}
    for account_id, card in order if declined_first else order[::-1]:
        answers[account_id] = s.portal.pay(account_id, _new_card(s, account_id, card))
    assert answers[x].status_code == 402 and answers[x].json()["declineCode"] == "generic_decline", answers[x].text
    assert answers[y].status_code == 200 and answers[y].json()["account"]["balance"]["value"] == 0, answers[y].text
    assert s.portal.account(x).json()["balance"]["value"] == 49000
    assert s.standin.taken(x) == 0 and s.standin.taken(y) == 4900
    (x_intent,) = _intents_of(s, x)
    (y_intent,) = _intents_of(s, y)
    assert x_intent["id"] != y_intent["id"] and (x_intent["amount"], y_intent["amount"]) == (49000, 4900)


def test_a_remainder_below_stripes_minimum_is_paid_within_the_one_pay_now_payment(s):
    """A 0.30 remainder (below Stripe's EUR 0.50) could never be charged alone; pay-now's one payment for
    everything owed takes it with the rest, in one debit."""
    account_id, subs = _account(s, "pm_card_chargeCustomerFail", subs=2)
    s.billing.charge_failed(account_id, subs[0], "INV-0001", 30)
    s.billing.charge_failed(account_id, subs[1], "INV-0002", 4900)
    paid = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_visa"))
    assert paid.status_code == 200, paid.text
    assert sorted(c["chargeId"] for c in paid.json()["settled"]) == ["INV-0001", "INV-0002"]
    view = paid.json()["account"]
    assert view["balance"]["value"] == 0 and view["paymentMethod"]["last4"] == "4242"
    assert [pi["amount"] for pi in _intents_of(s, account_id)] == [4930]
    assert _kinds(s, account_id)["charge.error"] == 0 and _kinds(s, account_id)["payment.method.declined"] == 0


def test_pay_now_of_five_charges_on_two_subscriptions_is_one_payment_and_one_bank_challenge(s):
    """The card needs 3-D Secure on a customer-present payment: one PaymentIntent for the whole balance,
    one challenge in the 402, and the one confirmation settles all five charges, with one receipt."""
    account_id, subs = _account(s, "pm_card_chargeCustomerFail", subs=2)
    values = [1000, 2000, 3000, 4000, 500]
    for n, value in enumerate(values):
        s.billing.charge_failed(account_id, subs[n % 2], f"INV-{n:04d}", value)
    answer = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_authenticationRequired"))
    assert answer.status_code == 402 and answer.json()["declineCode"] == "authentication_required", answer.text
    confirm = answer.json()["confirmation"]
    assert confirm["amount"] == {"value": 10500, "currency": "EUR"}
    (intent,) = _intents_of(s, account_id)
    assert intent["amount"] == 10500 and confirm["paymentIntentId"] == intent["id"]
    listed = s.portal.http.get(f"/api/accounts/{account_id}/payment-confirmations").json()["confirmations"]
    assert [(c["paymentIntentId"], c["amount"]["value"]) for c in listed] == [(intent["id"], 10500)]
    s.host.advance("PT3M")
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{intent['id']}/authenticate", json={})
    assert _wait(lambda: s.portal.account(account_id).json()["balance"]["value"] == 0)
    assert len(_intents_of(s, account_id)) == 1 and s.standin.taken(account_id) == 10500
    assert {sub["state"] for sub in s.portal.account(account_id).json()["subscriptions"]} == {"active"}
    (allocated,) = [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == "payment.allocated"]
    assert [a["amount"]["value"] for a in allocated["detail"]["allocation"]] == values
    assert _wait(
        lambda: any(
            "thank you for your payment" in m["subject"].lower()
            for m in s.host.emails_to(f"admin@{account_id}.example")
        )
    )
    receipts = [
        m
        for m in s.host.emails_to(f"admin@{account_id}.example")
        if "thank you for your payment" in m["subject"].lower()
    ]
    assert len(receipts) == 1
