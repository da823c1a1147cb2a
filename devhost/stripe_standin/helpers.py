"""The test helpers under /_standin/, which Stripe does not have: scripted faults (devhost/stripe_standin/
faults.py), event delivery modes and held events, the bank's 3-D Secure challenge page and completing or
failing a customer's authentication (of a payment or of a card set-up), search misses and lag, Stripe
Billing's invoices (made, retried, partly paid, credited) and its own payments, refunds and disputes,
settling a processing payment, the card updater, and a look at the state."""

from __future__ import annotations

import json

from devhost.stripe_standin.constants import STRIPE_JS_DIR
from devhost.stripe_standin.events import Events
from devhost.stripe_standin.resources import Customers, Invoices, PaymentIntents, RefundsDisputes, SetupIntents

# A helper's answer: its status and a JSON body, or the bytes of an HTML page.
Answer = tuple[int, dict | bytes]


class Helpers(Customers, SetupIntents, PaymentIntents, Invoices, RefundsDisputes, Events):
    """The stand-in with its test helpers, which drive every resource."""

    def helper(self, path: str, raw: bytes) -> Answer:
        return _serve_helper(self, path, raw)


def _serve_helper(standin: Helpers, path: str, raw: bytes) -> Answer:
    """A request under /_standin/, answered by its helper (404 for none)."""
    data = json.loads(raw or b"{}")
    parts = path.strip("/").split("/")
    state = standin.state
    if parts[1] == "faults":
        state.faults.extend(data.get("next", []))
        return (200, {"faults": state.faults})
    if parts[1] == "delivery":
        state.delivery = data["mode"]
        return (200, {"delivery": state.delivery})
    if parts[1] == "events":
        return (200, {"delivered": standin.deliver_held(int(data.get("times", 1)), bool(data.get("reverse")))})
    if parts[1] == "challenge" and len(parts) == 4:
        return _challenge(standin, parts[2], parts[3])
    if parts[1] == "setup_intents" and parts[3] == "authenticate":
        return (200, standin.authenticate_setup(parts[2], bool(data.get("succeed", True))))
    if parts[1] == "search":
        search = standin.search
        search.miss_next += int(data.get("miss_next", 0))
        search.miss = float(data.get("miss", search.miss))
        search.lag = tuple(data.get("lag", search.lag))
        return (200, {"miss_next": search.miss_next, "miss": search.miss, "lag": search.lag})
    if parts[1] == "payment_intents" and parts[3] == "authenticate":
        return (200, standin.authenticate(parts[2], bool(data.get("succeed", True))))
    if parts[1] == "invoices" and len(parts) == 2:
        return (200, standin.create_invoice(**data))
    if parts[1] == "invoices" and parts[3] == "retry":
        return standin.retry_invoice(parts[2])
    if parts[1] == "payment_intents" and parts[3] == "refund":
        return (200, standin.refund(parts[2], data.get("amount")))
    if parts[1] == "payment_intents" and parts[3] == "dispute":
        return (200, standin.dispute(parts[2], **data))
    if parts[1] in ("refunds", "disputes", "billing") or parts[3:4] in (["partial"], ["credit_note"]):
        return (200, standin.billing_helper(parts[1:], data))
    if parts[1] == "payment_intents" and parts[3] == "settle":
        return (200, standin.settle(parts[2], bool(data.get("succeed", True))))
    if parts[1] == "payment_methods" and parts[3] == "update_card":
        return (200, standin._public(standin.update_card(parts[2], **data)))
    if parts[1] == "state":
        with state.lock:
            return (
                200,
                {"payment_intents": list(state.payment_intents.values()), "requests": len(state.requests)},
            )
    return (404, {"error": {"message": "no such helper"}})


def _challenge(standin: Helpers, resource: str, intent_id: str) -> Answer:
    """The bank's 3-D Secure challenge for an intent waiting for its customer: a test page whose
    two buttons complete or fail it (the authenticate helpers), which Stripe.js shows in a frame."""
    with standin.state.lock:
        intents: dict | None = getattr(standin.state, resource, None) if resource.endswith("_intents") else None
        waiting = intents is not None and intent_id in intents
    if not waiting:
        return (404, {"error": {"message": "no such intent"}})
    return 200, (STRIPE_JS_DIR / "challenge.html").read_bytes()
