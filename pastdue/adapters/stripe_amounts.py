"""Amounts as Stripe counts them, and what Stripe refuses, checked before anything is sent.

The app's Money is in ISO 4217 minor units. Stripe's `amount` is in its own minor units, which are not
always ISO's (Stripe's "Supported currencies" page):
- zero-decimal at Stripe: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF;
- three-decimal at Stripe: BHD JOD KWD OMR TND, and the amount must end in 0 (Stripe rounds to 2 places);
- ISK is zero-decimal in ISO but two-decimal at Stripe (the amount always ends in 00);
- HUF and TWD are two-decimal at Stripe and in ISO (only payouts must be whole units: no charge rule);
- every other currency is two-decimal at Stripe.
An amount holds at most eight digits (99,999,999 Stripe units) and at least Stripe's minimum charge.
"""

from __future__ import annotations

from pastdue.domain.money import Money

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ISO 4217 exponents that are not 2 (for the currencies Stripe charges in).
ISO_EXPONENT = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
MAX_AMOUNT = 99_999_999
# Stripe's minimum charge per currency, in Stripe units (others: the equivalent of USD 0.50, which
# depends on the day's rate: left to Stripe, whose refusal is an operator alert, not a decline).
MINIMUM = {
    "USD": 50,
    "AED": 200,
    "AUD": 50,
    "BGN": 100,
    "BRL": 50,
    "CAD": 50,
    "CHF": 50,
    "CZK": 1500,
    "DKK": 250,
    "EUR": 50,
    "GBP": 30,
    "HKD": 400,
    "HUF": 17500,
    "INR": 50,
    "JPY": 50,
    "MXN": 1000,
    "MYR": 200,
    "NOK": 300,
    "NZD": 50,
    "PLN": 200,
    "RON": 200,
    "SEK": 300,
    "SGD": 50,
    "THB": 1000,
}


class NotChargeable(ValueError):
    """Stripe would refuse this amount: the app's data or settings are at fault, never the card."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def stripe_exponent(currency: str) -> int:
    currency = currency.upper()
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def iso_exponent(currency: str) -> int:
    return ISO_EXPONENT.get(currency.upper(), 2)


def to_stripe(amount: Money) -> int:
    """Stripe's `amount` for this Money; raises NotChargeable where Stripe cannot take it exactly."""
    shift = stripe_exponent(amount.currency) - iso_exponent(amount.currency)
    if shift >= 0:
        value = amount.value * 10**shift
    else:
        value, rest = divmod(amount.value, 10**-shift)
        if rest:
            raise NotChargeable(
                "amount_not_representable",
                f"{amount.currency} is charged in whole units at Stripe; {amount.value} minor units is not",
            )
    check(value, amount.currency)
    return value


def from_stripe(value: int, currency: str) -> Money:
    """The app's Money for a Stripe amount (what a PaymentIntent took, in its own units)."""
    currency = currency.upper()
    shift = iso_exponent(currency) - stripe_exponent(currency)
    if shift >= 0:
        return Money(value * 10**shift, currency)
    whole, rest = divmod(value, 10**-shift)
    if rest:  # Stripe never takes a fraction of ISO's smallest unit: this would be a broken answer
        raise ValueError(f"{value} {currency} at Stripe is not a whole number of ISO minor units")
    return Money(whole, currency)


def check(value: int, currency: str) -> None:
    """Stripe's documented limits on a charge amount (in Stripe units)."""
    currency = currency.upper()
    if value > MAX_AMOUNT:
        raise NotChargeable("amount_too_large", f"at most eight digits ({MAX_AMOUNT}) of {currency} minor units")
    minimum = MINIMUM.get(currency, 1)
    if value < minimum:
        raise NotChargeable("amount_too_small", f"below Stripe's minimum charge of {minimum} {currency} minor units")
    if currency in THREE_DECIMAL and value % 10:
        raise NotChargeable("invalid_amount", f"{currency} amounts must end in 0 at Stripe")
