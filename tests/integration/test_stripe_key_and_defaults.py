"""The Stripe key refused (rotated, revoked, restricted) and the new card made Stripe's default only once
it has paid: through the real stripe SDK over HTTP against the local stand-in, the sweep in-process on a
database of its own."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import timedelta

import pytest

from devhost.stripe_standin import StripeStandIn
from pastdue import bootstrap
from pastdue.adapters.gateway import GatewayUnavailable
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain import events as ev
from pastdue.domain.model import PAID, PAY_NOW_DECLINED, SETTLED
from pastdue.domain.money import Money
from pastdue.services.billing import record_event
from pastdue.services.portal import pay_now
from pastdue.services.sweep import run_sweep
from tests.support.busy import new_account
from tests.support.stored import stored

KEY = "sk_test_standin_keys"


@pytest.fixture()
def standin():
    with StripeStandIn(KEY, contract=True) as running:
        yield running


def _deps(gateway):
    # Work the host does after the answer (the new card made Stripe's default) is done here at once.
    return dataclasses.replace(bootstrap.deps(), gateway=gateway, after_notices_queued=None, later=None)


def _account(deps, standin, gateway, clock, card="pm_card_visa", value=1500):
    """An account on a Stripe card whose INV-0001 failed (every tenant has an INV-0001)."""
    account_id = f"key-{uuid.uuid4().hex[:8]}"
    customer = gateway.ensure_customer(account_id, "a@example.com", "Ada", None)
    account = new_account(account_id)
    account.payment_method = gateway.adopt(standin.set_up_card(customer, card), customer)
    account.gateway_customer_id = customer
    deps.store.create(account)
    failed = ev.ChargeFailed("e-1", "s0", "INV-0001", Money(value, "EUR"), "card_declined", clock.now())
    assert record_event(deps, account_id, failed) == "processed"
    return account_id, customer


@pytest.mark.parametrize("refusal", ["rotated", "restricted"])
def test_a_refused_key_fails_no_account_sends_nothing_and_alerts_once(standin, clock, app_database, caplog, refusal):
    gateway = StripeGateway(KEY, standin.url)
    deps = _deps(gateway)
    accounts = [_account(deps, standin, gateway, clock, value=1500 + n) for n in range(3)]
    if refusal == "rotated":
        standin.state.api_key = "sk_test_rotated"  # 401 for the key the app holds
    else:
        standin.state.forbidden.add("payment_intents")  # 403: a restricted key without that permission
    caplog.set_level(logging.WARNING, logger="pastdue")
    for _ in range(6):  # more runs than the bulkhead's quarantine threshold
        clock.advance(timedelta(days=1, hours=1))
        run_sweep(deps, 600)
    for account_id, _ in accounts:
        account = deps.store.get(account_id)
        assert account is not None and account.failures == 0 and account.quarantine is None
        charge = account.charge_of("INV-0001")
        assert charge.status != PAID and [a.outcome for a in charge.attempts] == [None]  # reserved, never sent
        assert standin.taken(account_id) == 0
    alerts = [r for r in caplog.records if r.levelno >= logging.ERROR and "refused the API key" in r.getMessage()]
    assert len(alerts) == 1
    # The key works again: each reserved attempt is sent with its key, once.
    standin.state.api_key, standin.state.forbidden = KEY, set()
    clock.advance(timedelta(hours=1))
    run_sweep(deps, 600)
    for n, (account_id, _) in enumerate(accounts):
        account = deps.store.get(account_id)
        assert account is not None and account.charge_of("INV-0001").status == PAID
        assert standin.taken(account_id) == 1500 + n


def test_a_refused_key_is_unavailable_for_every_call_not_a_bad_card(standin):
    gateway = StripeGateway("sk_test_revoked", standin.url)
    with pytest.raises(GatewayUnavailable):
        gateway.ensure_customer("acct-1", "a@example.com", "Ada", None)
    with pytest.raises(GatewayUnavailable):
        gateway.describe("pm_card_visa")


def _new_card(standin, gateway, account_id, card):
    account = bootstrap.deps().store.get(account_id)
    assert account is not None and account.gateway_customer_id
    customer = account.gateway_customer_id
    return gateway.adopt(standin.set_up_card(customer, card), customer)


def test_a_new_card_becomes_stripes_default_and_its_subscriptions_only_once_it_has_paid(standin, clock, app_database):
    gateway = StripeGateway(KEY, standin.url)
    deps = _deps(gateway)
    account_id, customer = _account(deps, standin, gateway, clock, card="pm_card_chargeCustomerFail")
    old = standin.state.customers[customer]["invoice_settings"]["default_payment_method"]
    old_method = stored(deps.store, account_id).payment_method
    assert old_method is not None
    old_card = old_method.token
    own = standin.create_subscription(customer, default_payment_method=old_card)  # renewals use this first
    plain = standin.create_subscription(customer)  # follows the customer's default
    declined = _new_card(standin, gateway, account_id, "pm_card_chargeDeclined")
    answer = pay_now(deps, account_id, "key-declined-01", "h1", declined, "user:1")
    assert answer.outcome == PAY_NOW_DECLINED
    assert standin.state.customers[customer]["invoice_settings"]["default_payment_method"] == old
    assert standin.state.subscriptions[own["id"]]["default_payment_method"] == old_card
    good = _new_card(standin, gateway, account_id, "pm_card_visa")
    answer = pay_now(deps, account_id, "key-good-00001", "h2", good, "user:1")
    assert answer.outcome == SETTLED and answer.account.balance().is_zero
    assert standin.state.customers[customer]["invoice_settings"]["default_payment_method"] == good.token
    assert standin.state.subscriptions[own["id"]]["default_payment_method"] == good.token
    assert standin.state.subscriptions[plain["id"]]["default_payment_method"] is None


def test_the_card_updater_is_answered_after_one_write_and_pays_after_the_answer(standin, clock, app_database):
    from pastdue.services.stripe_events import CARD_UPDATED, handle_event

    gateway = StripeGateway(KEY, standin.url)
    later: list = []
    deps = dataclasses.replace(_deps(gateway), later=later.append)
    account_id, customer = _account(deps, standin, gateway, clock, card="pm_card_visa")
    account = deps.store.get(account_id)
    assert account is not None and account.payment_method is not None
    token = account.payment_method.token
    assert handle_event(deps, "evt_updated_1", CARD_UPDATED, {"id": token, "customer": customer}) == "paid"
    reserved = deps.store.get(account_id)
    assert reserved is not None and [a.outcome for a in reserved.charge_of("INV-0001").attempts] == [None]
    assert standin.taken(account_id) == 0 and len(later) == 1  # nothing sent before the answer
    later.pop()()
    paid = deps.store.get(account_id)
    assert paid is not None and paid.charge_of("INV-0001").status == PAID and standin.taken(account_id) == 1500
    assert [n.kind for n in paid.outbox].count("payment_received") == 1
