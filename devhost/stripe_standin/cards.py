"""Stripe's test payment methods as the stand-in knows them (by name: no card number is written anywhere in
this project), and how a card's refusal reads: the decline codes, the networks' own codes, the messages, and
Stripe's `card_error` body built from them."""

from __future__ import annotations

# Stripe's test payment methods: brand, last4, and what a charge does (None = succeeds).
TEST_CARDS = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_amex": ("amex", "8431", None),
    "pm_card_chargeDeclined": ("visa", "0002", ("card_declined", "generic_decline", None)),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "visa",
        "9995",
        ("card_declined", "insufficient_funds", "try_again_later"),
    ),
    "pm_card_chargeDeclinedFraudulent": ("visa", "0019", ("card_declined", "fraudulent", "do_not_try_again")),
    "pm_card_chargeDeclinedLostCard": ("visa", "9987", ("card_declined", "lost_card", "do_not_try_again")),
    "pm_card_chargeDeclinedStolenCard": ("visa", "9979", ("card_declined", "stolen_card", "do_not_try_again")),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", ("expired_card", None, None)),
    "pm_card_chargeDeclinedIncorrectCvc": ("visa", "0127", ("incorrect_cvc", None, None)),
    "pm_card_chargeDeclinedProcessingError": ("visa", "0119", ("processing_error", None, None)),
    "pm_card_chargeCustomerFail": ("visa", "0341", ("card_declined", "generic_decline", None)),
    "pm_card_authenticationRequired": ("visa", "3184", ("authentication_required", "authentication_required", None)),
    # Needs 3-D Secure to be set up; once set up for off-session use, its off-session payments succeed.
    "pm_card_authenticationRequiredOnSetup": (
        "visa",
        "3155",
        ("authentication_required", "authentication_required", None),
    ),
}
# Cards whose set-up (a SetupIntent) needs the customer's 3-D Secure: 3184 always, 3155 for set-up only.
SETUP_NEEDS_AUTHENTICATION = {"pm_card_authenticationRequired", "pm_card_authenticationRequiredOnSetup"}
# The card networks' own codes that Stripe passes on with a decline (network_decline_code).
NETWORK_CODES = {
    "generic_decline": "05",
    "insufficient_funds": "51",
    "fraudulent": "59",
    "lost_card": "41",
    "stolen_card": "43",
    "expired_card": "54",
    "incorrect_cvc": "N7",
}
MESSAGES = {
    "card_declined": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


def card_error(code: str, decline_code: str | None, advice_code: str | None) -> dict:
    """Stripe's card_error body: the code, the issuer's decline code and advice, the network's own code."""
    error = {"type": "card_error", "code": code, "message": MESSAGES.get(code, "Your card was declined.")}
    if decline_code:
        error["decline_code"] = decline_code
    if advice_code:
        error["advice_code"] = advice_code
    if NETWORK_CODES.get(decline_code or code):
        error["network_decline_code"] = NETWORK_CODES[decline_code or code]
    return error
