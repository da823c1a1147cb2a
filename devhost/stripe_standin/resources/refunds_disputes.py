"""Reversals of a payment that succeeded: refunds made in the dashboard (in part or whole, `charge.refunded`),
a refund the bank could not return (`refund.failed`), and disputes (`charge.dispute.created`, a partial one or
an inquiry, funds withdrawn or reinstated, closed as won, lost or warning_closed); and the /_standin/ helpers
for these and Stripe Billing's payments (`billing_helper`)."""

from __future__ import annotations

from devhost.stripe_standin.state import StandInBase


class RefundsDisputes(StandInBase):
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

    # --- routes: /v1/refunds ------------------------------------------------------------------------
    def _refund_list(self, params: dict) -> tuple[int, dict]:
        state = self.state
        # A charge's refunds, newest first (`charge=`), each with its own status (a failed one too).
        found = [r for r in state.refunds.values() if r["charge"] == params.get("charge", r["charge"])]
        found.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
        limit = int(params.get("limit", 10))
        return 200, {"object": "list", "url": "/v1/refunds", "has_more": len(found) > limit, "data": found[:limit]}
