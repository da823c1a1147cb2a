"""The Stripe gateway through the official SDK, over HTTP, against the local Stripe stand-in."""

from __future__ import annotations

import pytest
import stripe

from devhost.stripe_standin import StripeStandIn
from pastdue.adapters.gateway import OutcomeUnknown, UnknownToken
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain.model import DECLINED, ERROR, NOT_SENT, REQUIRES_ACTION, SUCCEEDED
from pastdue.domain.money import Money

KEY = "sk_test_standin_gateway"
EUR = Money(1234, "EUR")


@pytest.fixture()
def standin():
    with StripeStandIn(KEY, contract=True) as running:
        _STANDIN[:] = [running]
        yield running


@pytest.fixture()
def gateway(standin):
    return StripeGateway(KEY, standin.url, "pk_test_x")


def _card(gateway, token="pm_card_visa", account="acct-1"):
    customer = gateway.ensure_customer(account, "a@example.com", "Ada", None)
    return customer, gateway.adopt(_STANDIN[0].set_up_card(customer, token), customer)


_STANDIN: list = []


def _intents(standin, key=None):
    return [pi for pi in standin.state.payment_intents.values() if key is None or pi["metadata"].get("attempt") == key]


def test_customers_are_created_once_and_cards_made_their_default_once_they_have_paid(standin, gateway):
    customer = gateway.ensure_customer("acct-1", "a@example.com", "Ada", None)
    assert customer.startswith("cus_")
    assert gateway.ensure_customer("acct-1", "a@example.com", "Ada", None) == customer  # same idempotency key
    assert gateway.ensure_customer("acct-1", "a@example.com", "Ada", "cus_given") == "cus_given"
    method = gateway.adopt(standin.set_up_card(customer, "pm_card_mastercard"), customer)
    assert method.token.startswith("pm_") and method.token != "pm_card_mastercard"
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == ("mastercard", "4444", 12, 2034)
    # Checked, not yet the default: a card becomes it once it has paid (the portal calls make_default then).
    assert standin.state.customers[customer]["invoice_settings"]["default_payment_method"] is None
    gateway.make_default(method.token, customer)
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
    # Created and confirmed in one request under the attempt's key, off-session; the second charge with
    # the key is the same request, replayed by Stripe: no confirm by id, no second PaymentIntent.
    posts = [r for r in standin.state.requests if r["path"].startswith("/v1/payment_intents")]
    assert [r["path"] for r in posts] == ["/v1/payment_intents", "/v1/payment_intents"]
    assert all(r["key"] == "ch-1:1" for r in posts)
    assert posts[0]["params"]["confirm"] == "true" and posts[0]["params"]["off_session"] == "true"
    # The same key for another amount is never a new charge: the key's own payment is what counts.
    with pytest.raises(OutcomeUnknown):  # Stripe's search does not see it yet (a minute's lag)
        gateway.charge(method.token, Money(999, "EUR"), "ch-1:1", customer, metadata)
    standin.advance(120)
    reused = gateway.charge(method.token, Money(999, "EUR"), "ch-1:1", customer, metadata)
    assert (reused.outcome, reused.amount, reused.reference) == (SUCCEEDED, EUR, first.reference)
    assert len(_intents(standin, "ch-1:1")) == 1


def test_a_key_reused_after_stripes_24_hours_is_a_new_request_so_a_resume_finds_the_payment_first(standin, gateway):
    """The stand-in prunes keys after 24 hours as Stripe does: sending the key again creates a second
    PaymentIntent. A resumed attempt (its answer lost) searches by its metadata and never creates anew."""
    customer, method = _card(gateway)
    metadata = {"accountId": "acct-1", "chargeId": "ch-5", "attempt": "ch-5:1"}
    standin.state.faults.extend(["create:drop"] * 3)  # charged, the answers lost (the SDK's retries too)
    with pytest.raises(OutcomeUnknown) as lost:
        gateway.charge(method.token, EUR, "ch-5:1", customer, metadata)
    (intent,) = _intents(standin, "ch-5:1")
    assert intent["status"] == "succeeded" and lost.value.reference is None  # its id never reached us
    standin.advance(25 * 3600)
    # The old path (create under the same key, a day later) would charge again: the stand-in is strict.
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    raw.v1.payment_intents.create(
        {
            "amount": 1234,
            "currency": "eur",
            "payment_method": method.token,
            "customer": customer,
            "metadata": {"attempt": "probe"},
        },
        {"idempotency_key": "ch-5:1"},
    )
    assert len(_intents(standin, "probe")) == 1  # a new PaymentIntent: the key was forgotten
    # The gateway, resuming without the reference (say the write that kept it was lost), finds it.
    found = gateway.charge(method.token, EUR, "ch-5:1", customer, metadata, resume=True)
    assert (found.outcome, found.reference) == (SUCCEEDED, intent["id"])
    # And with the reference kept, it is retrieved by id.
    by_id = gateway.charge(method.token, EUR, "ch-5:1", customer, metadata, reference=intent["id"])
    assert (by_id.outcome, by_id.reference) == (SUCCEEDED, intent["id"])
    assert len(_intents(standin, "ch-5:1")) == 1 and standin.taken() == 1234  # the probe was never confirmed


def test_a_500_is_saved_under_its_key_and_replayed_so_the_payment_is_resolved_by_the_search(standin, gateway):
    customer, method = _card(gateway)
    metadata = {"accountId": "acct-1", "chargeId": "ch-6", "attempt": "ch-6:1"}
    standin.state.faults.append("create:500")  # the create ran (money taken), then Stripe answered 500
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.charge(method.token, EUR, "ch-6:1", customer, metadata)
    (intent,) = _intents(standin, "ch-6:1")
    assert intent["status"] == "succeeded" and unknown.value.reference is None
    creates = [r for r in standin.state.requests if r["path"] == "/v1/payment_intents"]
    assert len(creates) == 3  # the SDK retried with the same key: the saved 500 was replayed each time
    with pytest.raises(OutcomeUnknown):  # resumed within the search's lag: the key replays the 500 again
        gateway.charge(method.token, EUR, "ch-6:1", customer, metadata, resume=True)
    standin.advance(90)
    answer = gateway.charge(method.token, EUR, "ch-6:1", customer, metadata, resume=True)
    assert (answer.outcome, answer.amount, answer.reference) == (SUCCEEDED, EUR, intent["id"])
    assert len(_intents(standin, "ch-6:1")) == 1 and standin.taken() == 1234


def test_an_idempotency_error_is_unknown_not_nothing_charged(standin, gateway):
    customer, method = _card(gateway)
    metadata = {"accountId": "acct-1", "chargeId": "ch-7", "attempt": "ch-7:1"}
    first = gateway.charge(method.token, EUR, "ch-7:1", customer, metadata)
    with pytest.raises(OutcomeUnknown):
        gateway.charge(method.token, Money(5000, "EUR"), "ch-7:1", customer, metadata)
    standin.advance(90)
    assert gateway.charge(method.token, Money(5000, "EUR"), "ch-7:1", customer, metadata).reference == first.reference


def test_processing_stays_in_flight_and_is_resolved_by_retrieving_it(standin, gateway):
    customer, method = _card(gateway)
    metadata = {"accountId": "acct-1", "chargeId": "ch-8", "attempt": "ch-8:1"}
    standin.state.faults.append("processing")
    with pytest.raises(OutcomeUnknown) as processing:
        gateway.charge(method.token, EUR, "ch-8:1", customer, metadata)
    reference = processing.value.reference
    assert standin.state.payment_intents[reference]["status"] == "processing"
    with pytest.raises(OutcomeUnknown):
        gateway.charge(method.token, EUR, "ch-8:1", customer, metadata, reference=reference)
    standin.settle(reference, succeed=True)
    answer = gateway.charge(method.token, EUR, "ch-8:1", customer, metadata, reference=reference)
    assert (answer.outcome, answer.reference) == (SUCCEEDED, reference)
    assert len(_intents(standin, "ch-8:1")) == 1


@pytest.mark.parametrize(
    "amount, code",
    [
        (Money(49, "EUR"), "amount_too_small"),
        (Money(29, "GBP"), "amount_too_small"),
        (Money(100_000_000, "EUR"), "amount_too_large"),
        (Money(1005, "KWD"), "invalid_amount"),
        (Money(150, "MGA"), "amount_not_representable"),
    ],
)
def test_amounts_stripe_refuses_are_not_sent_and_are_not_the_cards_fault(standin, gateway, amount, code):
    customer, method = _card(gateway)
    answer = gateway.charge(method.token, amount, "ch-10:1", customer, {"attempt": "ch-10:1"})
    assert (answer.outcome, answer.code, answer.invalid, answer.hard) == (NOT_SENT, code, True, False)
    assert _intents(standin, "ch-10:1") == []


def test_the_stand_in_refuses_those_amounts_as_stripe_does(standin):
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    for amount, currency, code in (
        (49, "eur", "amount_too_small"),
        (100_000_000, "eur", "amount_too_large"),
        (1005, "kwd", "invalid_amount"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            raw.v1.payment_intents.create(
                {"amount": amount, "currency": currency, "payment_method": "pm_card_visa"},
                {"idempotency_key": f"probe-{code}-{currency}"},
            )
        assert (refused.value.code, refused.value.param, refused.value.http_status) == (code, "amount", 400)


def test_an_invalid_request_stripe_refuses_anyway_is_an_operator_problem(standin, gateway):
    customer, method = _card(gateway)
    # A minimum the app's table does not know (Stripe's is the equivalent of USD 0.50 on the day's rate).
    standin.minimum["zar"] = 1000
    answer = gateway.charge(method.token, Money(999, "ZAR"), "ch-11:1", customer, {"attempt": "ch-11:1"})
    assert (answer.outcome, answer.code, answer.invalid, answer.hard) == (ERROR, "amount_too_small", True, False)
    assert _intents(standin, "ch-11:1") == []
    # A payment method that is gone is the card's problem: a new one is needed.
    gone = gateway.charge("pm_does_not_exist", EUR, "ch-12:1", customer, {"attempt": "ch-12:1"})
    assert (gone.outcome, gone.code, gone.hard, gone.invalid) == (DECLINED, "payment_method_unusable", True, False)


@pytest.mark.parametrize(
    "iso, stripe_value",
    [
        (Money(500, "ISK"), 50000),
        (Money(1000, "JPY"), 1000),
        (Money(20050, "HUF"), 20050),
        (Money(5000, "TWD"), 5000),
        (Money(5000, "UGX"), 5000),
        (Money(1230, "KWD"), 1230),
        (Money(4200, "MGA"), 42),
        (Money(1234, "EUR"), 1234),
    ],
)
def test_amounts_are_sent_in_stripes_decimals_and_read_back_in_isos(standin, gateway, iso, stripe_value):
    customer, method = _card(gateway)
    key = f"ch-{iso.currency}:1"
    answer = gateway.charge(method.token, iso, key, customer, {"attempt": key})
    (intent,) = _intents(standin, key)
    assert (intent["amount"], intent["currency"]) == (stripe_value, iso.currency.lower())
    assert (answer.outcome, answer.amount) == (SUCCEEDED, iso)


@pytest.mark.parametrize(
    "token, outcome, code, hard",
    [
        ("pm_card_chargeDeclinedInsufficientFunds", DECLINED, "insufficient_funds", False),
        ("pm_card_chargeCustomerFail", DECLINED, "generic_decline", False),
        ("pm_card_chargeDeclinedStolenCard", DECLINED, "stolen_card", True),
        ("pm_card_chargeDeclinedFraudulent", DECLINED, "fraudulent", True),
        ("pm_card_chargeDeclinedExpiredCard", DECLINED, "expired_card", False),
        ("pm_card_chargeDeclinedProcessingError", ERROR, "processing_error", False),
        ("pm_card_authenticationRequired", REQUIRES_ACTION, "authentication_required", False),
    ],
)
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


def test_bursts_of_429_never_charge_twice(standin, gateway):
    customer, method = _card(gateway)
    standin.state.faults.extend(["429"] * 2)  # within the SDK's retries: answered on the third try
    assert gateway.charge(method.token, EUR, "ch-3:1", customer, {"attempt": "ch-3:1"}).outcome == SUCCEEDED
    standin.state.faults.extend(["429"] * 3)  # beyond them: unknown, and a later try with the key succeeds
    with pytest.raises(OutcomeUnknown):
        gateway.charge(method.token, EUR, "ch-4:1", customer, {"attempt": "ch-4:1"})
    assert gateway.charge(method.token, EUR, "ch-4:1", customer, {"attempt": "ch-4:1"}).outcome == SUCCEEDED
    assert len(_intents(standin, "ch-3:1")) == 1 and len(_intents(standin, "ch-4:1")) == 1


def test_an_unconfirmed_payment_intent_of_an_attempt_reserved_before_is_confirmed_by_id_once(standin, gateway):
    """A release before this one created the PaymentIntent unconfirmed, then confirmed it by id; an attempt it
    left between the two (the confirm never sent) is found by its metadata once Stripe's search sees it, and
    confirmed by id: charged once, never created anew."""
    customer, method = _card(gateway)
    metadata = {"accountId": "acct-1", "attempt": "ch-4b:1"}
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    made = raw.v1.payment_intents.create(
        {
            "amount": 1234,
            "currency": "eur",
            "payment_method": method.token,
            "customer": customer,
            "confirm": False,
            "metadata": metadata,
        },
        {"idempotency_key": "x"},
    )
    assert made.status == "requires_confirmation"
    standin.advance(61)
    answer = gateway.charge(method.token, EUR, "ch-4b:1", customer, metadata, resume=True)
    assert (answer.outcome, answer.reference) == (SUCCEEDED, made.id)
    confirms = [r["path"] for r in standin.state.requests if r["path"].endswith("/confirm")]
    assert confirms == [f"/v1/payment_intents/{made.id}/confirm"]
    assert len(_intents(standin, "ch-4b:1")) == 1 and standin.taken() == 1234


def test_the_setup_route_answer_holds_a_setup_intent_client_secret(standin, gateway):
    customer = gateway.ensure_customer("acct-5", "a@example.com", "Ada", None)
    setup = gateway.start_setup(customer)
    assert setup["gateway"] == "stripe" and setup["clientSecret"].startswith(setup["setupIntentId"])
    assert setup["stripeJsUrl"] == "https://js.stripe.com/v3/"  # Stripe's own unless told (STRIPE_JS_URL)
    assert standin.state.setup_intents[setup["setupIntentId"]]["usage"] == "off_session"


def test_declines_keep_the_advice_and_network_codes_for_the_history(standin, gateway):
    customer, method = _card(gateway, "pm_card_chargeDeclinedInsufficientFunds")
    answer = gateway.charge(method.token, EUR, "ch-13:1", customer, {"attempt": "ch-13:1"})
    assert (answer.outcome, answer.code, answer.hard) == (DECLINED, "insufficient_funds", False)
    assert answer.detail == {"adviceCode": "try_again_later", "networkDeclineCode": "51"}


def test_on_session_authentication_waits_for_the_customer_then_a_superseded_payment_is_cancelled(standin, gateway):
    customer, method = _card(gateway, "pm_card_authenticationRequired")
    answer = gateway.charge(method.token, EUR, "ch-14:1", customer, {"attempt": "ch-14:1"}, on_session=True)
    assert (answer.outcome, answer.code) == (REQUIRES_ACTION, "authentication_required")
    intent = standin.state.payment_intents[answer.reference]
    assert intent["status"] == "requires_action" and intent["next_action"]["type"] == "use_stripe_sdk"
    confirm = gateway.confirmation(answer.reference)
    assert confirm["amount"] == EUR.to_json() and confirm["paymentMethodId"] == method.token
    assert confirm["clientSecret"].startswith(answer.reference)
    assert gateway.cancel(answer.reference) is None
    assert intent["status"] == "canceled" and gateway.confirmation(answer.reference) is None
    # Once succeeded, it cannot be cancelled: the cancel answers the outcome it has.
    other = gateway.charge(method.token, EUR, "ch-15:1", customer, {"attempt": "ch-15:1"}, on_session=True)
    standin.authenticate(other.reference, succeed=True)
    late = gateway.cancel(other.reference)
    assert (late.outcome, late.amount) == (SUCCEEDED, EUR)


def test_a_lost_answer_to_a_cancel_or_to_the_confirmation_details_is_an_unknown_outcome(standin):
    gateway = StripeGateway(KEY, standin.url, "pk_test_x", max_network_retries=0)
    customer, method = _card(gateway, "pm_card_authenticationRequired")
    answer = gateway.charge(method.token, EUR, "ch-40:1", customer, {"attempt": "ch-40:1"}, on_session=True)
    intent = standin.state.payment_intents[answer.reference]
    standin.state.faults.append("retrieve:drop")
    with pytest.raises(OutcomeUnknown):
        gateway.confirmation(answer.reference)
    standin.state.faults.append("cancel:429")  # refused before it ran
    with pytest.raises(OutcomeUnknown):
        gateway.cancel(answer.reference)
    assert intent["status"] == "requires_action"
    standin.state.faults.append("cancel:drop")  # it ran; only the answer was lost
    with pytest.raises(OutcomeUnknown):
        gateway.cancel(answer.reference)
    assert intent["status"] == "canceled" and gateway.confirmation(answer.reference) is None


def test_a_failed_3d_secure_is_not_final_the_customer_may_try_again_on_the_same_payment(standin, gateway):
    customer, method = _card(gateway, "pm_card_authenticationRequired")
    answer = gateway.charge(method.token, EUR, "ch-16:1", customer, {"attempt": "ch-16:1"})
    assert answer.outcome == REQUIRES_ACTION  # off-session: the card error says authentication is needed
    standin.authenticate(answer.reference, succeed=False)
    failed = gateway.charge(method.token, EUR, "ch-16:1", customer, {"attempt": "ch-16:1"}, reference=answer.reference)
    assert (failed.outcome, failed.code) == (REQUIRES_ACTION, "payment_intent_authentication_failure")
    standin.authenticate(answer.reference, succeed=True)
    paid = gateway.charge(method.token, EUR, "ch-16:1", customer, {"attempt": "ch-16:1"}, reference=answer.reference)
    assert (paid.outcome, paid.amount) == (SUCCEEDED, EUR) and len(_intents(standin, "ch-16:1")) == 1


def test_requests_pin_the_api_version_events_carry(standin, gateway):
    from pastdue.adapters.stripe_gateway import API_VERSION

    seen = []
    standin.state.webhook_url = None
    customer, method = _card(gateway)
    original = standin.server.RequestHandlerClass.parse_request

    def spy(handler):
        parsed = original(handler)  # the request's headers, noted before it is answered
        if parsed:
            seen.append(handler.headers.get("Stripe-Version"))
        return parsed

    standin.server.RequestHandlerClass.parse_request = spy
    try:
        gateway.charge(method.token, EUR, "ch-17:1", customer, {"attempt": "ch-17:1"})
    finally:
        standin.server.RequestHandlerClass.parse_request = original
    assert len(seen) == 1 and set(seen) == {API_VERSION}  # one request: created and confirmed


def test_a_new_card_is_a_succeeded_off_session_setup_intent_of_this_customer(standin, gateway):
    customer = gateway.ensure_customer("acct-20", "a@example.com", "Ada", None)
    other = gateway.ensure_customer("acct-21", "b@example.com", "Bo", None)
    good = gateway.adopt(standin.set_up_card(customer, "pm_card_visa"), customer)
    assert good.last4 == "4242"
    assert standin.state.customers[customer]["invoice_settings"]["default_payment_method"] is None  # not paid yet
    # The pm_ it set up is attached to the customer: taken too (a billing system's saved card).
    assert gateway.adopt(good.token, customer) == good
    raw = stripe.StripeClient(KEY, base_addresses={"api": standin.url})
    unconfirmed = raw.v1.setup_intents.create({"customer": customer, "usage": "off_session"}).id
    for refused in (
        unconfirmed,  # not succeeded
        standin.set_up_card(other, "pm_card_visa"),  # another customer's
        standin.set_up_card(customer, "pm_card_visa", usage="on_session"),  # not for later payments
        "pm_card_visa",  # a bare method never set up for this customer
        gateway.adopt(standin.set_up_card(other, "pm_card_visa"), other).token,
    ):  # attached elsewhere
        with pytest.raises(UnknownToken):
            gateway.adopt(refused, customer)
