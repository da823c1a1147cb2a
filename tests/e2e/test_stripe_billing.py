"""Stripe Billing and reversals end to end: the local host with PAYMENT_GATEWAY=stripe, the real stripe SDK,
the stand-in posting signed events back. Several tenants share the Stripe account, and the billing system's
charge numbers repeat across them (both have INV-0001)."""

from __future__ import annotations

import httpx

from tests.e2e import test_stripe as base
from tests.e2e.test_stripe import _account, _delivered, _invoice_account, _kinds, _new_card, _wait
from tests.support.clients import Support

# The Stripe end-to-end fixtures (one stand-in and one host for this module).
standin, stripe_env, stripe_host, s = base.standin, base.stripe_env, base.stripe_host, base.s


def _default_card(s, account_id, customer, token):
    """The customer's default card at Stripe (what Stripe Billing's own retries use)."""
    method = s.standin.state.setup_intents[_new_card(s, account_id, token)]["payment_method"]
    s.standin.state.customers[customer]["invoice_settings"]["default_payment_method"] = method


def _invoice(s, customer, sub_id, amount, **extra):
    return httpx.post(
        f"{s.standin.url}/_standin/invoices",
        json={"customer": customer, "amount": amount, "subscription": sub_id, **extra},
    ).json()


def _balance(s, account_id):
    return s.portal.account(account_id).json()["balance"]["value"]


def _history(s, account_id, kind):
    return [e for e in s.portal.history(account_id).json()["entries"] if e["kind"] == kind]


def test_an_invoice_settled_here_is_settled_at_stripe_and_money_taken_there_afterwards_is_credit(s):
    account_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    invoice = _invoice(s, customer, sub_id, 2000)
    assert _wait(lambda: _balance(s, account_id) == 2000)
    assert s.billing.payment_received(account_id, 2000, "TR-1").status_code == 200
    at_stripe = s.standin.state.invoices[invoice["id"]]
    assert _wait(lambda: at_stripe["status"] == "paid")  # Smart Retries can no longer collect it
    assert s.standin._paid_off_stripe[invoice["id"]] == 2000 and _invoice_intents_paid(s, invoice["id"]) == 0
    (done,) = _history(s, account_id, "charge.settlement.done")
    assert done["detail"]["outcome"] == "paid_out_of_band"
    # invoice.paid for our own marking: once the app has answered it, no money.
    assert _wait(lambda: _delivered(s, "invoice.paid", invoice["id"])), s.standin.state.deliveries[-5:]
    assert [d["status"] for d in _delivered(s, "invoice.paid", invoice["id"])] == [200]
    assert s.portal.account(account_id).json()["credit"] is None
    # Stripe's own retry collects a second invoice just before the transfer for it lands here (its event held):
    second = _invoice(s, customer, sub_id, 1500)
    assert _wait(lambda: _balance(s, account_id) == 1500)
    s.standin.state.delivery = "manual"
    _default_card(s, account_id, customer, "pm_card_visa")
    httpx.post(f"{s.standin.url}/_standin/invoices/{second['id']}/retry", json={})
    s.billing.payment_received(account_id, 1500, "TR-2")
    # The settlement finds it paid there: the money is credit, operators are alerted, once.
    assert _wait(lambda: (s.portal.account(account_id).json()["credit"] or {}).get("value") == 1500)
    assert set(s.standin.deliver_held()) == {200}  # answered by the app, invoice.paid of the second among them
    assert [d["status"] for d in _delivered(s, "invoice.paid", second["id"])] == [200]
    assert s.portal.account(account_id).json()["credit"]["value"] == 1500
    (alert,) = _history(s, account_id, "payment.unexpected")
    assert alert["detail"]["reason"] == "paidAfterSettled" and alert["detail"]["amount"]["value"] == 1500


def _invoice_intents_paid(s, invoice_id):
    return sum(1 for p in s.standin.state.invoice_payments.values() if p["invoice"] == invoice_id)


def test_a_stale_failure_after_the_invoice_was_paid_opens_nothing_and_failures_are_dated_by_the_event(s):
    account_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    s.standin.state.delivery = "manual"
    invoice = _invoice(s, customer, sub_id, 900)  # invoice.payment_failed, held
    _default_card(s, account_id, customer, "pm_card_visa")
    httpx.post(f"{s.standin.url}/_standin/invoices/{invoice['id']}/retry", json={})  # invoice.paid, held
    assert set(s.standin.deliver_held(reverse=True)) == {200}  # paid first, the stale failure after
    assert _balance(s, account_id) == 0 and _kinds(s, account_id)["charge.failed"] == 0
    # A failure delivered days after the invoice was made is dated by its event.
    s.standin.state.delivery = "async"
    _default_card(s, account_id, customer, "pm_card_chargeCustomerFail")
    later = _invoice(s, customer, sub_id, 800, fail=False)
    s.host.advance("P2D")
    httpx.post(f"{s.standin.url}/_standin/invoices/{later['id']}/retry", json={})
    assert _wait(lambda: _balance(s, account_id) == 800)
    since = s.portal.account(account_id).json()["subscriptions"][0]["pastDueSince"]
    assert since[:10] == s.host.now()[:10]  # not the invoice's creation, two days before


def test_a_voided_invoice_is_no_longer_dunned_and_an_uncollectible_one_is_paid_by_pay_now(s):
    account_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    voided = _invoice(s, customer, sub_id, 1200)
    assert _wait(lambda: _balance(s, account_id) == 1200)
    s.client.v1.invoices.void_invoice(voided["id"])
    assert _wait(lambda: _balance(s, account_id) == 0)
    assert s.portal.account(account_id).json()["subscriptions"][0]["state"] == "active"
    assert _kinds(s, account_id)["charge.voided"] == 1
    uncollectible = _invoice(s, customer, sub_id, 700)
    assert _wait(lambda: _balance(s, account_id) == 700)
    s.client.v1.invoices.mark_uncollectible(uncollectible["id"])
    assert _wait(lambda: _kinds(s, account_id)["charge.uncollectible"] == 1)
    s.host.advance("P1D")
    s.host.run("daily_sweep")  # retried on day 1 (still payable): declined, nothing about the voided one
    assert _kinds(s, account_id)["charge.declined"] == 1
    paid = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_visa"))
    assert paid.status_code == 200, paid.text
    assert s.standin.state.invoices[uncollectible["id"]]["status"] == "paid" and _balance(s, account_id) == 0
    pays = [r for r in s.standin.state.requests if r["path"] == f"/v1/invoices/{uncollectible['id']}/pay"]
    assert [r["params"]["off_session"] for r in pays] == ["true", "false"]  # the sweep's, then the admin's


def test_pay_now_of_an_invoice_asks_the_present_admin_to_authenticate_the_invoices_payment(s):
    account_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    invoice = _invoice(s, customer, sub_id, 2500)
    assert _wait(lambda: _balance(s, account_id) == 2500)
    answer = s.portal.pay(account_id, _new_card(s, account_id, "pm_card_authenticationRequired"))
    assert answer.status_code == 402, answer.text
    confirmation = answer.json()["confirmation"]
    assert confirmation["hostedInvoiceUrl"].endswith(invoice["id"])
    assert confirmation["clientSecret"].startswith(confirmation["paymentIntentId"])
    (sent,) = [r for r in s.standin.state.requests if r["path"] == f"/v1/invoices/{invoice['id']}/pay"]
    assert sent["params"]["off_session"] == "false"


def test_a_write_off_of_an_invoice_voids_it_at_stripe(s):
    account_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    invoice = _invoice(s, customer, sub_id, 3000)
    assert _wait(lambda: _balance(s, account_id) == 3000)
    assert Support(s.host.http.base_url).write_off(account_id, invoice["id"]).status_code == 200
    assert _wait(lambda: s.standin.state.invoices[invoice["id"]]["status"] == "void")
    # invoice.voided, our own: once the app has answered it, nothing more.
    assert _wait(lambda: _delivered(s, "invoice.voided", invoice["id"])), s.standin.state.deliveries[-5:]
    assert [d["status"] for d in _delivered(s, "invoice.voided", invoice["id"])] == [200]
    assert _kinds(s, account_id)["charge.voided"] == 0 and _kinds(s, account_id)["charge.written_off"] == 1


def test_a_stripe_customer_shared_by_two_accounts_is_refused_not_given_to_the_first(s):
    first_id, customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    second_id, _ = _account(s, None, subs=0, gatewayCustomerId=customer)
    assert s.billing.subscription(second_id, sub_id).status_code == 201
    invoice = _invoice(s, customer, sub_id, 1000)
    # Once the app has answered its invoice.payment_failed, neither account owes it.
    assert _wait(lambda: _delivered(s, "invoice.payment_failed", invoice["id"])), s.standin.state.deliveries[-5:]
    assert [d["status"] for d in _delivered(s, "invoice.payment_failed", invoice["id"])] == [200]
    assert _balance(s, first_id) == 0 and _balance(s, second_id) == 0


def test_refunds_and_disputes_are_attributed_only_to_payments_this_app_made(s):
    one, (sub_one, sub_extra) = _account(s, "pm_card_visa", subs=2)
    two, (sub_two,) = _account(s, "pm_card_visa")
    s.billing.charge_failed(one, sub_one, "INV-0001", 1000)
    s.billing.charge_failed(two, sub_two, "INV-0001", 1000)  # the same number in the other tenant
    s.billing.payment_received(two, 1000, "TR-2")  # paid by transfer there
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    # A day later, the second charge: its own retry, its own payment (a day's retries would be one payment).
    s.billing.charge_failed(one, sub_extra, "INV-0002", 1000)
    s.host.advance("P1D")
    s.host.run("daily_sweep")
    assert _wait(lambda: _balance(s, one) == 0 and _balance(s, two) == 0)
    by_charge = {
        pi["metadata"]["chargeId"]: pi
        for pi in s.standin.state.payment_intents.values()
        if pi["metadata"].get("accountId") == one
    }
    ours, other = by_charge["INV-0001"], by_charge["INV-0002"]
    # The billing system's own PaymentIntent, naming the other tenant and its INV-0001: refunded, not ours.
    theirs = httpx.post(
        f"{s.standin.url}/_standin/billing/payment_intents",
        json={"customer": ours["customer"], "amount": 5000, "metadata": {"accountId": two, "chargeId": "INV-0001"}},
    ).json()
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{theirs['id']}/refund", json={})
    # Ours, refunded in part on purpose: recorded, not owed again; the refund then fails: the money is credit.
    refund = httpx.post(f"{s.standin.url}/_standin/payment_intents/{ours['id']}/refund", json={"amount": 400}).json()
    assert _wait(lambda: _kinds(s, one)["payment.refunded"] == 1)
    assert _balance(s, one) == 0
    httpx.post(f"{s.standin.url}/_standin/refunds/{refund['refund']}/fail", json={})
    assert _wait(lambda: (s.portal.account(one).json()["credit"] or {}).get("value") == 400)
    # A partial dispute: an inquiry first (recorded), then funds withdrawn, then lost: 300 owed again, which
    # the credit pays.
    inquiry = httpx.post(
        f"{s.standin.url}/_standin/payment_intents/{other['id']}/dispute", json={"inquiry": True, "amount": 300}
    ).json()
    httpx.post(f"{s.standin.url}/_standin/disputes/{inquiry['id']}/warning_closed", json={})
    dispute = httpx.post(f"{s.standin.url}/_standin/payment_intents/{other['id']}/dispute", json={"amount": 300}).json()
    httpx.post(f"{s.standin.url}/_standin/disputes/{dispute['id']}/funds_withdrawn", json={})
    httpx.post(f"{s.standin.url}/_standin/disputes/{dispute['id']}/lost", json={})
    assert _wait(lambda: _kinds(s, one)["payment.dispute_lost"] == 1)
    assert s.portal.account(one).json()["credit"]["value"] == 100 and _balance(s, one) == 0
    kinds = _kinds(s, one)
    assert (kinds["payment.inquiry"], kinds["payment.inquiry_closed"], kinds["payment.dispute_funds_withdrawn"]) == (
        1,
        1,
        1,
    )
    assert kinds["payment.refunded"] == 1 and _kinds(s, two)["payment.refunded"] == 0
    # A Stripe Billing payment (no metadata) is found through its invoice.
    account_id, inv_customer, sub_id = _invoice_account(s, "pm_card_chargeCustomerFail")
    invoice = _invoice(s, inv_customer, sub_id, 2000)
    assert _wait(lambda: _balance(s, account_id) == 2000)
    _default_card(s, account_id, inv_customer, "pm_card_visa")
    httpx.post(f"{s.standin.url}/_standin/invoices/{invoice['id']}/retry", json={})
    assert _wait(lambda: _balance(s, account_id) == 0)
    (payment,) = [p for p in s.standin.state.invoice_payments.values() if p["invoice"] == invoice["id"]]
    httpx.post(f"{s.standin.url}/_standin/payment_intents/{payment['payment']['payment_intent']}/refund", json={})
    assert _wait(lambda: _kinds(s, account_id)["payment.refunded"] == 1)
    (refunded,) = _history(s, account_id, "payment.refunded")
    assert refunded["detail"]["chargeId"] == invoice["id"]
