"""Stripe Billing: an invoice paid by someone else between pastdue's read and its `invoices.pay` (Stripe's own
retry, or the customer on the hosted page) answers `invoice_already_paid`. The real stripe SDK, over HTTP,
against the local Stripe stand-in; the sweep's retry on the in-memory repository."""

from __future__ import annotations

import re

import pytest
import stripe

from devhost.stripe_standin import StripeStandIn
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain.model import PAID, SUCCEEDED
from pastdue.services.stripe_events import handle_event
from pastdue.services.sweep import run_sweep
from tests.unit.builders import T0, account, clock_of, days
from tests.unit.test_use_cases_in_memory import world

KEY = "sk_test_standin_invoice_race"
PAY = re.compile(r"/v1/invoices/(in_\w+)/pay")


class PaidMeanwhile(StripeStandIn):
    """Stripe, where the invoice's own retry (Smart Retries, with the customer's default card) pays it just
    before pastdue's `invoices.pay` reaches it."""

    retries: list[int] = []  # what each of Stripe's own retries answered

    def handle(self, method: str, path: str, params: dict):
        paying = PAY.fullmatch(path) if method == "POST" else None
        if paying and self.state.invoices[paying.group(1)]["status"] == "open":
            status, _ = self.retry_invoice(paying.group(1))
            self.retries.append(status)
        return super().handle(method, path, params)


@pytest.fixture()
def standin():
    with PaidMeanwhile(KEY) as running:
        running.retries = []
        yield running


def test_an_invoice_paid_meanwhile_is_read_again_and_settles_the_charge(standin):
    gateway = StripeGateway(KEY, standin.url)
    customer = gateway.ensure_customer("acct-1", "admin@example.com", "Ada", None)
    card = gateway.adopt(standin.set_up_card(customer, "pm_card_visa"), customer)
    # Stripe Billing collects its invoices with the customer's default card (set by the billing system).
    billing = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    billing.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": card.token}})
    invoice = standin.create_invoice(customer, 2000, subscription="sub-0")  # Stripe's first try failed

    deps, store, _ = world()  # the store finds accounts by their processor customer
    deps.gateway = gateway
    acc = account(method=card)
    acc.gateway_customer_id = customer
    store.create(acc)
    # Stripe Billing's event, as Stripe sends it: the invoice is the charge pastdue dunns.
    assert handle_event(deps, "evt_inv_failed", "invoice.payment_failed", invoice) == "processed"
    clock_of(deps).at = T0 + days(1.1)
    summary = run_sweep(deps, budget_seconds=60)  # pastdue's retry pays the invoice: Stripe says it is paid

    assert standin.retries == [200] and standin.state.invoices[invoice["id"]]["status"] == "paid"
    pays = [r for r in standin.state.requests if PAY.fullmatch(r["path"])]
    assert len(pays) == 1  # pastdue's request did reach Stripe, and met the invoice already paid
    after = store.get("acct-1")
    assert after is not None
    charge = after.charge(invoice["id"])
    assert charge is not None and charge.status == PAID and after.balance().is_zero
    assert [a.outcome for a in charge.attempts] == [SUCCEEDED]
    kinds = [h["kind"] for h in after.history]
    assert "charge.succeeded" in kinds and "charge.error" not in kinds
    assert summary["chargesRecovered"] == 1 and summary.get("chargeErrors", 0) == 0
    assert standin.taken() == 2000  # one debit: Stripe's own retry's
