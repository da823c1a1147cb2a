"""The Stripe gateway through the official SDK, over HTTP, against the local Stripe stand-in."""

from __future__ import annotations

import pytest

from devhost.stripe_standin import StripeStandIn
from pastdue.adapters.gateway import OutcomeUnknown, UnknownToken
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain.model import DECLINED, ERROR, REQUIRES_ACTION, SUCCEEDED
from pastdue.domain.money import Money

KEY = "sk_test_standin_gateway"
EUR = Money(1234, "EUR")


@pytest.fixture()
def standin():
    with StripeStandIn(KEY) as running:
        yield running


@pytest.fixture()
def gateway(standin):
    return StripeGateway(KEY, standin.url, "pk_test_x")


def _card(gateway, token="pm_card_visa", account="acct-1"):
    customer = gateway.ensure_customer(account, "a@example.com", "Ada", None)
    return customer, gateway.adopt(token, customer)


def _intents(standin, key=None):
    return [pi for pi in standin.state.payment_intents.values()
            if key is None or pi["metadata"].get("attempt") == key]


def test_customers_are_created_once_and_cards_attached_as_their_default(standin, gateway):
    customer = gateway.ensure_customer("acct-1", "a@example.com", "Ada", None)
    assert customer.startswith("cus_")
    assert gateway.ensure_customer("acct-1", "a@example.com", "Ada", None) == customer  # same idempotency key
    assert gateway.ensure_customer("acct-1", "a@example.com", "Ada", "cus_given") == "cus_given"
    method = gateway.adopt("pm_card_mastercard", customer)
    assert method.token.startswith("pm_") and method.token != "pm_card_mastercard"
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("mastercard", "4444", 12, 2034)
    assert standin.state.customers[customer]["invoice_settings"]["default_payment_method"] == method.token
    assert gateway.describe(method.token) == method
    with pytest.raises(UnknownToken):
        gateway.describe("pm_does_not_exist")
    with pytest.raises(UnknownToken):
        gateway.adopt("pm_does_not_exist", customer)


def test_a_charge_is_one_payment_intent_per_attempt_key(standin, gateway):
    customer, method = _card(gateway)
    metadata = {"accountId": "acct-1", "subscriptionId": "s", "chargeId": "ch-1", "attempt": "ch-1:1"}
    first = gateway.charge(method.token, EUR, "ch-1:1", customer, metadata)
    again = gateway.charge(method.token, EUR, "ch-1:1", customer, metadata)
    assert first.outcome == SUCCEEDED and first.amount == EUR and first.reference.startswith("pi_")
    assert again == first
    (intent,) = _intents(standin, "ch-1:1")
    assert intent["amount"] == 1234 and intent["currency"] == "eur" and intent["metadata"] == metadata
    assert intent["customer"] == customer
    reused = gateway.charge(method.token, Money(999, "EUR"), "ch-1:1", customer, metadata)
    assert (reused.outcome, reused.code) == (ERROR, "idempotency_key_reused")


@pytest.mark.parametrize("token, outcome, code, hard", [
    ("pm_card_chargeDeclinedInsufficientFunds", DECLINED, "insufficient_funds", False),
    ("pm_card_chargeCustomerFail", DECLINED, "generic_decline", False),
    ("pm_card_chargeDeclinedStolenCard", DECLINED, "stolen_card", True),
    ("pm_card_chargeDeclinedFraudulent", DECLINED, "fraudulent", True),
    ("pm_card_chargeDeclinedExpiredCard", DECLINED, "expired_card", False),
    ("pm_card_chargeDeclinedProcessingError", ERROR, "processing_error", False),
    ("pm_card_authenticationRequired", REQUIRES_ACTION, "authentication_required", False),
])
def test_stripe_answers_become_outcomes(standin, gateway, token, outcome, code, hard):
    customer, method = _card(gateway, token)
    answer = gateway.charge(method.token, EUR, "ch-9:1", customer, {"attempt": "ch-9:1"})
    assert (answer.outcome, answer.code, answer.hard) == (outcome, code, hard)
    assert answer.reference == _intents(standin, "ch-9:1")[0]["id"]
    if outcome == REQUIRES_ACTION:
        confirm = gateway.confirmation(answer.reference)
        assert confirm["clientSecret"].startswith(answer.reference) and confirm["publishableKey"] == "pk_test_x"


def test_a_dropped_answer_leaves_the_outcome_unknown_and_the_same_key_gets_the_first_answer(standin, gateway):
    customer, method = _card(gateway)
    standin.state.faults.extend(["drop"] * 3)  # the SDK's own retries (2) are dropped too
    with pytest.raises(OutcomeUnknown):
        gateway.charge(method.token, EUR, "ch-2:1", customer, {"attempt": "ch-2:1"})
    answer = gateway.charge(method.token, EUR, "ch-2:1", customer, {"attempt": "ch-2:1"})
    assert answer.outcome == SUCCEEDED
    assert len(_intents(standin, "ch-2:1")) == 1  # charged once


@pytest.mark.parametrize("fault", ["429", "500"])
def test_bursts_of_429_and_500_never_charge_twice(standin, gateway, fault):
    customer, method = _card(gateway)
    standin.state.faults.extend([fault] * 2)  # within the SDK's retries: answered on the third try
    assert gateway.charge(method.token, EUR, "ch-3:1", customer, {"attempt": "ch-3:1"}).outcome == SUCCEEDED
    standin.state.faults.extend([fault] * 3)  # beyond them: unknown, and a later try with the key succeeds
    with pytest.raises(OutcomeUnknown):
        gateway.charge(method.token, EUR, "ch-4:1", customer, {"attempt": "ch-4:1"})
    assert gateway.charge(method.token, EUR, "ch-4:1", customer, {"attempt": "ch-4:1"}).outcome == SUCCEEDED
    assert len(_intents(standin, "ch-3:1")) == 1 and len(_intents(standin, "ch-4:1")) == 1


def test_the_setup_route_answer_holds_a_setup_intent_client_secret(standin, gateway):
    customer = gateway.ensure_customer("acct-5", "a@example.com", "Ada", None)
    setup = gateway.start_setup(customer)
    assert setup["gateway"] == "stripe" and setup["clientSecret"].startswith(setup["setupIntentId"])
    assert standin.state.setup_intents[setup["setupIntentId"]]["usage"] == "off_session"
