"""The test helpers under /_standin/, which Stripe does not have: scripted faults (devhost/stripe_standin/
faults.py), event delivery modes and held events, the bank's 3-D Secure challenge page and completing or
failing a customer's authentication (of a payment or of a card set-up), search misses and lag, Stripe
Billing's invoices (made, retried, partly paid, credited) and its own payments, refunds and disputes,
settling a processing payment, the card updater, and a look at the state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from devhost.stripe_standin.constants import STRIPE_JS_DIR

if TYPE_CHECKING:
    from devhost.stripe_standin.server import Handler


def serve_helper(handler: Handler, path: str, raw: bytes):
    """A request under /_standin/, answered by its helper (404 for none)."""
    standin = handler.standin
    data = json.loads(raw or b"{}")
    parts = path.strip("/").split("/")
    state = standin.state
    if parts[1] == "faults":
        state.faults.extend(data.get("next", []))
        return handler._answer(200, {"faults": state.faults})
    if parts[1] == "delivery":
        state.delivery = data["mode"]
        return handler._answer(200, {"delivery": state.delivery})
    if parts[1] == "events":
        return handler._answer(
            200, {"delivered": standin.deliver_held(int(data.get("times", 1)), bool(data.get("reverse")))}
        )
    if parts[1] == "challenge" and len(parts) == 4:
        return challenge(handler, parts[2], parts[3])
    if parts[1] == "setup_intents" and parts[3] == "authenticate":
        return handler._answer(200, standin.authenticate_setup(parts[2], bool(data.get("succeed", True))))
    if parts[1] == "search":
        search = standin.search
        search.miss_next += int(data.get("miss_next", 0))
        search.miss = float(data.get("miss", search.miss))
        search.lag = tuple(data.get("lag", search.lag))
        return handler._answer(200, {"miss_next": search.miss_next, "miss": search.miss, "lag": search.lag})
    if parts[1] == "payment_intents" and parts[3] == "authenticate":
        return handler._answer(200, standin.authenticate(parts[2], bool(data.get("succeed", True))))
    if parts[1] == "invoices" and len(parts) == 2:
        return handler._answer(200, standin.create_invoice(**data))
    if parts[1] == "invoices" and parts[3] == "retry":
        return handler._answer(*standin.retry_invoice(parts[2]))
    if parts[1] == "payment_intents" and parts[3] == "refund":
        return handler._answer(200, standin.refund(parts[2], data.get("amount")))
    if parts[1] == "payment_intents" and parts[3] == "dispute":
        return handler._answer(200, standin.dispute(parts[2], **data))
    if parts[1] in ("refunds", "disputes", "billing") or parts[3:4] in (["partial"], ["credit_note"]):
        return handler._answer(200, standin.billing_helper(parts[1:], data))
    if parts[1] == "payment_intents" and parts[3] == "settle":
        return handler._answer(200, standin.settle(parts[2], bool(data.get("succeed", True))))
    if parts[1] == "payment_methods" and parts[3] == "update_card":
        return handler._answer(200, standin._public(standin.update_card(parts[2], **data)))
    if parts[1] == "state":
        with state.lock:
            return handler._answer(
                200,
                {"payment_intents": list(state.payment_intents.values()), "requests": len(state.requests)},
            )
    return handler._answer(404, {"error": {"message": "no such helper"}})


def challenge(handler: Handler, resource: str, intent_id: str):
    """The bank's 3-D Secure challenge for an intent waiting for its customer: a test page whose
    two buttons complete or fail it (the authenticate helpers), which Stripe.js shows in a frame."""
    standin = handler.standin
    with standin.state.lock:
        intents: dict | None = getattr(standin.state, resource, None) if resource.endswith("_intents") else None
        waiting = intents is not None and intent_id in intents
    if not waiting:
        return handler._answer(404, {"error": {"message": "no such intent"}})
    page = (STRIPE_JS_DIR / "challenge.html").read_bytes()
    return handler._send(200, page, "text/html; charset=utf-8", {"Cache-Control": "no-store"})
