"""The payment gateway port on Stripe, through the official SDK (imported on first use, not at cold start).

A charge never debits twice and never loses an answer:
- One PaymentIntent per attempt: created and confirmed in one request (`confirm=true`) under the attempt's
  key, with the attempt in its metadata (off-session for dunning, on-session for pay-now). The key replays
  the same PaymentIntent and outcome; a PaymentIntent found still unconfirmed (an attempt reserved before)
  is confirmed by id. A PaymentIntent succeeds at most once, so confirming it again can never take the
  money twice.
- An attempt whose answer was lost is resolved from Stripe, never by creating anew: by retrieving its
  PaymentIntent (the id is kept on the attempt once known), else by searching `metadata['attempt']`.
  Stripe forgets idempotency keys after 24 hours, and its search may lag by about a minute: a key
  younger than that replays the first PaymentIntent, an older one is found by the search.
- `processing`, a lost connection, 5xx, 429, 409 and an IdempotencyError leave the outcome unknown
  (OutcomeUnknown, with the PaymentIntent when known): resolved later, by its event or by retrieving it.
- Amounts are converted to Stripe's decimals and checked against Stripe's limits before sending; a
  request Stripe still refuses as invalid is an operator's problem (`invalid`), not a card decline.
- Declines, authentication and advice codes: one mapper (stripe_outcomes) for answers and events.
- A key Stripe refuses (401: rotated or revoked; 403: a restricted key without a permission) is the
  gateway being unavailable (GatewayUnavailable): nothing was sent, no account is at fault, so none is
  failed or quarantined; operators are alerted once (an error log) until the key works again.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from pastdue.adapters.gateway import (
    ChargeOutcome,
    GatewayUnavailable,
    InvoiceSettled,
    OutcomeUnknown,
    PaymentGateway,
    ProcessorInvoice,
    UnknownToken,
)
from pastdue.adapters.pacing import Pacer
from pastdue.adapters.stripe_amounts import NotChargeable, from_stripe, to_stripe
from pastdue.adapters.stripe_outcomes import decline, of_intent
from pastdue.domain.model import DECLINED, ERROR, NOT_SENT, PAID_OUT_OF_BAND, SUCCEEDED, WRITE_OFF, PaymentMethod
from pastdue.domain.money import Money

log = logging.getLogger("pastdue.gateway")
UNKNOWN_STATUSES = {409, 429}
# Stripe's documented rate limits: 25 requests a second per endpoint (in live mode, on top of the 100 in
# total) and 20 a second for search. Requests are paced under them in each process, and a 429 that still
# comes (a lock on the object, another process) is retried after RATE_LIMITED_PAUSE seconds, doubling.
PER_ENDPOINT_PER_SECOND = 25
SEARCH_PER_SECOND = 20
RATE_LIMITED_PAUSE = 1.0
# The API version every request asks for (the SDK's own pin); webhook endpoints must use the same one.
API_VERSION = "2026-10-28.endive"
PAYABLE = ("open", "uncollectible")  # the invoice statuses Stripe still takes a payment for


def _key_checked(method):
    """Stripe refused the key itself (401/403): the gateway is unavailable, whichever account asked."""

    @functools.wraps(method)
    def checked(self, *args, **kwargs):
        stripe = self._stripe
        try:
            answer = method(self, *args, **kwargs)
        except (stripe.AuthenticationError, stripe.PermissionError) as error:
            status = getattr(error, "http_status", None)
            if not self._key_refused:
                self._key_refused = True
                log.error("Stripe refused the API key (%s): no request is sent until it works again", status)
            raise GatewayUnavailable(f"stripe: the API key was refused ({status})") from None
        if self._key_refused:
            self._key_refused = False
            log.warning("Stripe accepts the API key again")
        return answer

    return checked


class StripeGateway(PaymentGateway):
    name = "stripe"

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        publishable_key: str | None = None,
        js_url: str = "https://js.stripe.com/v3/",
        max_network_retries: int = 2,
        timeout_seconds: float = 20,
    ):
        import stripe

        self._stripe = stripe
        self._publishable_key = publishable_key
        self._js_url = js_url
        self._key_refused = False  # Stripe refused the key (401/403): alerted once, until it works again
        self._pacer = Pacer(PER_ENDPOINT_PER_SECOND, {"search": SEARCH_PER_SECOND})
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            stripe_version=API_VERSION,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    # --- payment methods and customers -----------------------------------------------------------------
    @_key_checked
    def describe(self, token: str) -> PaymentMethod:
        stripe = self._stripe
        try:
            method = self._client.v1.payment_methods.retrieve(token)
        except stripe.InvalidRequestError:
            raise UnknownToken("unknown payment method") from None
        return _method(method)

    @_key_checked
    def adopt(self, token: str, customer: str | None) -> PaymentMethod:
        """The card the admin just set up, checked as usable for this customer's off-session charges. It
        becomes the default at Stripe only once it has paid (make_default), never before a declined pay-now.

        The token is the SetupIntent the front end confirmed with the setup route's client secret (`seti_`):
        it must have succeeded, for this account's customer, for off-session use, with a card. A bare
        PaymentMethod (`pm_`) is taken only if it is already attached to this customer (set up before, or
        saved by the billing system): one that was never set up for off-session use would have its
        first charge declined for authentication, and one of another customer is not the admin's to give."""
        stripe = self._stripe
        try:
            if token.startswith("seti_"):
                intent = self._client.v1.setup_intents.retrieve(token, {"expand": ["payment_method"]}).to_dict()
                expanded = intent.get("payment_method")
                method_id = expanded.get("id") if isinstance(expanded, dict) else expanded
                if intent.get("status") != "succeeded" or not method_id:
                    raise UnknownToken("the card set-up has not succeeded")
                if customer is None or intent.get("customer") != customer:
                    raise UnknownToken("the card was set up for another customer")
                if intent.get("usage") != "off_session":
                    raise UnknownToken("the card was not set up for payments made later")
                # The method came expanded with its SetupIntent: no second request (read it if it did not).
                method = expanded if isinstance(expanded, dict) and "type" in expanded else None
                method = method or self._client.v1.payment_methods.retrieve(method_id).to_dict()
            else:
                method = self._client.v1.payment_methods.retrieve(token).to_dict()
                if customer is None or method.get("customer") != customer:
                    raise UnknownToken("send the SetupIntent the card was set up with (seti_...)")
            if method.get("type") != "card":
                raise UnknownToken("only cards are taken for these payments")
        except stripe.InvalidRequestError:
            raise UnknownToken("unknown or unusable payment method") from None
        return _method(method)

    @_key_checked
    def make_default(self, token: str, customer: str | None) -> None:
        """The customer's default for invoices, and the default of each of its live subscriptions that names
        one of its own (Stripe charges a subscription's invoices with its own default first, so renewals
        would keep using the old card). Stripe out of reach (no connection, 5xx, 429) raises OutcomeUnknown."""
        if not customer:
            return
        settings: Any = {"invoice_settings": {"default_payment_method": token}}
        self._call(lambda: self._client.v1.customers.update(customer, settings), endpoint="customers")
        params: Any = {"customer": customer, "status": "all", "limit": 100}
        try:
            found = [s.to_dict() for s in self._client.v1.subscriptions.list(params).auto_paging_iter()]
        except self._stripe.APIConnectionError as error:
            raise OutcomeUnknown(f"stripe: {type(error).__name__}") from None
        update: Any = {"default_payment_method": token}
        for sub in found:
            current = sub.get("default_payment_method")
            current = current.get("id") if isinstance(current, dict) else current
            if sub.get("status") in ("canceled", "incomplete_expired") or current in (None, token):
                continue
            self._call(
                lambda sub_id=sub["id"]: self._client.v1.subscriptions.update(sub_id, update), endpoint="subscriptions"
            )

    @_key_checked
    def ensure_customer(self, account_id: str, email: str, name: str, existing: str | None) -> str | None:
        if existing:
            return existing
        customer = self._client.v1.customers.create(
            {"email": email, "name": name, "metadata": {"accountId": account_id}},
            {"idempotency_key": f"customer:{account_id}"},
        )
        return customer.id

    @_key_checked
    def start_setup(self, customer: str | None) -> dict:
        # Our parameters are plain dicts (Any): the SDK's TypedDicts add nothing the stand-in tests miss.
        params: Any = {"customer": customer, "usage": "off_session", "payment_method_types": ["card"]}
        intent = self._client.v1.setup_intents.create(params)
        return {
            "gateway": "stripe",
            "setupIntentId": intent.id,
            "clientSecret": intent.client_secret,
            "publishableKey": self._publishable_key,
            "stripeJsUrl": self._js_url,
        }

    @_key_checked
    def payment_metadata(self, reference: str) -> dict:
        metadata = self._retrieve(reference).get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @_key_checked
    def confirmation(self, reference: str) -> dict | None:
        """What Stripe.js needs to let the customer confirm the payment, while it still needs them. A Stripe
        Billing invoice is confirmed on its hosted page. A lost answer raises OutcomeUnknown."""
        if reference.startswith("in_"):  # a Stripe object id: an invoice (the attempt paid one)
            invoice = self._call(lambda: self._client.v1.invoices.retrieve(reference), reference, "invoices")
            if invoice.get("status") not in PAYABLE:
                return None
            details = {
                "invoiceId": reference,
                "hostedInvoiceUrl": invoice.get("hosted_invoice_url"),
                "status": "requires_action",
                "amount": from_stripe(int(invoice["amount_remaining"]), str(invoice["currency"])).to_json(),
            }
            # The invoice's own PaymentIntent, when it waits for the customer: Stripe.js confirms it in place.
            intent = self._invoice_intent(reference)
            if intent is not None and intent.get("status") == "requires_action":
                details.update(
                    paymentIntentId=intent["id"],
                    clientSecret=intent.get("client_secret"),
                    publishableKey=self._publishable_key,
                )
            return details
        intent = self._retrieve(reference)
        if intent.get("status") not in ("requires_action", "requires_payment_method", "requires_confirmation"):
            return None
        method = intent.get("payment_method")
        return {
            "paymentIntentId": intent["id"],
            "clientSecret": intent.get("client_secret"),
            "status": intent["status"],
            "publishableKey": self._publishable_key,
            "paymentMethodId": method if isinstance(method, str) else (method or {}).get("id"),
            "amount": from_stripe(int(intent["amount"]), str(intent["currency"])).to_json(),
        }

    # --- charges --------------------------------------------------------------------------------------
    @_key_checked
    def charge(
        self,
        token: str,
        amount: Money,
        idempotency_key: str,
        customer: str | None = None,
        metadata: dict | None = None,
        reference: str | None = None,
        resume: bool = False,
        on_session: bool = False,
    ) -> ChargeOutcome:
        try:
            value = to_stripe(amount)
        except NotChargeable as refused:
            log.error("not sent to Stripe (%s): %s", idempotency_key, refused)
            return ChargeOutcome(NOT_SENT, refused.code, invalid=True)
        intent: dict | None
        metadata = metadata or {}
        if reference:
            intent = self._retrieve(reference)
        else:
            intent = self._find(metadata, customer) if resume else None
            if intent is None:
                try:
                    intent = self._create(
                        token, value, amount.currency, idempotency_key, customer, metadata, on_session
                    )
                except self._stripe.CardError as error:
                    intent = _declined_intent(error)
                    if intent is None:
                        return decline(_error_body(error), None)
                except self._stripe.InvalidRequestError as error:
                    return _invalid(error, None)
            if not _ours(intent, metadata, customer):
                # The key answered another account's payment (a key sent before keys named their account):
                # never this attempt's answer. Unknown until Stripe forgets the key or the search finds ours.
                log.error("stripe: key %s answered a payment of another account", idempotency_key)
                raise OutcomeUnknown("stripe: the idempotency key answered another account's payment")
        outcome = of_intent(intent)
        if outcome is not None:
            return outcome
        if intent.get("status") == "processing":
            raise OutcomeUnknown("stripe: payment processing", intent["id"])
        return self._confirm(intent, token, on_session)

    # --- Stripe Billing's invoices ---------------------------------------------------------------------
    @_key_checked
    def pay_invoice(self, invoice_id: str, token: str, idempotency_key: str, on_session: bool = False) -> ChargeOutcome:
        """Stripe Billing: a charge that is its invoice is collected by paying that invoice, never with a
        PaymentIntent of its own, so Stripe's record is what gets paid and an invoice is paid once whoever pays
        it (pastdue, Stripe's own retries, the customer on the hosted page). An uncollectible invoice can still
        be paid. `off_session` is always sent: Stripe takes its absence as off-session, and a customer present
        (pay-now) is asked to authenticate on-session. What the invoice is now answers a resume: paid, or still
        payable (pay it). A success answers what the invoice holds paid there in all (the core counts only
        what is new of it: a partial payment made before, or one counted from its event, is not this one's)."""
        stripe = self._stripe
        invoice = self.read_invoice(invoice_id)
        if invoice is None:
            return ChargeOutcome(ERROR, "invoice_missing", reference=invoice_id, invalid=True)
        if invoice.status in PAYABLE:
            params: Any = {"payment_method": token, "off_session": not on_session}
            try:
                self._call(
                    lambda: self._client.v1.invoices.pay(invoice_id, params, {"idempotency_key": idempotency_key}),
                    invoice_id,
                    "invoices",
                )
            except stripe.CardError as error:
                body = dict((error.json_body or {}).get("error", {}))
                if body.get("code") == "invoice_payment_intent_requires_action":
                    body["code"] = "authentication_required"
                return decline(body, invoice_id)
            except stripe.InvalidRequestError as error:
                if error.code != "invoice_already_paid":
                    return _invalid(error, invoice_id)
            invoice = self.read_invoice(invoice_id) or invoice
        if invoice.status == "paid":
            return ChargeOutcome(SUCCEEDED, amount=invoice.paid_there, reference=invoice_id)
        log.error("Stripe invoice %s is %s: not collectable", invoice_id, invoice.status)
        return ChargeOutcome(ERROR, f"invoice_{invoice.status}", reference=invoice_id, invalid=True)

    @_key_checked
    def read_invoice(self, invoice_id: str) -> ProcessorInvoice | None:
        stripe = self._stripe
        try:
            invoice = self._call(
                lambda: self._client.v1.invoices.retrieve(invoice_id, {"expand": ["amount_paid_off_stripe"]}),
                invoice_id,
                "invoices",
            )
        except stripe.InvalidRequestError:
            return None
        return _invoice(invoice)

    @_key_checked
    def settle_invoice(self, invoice_id: str, action: str, idempotency_key: str, partly_paid: bool) -> InvoiceSettled:
        """Money received here: paid out of band (Stripe then stops collecting it). A write-off: an open invoice
        never partly paid (here or there) is voided (it is no longer owed, with its paper trail); otherwise it
        is marked uncollectible (bad debt: Stripe's automatic collection stops, the customer may still pay).
        An invoice already paid, void or uncollectible is left as it is, and that is the answer."""
        stripe = self._stripe
        invoice = self.read_invoice(invoice_id)
        if invoice is None:
            return InvoiceSettled("missing", refused=True)
        if invoice.status not in PAYABLE or (action == WRITE_OFF and invoice.status == "uncollectible"):
            return InvoiceSettled(f"already_{invoice.status}", invoice.paid_there)
        invoices = self._client.v1.invoices
        options: Any = {"idempotency_key": idempotency_key}
        if action == PAID_OUT_OF_BAND:
            request, outcome = (lambda: invoices.pay(invoice_id, {"paid_out_of_band": True}, options)), action
        elif invoice.paid_there.value == 0 and invoice.paid_elsewhere.value == 0 and not partly_paid:
            request, outcome = (lambda: invoices.void_invoice(invoice_id, None, options)), "voided"
        else:
            request, outcome = (lambda: invoices.mark_uncollectible(invoice_id, None, options)), "uncollectible"
        try:
            self._call(request, invoice_id, "invoices")
        except (stripe.InvalidRequestError, stripe.CardError) as error:
            now = self.read_invoice(invoice_id)
            if now is not None and now.status not in PAYABLE:  # settled meanwhile (paid there, voided...)
                return InvoiceSettled(f"already_{now.status}", now.paid_there)
            log.error("Stripe refused to settle invoice %s (%s): %s", invoice_id, error.code, error.user_message)
            return InvoiceSettled(error.code or "invalid_request", refused=True)
        after = self.read_invoice(invoice_id)
        return InvoiceSettled(outcome, after.paid_there if after else None)

    @_key_checked
    def refunds_of(self, charge_id: str) -> list[tuple[str, Money]] | None:
        """The charge's refunds as Stripe holds them now: a failed or cancelled one does not stand. Read at
        each charge.refunded, so that events heard in any order count each refund once, by its id."""
        found = self._call(
            lambda: self._client.v1.refunds.list({"charge": charge_id, "limit": 100}), charge_id, "refunds"
        )
        return [
            (str(r["id"]), from_stripe(int(r["amount"]), str(r["currency"])))
            for r in found.get("data") or []
            if r.get("status") in ("pending", "succeeded", "requires_action")
        ]

    @_key_checked
    def invoice_of_payment(self, reference: str) -> str | None:
        """Stripe Billing's payments carry no invoice (PaymentIntents and Charges lost `invoice` in the API
        version pinned): the Invoice Payments list maps a PaymentIntent to the invoice it paid."""
        found = self._call(
            lambda: self._client.v1.invoice_payments.list(
                {"payment": {"type": "payment_intent", "payment_intent": reference}, "limit": 1}
            ),
            reference,
            "invoice_payments",
        )
        for payment in found.get("data") or []:
            invoice = payment.get("invoice")
            invoice = invoice.get("id") if isinstance(invoice, dict) else invoice
            if isinstance(invoice, str) and invoice:
                return invoice
        return None

    def _invoice_intent(self, invoice_id: str) -> dict | None:
        """The PaymentIntent Stripe made to collect the invoice (its newest payment), for Stripe.js."""
        found = self._call(
            lambda: self._client.v1.invoice_payments.list({"invoice": invoice_id, "limit": 10}),
            None,
            "invoice_payments",
        )
        for payment in sorted(found.get("data") or [], key=lambda p: p.get("created") or 0, reverse=True):
            intent = (payment.get("payment") or {}).get("payment_intent")
            intent = intent.get("id") if isinstance(intent, dict) else intent
            if isinstance(intent, str) and intent:
                return self._retrieve(intent)
        return None

    @_key_checked
    def cancel(self, reference: str) -> ChargeOutcome | None:
        """A lost answer (a dropped connection, 429, 5xx) raises OutcomeUnknown: it may have been cancelled."""
        stripe = self._stripe
        try:
            self._call(
                lambda: self._client.v1.payment_intents.cancel(reference, {"cancellation_reason": "abandoned"}),
                reference,
                "cancel",
            )
            return None
        except stripe.InvalidRequestError:  # no longer cancellable: it has an outcome of its own
            intent = self._retrieve(reference)
            return of_intent(intent)

    def _create(self, token, value, currency, key, customer, metadata, on_session: bool) -> dict:
        """The attempt's PaymentIntent, created and confirmed in one request under the attempt's key (a
        replay answers the same PaymentIntent and outcome; a card error raises CardError with it)."""
        params: Any = {
            "amount": value,
            "currency": currency.lower(),
            "confirm": True,
            "payment_method_types": ["card"],
            "metadata": metadata or {},
            **_payment_params(token, on_session),
        }
        if customer:
            params["customer"] = customer
        stripe = self._stripe
        try:
            return self._call(
                lambda: self._client.v1.payment_intents.create(params, {"idempotency_key": key}), endpoint="create"
            )
        except stripe.IdempotencyError:
            found = self._find(metadata or {}, customer)  # the key was used otherwise: what it made counts
            if found is None:
                raise OutcomeUnknown("stripe: idempotency key in use with other parameters") from None
            return found

    def _confirm(self, intent: dict, token: str, on_session: bool) -> ChargeOutcome:
        stripe = self._stripe
        reference = intent["id"]
        params = _payment_params(token, on_session)
        try:
            # A PaymentIntent succeeds at most once: a confirm sent again cannot take the money twice.
            confirmed = self._call(
                lambda: self._client.v1.payment_intents.confirm(reference, params), reference, "confirm"
            )
        except stripe.CardError as error:
            body = (error.json_body or {}).get("error", {})
            return decline(body, reference)
        except stripe.InvalidRequestError as error:
            if error.code == "payment_intent_unexpected_state":  # confirmed meanwhile: read what it is
                return _answered(self._retrieve(reference))
            return _invalid(error, reference)
        return _answered(confirmed)

    def _retrieve(self, reference: str) -> dict:
        return self._call(lambda: self._client.v1.payment_intents.retrieve(reference), reference, "retrieve")

    def _find(self, metadata: dict, customer: str | None) -> dict | None:
        """The PaymentIntent created for an attempt, by its metadata (Stripe's search): the attempt's key is
        unique only within its account, so the account is part of the query, and what is found must be of
        this account's customer."""
        clauses = [
            f"metadata['{name}']:'{_quoted(metadata[name])}'" for name in ("attempt", "accountId") if metadata.get(name)
        ]
        query = " AND ".join(clauses)
        found = self._call(
            lambda: self._client.v1.payment_intents.search({"query": query, "limit": 10}), endpoint="search"
        )
        intents = sorted(
            (i for i in found.get("data") or [] if _ours(i, metadata, customer)), key=lambda i: i.get("created") or 0
        )
        return intents[0] if intents else None

    def _call(self, request, reference: str | None = None, endpoint: str = "other") -> dict:
        """One API request, paced under Stripe's rate limits; whatever leaves its outcome unknown raises
        OutcomeUnknown."""
        stripe = self._stripe
        self._pacer.wait(endpoint)
        try:
            return request().to_dict()
        except stripe.RateLimitError as error:
            raise OutcomeUnknown(f"stripe: {type(error).__name__}", reference, RATE_LIMITED_PAUSE) from None
        except stripe.APIConnectionError as error:
            raise OutcomeUnknown(f"stripe: {type(error).__name__}", reference) from None
        except (stripe.CardError, stripe.IdempotencyError, stripe.InvalidRequestError):
            raise
        except stripe.APIError as error:
            if (error.http_status or 500) >= 500 or error.http_status in UNKNOWN_STATUSES:
                pause = RATE_LIMITED_PAUSE if error.http_status == 429 else None
                raise OutcomeUnknown(f"stripe: {error.http_status}", reference, pause) from None
            raise


def _quoted(value: object) -> str:
    """A value inside a search query's single quotes (Stripe escapes a quote with a backslash)."""
    return str(value or "").replace("\\", "\\\\").replace("'", "\\'")


def _ours(intent: dict, metadata: dict, customer: str | None) -> bool:
    """The PaymentIntent was made for this attempt of this account (and this account's customer)."""
    theirs = intent.get("metadata")
    theirs = theirs if isinstance(theirs, dict) else {}
    if any(theirs.get(name) != metadata.get(name) for name in ("accountId", "attempt") if metadata.get(name)):
        return False
    made_for = intent.get("customer")
    made_for = made_for.get("id") if isinstance(made_for, dict) else made_for
    return customer is None or made_for == customer


def _payment_params(token: str, on_session: bool) -> Any:
    """How a payment is confirmed: with the card, off-session unless the customer is present."""
    return {"payment_method": token} if on_session else {"payment_method": token, "off_session": True}


def _error_body(error) -> dict:
    """The `error` object of a Stripe error's answer."""
    body = error.json_body.get("error") if isinstance(error.json_body, dict) else None
    return body if isinstance(body, dict) else {}


def _declined_intent(error) -> dict | None:
    """The PaymentIntent a card error at its create-and-confirm carries, with the error as its last one."""
    body = _error_body(error)
    intent = body.get("payment_intent")
    if not isinstance(intent, dict) or not intent.get("id"):
        return None
    last = intent.get("last_payment_error") or {key: value for key, value in body.items() if key != "payment_intent"}
    return {**intent, "last_payment_error": last}


def _answered(intent: dict) -> ChargeOutcome:
    """The outcome of a PaymentIntent just confirmed; still open (processing), it is unknown for now."""
    outcome = of_intent(intent)
    if outcome is None:
        raise OutcomeUnknown(f"stripe: payment {intent.get('status')}", intent.get("id"))
    return outcome


def _invalid(error, reference: str | None) -> ChargeOutcome:
    """Stripe refused the request as invalid. A payment method that is gone or belongs to someone else
    needs a new card (a hard decline); anything else is the app's fault: an operator alert."""
    param = getattr(error, "param", None) or ""
    if error.code in ("resource_missing", "payment_method_unexpected_state") and "payment_method" in param:
        return ChargeOutcome(DECLINED, "payment_method_unusable", reference=reference, hard=True)
    log.error("Stripe refused a payment request as invalid (%s, %s): %s", error.code, param, error.user_message)
    return ChargeOutcome(ERROR, error.code or "invalid_request", reference=reference, invalid=True)


def _method(method) -> PaymentMethod:
    """A PaymentMethod (the SDK's object, or its dict) as the app stores it: display data only."""
    method = method if isinstance(method, dict) else method.to_dict()
    card = method.get("card") or {}
    return PaymentMethod(
        method["id"],
        str(card.get("brand") or "card"),
        str(card.get("last4") or "????"),
        int(card.get("exp_month") or 0),
        int(card.get("exp_year") or 0),
    )


def _invoice(invoice: dict) -> ProcessorInvoice:
    currency = str(invoice["currency"])
    elsewhere = int(invoice.get("amount_paid_off_stripe") or 0)
    return ProcessorInvoice(
        str(invoice["id"]),
        str(invoice.get("status")),
        invoice.get("customer") if isinstance(invoice.get("customer"), str) else None,
        from_stripe(int(invoice.get("amount_remaining") or 0), currency),
        from_stripe(max(0, int(invoice.get("amount_paid") or 0) - elsewhere), currency),
        from_stripe(elsewhere, currency),
    )
