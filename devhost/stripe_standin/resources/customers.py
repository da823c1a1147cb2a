"""Customers and their payment methods: Stripe's test payment methods become a customer's own attached
PaymentMethods when used with one (as in test mode), a card attached to another customer is refused, the
customer's default payment method for invoices must be one of its own, and the card updater refreshes a saved
card (`payment_method.automatically_updated`)."""

from __future__ import annotations

from devhost.stripe_standin.cards import TEST_CARDS
from devhost.stripe_standin.state import StandInBase, StripeError, missing


class Customers(StandInBase):
    def _payment_method(self, pm_id: str) -> dict:
        state = self.state
        if pm_id in state.payment_methods:
            return state.payment_methods[pm_id]
        if pm_id in TEST_CARDS:
            brand, last4, _ = TEST_CARDS[pm_id]
            return self._pm_object(pm_id, pm_id, brand, last4, None)
        raise missing(400, f"No such PaymentMethod: '{pm_id}'", "payment_method")

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
            raise missing(400, f"No such customer: '{customer_id}'", "customer")
        return self.state.customers[customer_id]

    def update_card(self, pm_id: str, exp_month: int = 12, exp_year: int = 2036, last4: str | None = None) -> dict:
        """The card updater refreshed a saved card: same PaymentMethod id, new details, an event."""
        with self.state.lock:
            pm = self.state.payment_methods[pm_id]
            pm["card"].update(exp_month=exp_month, exp_year=exp_year, last4=last4 or pm["card"]["last4"])
            pm["_kind"] = "pm_card_visa"  # the refreshed card works
            self._event("payment_method.automatically_updated", self._public(pm))
            return pm

    # --- routes: /v1/customers, /v1/payment_methods -------------------------------------------------
    def _customer_create(self, params: dict) -> tuple[int, dict]:
        state = self.state
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

    def _customer_update(self, customer_id: str, params: dict) -> tuple[int, dict]:
        """Its default payment method for invoices, which must be attached to it."""
        record = self._customer(customer_id)
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

    def _customer_retrieve(self, customer_id: str, params: dict) -> tuple[int, dict]:
        return 200, self._customer(customer_id)

    def _payment_method_attach(self, pm_id: str, params: dict) -> tuple[int, dict]:
        self._customer(params.get("customer", ""))
        return 200, self._public(self._clone(pm_id, params["customer"]))

    def _payment_method_retrieve(self, pm_id: str, params: dict) -> tuple[int, dict]:
        return 200, self._public(self._payment_method(pm_id))
