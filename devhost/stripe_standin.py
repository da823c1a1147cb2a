"""A local stand-in for the parts of the Stripe API pastdue calls, in Stripe's documented shapes, so the
official `stripe` SDK can be exercised offline over HTTP (`make run` with PAYMENT_GATEWAY=stripe, tests).

It is as strict as Stripe where money depends on it:
- idempotency as documented: the same key and parameters replay the first answer (`Idempotent-Replayed:
  true`), other parameters are a 400 `idempotency_error`; a result is saved once the endpoint started
  executing, a 500 included, and replayed for that key; keys are pruned after 24 hours of the stand-in's
  clock (`clock`, which tests point at the host's test clock): a reused expired key is a new request;
- amounts: Stripe's minimum charge for every settlement currency its "Minimum and maximum charge amounts"
  table lists, the digits each currency allows (eight, more for a few), three-decimal currencies ending in
  0, `invalid_request_error` bodies with `code` and `param`;
- concurrency: a request whose Idempotency-Key is still executing answers 409 `idempotency_key_in_use`
  (nothing saved); a lock timeout is a 429 `lock_timeout` (a scripted fault);
- PaymentIntents: create (confirm or not), confirm by id (off-session: `authentication_required` is a
  card error; on-session: `requires_action`), retrieve, cancel, and search (devhost/stripe_search.py:
  eventually consistent, a lag of its own per object, misses on request); `processing` on request, settled
  later with its event; a payment method attached to another customer refused (`param: payment_method`);
  3-D Secure that succeeds or fails (`payment_intent_authentication_failure`), after which the customer
  may try again on the same PaymentIntent;
- declines carry `decline_code`, `advice_code` and `network_decline_code`;
- SetupIntents: a card that needs 3-D Secure to be set up stays `requires_action` until the customer's
  authentication completes or fails (`authenticate_setup`);
- every customer's objects side by side: nothing assumes one tenant;
- answers in Stripe's full shape (devhost/stripe_shapes.py), checked when asked (`contract=True`) against
  Stripe's published OpenAPI schemas (devhost/stripe_contract.py), what does not validate kept in
  `violations`;
- a succeeded PaymentIntent has a Charge (`latest_charge`, the PaymentIntent's metadata copied), which can
  be refunded in part or whole (`charge.refunded`) or disputed (`charge.dispute.created`/`closed`);
- Stripe Billing's invoices: finalised and tried (`invoice.payment_failed`), paid once (`invoices.pay`,
  `invoice.paid`), retried by Stripe's own retries;
- signed events (`Stripe-Signature: t=...,v1=...`) posted to a webhook URL, at once, before the API
  answer, or held to be delivered later, twice, in reverse order;
- Stripe.js's side: a small Stripe.js of its own at /js/v3/ (devhost/stripe_js/stripe.js: a card field for
  Stripe's test payment methods by name, never a card number, confirmCardSetup, confirmCardPayment,
  handleNextAction), the publishable key accepted only to retrieve or confirm an intent with its client
  secret (answered in the fields Stripe gives it), CORS for any origin, and the bank's 3-D Secure challenge
  as a test page (/_standin/challenge/{setup_intents|payment_intents}/{id}) whose buttons complete or fail it.

Test helpers under /_standin/: scripted faults for the next payment-intent requests (`drop` = process then
drop the connection, `500` = process then answer 500 (saved under the key), `429` = refused before
anything ran, `lock_timeout` = a 429 with that code, refused before anything ran, `slow:<s>` = the request
holds its key that long before executing, `processing` = the next confirm stays processing; `create:` or
`confirm:` before one targets that request only), event delivery modes, completing or failing a
customer's authentication (of a payment or of a card set-up), settling a processing payment, the card
updater, search misses (`/_standin/search`).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from devhost.stripe_search import StripeSearch
from devhost.stripe_shapes import complete, month_after
from pastdue.adapters.stripe_gateway import API_VERSION as PINNED_VERSION

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
STRIPE_JS_DIR = Path(__file__).resolve().parent / "stripe_js"
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
MESSAGES = {
    "card_declined": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


@dataclass
class State:
    api_key: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    delivery: str = "async"  # async | before | manual
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    customers: dict = field(default_factory=dict)
    payment_methods: dict = field(default_factory=dict)
    setup_intents: dict = field(default_factory=dict)
    payment_intents: dict = field(default_factory=dict)
    charges: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    subscriptions: dict = field(default_factory=dict)
    # Resources the API key may not use (a restricted key without that permission): answered 403.
    forbidden: set = field(default_factory=set)
    invoice_payments: dict = field(default_factory=dict)  # Stripe Billing's payments of its invoices
    credit_notes: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    idempotency: dict = field(default_factory=dict)
    executing: set = field(default_factory=set)  # idempotency keys whose first request is still running
    faults: list = field(default_factory=list)
    held_events: list = field(default_factory=list)
    # Every webhook delivery, as it was answered: {"id", "type", "object", "status", "answer"} (status 0: no
    # answer). A test reads here that an event reached the app, and what the app made of it.
    deliveries: list = field(default_factory=list)
    processing_next: int = 0  # confirms that answer `processing` instead of an outcome
    requests: list = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):014d}standin"


class StripeError(Exception):
    def __init__(self, status: int, error: dict):
        super().__init__(error.get("message"))
        self.status, self.error = status, error


def _card_error(code: str, decline_code: str | None, advice_code: str | None) -> dict:
    """Stripe's card_error body: the code, the issuer's decline code and advice, the network's own code."""
    error = {"type": "card_error", "code": code, "message": MESSAGES.get(code, "Your card was declined.")}
    if decline_code:
        error["decline_code"] = decline_code
    if advice_code:
        error["advice_code"] = advice_code
    if NETWORK_CODES.get(decline_code or code):
        error["network_decline_code"] = NETWORK_CODES[decline_code or code]
    return error


# Refused before anything ran (a scripted fault), as Stripe answers them: 429s, nothing saved for the key.
REFUSALS = {
    "429": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests (scripted 429)."},
    "lock_timeout": {
        "type": "invalid_request_error",
        "code": "lock_timeout",
        "message": "Another request or a Stripe process is using this object right now (scripted lock "
        "timeout). Retry the request.",
    },
}


def key_in_use(key: str) -> dict:
    """Stripe's answer (409) to a request whose Idempotency-Key is in use by one still executing."""
    return {
        "type": "invalid_request_error",
        "code": "idempotency_key_in_use",
        "message": f"Another request with the idempotency key '{key}' is still executing: retry it later.",
    }


def _nest(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (metadata[accountId]=..., payment_method_types[0]=card) as nested data."""
    result: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


class StripeStandIn:
    def __init__(
        self,
        api_key: str = "sk_test_standin",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        clock=None,
        contract: bool = False,
        search_lag: tuple[float, float] = (60.0, 60.0),
        search_miss: float = 0.0,
        seed: int = 0,
        publishable_key: str = "pk_test_standin",
    ):
        self.state = State(api_key, webhook_url, webhook_secret)
        # The key Stripe.js calls with, from the browser (PUBLISHABLE_ROUTES only).
        self.publishable_key = publishable_key
        # Search: each object searchable after its own delay in `search_lag` seconds, missed with
        # probability `search_miss` per search (devhost/stripe_search.py).
        self.search = StripeSearch(search_lag, search_miss, seed)
        # With `contract`, every answer and event is checked against Stripe's published schemas.
        if contract:
            from devhost.stripe_contract import Contract

            self.contract: Contract | None = Contract()
        else:
            self.contract = None
        # Stripe's clock, in epoch seconds: key expiry, search lag and `created` follow it (a test points
        # it at the host's test clock, so that "a day later" is a day later here too).
        self._offset = 0.0
        self.clock = clock or (lambda: time.time() + self._offset)
        self.minimum = dict(MINIMUM)  # Stripe's minimum charges (a test may add one the app does not know)
        self._disputes: dict = {}
        self._paid_off_stripe: dict = {}  # invoice id -> what was marked paid outside Stripe
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> StripeStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def advance(self, seconds: float) -> None:
        """Move the stand-in's own clock (when it was not given the host's)."""
        self._offset += seconds

    @property
    def js_url(self) -> str:
        """Where the stand-in serves its Stripe.js (STRIPE_JS_URL for a host that uses this stand-in)."""
        return f"{self.url}/js/v3/"

    def stripe_js(self) -> bytes:
        """The stand-in's Stripe.js, with the test payment methods its card field takes (by name: no card
        number is written anywhere in this project)."""
        source = (STRIPE_JS_DIR / "stripe.js").read_text()
        return source.replace("/*TEST_METHODS*/ []", json.dumps(sorted(TEST_CARDS))).encode()

    def publishable_view(self, body: dict) -> dict:
        """An intent as Stripe answers it to a publishable key: only the fields Stripe.js may read (an error
        keeps its intent in that view too)."""
        body = complete(body)
        if "error" in body:
            error = dict(body["error"])
            for name in ("setup_intent", "payment_intent"):
                if isinstance(error.get(name), dict):
                    error[name] = {k: v for k, v in error[name].items() if k in PUBLISHABLE_FIELDS[name]}
            error.pop("payment_method", None)
            return {"error": error}
        allowed: set[str] = set(PUBLISHABLE_FIELDS.get(body.get("object", ""), ()))
        return {k: v for k, v in body.items() if k in allowed}

    @property
    def violations(self) -> list[dict]:
        """Answers that did not validate against Stripe's schemas (with `contract=True`)."""
        return self.contract.violations if self.contract else []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- objects -------------------------------------------------------------------------------------
    def _payment_method(self, pm_id: str) -> dict:
        state = self.state
        if pm_id in state.payment_methods:
            return state.payment_methods[pm_id]
        if pm_id in TEST_CARDS:
            brand, last4, _ = TEST_CARDS[pm_id]
            return self._pm_object(pm_id, pm_id, brand, last4, None)
        raise StripeError(
            400,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "payment_method",
                "message": f"No such PaymentMethod: '{pm_id}'",
            },
        )

    def _pm_object(self, pm_id, kind, brand, last4, customer, exp_month=12, exp_year=2034) -> dict:
        return {
            "id": pm_id,
            "object": "payment_method",
            "created": int(self.clock()),
            "type": "card",
            "customer": customer,
            "livemode": False,
            "card": {
                "brand": brand,
                "last4": last4,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "funding": "credit",
                "country": "US",
            },
            "metadata": {},
            "_kind": kind,
        }

    def _clone(self, pm_id: str, customer: str | None) -> dict:
        """A test method used with a customer becomes a new, attached PaymentMethod (as in test mode)."""
        source = self._payment_method(pm_id)
        if source["id"] in self.state.payment_methods:
            if customer and source["customer"] not in (None, customer):
                raise StripeError(
                    400,
                    {
                        "type": "invalid_request_error",
                        "code": "payment_method_unexpected_state",
                        "message": "This PaymentMethod is attached to another customer.",
                    },
                )
            source["customer"] = customer or source["customer"]
            return source
        card = source["card"]
        copy = self._pm_object(self.state.new_id("pm"), source["_kind"], card["brand"], card["last4"], customer)
        self.state.payment_methods[copy["id"]] = copy
        return copy

    def _customer(self, customer_id: str) -> dict:
        if customer_id not in self.state.customers:
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "customer",
                    "message": f"No such customer: '{customer_id}'",
                },
            )
        return self.state.customers[customer_id]

    # --- routes --------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        state = self.state
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"]:
            raise StripeError(404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"})
        resource, rest = parts[1], parts[2:]
        if resource == "customers":
            if method == "POST" and not rest:
                record = {
                    "id": state.new_id("cus"),
                    "object": "customer",
                    "email": params.get("email"),
                    "name": params.get("name"),
                    "metadata": params.get("metadata", {}),
                    "invoice_settings": {"default_payment_method": None},
                    "created": int(self.clock()),
                }
                state.customers[record["id"]] = record
                return 200, record
            record = self._customer(rest[0])
            if method == "POST":
                default = params.get("invoice_settings", {}).get("default_payment_method")
                if default:
                    if self._payment_method(default)["customer"] != record["id"]:
                        raise StripeError(
                            400,
                            {
                                "type": "invalid_request_error",
                                "code": "resource_missing",
                                "message": "The payment method is not attached to this customer.",
                            },
                        )
                    record["invoice_settings"]["default_payment_method"] = default
            return 200, record
        if resource == "payment_methods":
            if len(rest) == 2 and rest[1] == "attach" and method == "POST":
                self._customer(params.get("customer", ""))
                return 200, self._public(self._clone(rest[0], params["customer"]))
            return 200, self._public(self._payment_method(rest[0]))
        if resource == "setup_intents":
            if method == "POST" and not rest:
                customer = params.get("customer")
                if customer:
                    self._customer(customer)
                seti_id = state.new_id("seti")
                created = {
                    "id": seti_id,
                    "object": "setup_intent",
                    "customer": customer,
                    "status": "requires_payment_method",
                    "usage": params.get("usage", "off_session"),
                    "client_secret": f"{seti_id}_secret_{hashlib.sha256(seti_id.encode()).hexdigest()[:24]}",
                    "payment_method": None,
                    "metadata": params.get("metadata", {}),
                    "created": int(self.clock()),
                    "livemode": False,
                }
                state.setup_intents[seti_id] = created
                return 200, created
            intent = state.setup_intents.get(rest[0])
            if intent is None:
                raise StripeError(
                    404,
                    {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": f"No such setupintent: '{rest[0]}'",
                    },
                )
            if len(rest) == 2 and rest[1] == "confirm":
                return self._confirm_setup(intent, params)
            if "payment_method" in (params.get("expand") or {}).values() and intent.get("payment_method"):
                # `expand[]=payment_method`: the object itself in place of its id, as Stripe answers it.
                return 200, {**intent, "payment_method": self._public(self._payment_method(intent["payment_method"]))}
            return 200, intent
        if resource == "payment_intents":
            if method == "POST" and not rest:
                return self._create_payment_intent(params)
            if method == "GET" and rest == ["search"]:
                return 200, self._search(params.get("query", ""))
            intent = self._intent(rest[0])
            if method == "POST" and rest[1:] == ["confirm"]:
                return self._confirm(intent, params)
            if method == "POST" and rest[1:] == ["cancel"]:
                return self._cancel(intent, params)
            return 200, intent
        if resource == "subscriptions":
            return self._subscriptions(method, rest, params)
        if resource == "invoices" and rest:
            invoice = state.invoices.get(rest[0])
            if invoice is None:
                raise StripeError(
                    404,
                    {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "param": "id",
                        "message": f"No such invoice: '{rest[0]}'",
                    },
                )
            return self._invoice_route(invoice, method, rest[1:], params)
        if resource == "refunds" and method == "GET" and not rest:
            # A charge's refunds, newest first (`charge=`), each with its own status (a failed one too).
            found = [r for r in state.refunds.values() if r["charge"] == params.get("charge", r["charge"])]
            found.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
            limit = int(params.get("limit", 10))
            return 200, {"object": "list", "url": "/v1/refunds", "has_more": len(found) > limit, "data": found[:limit]}
        if resource in ("invoice_payments", "credit_notes"):
            return self._billing_route(resource, method, params)
        raise StripeError(404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"})

    # --- Stripe Billing: subscriptions ----------------------------------------------------------------
    def create_subscription(
        self, customer: str, default_payment_method: str | None = None, amount: int = 2000, currency: str = "eur"
    ) -> dict:
        """A subscription the billing system made, of one monthly price (`amount`); its own default payment
        method, when set, is what its invoices are charged with, before the customer's invoice_settings
        default (as at Stripe)."""
        with self.state.lock:
            self._customer(customer)
            sub_id, created = self.state.new_id("sub"), int(self.clock())
            price = {
                "id": self.state.new_id("price"),
                "object": "price",
                "active": True,
                "created": created,
                "currency": currency,
                "product": self.state.new_id("prod"),
                "recurring": {
                    "interval": "month",
                    "interval_count": 1,
                    "meter": None,
                    "trial_period_days": None,
                    "usage_type": "licensed",
                },
                "type": "recurring",
                "unit_amount": amount,
            }
            item = {
                "id": self.state.new_id("si"),
                "object": "subscription_item",
                "created": created,
                "price": price,
                "subscription": sub_id,
            }
            sub = {
                "id": sub_id,
                "object": "subscription",
                "customer": customer,
                "status": "active",
                "currency": currency,
                "default_payment_method": default_payment_method,
                "items": {
                    "object": "list",
                    "data": [item],
                    "has_more": False,
                    "total_count": 1,
                    "url": f"/v1/subscription_items?subscription={sub_id}",
                },
                "latest_invoice": None,
                "created": created,
                "metadata": {},
            }
            self.state.subscriptions[sub["id"]] = sub
            return sub

    def _subscriptions(self, method: str, rest: list, params: dict) -> tuple[int, dict]:
        state = self.state
        if not rest:
            status = params.get("status", "active")
            found = [
                sub
                for sub in state.subscriptions.values()
                if sub["customer"] == params.get("customer", sub["customer"])
                and (status == "all" or sub["status"] == status)
            ]
            return 200, {"object": "list", "url": "/v1/subscriptions", "has_more": False, "data": found}
        sub = state.subscriptions.get(rest[0])
        if sub is None:
            raise StripeError(
                404,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "id",
                    "message": f"No such subscription: '{rest[0]}'",
                },
            )
        if method == "POST" and "default_payment_method" in params:
            default = params["default_payment_method"] or None
            if default and self._payment_method(default)["customer"] != sub["customer"]:
                raise StripeError(
                    400,
                    {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "param": "default_payment_method",
                        "message": "The payment method is not attached to this subscription's customer.",
                    },
                )
            sub["default_payment_method"] = default
        return 200, sub

    def _confirm_setup(self, intent: dict, params: dict) -> tuple[int, dict]:
        """A card saved for later: a card whose issuer wants 3-D Secure to set it up waits for the customer
        (`requires_action`) until `authenticate_setup` completes or fails it."""
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "setup_intent_unexpected_state",
                    "message": f"This SetupIntent's status is {intent['status']}; it cannot be confirmed.",
                    "setup_intent": dict(intent),
                },
            )
        pm = self._clone(params["payment_method"], intent["customer"])
        intent.update(payment_method=pm["id"], last_setup_error=None)
        if pm["_kind"] in SETUP_NEEDS_AUTHENTICATION:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}})
            self._event("setup_intent.requires_action", intent)
            return 200, intent
        intent.update(status="succeeded", next_action=None)
        self._event("setup_intent.succeeded", intent)
        return 200, intent

    def authenticate_setup(self, seti_id: str, succeed: bool = True) -> dict:
        """The customer's 3-D Secure for a card set-up: passed (the SetupIntent succeeds, and the card is set up
        for off-session use) or failed (it needs a payment method again: `setup_intent.setup_failed`)."""
        with self.state.lock:
            intent = self.state.setup_intents[seti_id]
            if intent["status"] != "requires_action":
                return intent
            if succeed:
                intent.update(status="succeeded", next_action=None)
                self.state.payment_methods[intent["payment_method"]]["_set_up"] = intent["usage"] == "off_session"
                self._event("setup_intent.succeeded", intent)
            else:
                intent.update(
                    status="requires_payment_method",
                    next_action=None,
                    last_setup_error={
                        "type": "invalid_request_error",
                        "code": "setup_intent_authentication_failure",
                        "message": "The latest attempt to set up the payment method has failed because "
                        "authentication failed. Provide a new payment method or try again.",
                    },
                )
                self._event("setup_intent.setup_failed", intent)
            return intent

    # --- Stripe Billing: invoices ---------------------------------------------------------------------
    def create_invoice(
        self,
        customer: str,
        amount: int,
        currency: str = "eur",
        subscription: str | None = None,
        fail: bool = True,
        number: str | None = None,
        paid: int = 0,
    ) -> dict:
        """Stripe Billing finalises an invoice and tries the customer's default card; with `fail` the try is
        refused (as with a failing card) and `invoice.payment_failed` is sent. Invoices are numbered per
        customer (INV-0001, INV-0002...), so numbers repeat across customers, as with customer-level
        numbering; `paid` is a partial payment made on it before the failing try."""
        with self.state.lock:
            inv_id = self.state.new_id("in")
            count = sum(1 for i in self.state.invoices.values() if i["customer"] == customer)
            invoice: dict[str, Any] = {
                "id": inv_id,
                "object": "invoice",
                "customer": customer,
                "status": "open",
                "amount_due": amount,
                "amount_paid": 0,
                "amount_remaining": amount,
                "currency": currency,
                "attempt_count": 0,
                "created": int(self.clock()),
                "hosted_invoice_url": f"https://invoice.stripe.example/{inv_id}",
                "number": number or f"INV-{count + 1:04d}",
                "amount_overpaid": 0,
                "collection_method": "charge_automatically",
                "livemode": False,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"subscription": subscription, "metadata": {}},
                },
                "lines": self._invoice_lines(inv_id, amount, currency, subscription),
                "metadata": {},
            }
            self.state.invoices[inv_id] = invoice
            if subscription in self.state.subscriptions:
                self.state.subscriptions[subscription]["latest_invoice"] = inv_id
            if paid:
                self.pay_part(inv_id, paid)
            if fail:
                invoice["attempt_count"] += 1
                self._event("invoice.payment_failed", invoice)
            return invoice

    def _invoice_lines(self, inv_id: str, amount: int, currency: str, subscription: str | None) -> dict:
        """The invoice's one line: the subscription's period being billed. A subscription the stand-in made
        names its item and price; one it did not (the tests name pastdue's own ids) has none to name."""
        created = int(self.clock())
        sub = self.state.subscriptions.get(subscription or "")
        item = sub["items"]["data"][0] if sub else {}
        price = item.get("price") or {}
        line = {
            "id": self.state.new_id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": currency,
            "invoice": inv_id,
            "parent": {
                "type": "subscription_item_details",
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription,
                    "subscription_item": item.get("id"),
                },
            },
            "period": {"start": created, "end": month_after(created)},
            "pricing": {
                "type": "price_details",
                "price_details": {"price": price["id"], "product": price["product"]} if price else None,
                "unit_amount_decimal": str(amount),
            },
        }
        return {"object": "list", "data": [line], "has_more": False, "url": f"/v1/invoices/{inv_id}/lines"}

    def _pay_invoice(self, invoice: dict, payment_method: str | None, off_session: bool) -> tuple[int, dict]:
        """Pay an open (or uncollectible) invoice with a card (an invoice is paid once: a paid one answers
        400)."""
        if invoice["status"] not in ("open", "uncollectible"):
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "invoice_not_open" if invoice["status"] != "paid" else "invoice_already_paid",
                    "message": f"Invoice is {invoice['status']}.",
                },
            )
        customer = self._customer(invoice["customer"])
        sub_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        sub = self.state.subscriptions.get(sub_id) or {}
        # A subscription's own default comes before the customer's, as Stripe charges its invoices.
        pm_id = (
            payment_method
            or sub.get("default_payment_method")
            or customer["invoice_settings"]["default_payment_method"]
        )
        pm = self._payment_method(pm_id or "")
        invoice["attempt_count"] += 1
        outcome = TEST_CARDS.get(pm["_kind"], (None, None, None))[2]
        if outcome is None:
            # Stripe Billing's own PaymentIntent: no metadata of ours (PaymentIntents carry no `invoice` in the
            # API version pinned: the Invoice Payments list maps them).
            intent = self._new_intent(invoice["amount_remaining"], invoice["currency"], customer["id"], pm["id"], {})
            self._succeed(intent)
            self._invoice_payment(invoice, intent, "paid")
            invoice.update(
                status="paid", amount_paid=invoice["amount_paid"] + invoice["amount_remaining"], amount_remaining=0
            )
            self._event("invoice.paid", invoice)
            return 200, invoice
        code, decline_code, advice_code = outcome
        if code == "authentication_required" and not off_session:
            # On-session: the invoice's PaymentIntent waits for the customer (Stripe.js, or the hosted page).
            intent = self._new_intent(invoice["amount_remaining"], invoice["currency"], customer["id"], pm["id"], {})
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}})
            self._invoice_payment(invoice, intent, "open")
            code = decline_code = "invoice_payment_intent_requires_action"
        error = _card_error(code, decline_code, advice_code)
        self._event("invoice.payment_failed", invoice)
        return 402, {"error": error}

    def _invoice_route(self, invoice: dict, method: str, action: list, params: dict) -> tuple[int, dict]:
        """/v1/invoices/{id}: retrieve (`expand[]=amount_paid_off_stripe`), pay (by card, off-session unless
        `off_session=false`, as Stripe defaults it; or `paid_out_of_band`), void, mark_uncollectible."""
        if method == "GET" or not action:
            answer = dict(invoice)
            if "amount_paid_off_stripe" in str(params.get("expand", "")):
                answer["amount_paid_off_stripe"] = self._paid_off_stripe.get(invoice["id"], 0)
            return 200, answer
        if action == ["pay"] and params.get("paid_out_of_band") == "true":
            return self._pay_out_of_band(invoice)
        if action == ["pay"]:
            return self._pay_invoice(invoice, params.get("payment_method"), params.get("off_session", "true") == "true")
        if action == ["void"]:
            # Only a finalised invoice not paid: open or uncollectible.
            self._invoice_must_be(invoice, ("open", "uncollectible"))
            invoice.update(status="void")
            self._event("invoice.voided", invoice)
            return 200, invoice
        if action == ["mark_uncollectible"]:
            self._invoice_must_be(invoice, ("open",))
            invoice.update(status="uncollectible")
            self._event("invoice.marked_uncollectible", invoice)
            return 200, invoice
        raise StripeError(404, {"type": "invalid_request_error", "message": "Unrecognized request URL"})

    @staticmethod
    def _invoice_must_be(invoice: dict, statuses: tuple) -> None:
        if invoice["status"] not in statuses:
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "invoice_already_paid" if invoice["status"] == "paid" else "invoice_not_open",
                    "message": f"This invoice is {invoice['status']}.",
                },
            )

    def _pay_out_of_band(self, invoice: dict) -> tuple[int, dict]:
        """Marked paid outside Stripe: no charge is made; `amount_paid_off_stripe` says how much."""
        self._invoice_must_be(invoice, ("open", "uncollectible"))
        self._paid_off_stripe[invoice["id"]] = self._paid_off_stripe.get(invoice["id"], 0) + invoice["amount_remaining"]
        invoice.update(
            status="paid", amount_paid=invoice["amount_paid"] + invoice["amount_remaining"], amount_remaining=0
        )
        self._event("invoice.paid", invoice)
        return 200, invoice

    def _invoice_payment(self, invoice: dict, intent: dict, status: str) -> dict:
        """An Invoice Payment: which PaymentIntent paid (or tries to pay) which invoice."""
        payment = {
            "id": self.state.new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": intent["amount"] if status == "paid" else None,
            "amount_requested": intent["amount"],
            "created": int(self.clock()),
            "currency": intent["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
            "status": status,
            "status_transitions": {"canceled_at": None, "paid_at": int(self.clock()) if status == "paid" else None},
        }
        self.state.invoice_payments[payment["id"]] = payment
        return payment

    def _billing_route(self, resource: str, method: str, params: dict) -> tuple[int, dict]:
        """GET /v1/invoice_payments (by `invoice`, or `payment[payment_intent]`); POST /v1/credit_notes."""
        if resource == "invoice_payments" and method == "GET":
            wanted = params.get("payment", {}).get("payment_intent")
            found = [
                p
                for p in self.state.invoice_payments.values()
                if (not params.get("invoice") or p["invoice"] == params["invoice"])
                and (not wanted or p["payment"]["payment_intent"] == wanted)
            ]
            found.sort(key=lambda p: p["created"], reverse=True)
            limit = int(params.get("limit", 10))
            return 200, {
                "object": "list",
                "url": "/v1/invoice_payments",
                "has_more": len(found) > limit,
                "data": found[:limit],
            }
        if resource == "credit_notes" and method == "POST":
            return 200, self.credit_note(params["invoice"], int(params["amount"]))
        raise StripeError(404, {"type": "invalid_request_error", "message": "Unrecognized request URL"})

    def credit_note(self, inv_id: str, amount: int) -> dict:
        """A credit note issued on an open invoice before it is paid: it lowers what the invoice asks."""
        with self.state.lock:
            invoice = self.state.invoices[inv_id]
            self._invoice_must_be(invoice, ("open", "uncollectible"))
            amount = min(amount, invoice["amount_remaining"])
            count = sum(1 for n in self.state.credit_notes.values() if n["invoice"] == inv_id)
            note = {
                "id": self.state.new_id("cn"),
                "object": "credit_note",
                "amount": amount,
                "currency": invoice["currency"],
                "customer": invoice["customer"],
                "invoice": inv_id,
                "number": f"{invoice['number']}-CN-{count + 1:02d}",
                "status": "issued",
                "type": "pre_payment",
                "created": int(self.clock()),
                "livemode": False,
            }
            self.state.credit_notes[note["id"]] = note
            invoice.update(
                amount_due=invoice["amount_due"] - amount,
                amount_remaining=invoice["amount_remaining"] - amount,
                pre_payment_credit_notes_amount=invoice.get("pre_payment_credit_notes_amount", 0) + amount,
            )
            self._event("credit_note.created", note)
            return note

    def pay_part(self, inv_id: str, amount: int) -> dict:
        """A partial payment of an invoice (Stripe's partial payments): a PaymentIntent of Stripe Billing's for
        part of what it asks, paid; the invoice stays open for the rest."""
        with self.state.lock:
            invoice = self.state.invoices[inv_id]
            customer = self._customer(invoice["customer"])
            pm_id = customer["invoice_settings"]["default_payment_method"] or "pm_card_visa"
            intent = self._new_intent(amount, invoice["currency"], customer["id"], pm_id, {})
            self._succeed(intent)
            self._invoice_payment(invoice, intent, "paid")
            invoice.update(
                amount_paid=invoice["amount_paid"] + amount, amount_remaining=invoice["amount_remaining"] - amount
            )
            return invoice

    def billing_payment(self, customer: str, amount: int, currency: str = "eur", metadata: dict | None = None) -> dict:
        """A PaymentIntent the billing system makes itself in the same Stripe account, with its own metadata
        (which may hold an `accountId` too), paid: none of pastdue's."""
        with self.state.lock:
            customer_obj = self._customer(customer)
            pm_id = customer_obj["invoice_settings"]["default_payment_method"] or "pm_card_visa"
            intent = self._new_intent(amount, currency, customer, pm_id, dict(metadata or {}))
            self._succeed(intent)
            return intent

    def retry_invoice(self, inv_id: str) -> tuple[int, dict]:
        """Stripe Billing's own retry (Smart Retries) with the customer's default card."""
        with self.state.lock:
            return self._pay_invoice(self.state.invoices[inv_id], None, True)

    @staticmethod
    def _public(pm: dict) -> dict:
        return {k: v for k, v in pm.items() if not k.startswith("_")}

    def _intent(self, pi_id: str) -> dict:
        intent = self.state.payment_intents.get(pi_id)
        if intent is None:
            raise StripeError(
                404,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "intent",
                    "message": f"No such payment_intent: '{pi_id}'",
                },
            )
        return intent

    def _check_amount(self, amount: int, currency: str) -> None:
        """Stripe's documented limits: at most eight digits, the minimum charge, three-decimal endings."""
        minimum = self.minimum

        def refuse(code, message):
            raise StripeError(
                400, {"type": "invalid_request_error", "code": code, "param": "amount", "message": message}
            )

        if amount < 1:
            refuse("parameter_invalid_integer", "This value must be greater than or equal to 1.")
        digits = DIGITS.get(currency, 8)
        if amount >= 10**digits:
            refuse("amount_too_large", f"Amount must be no more than {10**digits - 1:,} ({digits} digits).")
        if amount < minimum.get(currency, 1):
            refuse("amount_too_small", f"Amount must be at least {minimum[currency]} {currency}.")
        if currency in THREE_DECIMAL and amount % 10:
            refuse("invalid_amount", f"Amounts in {currency} must be divisible by 10 (rounded to two decimals).")

    def _new_intent(self, amount: int, currency: str, customer: str | None, pm_id: str | None, metadata: dict) -> dict:
        """A PaymentIntent in Stripe's shape, awaiting confirmation."""
        pi_id = self.state.new_id("pi")
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": pm_id,
            "metadata": metadata,
            "livemode": False,
            "client_secret": f"{pi_id}_secret_{hashlib.sha256(pi_id.encode()).hexdigest()[:24]}",
            "status": "requires_confirmation" if pm_id else "requires_payment_method",
            "last_payment_error": None,
            "next_action": None,
            "cancellation_reason": None,
            "created": int(self.clock()),
        }
        self.state.payment_intents[pi_id] = intent
        self.search.indexed(intent)
        return intent

    def _create_payment_intent(self, params: dict) -> tuple[int, dict]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise StripeError(
                400, {"type": "invalid_request_error", "param": "amount", "message": "Missing required param: amount."}
            ) from None
        currency = params.get("currency", "")
        if not currency:
            raise StripeError(
                400,
                {"type": "invalid_request_error", "param": "currency", "message": "Missing required param: currency."},
            )
        self._check_amount(amount, currency)
        customer: str | None = params.get("customer")
        if customer:
            self._customer(customer)
        pm = self._payment_method(params["payment_method"]) if params.get("payment_method") else None
        if pm:
            self._check_owner(pm, customer)
        intent = self._new_intent(amount, currency, customer, pm["id"] if pm else None, params.get("metadata", {}))
        if params.get("confirm") != "true":
            return 200, intent
        return self._confirm(intent, {"off_session": params.get("off_session", "false")})

    def _check_owner(self, pm: dict, customer: str | None) -> None:
        """A saved card is used only with its own customer, as Stripe refuses another customer's."""
        if pm["id"] not in self.state.payment_methods or pm["customer"] == customer:
            return
        if customer is None:
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_method_unexpected_state",
                    "param": "payment_method",
                    "message": "The provided PaymentMethod is attached to a Customer: provide that customer too.",
                },
            )
        raise StripeError(
            400,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "payment_method",
                "message": f"The customer does not have a payment method with the ID {pm['id']}. The payment "
                "method must be attached to the customer.",
            },
        )

    def _confirm(self, intent: dict, params: dict) -> tuple[int, dict]:
        if intent["status"] not in ("requires_confirmation", "requires_payment_method"):
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_intent_unexpected_state",
                    "message": f"This PaymentIntent's status is {intent['status']}; it cannot be confirmed.",
                    "payment_intent": dict(intent),
                },
            )
        if params.get("payment_method"):
            pm = self._payment_method(params["payment_method"])
            self._check_owner(pm, intent["customer"])
            intent["payment_method"] = pm["id"]
        pm = self._payment_method(intent["payment_method"] or "")
        off_session = params.get("off_session") == "true"
        if self.state.processing_next:
            self.state.processing_next -= 1
            intent.update(status="processing", last_payment_error=None)
            self._event("payment_intent.processing", intent)
            return 200, intent
        outcome = TEST_CARDS.get(pm["_kind"], (None, None, None))[2]
        if pm["_kind"] == "pm_card_authenticationRequiredOnSetup" and off_session and pm.get("_set_up"):
            outcome = None  # authenticated when it was set up for off-session payments
        if outcome is None:
            self._succeed(intent)
            return 200, intent
        code, decline_code, advice_code = outcome
        if code == "authentication_required" and not off_session:
            # On-session: the bank's challenge is shown to the customer by Stripe.js.
            intent.update(
                status="requires_action",
                last_payment_error=None,
                next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}},
            )
            self._event("payment_intent.requires_action", intent)
            return 200, intent
        error = {**_card_error(code, decline_code, advice_code), "payment_method": self._public(pm)}
        intent.update(status="requires_payment_method", last_payment_error=dict(error), next_action=None)
        error["payment_intent"] = intent
        self._event("payment_intent.payment_failed", intent)
        return 402, {"error": error}

    def _cancel(self, intent: dict, params: dict) -> tuple[int, dict]:
        if intent["status"] not in (
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "requires_capture",
        ):
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_intent_unexpected_state",
                    "message": f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                    "payment_intent": dict(intent),
                },
            )
        intent.update(
            status="canceled",
            canceled_at=int(self.clock()),
            next_action=None,
            cancellation_reason=params.get("cancellation_reason") or "requested_by_customer",
        )
        self._event("payment_intent.canceled", intent)
        return 200, intent

    def _search(self, query: str) -> dict:
        """Stripe's search over PaymentIntents: eventually consistent (devhost/stripe_search.py)."""
        clauses = self.search.parse(query)
        if clauses is None:
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "parameter_invalid_string",
                    "param": "query",
                    "message": "Unsupported search query.",
                },
            )
        return {
            "object": "search_result",
            "url": "/v1/payment_intents/search",
            "has_more": False,
            "next_page": None,
            "data": self.search.find(self.state.payment_intents.values(), clauses, self.clock()),
        }

    def authenticate(self, pi_id: str, succeed: bool = True) -> dict:
        """What the customer's on-session confirmation does: 3-D Secure passed, or failed (the PaymentIntent
        then needs a payment method again, and the customer may try once more on it)."""
        with self.state.lock:
            intent = self.state.payment_intents[pi_id]
            if intent["status"] not in ("requires_action", "requires_payment_method", "requires_confirmation"):
                return intent
            if succeed:
                self._succeed(intent)
            else:
                intent.update(
                    status="requires_payment_method",
                    next_action=None,
                    last_payment_error={
                        "type": "invalid_request_error",
                        "code": "payment_intent_authentication_failure",
                        "message": "The provided PaymentMethod has failed authentication. You can provide "
                        "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent "
                        "again.",
                    },
                )
                self._event("payment_intent.payment_failed", intent)
            return intent

    def settle(self, pi_id: str, succeed: bool = True) -> dict:
        """A `processing` payment reaches its outcome, with its event."""
        with self.state.lock:
            intent = self.state.payment_intents[pi_id]
            if intent["status"] != "processing":
                return intent
            if succeed:
                self._succeed(intent)
            else:
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "type": "card_error",
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "network_decline_code": "05",
                        "message": "Your card was declined.",
                    },
                )
                self._event("payment_intent.payment_failed", intent)
            return intent

    def _succeed(self, intent: dict) -> None:
        """The money is taken: a Charge object (with the PaymentIntent's metadata, as Stripe copies it), then
        the event."""
        charge = {
            "id": self.state.new_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "refunded": False,
            "disputed": False,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "metadata": dict(intent["metadata"]),
            "status": "succeeded",
            "created": int(self.clock()),
        }
        self.state.charges[charge["id"]] = charge
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            last_payment_error=None,
            next_action=None,
            latest_charge=charge["id"],
        )
        self._event("payment_intent.succeeded", intent)

    def refund(self, pi_id: str, amount: int | None = None) -> dict:
        """A refund made in the dashboard (in part or whole): a Refund, and `charge.refunded` with the total
        refunded."""
        with self.state.lock:
            charge = self.state.charges[self.state.payment_intents[pi_id]["latest_charge"]]
            given = min(charge["amount"] - charge["amount_refunded"], amount or charge["amount"])
            charge["amount_refunded"] += given
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            refund = {
                "id": self.state.new_id("re"),
                "object": "refund",
                "amount": given,
                "charge": charge["id"],
                "currency": charge["currency"],
                "payment_intent": pi_id,
                "status": "succeeded",  # failure_reason: only once it failed (Stripe leaves it out before)
                "reason": None,
                "metadata": {},
                "created": int(self.clock()),
            }
            self.state.refunds[refund["id"]] = refund
            self._event("charge.refunded", charge)
            return {**charge, "refund": refund["id"]}

    def fail_refund(self, re_id: str, reason: str = "expired_or_canceled_card") -> dict:
        """The bank could not return a refund (`refund.failed`): the money is back on the balance and the
        charge's total refunded goes down."""
        with self.state.lock:
            refund = self.state.refunds[re_id]
            charge = self.state.charges[refund["charge"]]
            refund.update(status="failed", failure_reason=reason)
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            self._event("refund.failed", refund)
            return refund

    def dispute_step(self, dp_id: str, step: str) -> dict:
        """A dispute's later steps: `funds_withdrawn`, `funds_reinstated`, or closed as `won`, `lost` or (an
        inquiry) `warning_closed`."""
        with self.state.lock:
            dispute = self._disputes[dp_id]
            if step in ("funds_withdrawn", "funds_reinstated"):
                self._event(f"charge.dispute.{step}", dispute)
            else:
                dispute["status"] = step
                self._event("charge.dispute.closed", dispute)
            return dispute

    def dispute(
        self,
        pi_id: str,
        outcome: str | None = None,
        reason: str = "fraudulent",
        amount: int | None = None,
        inquiry: bool = False,
    ) -> dict:
        """The cardholder disputes the payment (`charge.dispute.created`), all of it or `amount` (a partial
        dispute), or only asks (`inquiry`: `warning_needs_response`, no funds move); with `outcome` (won | lost
        | warning_closed) it is closed too (`charge.dispute.closed`). A dispute carries no metadata: only its
        charge and payment."""
        with self.state.lock:
            intent = self.state.payment_intents[pi_id]
            charge = self.state.charges[intent["latest_charge"]]
            dispute = {
                "id": self.state.new_id("dp"),
                "object": "dispute",
                "amount": min(amount or charge["amount"], charge["amount"]),
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": pi_id,
                "reason": reason,
                "status": "warning_needs_response" if inquiry else "needs_response",
                "metadata": {},
                "created": int(self.clock()),
                "livemode": False,
                "payment_method_details": {"type": "card", "card": self._dispute_card(intent, inquiry)},
            }
            self._disputes[dispute["id"]] = dispute
            charge["disputed"] = True
            self._event("charge.dispute.created", dispute)
            if outcome:
                dispute["status"] = outcome
                self._event("charge.dispute.closed", dispute)
            return dispute

    def _dispute_card(self, intent: dict, inquiry: bool = False) -> dict:
        brand = self._payment_method(intent["payment_method"])["card"]["brand"]
        case = "inquiry" if inquiry else "chargeback"
        return {"brand": brand, "case_type": case, "network": brand, "network_reason_code": None}

    def set_up_card(
        self, customer: str, test_method: str = "pm_card_visa", usage: str = "off_session", authentication="pass"
    ) -> str:
        """What Stripe Elements does in the browser with the setup route's client secret: a SetupIntent for
        the customer, confirmed with a card, and the bank's 3-D Secure challenge when the card needs one:
        passed by the customer (`authentication="pass"`), failed ("fail"), or still open ("wait"). Returns
        the SetupIntent's id (seti_...)."""
        with self.state.lock:
            status, intent = self.handle("POST", "/v1/setup_intents", {"customer": customer, "usage": usage})
            self.handle("POST", f"/v1/setup_intents/{intent['id']}/confirm", {"payment_method": test_method})
            if authentication != "wait":
                self.authenticate_setup(intent["id"], succeed=authentication == "pass")
            return intent["id"]

    def taken(self, account_id: str | None = None) -> int:
        """What Stripe holds: the sum of what the succeeded PaymentIntents received (of one account)."""
        with self.state.lock:
            return sum(
                pi["amount_received"]
                for pi in self.state.payment_intents.values()
                if pi["status"] == "succeeded" and (account_id is None or pi["metadata"].get("accountId") == account_id)
            )

    def update_card(self, pm_id: str, exp_month: int = 12, exp_year: int = 2036, last4: str | None = None) -> dict:
        """The card updater refreshed a saved card: same PaymentMethod id, new details, an event."""
        with self.state.lock:
            pm = self.state.payment_methods[pm_id]
            pm["card"].update(exp_month=exp_month, exp_year=exp_year, last4=last4 or pm["card"]["last4"])
            pm["_kind"] = "pm_card_visa"  # the refreshed card works
            self._event("payment_method.automatically_updated", self._public(pm))
            return pm

    def billing_helper(self, parts: list, data: dict) -> dict:
        """/_standin/ helpers for Stripe Billing and reversals: refunds/{re}/fail, disputes/{dp}/{step},
        billing/payment_intents (the billing system's own), invoices/{in}/partial, invoices/{in}/credit_note."""
        if parts[0] == "refunds":
            return self.fail_refund(parts[1], data.get("reason", "expired_or_canceled_card"))
        if parts[0] == "disputes":
            return self.dispute_step(parts[1], parts[2])
        if parts[0] == "billing":
            return self.billing_payment(
                data["customer"], int(data["amount"]), data.get("currency", "eur"), data.get("metadata")
            )
        if parts[2] == "partial":
            return self.pay_part(parts[1], int(data["amount"]))
        return self.credit_note(parts[1], int(data["amount"]))

    # --- events --------------------------------------------------------------------------------------
    def _event(self, kind: str, obj: dict) -> None:
        event = {
            "id": self.state.new_id("evt"),
            "object": "event",
            "type": kind,
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "livemode": False,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        event = complete(event)
        if self.contract:
            self.contract.event(event)
        if not self.state.webhook_url:
            return
        if self.state.delivery == "before":
            self.deliver(event)
        elif self.state.delivery == "manual":
            self.state.held_events.append(event)
        else:
            threading.Timer(0.05, self.deliver, args=(event,)).start()

    def deliver(self, event: dict, times: int = 1) -> list[int]:
        raw = json.dumps(event).encode()
        answers: list[int] = []
        if not self.state.webhook_url or not self.state.webhook_secret:
            raise RuntimeError("the Stripe stand-in has no webhook address and secret to deliver to")
        for _ in range(times):
            stamp = int(time.time())
            digest = hmac.new(self.state.webhook_secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
            try:
                answer = httpx.post(
                    self.state.webhook_url,
                    content=raw,
                    timeout=60,
                    headers={
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}",
                    },
                )
                answers.append(answer.status_code)
                said = answer.text
            except httpx.HTTPError:
                answers.append(0)
                said = ""
            with self.state.lock:
                self.state.deliveries.append(
                    {
                        "id": event["id"],
                        "type": event["type"],
                        "object": event["data"]["object"].get("id"),
                        "status": answers[-1],
                        "answer": said,
                    }
                )
        return answers

    def deliver_held(self, times: int = 1, reverse: bool = False) -> list[int]:
        """Deliver what was held (`times` each; newest first with `reverse`, as Stripe does not promise order)."""
        with self.state.lock:
            held, self.state.held_events = self.state.held_events, []
        if reverse:
            held.reverse()
        return [code for event in held for code in self.deliver(event, times)]

    # --- HTTP ----------------------------------------------------------------------------------------
    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle holds the second until the client's
            # delayed ACK (about 40 ms a request on Linux).
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict, headers: dict | None = None):
                self._send(status, json.dumps(body).encode(), "application/json", headers)

            def _send(self, status: int, raw: bytes, content_type: str, headers: dict | None = None):
                self.send_response(status)
                for key, value in {
                    "Content-Type": content_type,
                    "Content-Length": str(len(raw)),
                    "Request-Id": f"req_{time.monotonic_ns()}",
                    # Stripe's API answers browsers of any origin (Stripe.js calls it from the merchant's page).
                    "Access-Control-Allow-Origin": "*",
                    **(headers or {}),
                }.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_OPTIONS(self):
                """A browser's CORS preflight, allowed as Stripe's API allows it."""
                self._send(
                    204,
                    b"",
                    "text/plain",
                    {
                        "Access-Control-Allow-Methods": "GET, POST, DELETE",
                        "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
                        "Access-Control-Max-Age": "300",
                    },
                )

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

            def do_GET(self):
                self._serve("GET", b"")

            def do_POST(self):
                self._serve("POST", self._body())

            def _serve(self, method: str, raw: bytes):
                url = urlsplit(self.path)
                path = url.path
                if method == "GET" and path in ("/js/v3/", "/js/v3/stripe.js"):
                    return self._send(200, standin.stripe_js(), "text/javascript; charset=utf-8")
                if path.startswith("/_standin/"):
                    return self._helper(path, raw)
                state = standin.state
                reply = functools.partial(self._reply, method, path)
                params = _nest(parse_qsl(raw.decode() if method == "POST" else url.query, keep_blank_values=True))
                authorization = self.headers.get("Authorization") or ""
                given = params.pop("key", None) or authorization.removeprefix("Bearer ")
                if given == standin.publishable_key:
                    return self._publishable(method, path, params)
                if authorization != f"Bearer {state.api_key}":
                    return reply(
                        401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
                    )
                resource = path.split("/")[2] if path.count("/") >= 2 else ""
                if resource in state.forbidden:
                    return reply(
                        403,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "message": (
                                    f"The provided key does not have the required permissions for this endpoint "
                                    f"({resource})."
                                ),
                            }
                        },
                    )
                key = self.headers.get("Idempotency-Key") if method == "POST" else None
                fault = self._fault(method, path)
                if fault in REFUSALS:  # refused before anything ran: nothing is saved
                    return reply(429, {"error": REFUSALS[fault]}, {"Stripe-Should-Retry": "true"})
                try:
                    status, body, replayed = self._idempotent(method, path, params, key, fault)
                except StripeError as error:
                    return reply(error.status, {"error": error.error})
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return None
                return reply(status, body, {"Idempotent-Replayed": "true"} if replayed else None)

            def _publishable(self, method: str, path: str, params: dict):
                """Stripe.js's calls, made with the publishable key: retrieving or confirming an intent with its
                client secret, answered in the publishable view. Anything else is refused as Stripe does."""
                match = PUBLISHABLE_ROUTES.fullmatch(path)
                if not match or (method == "POST") != bool(match.group(3)):
                    return self._answer(
                        401,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "message": "This API call cannot be made with a publishable API key. Please use "
                                "a secret API key.",
                            }
                        },
                    )
                state = standin.state
                resource, intent_id = match.group(1), match.group(2)
                with state.lock:
                    intent = getattr(state, resource).get(intent_id)
                    secret = intent and intent["client_secret"]
                if secret is None or not hmac.compare_digest(str(params.pop("client_secret", "")), secret):
                    # Stripe does not tell a missing intent from a wrong secret to a publishable key.
                    return self._answer(
                        400 if intent else 404,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "resource_missing" if intent is None else "parameter_invalid_string",
                                "param": "client_secret" if intent else "intent",
                                "message": "The client_secret provided does not match any associated "
                                f"{'SetupIntent' if resource == 'setup_intents' else 'PaymentIntent'} on this "
                                "account.",
                            }
                        },
                    )
                try:
                    status, body, _ = self._idempotent(method, path, params, None, None)
                except StripeError as error:
                    status, body = error.status, {"error": error.error}
                return self._answer(status, standin.publishable_view(body))

            def _reply(self, method: str, path: str, status: int, body: dict, headers: dict | None = None):
                """An API answer in Stripe's full shape, checked against Stripe's schemas when asked."""
                body = complete(body)
                if standin.contract:
                    standin.contract.answer(method, path, status, body)
                return self._answer(status, body, headers)

            def _fault(self, method: str, path: str) -> str | None:
                """The next scripted fault, if this request is one it targets: any payment-intent POST, or
                with a prefix only creates, confirms, cancels, or retrieves (`retrieve:` GETs one by id)."""
                if not path.startswith("/v1/payment_intents") or path.endswith("/search"):
                    return None
                if method == "GET":
                    kind = "retrieve"
                else:
                    kind = "create" if path == "/v1/payment_intents" else path.rsplit("/", 1)[-1]
                state = standin.state
                with state.lock:
                    if not state.faults:
                        return None
                    target, _, fault = (
                        state.faults[0].partition(":")
                        if state.faults[0].split(":")[0] in ("create", "confirm", "cancel", "retrieve")
                        else ("", "", state.faults[0])
                    )
                    if (target and target != kind) or (not target and method != "POST"):
                        return None
                    state.faults.pop(0)
                if fault == "processing":
                    state.processing_next += 1
                    return None
                return fault

            def _idempotent(self, method, path, params, key, fault):
                """Stripe's idempotency: a saved answer is replayed, other parameters are an error, and a key
                whose first request is still executing answers 409 `idempotency_key_in_use` (nothing saved)."""
                state = standin.state
                fingerprint = json.dumps([method, path, params], sort_keys=True)
                with state.lock:
                    state.requests.append({"method": method, "path": path, "params": params, "key": key})
                    now = standin.clock()
                    saved = state.idempotency.get(key) if key else None
                    if saved is not None and now - saved[3] >= IDEMPOTENCY_TTL:
                        saved = None  # pruned after 24 hours: the key is new again
                    if saved is not None:
                        saved_fingerprint, status, body, _ = saved
                        if saved_fingerprint != fingerprint:
                            raise StripeError(
                                400,
                                {
                                    "type": "idempotency_error",
                                    "message": (
                                        "Keys for idempotent requests can only be used with the same parameters "
                                        f"they were first used with. Try using a key other than '{key}' if you "
                                        "meant to execute a different request."
                                    ),
                                },
                            )
                        return status, body, True
                    if key in state.executing:
                        raise StripeError(409, key_in_use(key))
                    if key:
                        state.executing.add(key)
                try:
                    if fault and fault.startswith("slow:"):  # executing (slowly): the key is held meanwhile
                        time.sleep(float(fault.split(":")[1]))
                    with state.lock:
                        return self._execute(method, path, params, key, fingerprint, fault == "500")
                finally:
                    if key:
                        with state.lock:
                            state.executing.discard(key)

            def _execute(self, method, path, params, key, fingerprint, fail_after: bool):
                state = standin.state
                now = standin.clock()
                try:
                    status, body = standin.handle(method, path, params)
                except StripeError as error:
                    if error.status >= 500 or (
                        error.status == 400
                        and error.error.get("type") != "card_error"
                        and error.error.get("code") != "payment_intent_unexpected_state"
                    ):
                        raise  # refused before the endpoint ran (validation): nothing is saved
                    status, body = error.status, {"error": error.error}
                if fail_after:  # it ran, then failed on Stripe's side: the 500 is what the key answers now
                    status, body = 500, {"error": {"type": "api_error", "message": "scripted 500 after executing"}}
                if key:
                    state.idempotency[key] = (fingerprint, status, json.loads(json.dumps(body)), now)
                return status, body, False

            def _challenge(self, resource: str, intent_id: str):
                """The bank's 3-D Secure challenge for an intent waiting for its customer: a test page whose
                two buttons complete or fail it (the authenticate helpers), which Stripe.js shows in a frame."""
                with standin.state.lock:
                    intents: dict | None = (
                        getattr(standin.state, resource, None) if resource.endswith("_intents") else None
                    )
                    waiting = intents is not None and intent_id in intents
                if not waiting:
                    return self._answer(404, {"error": {"message": "no such intent"}})
                page = (STRIPE_JS_DIR / "challenge.html").read_bytes()
                return self._send(200, page, "text/html; charset=utf-8", {"Cache-Control": "no-store"})

            def _helper(self, path: str, raw: bytes):
                data = json.loads(raw or b"{}")
                parts = path.strip("/").split("/")
                state = standin.state
                if parts[1] == "faults":
                    state.faults.extend(data.get("next", []))
                    return self._answer(200, {"faults": state.faults})
                if parts[1] == "delivery":
                    state.delivery = data["mode"]
                    return self._answer(200, {"delivery": state.delivery})
                if parts[1] == "events":
                    return self._answer(
                        200, {"delivered": standin.deliver_held(int(data.get("times", 1)), bool(data.get("reverse")))}
                    )
                if parts[1] == "challenge" and len(parts) == 4:
                    return self._challenge(parts[2], parts[3])
                if parts[1] == "setup_intents" and parts[3] == "authenticate":
                    return self._answer(200, standin.authenticate_setup(parts[2], bool(data.get("succeed", True))))
                if parts[1] == "search":
                    search = standin.search
                    search.miss_next += int(data.get("miss_next", 0))
                    search.miss = float(data.get("miss", search.miss))
                    search.lag = tuple(data.get("lag", search.lag))
                    return self._answer(200, {"miss_next": search.miss_next, "miss": search.miss, "lag": search.lag})
                if parts[1] == "payment_intents" and parts[3] == "authenticate":
                    return self._answer(200, standin.authenticate(parts[2], bool(data.get("succeed", True))))
                if parts[1] == "invoices" and len(parts) == 2:
                    return self._answer(200, standin.create_invoice(**data))
                if parts[1] == "invoices" and parts[3] == "retry":
                    return self._answer(*standin.retry_invoice(parts[2]))
                if parts[1] == "payment_intents" and parts[3] == "refund":
                    return self._answer(200, standin.refund(parts[2], data.get("amount")))
                if parts[1] == "payment_intents" and parts[3] == "dispute":
                    return self._answer(200, standin.dispute(parts[2], **data))
                if parts[1] in ("refunds", "disputes", "billing") or parts[3:4] in (["partial"], ["credit_note"]):
                    return self._answer(200, standin.billing_helper(parts[1:], data))
                if parts[1] == "payment_intents" and parts[3] == "settle":
                    return self._answer(200, standin.settle(parts[2], bool(data.get("succeed", True))))
                if parts[1] == "payment_methods" and parts[3] == "update_card":
                    return self._answer(200, standin._public(standin.update_card(parts[2], **data)))
                if parts[1] == "state":
                    with state.lock:
                        return self._answer(
                            200,
                            {"payment_intents": list(state.payment_intents.values()), "requests": len(state.requests)},
                        )
                return self._answer(404, {"error": {"message": "no such helper"}})

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Stripe API stand-in")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_standin")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret")
    parser.add_argument("--publishable-key", default="pk_test_standin")
    args = parser.parse_args()
    standin = StripeStandIn(
        args.api_key, args.port, args.webhook_url, args.webhook_secret, publishable_key=args.publishable_key
    )
    print(f"Stripe stand-in on {standin.url}", flush=True)
    standin.server.serve_forever()


if __name__ == "__main__":
    main()
