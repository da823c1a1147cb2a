"""What a Stripe PaymentIntent (or a card error about one) means for an attempt: one mapper for the
API's answers and the webhook's events alike.

Declines are read `decline_code` first, then `code`, then `advice_code`:
- `authentication_required` (as a decline code or an error code) means the bank wants the customer to
  authenticate on-session: requires_action, never a hard decline;
- `payment_intent_authentication_failure` (3-D Secure failed) is not final either: the PaymentIntent waits
  for a payment method again and the customer may confirm it once more, so it still requires action;
- `processing_error` is an error at the processor: nothing was charged, retried later;
- `advice_code` `do_not_try_again` and `confirm_card_data` make it hard (only a new card or new card data
  helps); `try_again_later` keeps it soft;
- `network_decline_code` and `advice_code` are kept for the history.
"""

from __future__ import annotations

from pastdue.adapters.gateway import ChargeOutcome
from pastdue.adapters.stripe_amounts import from_stripe
from pastdue.domain.model import DECLINED, ERROR, REQUIRES_ACTION, SUCCEEDED

ACTION_STATUSES = {"requires_action"}
HARD_ADVICE = {"do_not_try_again", "confirm_card_data"}
AUTHENTICATION = "authentication_required"
AUTHENTICATION_FAILED = "payment_intent_authentication_failure"


def decline(error: dict, reference: str | None) -> ChargeOutcome:
    """A card error (the API's `error`, or a PaymentIntent's `last_payment_error`) as an outcome."""
    error = error if isinstance(error, dict) else {}
    decline_code, code, advice = error.get("decline_code"), error.get("code"), error.get("advice_code")
    network = error.get("network_decline_code")
    detail = {k: v for k, v in (("adviceCode", advice), ("networkDeclineCode", network)) if isinstance(v, str)}
    if AUTHENTICATION in (decline_code, code):
        return ChargeOutcome(REQUIRES_ACTION, AUTHENTICATION, reference=reference, detail=detail)
    if code == AUTHENTICATION_FAILED:
        return ChargeOutcome(REQUIRES_ACTION, AUTHENTICATION_FAILED, reference=reference, detail=detail)
    if code == "processing_error":
        return ChargeOutcome(ERROR, "processing_error", reference=reference, detail=detail)
    reason = decline_code or code or "card_declined"
    return ChargeOutcome(DECLINED, str(reason), reference=reference, hard=advice in HARD_ADVICE, detail=detail)


def of_intent(intent: dict) -> ChargeOutcome | None:
    """The outcome a PaymentIntent stands at; None while it is still open (to confirm, or processing)."""
    status, reference = intent.get("status"), intent.get("id")
    if status == "succeeded":
        received = intent.get("amount_received") or intent.get("amount") or 0
        return ChargeOutcome(
            SUCCEEDED, amount=from_stripe(int(received), str(intent.get("currency"))), reference=reference
        )
    if status in ACTION_STATUSES:
        return ChargeOutcome(REQUIRES_ACTION, AUTHENTICATION, reference=reference)
    if status == "canceled":
        return ChargeOutcome(ERROR, "payment_intent_canceled", reference=reference)
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return decline(intent["last_payment_error"], reference)
    return None  # requires_confirmation, requires_payment_method with no try yet, processing
