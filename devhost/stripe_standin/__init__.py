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

Test helpers under /_standin/ (helpers.py): scripted faults for the next payment-intent requests (faults.py:
`drop` = process then drop the connection, `500` = process then answer 500 (saved under the key), `429` =
refused before anything ran, `lock_timeout` = a 429 with that code, refused before anything ran, `slow:<s>` =
the request holds its key that long before executing, `processing` = the next confirm stays processing;
`create:` or `confirm:` before one targets that request only), event delivery modes, completing or failing
a customer's authentication (of a payment or of a card set-up), settling a processing payment, the card
updater, search misses (`/_standin/search`).

Its parts: server.py (`StripeStandIn`, the route table, HTTP, keys, idempotency), resources/ (customers.py,
setup_intents.py, payment_intents.py, invoices.py, refunds_disputes.py), events.py (events and their signed
delivery), faults.py, helpers.py, cards.py (Stripe's test payment methods), constants.py (Stripe's documented
limits), state.py (the shared state); `python -m devhost.stripe_standin` serves one on its own.
"""

from devhost.stripe_standin.cards import MESSAGES, NETWORK_CODES, SETUP_NEEDS_AUTHENTICATION, TEST_CARDS
from devhost.stripe_standin.constants import (
    API_VERSION,
    DIGITS,
    IDEMPOTENCY_TTL,
    MINIMUM,
    PUBLISHABLE_FIELDS,
    PUBLISHABLE_ROUTES,
    STRIPE_JS_DIR,
    THREE_DECIMAL,
)
from devhost.stripe_standin.faults import REFUSALS
from devhost.stripe_standin.server import StripeStandIn, key_in_use
from devhost.stripe_standin.state import State, StripeError

__all__ = [
    "API_VERSION",
    "DIGITS",
    "IDEMPOTENCY_TTL",
    "MESSAGES",
    "MINIMUM",
    "NETWORK_CODES",
    "PUBLISHABLE_FIELDS",
    "PUBLISHABLE_ROUTES",
    "REFUSALS",
    "SETUP_NEEDS_AUTHENTICATION",
    "STRIPE_JS_DIR",
    "THREE_DECIMAL",
    "TEST_CARDS",
    "State",
    "StripeError",
    "StripeStandIn",
    "key_in_use",
]
