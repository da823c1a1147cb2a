"""What every part of the Stripe stand-in shares: the `State` of Stripe's objects (one lock guards it all),
`StripeError` (an API error with its HTTP status and Stripe's error body), and `StandInBase`, the base of
the resource mixins that make up `StripeStandIn`: the attributes they all use, and what one part calls of
another (declared here for the type checker; each is defined in its own module)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from devhost.stripe_search import StripeSearch

if TYPE_CHECKING:
    from devhost.stripe_contract import Contract


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


def missing(status: int, message: str, param: str | None = None) -> StripeError:
    """Stripe's answer for an id it does not know: `resource_missing`, naming the parameter if there is one."""
    error = {"type": "invalid_request_error", "code": "resource_missing", "message": message}
    return StripeError(status, error if param is None else {**error, "param": param})


def unexpected_state(intent: dict, message: str) -> StripeError:
    """Stripe's answer for an intent asked to do what its status does not allow, with the intent itself."""
    kind = intent["object"]  # payment_intent, setup_intent
    error = {"type": "invalid_request_error", "code": f"{kind}_unexpected_state", "message": message}
    return StripeError(400, {**error, kind: dict(intent)})


def stored(table: dict, obj_id: str, what: str, param: str | None = "id") -> dict:
    """The object of that id, or Stripe's 404 for an id it does not know."""
    found = table.get(obj_id)
    if found is None:
        raise missing(404, f"No such {what}: '{obj_id}'", param)
    return found


class StandInBase:
    """The stand-in's shared parts (set by `StripeStandIn.__init__`): its state, Stripe's clock, search, the
    schema check, the minimum charges, and the records kept outside the state."""

    state: State
    clock: Callable[[], float]
    search: StripeSearch
    contract: Contract | None
    minimum: dict
    _disputes: dict
    _paid_off_stripe: dict

    @staticmethod
    def _public(pm: dict) -> dict:
        return {k: v for k, v in pm.items() if not k.startswith("_")}

    if TYPE_CHECKING:  # what the parts call of one another, each defined in its own module

        def handle(self, method: str, path: str, params: dict) -> tuple[int, dict]: ...

        def _event(self, kind: str, obj: dict) -> None: ...

        def _customer(self, customer_id: str) -> dict: ...

        def _payment_method(self, pm_id: str) -> dict: ...

        def _clone(self, pm_id: str, customer: str | None) -> dict: ...

        def _new_intent(
            self, amount: int, currency: str, customer: str | None, pm_id: str | None, metadata: dict
        ) -> dict: ...

        def _succeed(self, intent: dict) -> None: ...

        def credit_note(self, inv_id: str, amount: int) -> dict: ...

        def pay_part(self, inv_id: str, amount: int) -> dict: ...

        def billing_payment(
            self, customer: str, amount: int, currency: str = "eur", metadata: dict | None = None
        ) -> dict: ...
