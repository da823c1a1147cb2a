"""The payment gateway port on Stripe, through the official SDK (imported on first use, not at cold start).

- A charge is a PaymentIntent confirmed off-session for the account's Stripe customer and saved card,
  sent with the attempt's own idempotency key (the SDK's own network retries reuse it).
- Card declines answer `declined` with Stripe's decline_code (else its code); `advice_code:
  do_not_try_again` makes it hard whatever the code. `authentication_required` answers `requires_action`
  with the PaymentIntent: the customer confirms it on-session (Stripe.js), and Stripe's event settles it.
- Whatever leaves the outcome unknown (no connection, a timeout, a dropped answer, 5xx, 409, 429) raises
  OutcomeUnknown: the same key is used again later, never a new one.
"""

from __future__ import annotations

from pastdue.adapters.gateway import ChargeOutcome, OutcomeUnknown, PaymentGateway, UnknownToken
from pastdue.domain.model import DECLINED, ERROR, REQUIRES_ACTION, SUCCEEDED, PaymentMethod
from pastdue.domain.money import Money

UNKNOWN_STATUSES = {409, 429}
ACTION_STATUSES = {"requires_action", "requires_confirmation"}


class StripeGateway(PaymentGateway):
    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None, publishable_key: str | None = None,
                 max_network_retries: int = 2, timeout_seconds: float = 20):
        import stripe

        self._stripe = stripe
        self._publishable_key = publishable_key
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries, http_client=stripe.RequestsClient(timeout=timeout_seconds))

    # --- payment methods and customers -----------------------------------------------------------------
    def describe(self, token: str) -> PaymentMethod:
        stripe = self._stripe
        try:
            method = self._client.v1.payment_methods.retrieve(token)
        except stripe.InvalidRequestError:
            raise UnknownToken("unknown payment method") from None
        return _method(method)

    def adopt(self, token: str, customer: str | None) -> PaymentMethod:
        """Attach the method to the customer (a test method becomes a new attached one, as in test mode)
        and make it the default for invoices and off-session charges."""
        stripe = self._stripe
        try:
            method = self._client.v1.payment_methods.retrieve(token)
            if customer and getattr(method, "customer", None) != customer:
                method = self._client.v1.payment_methods.attach(token, {"customer": customer},
                                                                 {"idempotency_key": f"attach:{token}:{customer}"})
            if customer:
                self._client.v1.customers.update(
                    customer, {"invoice_settings": {"default_payment_method": method.id}})
        except stripe.InvalidRequestError:
            raise UnknownToken("unknown or unusable payment method") from None
        return _method(method)

    def ensure_customer(self, account_id: str, email: str, name: str, existing: str | None) -> str | None:
        if existing:
            return existing
        customer = self._client.v1.customers.create(
            {"email": email, "name": name, "metadata": {"accountId": account_id}},
            {"idempotency_key": f"customer:{account_id}"})
        return customer.id

    def start_setup(self, customer: str | None) -> dict:
        intent = self._client.v1.setup_intents.create(
            {"customer": customer, "usage": "off_session", "payment_method_types": ["card"]})
        return {"gateway": "stripe", "setupIntentId": intent.id, "clientSecret": intent.client_secret,
                "publishableKey": self._publishable_key}

    def confirmation(self, reference: str) -> dict | None:
        intent = self._client.v1.payment_intents.retrieve(reference)
        return {"paymentIntentId": intent.id, "clientSecret": intent.client_secret, "status": intent.status,
                "publishableKey": self._publishable_key}

    # --- charges --------------------------------------------------------------------------------------
    def charge(self, token: str, amount: Money, idempotency_key: str, customer: str | None = None,
               metadata: dict | None = None) -> ChargeOutcome:
        stripe = self._stripe
        params = {"amount": amount.value, "currency": amount.currency.lower(), "payment_method": token,
                  "off_session": True, "confirm": True, "metadata": metadata or {}}
        if customer:
            params["customer"] = customer
        try:
            intent = self._client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as error:
            return _declined(error)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise OutcomeUnknown(f"stripe: {type(error).__name__}") from None
        except stripe.IdempotencyError:
            return ChargeOutcome(ERROR, "idempotency_key_reused")
        except stripe.InvalidRequestError as error:
            # The method is gone or unusable (detached, another customer's): only a new card helps.
            return ChargeOutcome(DECLINED, error.code or "invalid_request", hard=True)
        except stripe.APIError as error:
            if (error.http_status or 500) >= 500 or error.http_status in UNKNOWN_STATUSES:
                raise OutcomeUnknown(f"stripe: {error.http_status}") from None
            raise
        return _outcome(intent)


def _method(method) -> PaymentMethod:
    card = method.to_dict().get("card") or {}
    return PaymentMethod(method.id, str(card.get("brand") or "card"), str(card.get("last4") or "????"),
                         int(card.get("exp_month") or 0), int(card.get("exp_year") or 0))


def _outcome(intent) -> ChargeOutcome:
    if intent.status == "succeeded":
        taken = Money(int(intent.amount_received or intent.amount), intent.currency.upper())
        return ChargeOutcome(SUCCEEDED, amount=taken, reference=intent.id)
    if intent.status in ACTION_STATUSES:
        return ChargeOutcome(REQUIRES_ACTION, "authentication_required", reference=intent.id)
    if intent.status == "processing":
        raise OutcomeUnknown("stripe: payment still processing")  # its event will settle it
    error = intent.to_dict().get("last_payment_error") or {}
    return ChargeOutcome(DECLINED, error.get("decline_code") or error.get("code") or "card_declined",
                         reference=intent.id, hard=error.get("advice_code") == "do_not_try_again")


def _declined(error) -> ChargeOutcome:
    body = (error.json_body or {}).get("error", {})
    intent = body.get("payment_intent") or {}
    code = body.get("decline_code") or error.code or "card_declined"
    if error.code == "authentication_required" or intent.get("status") in ACTION_STATUSES:
        return ChargeOutcome(REQUIRES_ACTION, "authentication_required", reference=intent.get("id"))
    if error.code == "processing_error":
        return ChargeOutcome(ERROR, "processing_error", reference=intent.get("id"))
    return ChargeOutcome(DECLINED, code, reference=intent.get("id"),
                         hard=body.get("advice_code") == "do_not_try_again")
