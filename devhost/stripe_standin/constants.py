"""Stripe's documented rules the stand-in follows, as data: the minimum charge and the digits an amount may
have per currency, what a publishable key may call and read, how long an idempotency key is remembered, and
the API version events carry; and where the stand-in's own Stripe.js lives."""

from __future__ import annotations

import re
from pathlib import Path

from pastdue.adapters.stripe_gateway import API_VERSION as PINNED_VERSION

STRIPE_JS_DIR = Path(__file__).resolve().parent.parent / "stripe_js"
# What a publishable key may do (Stripe.js's calls): retrieve or confirm a SetupIntent or PaymentIntent,
# with that intent's client secret. Anything else with it is refused as at Stripe (401).
PUBLISHABLE_ROUTES = re.compile(r"/v1/(setup_intents|payment_intents)/([A-Za-z0-9_]+)(/confirm)?")
# The fields of an intent Stripe answers to a publishable key ("retrievable with publishable key" in
# Stripe's API reference); the others (customer, metadata, amounts received...) are for the secret key.
PUBLISHABLE_FIELDS = {
    "setup_intent": frozenset(
        [
            "id",
            "object",
            "cancellation_reason",
            "client_secret",
            "created",
            "description",
            "last_setup_error",
            "livemode",
            "next_action",
            "payment_method",
            "payment_method_types",
            "status",
            "usage",
        ]
    ),
    "payment_intent": frozenset(
        [
            "id",
            "object",
            "amount",
            "automatic_payment_methods",
            "canceled_at",
            "cancellation_reason",
            "capture_method",
            "client_secret",
            "confirmation_method",
            "created",
            "currency",
            "description",
            "last_payment_error",
            "livemode",
            "next_action",
            "payment_method",
            "payment_method_types",
            "processing",
            "receipt_email",
            "setup_future_usage",
            "shipping",
            "status",
        ]
    ),
}
# Stripe's three-decimal currencies, and its minimum charge per settlement currency, in Stripe units, for
# every currency of the "Minimum and maximum charge amounts" table (docs.stripe.com/currencies). A charge in
# another currency must convert to at least the settlement currency's minimum (a day's rate: none here, a
# test may add one to `minimum`).
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
MINIMUM = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}
# Digits an `amount` may have (same page): eight, except these (the card payments' limits for the last four).
DIGITS = {"idr": 12, "inr": 9, "lbp": 11, "cop": 10, "huf": 10, "jpy": 10}
API_VERSION = PINNED_VERSION  # what events carry: the version the app pins (one source: the app)
IDEMPOTENCY_TTL = 24 * 3600  # seconds a key is remembered
