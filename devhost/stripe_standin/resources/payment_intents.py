"""PaymentIntents: create (confirmed at once or not), confirm, cancel, retrieve and search, with Stripe's
amount checks (minimum charge per currency, digits, three-decimal endings), a payment method used only with
its own customer, declines as card errors, 3-D Secure on-session (`requires_action`, then `authenticate`),
`processing` settled later (`settle`), and a Charge for every payment that succeeds."""

from __future__ import annotations

import hashlib

from devhost.stripe_standin.cards import TEST_CARDS, card_error
from devhost.stripe_standin.constants import DIGITS, THREE_DECIMAL
from devhost.stripe_standin.state import StandInBase, StripeError, stored, unexpected_state


class PaymentIntents(StandInBase):
    def _intent(self, pi_id: str) -> dict:
        return stored(self.state.payment_intents, pi_id, "payment_intent", "intent")

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

    def _payment_intent_create(self, params: dict) -> tuple[int, dict]:
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
            raise unexpected_state(
                intent, f"This PaymentIntent's status is {intent['status']}; it cannot be confirmed."
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
        error = {**card_error(code, decline_code, advice_code), "payment_method": self._public(pm)}
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
            raise unexpected_state(
                intent, f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}."
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
        failed = {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide "
            "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
        }
        waiting = ("requires_action", "requires_payment_method", "requires_confirmation")
        return self._outcome(pi_id, waiting, None if succeed else {"next_action": None, "last_payment_error": failed})

    def settle(self, pi_id: str, succeed: bool = True) -> dict:
        """A `processing` payment reaches its outcome, with its event."""
        declined = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "network_decline_code": "05",
            "message": "Your card was declined.",
        }
        return self._outcome(pi_id, ("processing",), None if succeed else {"last_payment_error": declined})

    def _outcome(self, pi_id: str, waiting: tuple[str, ...], failure: dict | None) -> dict:
        """A payment waiting in one of `waiting` succeeds (no `failure`) or fails with `failure`'s fields,
        with its event; a payment in any other status is left as it is."""
        with self.state.lock:
            intent = self.state.payment_intents[pi_id]
            if intent["status"] not in waiting:
                return intent
            if failure is None:
                self._succeed(intent)
            else:
                intent.update(status="requires_payment_method", **failure)
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

    def taken(self, account_id: str | None = None) -> int:
        """What Stripe holds: the sum of what the succeeded PaymentIntents received (of one account)."""
        with self.state.lock:
            return sum(
                pi["amount_received"]
                for pi in self.state.payment_intents.values()
                if pi["status"] == "succeeded" and (account_id is None or pi["metadata"].get("accountId") == account_id)
            )

    # --- routes: /v1/payment_intents (created by `_payment_intent_create`) -------------------------
    def _payment_intent_search(self, params: dict) -> tuple[int, dict]:
        return 200, self._search(params.get("query", ""))

    def _payment_intent_confirm(self, pi_id: str, params: dict) -> tuple[int, dict]:
        return self._confirm(self._intent(pi_id), params)

    def _payment_intent_cancel(self, pi_id: str, params: dict) -> tuple[int, dict]:
        return self._cancel(self._intent(pi_id), params)

    def _payment_intent_retrieve(self, pi_id: str, params: dict) -> tuple[int, dict]:
        return 200, self._intent(pi_id)
