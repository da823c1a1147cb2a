"""The Stripe stand-in's server: `StripeStandIn`, its parts composed (customers, setup and payment intents,
Stripe Billing's invoices, refunds and disputes, events), started, stopped and its clock moved; the route
table that says which part answers each API request; and its HTTP side: requests parsed (Stripe's form
encoding), the secret key checked (401, or 403 for a resource the key may not use), the publishable key's
few calls (Stripe.js's), Stripe.js served, CORS, and the idempotency-key store (an answer saved and replayed
for 24 hours of Stripe's clock, a key still executing answering 409). Scripted faults are applied here
(devhost/stripe_standin/faults.py); requests under /_standin/ go to the test helpers (helpers.py)."""

from __future__ import annotations

import functools
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from devhost.stripe_search import StripeSearch
from devhost.stripe_shapes import complete
from devhost.stripe_standin.cards import TEST_CARDS
from devhost.stripe_standin.constants import (
    IDEMPOTENCY_TTL,
    MINIMUM,
    PUBLISHABLE_FIELDS,
    PUBLISHABLE_ROUTES,
    STRIPE_JS_DIR,
)
from devhost.stripe_standin.faults import DROP, FAIL_AFTER, REFUSALS, failed_after_executing, hold, next_fault
from devhost.stripe_standin.helpers import Helpers
from devhost.stripe_standin.state import State, StripeError


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


@dataclass(frozen=True)
class Route:
    """An API route: a method (GET, POST, or * for any) and a path after /v1/ made of names, `{id}` (one
    segment, passed to the handler) and a final `...` (any further segments, not passed); the handler is the
    name of the stand-in's method that answers it: handler(*ids, params) -> (status, body)."""

    method: str
    pattern: str
    handler: str

    def match(self, method: str, resource: str, rest: list[str]) -> list[str] | None:
        """The ids this route takes from a request's path segments, or None if the request is not its own."""
        if self.method not in ("*", method):
            return None
        expected, given = self.pattern.split("/"), [resource, *rest]
        if expected[-1] == "...":
            expected = expected[:-1]
            given = given[: len(expected)]
        if len(given) != len(expected):
            return None
        ids = []
        for name, segment in zip(expected, given, strict=True):
            if name == "{id}":
                ids.append(segment)
            elif name != segment:
                return None
        return ids


# What the stand-in answers under /v1/: the first route that matches a request answers it; no match is
# Stripe's 404 "Unrecognized request URL" (so are the lists the stand-in does not serve, GET /v1/customers...).
# `*` takes GET and POST (the only methods the HTTP side passes on). A list it does not serve (GET /v1/customers,
# /v1/payment_methods...) fails without an answer.
ROUTES = (
    Route("POST", "customers", "_customer_create"),
    Route("POST", "customers/{id}/...", "_customer_update"),
    Route("*", "customers/{id}/...", "_customer_retrieve"),
    Route("POST", "payment_methods/{id}/attach", "_payment_method_attach"),
    Route("*", "payment_methods/{id}/...", "_payment_method_retrieve"),
    Route("POST", "setup_intents", "_setup_intent_create"),
    Route("*", "setup_intents/{id}/confirm", "_setup_intent_confirm"),
    Route("*", "setup_intents/{id}/...", "_setup_intent_retrieve"),
    Route("POST", "payment_intents", "_payment_intent_create"),
    Route("GET", "payment_intents/search", "_payment_intent_search"),
    Route("POST", "payment_intents/{id}/confirm", "_payment_intent_confirm"),
    Route("POST", "payment_intents/{id}/cancel", "_payment_intent_cancel"),
    Route("*", "payment_intents/{id}/...", "_payment_intent_retrieve"),
    Route("*", "subscriptions", "_subscription_list"),
    Route("POST", "subscriptions/{id}/...", "_subscription_update"),
    Route("*", "subscriptions/{id}/...", "_subscription_retrieve"),
    Route("GET", "invoices/{id}/...", "_invoice_retrieve"),
    Route("*", "invoices/{id}", "_invoice_retrieve"),
    Route("*", "invoices/{id}/pay", "_invoice_pay"),
    Route("*", "invoices/{id}/void", "_invoice_void"),
    Route("*", "invoices/{id}/mark_uncollectible", "_invoice_mark_uncollectible"),
    Route("*", "invoices/{id}/...", "_invoice_action_unknown"),
    Route("GET", "refunds", "_refund_list"),
    Route("GET", "invoice_payments/...", "_invoice_payment_list"),
    Route("*", "invoice_payments/...", "_billing_unrecognized"),
    Route("POST", "credit_notes/...", "_credit_note_create"),
    Route("*", "credit_notes/...", "_billing_unrecognized"),
)


class StripeStandIn(Helpers):
    """A local Stripe (see the package's docstring): `with StripeStandIn(key) as standin:` serves it on
    `standin.url` until the block ends."""

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

            self.contract = Contract()
        else:
            self.contract = None
        # Stripe's clock, in epoch seconds: key expiry, search lag and `created` follow it (a test points
        # it at the host's test clock, so that "a day later" is a day later here too).
        self._offset = 0.0
        self.clock = clock or (lambda: time.time() + self._offset)
        self.minimum = dict(MINIMUM)  # Stripe's minimum charges (a test may add one the app does not know)
        self._disputes = {}
        self._paid_off_stripe = {}  # invoice id -> what was marked paid outside Stripe
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

    # --- routes --------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        """An API request (its path, its parameters as nested data), answered by its route in ROUTES."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"] or len(parts) < 2:
            raise StripeError(404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"})
        resource, rest = parts[1], parts[2:]
        for route in ROUTES:
            ids = route.match(method, resource, rest)
            if ids is not None:
                return getattr(self, route.handler)(*ids, params)
        raise StripeError(404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"})

    # --- HTTP ----------------------------------------------------------------------------------------
    def _handler(self) -> type[Handler]:
        """The request handler of this stand-in's server."""

        class Bound(Handler):
            pass

        Bound.standin = self
        return Bound


class Handler(BaseHTTPRequestHandler):
    """Stripe's API over HTTP, for the stand-in `standin` (set on the subclass each server uses)."""

    standin: StripeStandIn
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
            return self._send(200, self.standin.stripe_js(), "text/javascript; charset=utf-8")
        if path.startswith("/_standin/"):
            status, answer = self.standin.helper(path, raw)
            if isinstance(answer, bytes):  # the bank's challenge page
                return self._send(status, answer, "text/html; charset=utf-8", {"Cache-Control": "no-store"})
            return self._answer(status, answer)
        state = self.standin.state
        reply = functools.partial(self._reply, method, path)
        params = _nest(parse_qsl(raw.decode() if method == "POST" else url.query, keep_blank_values=True))
        authorization = self.headers.get("Authorization") or ""
        given = params.pop("key", None) or authorization.removeprefix("Bearer ")
        if given == self.standin.publishable_key:
            return self._publishable(method, path, params)
        if authorization != f"Bearer {state.api_key}":
            return reply(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}})
        resource = path.split("/")[2] if path.count("/") >= 2 else ""
        if resource in state.forbidden:
            return reply(
                403,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": (
                            f"The provided key does not have the required permissions for this endpoint ({resource})."
                        ),
                    }
                },
            )
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        fault = next_fault(self.standin.state, method, path)
        if fault in REFUSALS:  # refused before anything ran: nothing is saved
            return reply(429, {"error": REFUSALS[fault]}, {"Stripe-Should-Retry": "true"})
        try:
            status, body, replayed = self._idempotent(method, path, params, key, fault)
        except StripeError as error:
            return reply(error.status, {"error": error.error})
        if fault == DROP:
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
        state = self.standin.state
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
        return self._answer(status, self.standin.publishable_view(body))

    def _reply(self, method: str, path: str, status: int, body: dict, headers: dict | None = None):
        """An API answer in Stripe's full shape, checked against Stripe's schemas when asked."""
        body = complete(body)
        if self.standin.contract:
            self.standin.contract.answer(method, path, status, body)
        return self._answer(status, body, headers)

    def _idempotent(self, method, path, params, key, fault):
        """Stripe's idempotency: a saved answer is replayed, other parameters are an error, and a key
        whose first request is still executing answers 409 `idempotency_key_in_use` (nothing saved)."""
        state = self.standin.state
        fingerprint = json.dumps([method, path, params], sort_keys=True)
        with state.lock:
            state.requests.append({"method": method, "path": path, "params": params, "key": key})
            now = self.standin.clock()
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
            hold(fault)  # a `slow:` fault: executing slowly, the key held meanwhile
            with state.lock:
                return self._execute(method, path, params, key, fingerprint, fault == FAIL_AFTER)
        finally:
            if key:
                with state.lock:
                    state.executing.discard(key)

    def _execute(self, method, path, params, key, fingerprint, fail_after: bool):
        state = self.standin.state
        now = self.standin.clock()
        try:
            status, body = self.standin.handle(method, path, params)
        except StripeError as error:
            if error.status >= 500 or (
                error.status == 400
                and error.error.get("type") != "card_error"
                and error.error.get("code") != "payment_intent_unexpected_state"
            ):
                raise  # refused before the endpoint ran (validation): nothing is saved
            status, body = error.status, {"error": error.error}
        if fail_after:  # it ran, then failed on Stripe's side: the 500 is what the key answers now
            status, body = failed_after_executing()
        if key:
            state.idempotency[key] = (fingerprint, status, json.loads(json.dumps(body)), now)
        return status, body, False
