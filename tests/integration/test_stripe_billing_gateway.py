"""Stripe Billing's invoices through the gateway port and the official SDK, over HTTP, against the stand-in:
paying (on- and off-session, uncollectible ones), reading, settling there (out of band, void, uncollectible),
and finding the invoice a payment paid (the Invoice Payments API)."""

from __future__ import annotations

import pytest
import stripe

from devhost.stripe_standin import StripeStandIn
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain.model import REQUIRES_ACTION, SUCCEEDED
from pastdue.domain.money import Money

KEY = "sk_test_standin_billing"


@pytest.fixture()
def standin():
    with StripeStandIn(KEY, contract=True) as running:
        yield running


@pytest.fixture()
def gateway(standin):
    return StripeGateway(KEY, standin.url, "pk_test_x")


def _customer(standin, gateway, account_id, token="pm_card_visa"):
    customer = gateway.ensure_customer(account_id, f"{account_id}@example.com", "Ada", None)
    method = gateway.adopt(standin.set_up_card(customer, token), customer)
    # The customer's default card at Stripe (what Stripe Billing's own tries use).
    standin.state.customers[customer]["invoice_settings"]["default_payment_method"] = method.token
    return customer, method.token


def _pays(standin, path):
    return [r for r in standin.state.requests if r["path"] == path]


def test_invoice_numbers_repeat_across_tenants_and_an_invoice_is_read_with_what_was_paid_where(standin, gateway):
    one, _ = _customer(standin, gateway, "tenant-a")
    two, _ = _customer(standin, gateway, "tenant-b")
    first = standin.create_invoice(one, 2000, subscription="sub_a", fail=False)
    second = standin.create_invoice(two, 4900, subscription="sub_b", fail=False, paid=900)
    assert first["number"] == second["number"] == "INV-0001"  # per-tenant numbering
    read = gateway.read_invoice(second["id"])
    assert (read.status, read.customer, read.amount_remaining, read.paid_there, read.paid_elsewhere) == (
        "open",
        two,
        Money(4000, "EUR"),
        Money(900, "EUR"),
        Money(0, "EUR"),
    )
    assert gateway.read_invoice("in_missing") is None
    # A credit note lowers what the invoice asks.
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    raw.v1.credit_notes.create({"invoice": first["id"], "amount": 500})
    assert gateway.read_invoice(first["id"]).amount_remaining == Money(1500, "EUR")


def test_pay_now_pays_an_invoice_on_session_and_stripe_takes_a_missing_off_session_as_off_session(standin, gateway):
    customer, token = _customer(standin, gateway, "tenant-a", "pm_card_authenticationRequired")
    invoice = standin.create_invoice(customer, 2000, subscription="sub_a", fail=False)
    present = gateway.pay_invoice(invoice["id"], token, "tenant-a:in:1", on_session=True)
    (sent,) = _pays(standin, f"/v1/invoices/{invoice['id']}/pay")
    assert sent["params"]["off_session"] == "false" and sent["key"] == "tenant-a:in:1"
    assert (present.outcome, present.code) == (REQUIRES_ACTION, "authentication_required")
    confirm = gateway.confirmation(present.reference)
    assert confirm["hostedInvoiceUrl"].endswith(invoice["id"]) and confirm["status"] == "requires_action"
    assert confirm["clientSecret"].startswith(confirm["paymentIntentId"])  # the invoice's own PaymentIntent
    # Off-session (the sweep) is said explicitly too; and without the parameter Stripe means off-session.
    gateway.pay_invoice(invoice["id"], token, "tenant-a:in:2", on_session=False)
    assert _pays(standin, f"/v1/invoices/{invoice['id']}/pay")[1]["params"]["off_session"] == "true"
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    with pytest.raises(stripe.CardError) as refused:
        raw.v1.invoices.pay(invoice["id"], {"payment_method": token})
    assert refused.value.code == "authentication_required"  # not the on-session requires_action


def test_an_uncollectible_invoice_can_still_be_paid_and_a_success_answers_all_that_was_paid_there(standin, gateway):
    customer, token = _customer(standin, gateway, "tenant-a")
    invoice = standin.create_invoice(customer, 2000, subscription="sub_a", fail=False, paid=500)
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    raw.v1.invoices.mark_uncollectible(invoice["id"])
    paid = gateway.pay_invoice(invoice["id"], token, "tenant-a:in:1")
    assert (paid.outcome, paid.amount, paid.reference) == (SUCCEEDED, Money(2000, "EUR"), invoice["id"])
    again = gateway.pay_invoice(invoice["id"], token, "tenant-a:in:1")  # a resume: paid, the same answer
    assert (again.outcome, again.amount) == (SUCCEEDED, Money(2000, "EUR"))
    assert standin.state.invoices[invoice["id"]]["amount_paid"] == 2000


def test_settling_an_invoice_there_out_of_band_void_or_uncollectible_by_its_state(standin, gateway):
    customer, _ = _customer(standin, gateway, "tenant-a")
    transfer = standin.create_invoice(customer, 2000, subscription="sub_a", fail=False)
    done = gateway.settle_invoice(transfer["id"], "paid_out_of_band", "tenant-a:in_x:settle", False)
    assert (done.outcome, done.paid_there, done.refused) == ("paid_out_of_band", Money(0, "EUR"), False)
    read = gateway.read_invoice(transfer["id"])
    assert (read.status, read.paid_elsewhere) == ("paid", Money(2000, "EUR"))
    (sent,) = _pays(standin, f"/v1/invoices/{transfer['id']}/pay")
    assert sent["params"] == {"paid_out_of_band": "true"} and sent["key"] == "tenant-a:in_x:settle"
    assert gateway.settle_invoice(transfer["id"], "paid_out_of_band", "k2", False).outcome == "already_paid"
    # A write-off: open and never partly paid is voided; paid in part there, or here, marked uncollectible.
    never = standin.create_invoice(customer, 1000, subscription="sub_a", fail=False)
    assert gateway.settle_invoice(never["id"], "write_off", "k3", False).outcome == "voided"
    assert standin.state.invoices[never["id"]]["status"] == "void"
    there = standin.create_invoice(customer, 1000, subscription="sub_a", fail=False, paid=100)
    assert gateway.settle_invoice(there["id"], "write_off", "k4", False).outcome == "uncollectible"
    here = standin.create_invoice(customer, 1000, subscription="sub_a", fail=False)
    assert gateway.settle_invoice(here["id"], "write_off", "k5", True).outcome == "uncollectible"
    assert gateway.settle_invoice(here["id"], "write_off", "k6", True).outcome == "already_uncollectible"
    # Paid there with money of its own before the settlement came: that is the answer, with what it took.
    retried = standin.create_invoice(customer, 700, subscription="sub_a", fail=False)
    standin.retry_invoice(retried["id"])
    late = gateway.settle_invoice(retried["id"], "paid_out_of_band", "k7", False)
    assert (late.outcome, late.paid_there) == ("already_paid", Money(700, "EUR"))


def test_the_invoice_a_payment_paid_is_found_and_the_billing_systems_own_payments_are_not_invoices(standin, gateway):
    customer, token = _customer(standin, gateway, "tenant-a")
    invoice = standin.create_invoice(customer, 2000, subscription="sub_a", fail=False)
    standin.retry_invoice(invoice["id"])
    (payment,) = standin.state.invoice_payments.values()
    intent = payment["payment"]["payment_intent"]
    assert standin.state.payment_intents[intent]["metadata"] == {}  # Stripe Billing's: no metadata of ours
    assert gateway.invoice_of_payment(intent) == invoice["id"]
    own = standin.billing_payment(customer, 1200, metadata={"accountId": "tenant-a", "orderId": "ORD-1"})
    assert gateway.invoice_of_payment(own["id"]) is None
    assert gateway.payment_metadata(own["id"])["accountId"] == "tenant-a"  # hence attribution by reference
