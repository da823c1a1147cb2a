"""SetupIntents: a card saved for later payments. A card whose issuer wants 3-D Secure to set it up stays
`requires_action` until the customer's authentication completes or fails (`authenticate_setup`); once set up
for off-session use, its off-session payments succeed. `set_up_card` does what Stripe Elements does in the
browser."""

from __future__ import annotations

import hashlib

from devhost.stripe_standin.cards import SETUP_NEEDS_AUTHENTICATION
from devhost.stripe_standin.state import StandInBase, stored, unexpected_state


class SetupIntents(StandInBase):
    def _setup_intent(self, seti_id: str) -> dict:
        return stored(self.state.setup_intents, seti_id, "setupintent", None)

    def _confirm_setup(self, intent: dict, params: dict) -> tuple[int, dict]:
        """A card saved for later: a card whose issuer wants 3-D Secure to set it up waits for the customer
        (`requires_action`) until `authenticate_setup` completes or fails it."""
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise unexpected_state(intent, f"This SetupIntent's status is {intent['status']}; it cannot be confirmed.")
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

    # --- routes: /v1/setup_intents -----------------------------------------------------------------
    def _setup_intent_create(self, params: dict) -> tuple[int, dict]:
        state = self.state
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

    def _setup_intent_confirm(self, seti_id: str, params: dict) -> tuple[int, dict]:
        return self._confirm_setup(self._setup_intent(seti_id), params)

    def _setup_intent_retrieve(self, seti_id: str, params: dict) -> tuple[int, dict]:
        intent = self._setup_intent(seti_id)
        if "payment_method" in (params.get("expand") or {}).values() and intent.get("payment_method"):
            # `expand[]=payment_method`: the object itself in place of its id, as Stripe answers it.
            return 200, {**intent, "payment_method": self._public(self._payment_method(intent["payment_method"]))}
        return 200, intent
