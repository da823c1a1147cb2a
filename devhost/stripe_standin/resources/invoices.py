"""Stripe Billing: subscriptions (one monthly price each, with an optional default payment method of their
own), invoices numbered per customer, finalised and tried (`invoice.payment_failed`), paid once by card
(off-session unless asked otherwise), out of band, or by Stripe's own retries; voided or marked
uncollectible; partial payments, credit notes issued before payment, and the Invoice Payments that say which
PaymentIntent paid which invoice. Also the billing system's own PaymentIntents in the same account."""

from __future__ import annotations

from typing import Any

from devhost.stripe_shapes import month_after
from devhost.stripe_standin.cards import TEST_CARDS, card_error
from devhost.stripe_standin.state import StandInBase, StripeError, stored


class Invoices(StandInBase):
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

    def _subscription(self, sub_id: str) -> dict:
        return stored(self.state.subscriptions, sub_id, "subscription")

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

    def _invoice(self, inv_id: str) -> dict:
        return stored(self.state.invoices, inv_id, "invoice")

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
        error = card_error(code, decline_code, advice_code)
        self._event("invoice.payment_failed", invoice)
        return 402, {"error": error}

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

    # --- routes: /v1/subscriptions ------------------------------------------------------------------
    def _subscription_list(self, params: dict) -> tuple[int, dict]:
        state = self.state
        status = params.get("status", "active")
        found = [
            sub
            for sub in state.subscriptions.values()
            if sub["customer"] == params.get("customer", sub["customer"])
            and (status == "all" or sub["status"] == status)
        ]
        return 200, {"object": "list", "url": "/v1/subscriptions", "has_more": False, "data": found}

    def _subscription_update(self, sub_id: str, params: dict) -> tuple[int, dict]:
        """Its own default payment method (attached to its customer), or none (`default_payment_method=`)."""
        sub = self._subscription(sub_id)
        if "default_payment_method" in params:
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

    def _subscription_retrieve(self, sub_id: str, params: dict) -> tuple[int, dict]:
        return 200, self._subscription(sub_id)

    # --- routes: /v1/invoices/{id} -------------------------------------------------------------------
    def _invoice_retrieve(self, inv_id: str, params: dict) -> tuple[int, dict]:
        """With `expand[]=amount_paid_off_stripe`: how much was marked paid outside Stripe."""
        invoice = self._invoice(inv_id)
        answer = dict(invoice)
        if "amount_paid_off_stripe" in str(params.get("expand", "")):
            answer["amount_paid_off_stripe"] = self._paid_off_stripe.get(invoice["id"], 0)
        return 200, answer

    def _invoice_pay(self, inv_id: str, params: dict) -> tuple[int, dict]:
        """By card (off-session unless `off_session=false`, as Stripe defaults it), or `paid_out_of_band`."""
        invoice = self._invoice(inv_id)
        if params.get("paid_out_of_band") == "true":
            return self._pay_out_of_band(invoice)
        return self._pay_invoice(invoice, params.get("payment_method"), params.get("off_session", "true") == "true")

    def _invoice_void(self, inv_id: str, params: dict) -> tuple[int, dict]:
        invoice = self._invoice(inv_id)
        # Only a finalised invoice not paid: open or uncollectible.
        self._invoice_must_be(invoice, ("open", "uncollectible"))
        invoice.update(status="void")
        self._event("invoice.voided", invoice)
        return 200, invoice

    def _invoice_mark_uncollectible(self, inv_id: str, params: dict) -> tuple[int, dict]:
        invoice = self._invoice(inv_id)
        self._invoice_must_be(invoice, ("open",))
        invoice.update(status="uncollectible")
        self._event("invoice.marked_uncollectible", invoice)
        return 200, invoice

    def _invoice_action_unknown(self, inv_id: str, params: dict) -> tuple[int, dict]:
        self._invoice(inv_id)
        raise StripeError(404, {"type": "invalid_request_error", "message": "Unrecognized request URL"})

    # --- routes: /v1/invoice_payments, /v1/credit_notes ----------------------------------------------
    def _invoice_payment_list(self, params: dict) -> tuple[int, dict]:
        """By `invoice`, or `payment[payment_intent]`, newest first."""
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

    def _credit_note_create(self, params: dict) -> tuple[int, dict]:
        return 200, self.credit_note(params["invoice"], int(params["amount"]))

    def _billing_unrecognized(self, params: dict) -> tuple[int, dict]:
        """Another method on invoice payments or credit notes."""
        raise StripeError(404, {"type": "invalid_request_error", "message": "Unrecognized request URL"})
