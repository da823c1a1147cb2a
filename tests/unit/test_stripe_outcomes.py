"""The one mapper of Stripe's answers and events (adapters/stripe_outcomes.py) and Stripe's decimals."""

from __future__ import annotations

import pytest

from pastdue.adapters.gateway import ChargeOutcome
from pastdue.adapters.stripe_amounts import NotChargeable, from_stripe, to_stripe
from pastdue.adapters.stripe_outcomes import decline, of_intent
from pastdue.domain.model import DECLINED, ERROR, REQUIRES_ACTION, SUCCEEDED
from pastdue.domain.money import Money


@pytest.mark.parametrize(
    "error, outcome, code, hard",
    [
        (
            {"code": "card_declined", "decline_code": "authentication_required"},
            REQUIRES_ACTION,
            "authentication_required",
            False,
        ),
        ({"code": "authentication_required"}, REQUIRES_ACTION, "authentication_required", False),
        (
            {"code": "card_declined", "decline_code": "insufficient_funds", "advice_code": "try_again_later"},
            DECLINED,
            "insufficient_funds",
            False,
        ),
        (
            {"code": "card_declined", "decline_code": "generic_decline", "advice_code": "do_not_try_again"},
            DECLINED,
            "generic_decline",
            True,
        ),
        (
            {"code": "card_declined", "decline_code": "incorrect_number", "advice_code": "confirm_card_data"},
            DECLINED,
            "incorrect_number",
            True,
        ),
        ({"code": "expired_card"}, DECLINED, "expired_card", False),  # hard by the policy's list, not here
        ({"code": "processing_error"}, ERROR, "processing_error", False),
        (
            {"code": "payment_intent_authentication_failure"},
            REQUIRES_ACTION,
            "payment_intent_authentication_failure",
            False,
        ),
        ({}, DECLINED, "card_declined", False),
    ],
)
def test_declines_read_decline_code_then_code_then_advice(error, outcome, code, hard):
    answer = decline({**error, "network_decline_code": "05"}, "pi_1")
    assert (answer.outcome, answer.code, answer.hard, answer.reference) == (outcome, code, hard, "pi_1")
    assert answer.detail["networkDeclineCode"] == "05"


def _standing(intent: dict) -> ChargeOutcome:
    """The outcome of an intent that stands at one (the test knows it does)."""
    outcome = of_intent(intent)
    assert outcome is not None, intent
    return outcome


def test_a_payment_intent_stands_at_an_outcome_or_none_while_open():
    assert _standing(
        {"id": "pi", "status": "succeeded", "amount": 500, "amount_received": 500, "currency": "isk"}
    ).amount == Money(5, "ISK")
    assert _standing({"id": "pi", "status": "requires_action"}).outcome == REQUIRES_ACTION
    assert _standing({"id": "pi", "status": "canceled"}).outcome == ERROR
    failed = _standing(
        {
            "id": "pi",
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "decline_code": "lost_card"},
        }
    )
    assert (failed.outcome, failed.code) == (DECLINED, "lost_card")
    for status in ("requires_confirmation", "processing", "requires_payment_method"):
        assert of_intent({"id": "pi", "status": status}) is None
    assert _standing({"id": "pi", "status": "succeeded", "amount": 1, "currency": "eur"}).outcome == SUCCEEDED


@pytest.mark.parametrize(
    "money, stripe_value",
    [
        (Money(500, "ISK"), 50_000),
        (Money(1000, "JPY"), 1000),
        (Money(20050, "HUF"), 20050),
        (Money(5000, "TWD"), 5000),
        (Money(5000, "UGX"), 5000),
        (Money(1230, "KWD"), 1230),
        (Money(4200, "MGA"), 42),
        (Money(7000, "CLP"), 7000),
        (Money(1999, "USD"), 1999),
    ],
)
def test_amounts_convert_both_ways(money, stripe_value):
    assert to_stripe(money) == stripe_value
    assert from_stripe(stripe_value, money.currency.lower()) == money


@pytest.mark.parametrize(
    "money, code",
    [
        (Money(49, "EUR"), "amount_too_small"),
        (Money(29, "GBP"), "amount_too_small"),
        (Money(100_000_000, "USD"), "amount_too_large"),
        (Money(1_000_000, "ISK"), "amount_too_large"),
        (Money(1235, "BHD"), "invalid_amount"),
        (Money(4250, "MGA"), "amount_not_representable"),
    ],
)
def test_what_stripe_refuses_is_known_before_sending(money, code):
    with pytest.raises(NotChargeable) as refused:
        to_stripe(money)
    assert refused.value.code == code
