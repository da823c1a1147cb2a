"""The payment gateway port and the embedded sandbox gateway (test tokens of card processors)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from pastdue.domain.model import DECLINED, ERROR, SUCCEEDED, AttemptOutcome, PaymentMethod
from pastdue.domain.money import Money


@dataclass(frozen=True)
class ChargeOutcome:
    # succeeded | declined | error (retryable, nothing was charged) | requires_action | not_sent (refused
    # before sending: an amount the processor cannot take)
    outcome: AttemptOutcome
    code: str | None = None
    amount: Money | None = None  # what was taken, on success
    reference: str | None = None  # the processor's id of this payment (a Stripe PaymentIntent)
    hard: bool = False  # the processor says never to retry this card (Stripe's advice_code do_not_try_again)
    detail: dict = field(default_factory=dict)  # for the history: the processor's advice and network codes
    # The processor refused the request itself (an amount it cannot take, a setting): the app's fault, not
    # the card's, so operators are alerted and the customer is not told the card was refused.
    invalid: bool = False


class OutcomeUnknown(Exception):
    """Timeout, lost answer, or a payment still processing: the charge may or may not have happened. It is
    resolved later from what the processor holds (its payment `reference` when known), never by charging anew."""

    def __init__(self, message: str, reference: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.reference = reference
        # The processor asked to slow down (a 429: its rate limit or a lock on the object): seconds to wait
        # before the same request is sent again, growing with each try.
        self.retry_after = retry_after


class UnknownToken(ValueError):
    pass


@dataclass(frozen=True)
class ProcessorInvoice:
    """A processor's own invoice (Stripe Billing) as it is there now."""

    invoice_id: str
    status: str  # draft | open | paid | uncollectible | void
    customer: str | None
    amount_remaining: Money
    paid_there: Money  # paid with money the processor took (not marked paid outside it)
    paid_elsewhere: Money  # marked paid outside the processor (paid out of band)


@dataclass(frozen=True)
class InvoiceSettled:
    """What the processor did with a settlement of its invoice (paid out of band, voided, uncollectible), or
    what it found (already paid, void...). `paid_there` is the invoice's money taken there, after it."""

    outcome: str
    paid_there: Money | None = None
    refused: bool = False  # the processor refused the request: an operator's problem


class PaymentGateway(ABC):
    name = "sandbox"

    @abstractmethod
    def describe(self, token: str) -> PaymentMethod:
        """Display data of a tokenised method (brand, last4, expiry); raises UnknownToken."""

    def adopt(self, token: str, customer: str | None) -> PaymentMethod:
        """Make the method the customer's default for charges off-session; returns what to store."""
        return self.describe(token)

    def make_default(self, token: str, customer: str | None) -> None:
        """The method has paid: the processor charges it from now on, for the customer's invoices and each
        of its subscriptions that names a default of its own (called once the card has paid, never before).
        A processor without saved defaults (the sandbox) has nothing to change."""
        return None

    def ensure_customer(self, account_id: str, email: str, name: str, existing: str | None) -> str | None:
        """The processor's customer of the account, created on first use; None if it has no customers."""
        return existing

    @abstractmethod
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
        """Charge once per idempotency key: the same key returns the first outcome, never a new charge.
        `reference` is the processor's payment for this key when known, `resume` says the key was sent
        before (its answer may have been lost), `on_session` that the customer is present (pay now)."""

    def cancel(self, reference: str) -> ChargeOutcome | None:
        """Cancel a payment that waits for the customer, superseded by a new attempt; the outcome it
        already had if it can no longer be cancelled (None when cancelled)."""
        return None

    def pay_invoice(self, invoice_id: str, token: str, idempotency_key: str, on_session: bool = False) -> ChargeOutcome:
        """Collect a charge that is the processor's own invoice by paying that invoice (never a payment of
        our own): on-session when the customer is present. A processor without invoices refuses it."""
        return ChargeOutcome(ERROR, "invoices_unsupported", invalid=True)

    def read_invoice(self, invoice_id: str) -> ProcessorInvoice | None:
        """The processor's invoice as it is now; None if it has no such invoice."""
        return None

    def settle_invoice(self, invoice_id: str, action: str, idempotency_key: str, partly_paid: bool) -> InvoiceSettled:
        """Settle the processor's invoice of a charge settled here: paid out of band (money received here),
        or for a write-off voided (open, and never partly paid) or marked uncollectible."""
        return InvoiceSettled("no_invoices")

    def refunds_of(self, charge_id: str) -> list[tuple[str, Money]] | None:
        """The refunds of a processor's charge that stand (pending or succeeded; not a failed or cancelled
        one), each by its own id; None when the processor cannot list them (then totals are counted)."""
        return None

    def invoice_of_payment(self, reference: str) -> str | None:
        """The processor's invoice a payment of its own paid (Stripe Billing's), if any."""
        return None

    def payment_metadata(self, reference: str) -> dict:
        """The metadata a payment was made with (account, charge, attempt); {} if the processor has none."""
        return {}

    def start_setup(self, customer: str | None) -> dict:
        """What a front end needs to collect a card for later off-session charges."""
        return {"gateway": self.name}

    def confirmation(self, reference: str) -> dict | None:
        """What a front end needs to let the customer confirm (authenticate) a payment on-session."""
        return None


class GatewayUnavailable(Exception):
    """The processor cannot be used from here (its secret is not available): nothing was sent to it."""


class UnavailableGateway(PaymentGateway):
    """Stands in for a processor whose secret did not resolve (an unresolved Key Vault reference): every
    call is refused before anything is sent, so that the rest of the app runs and nothing is charged."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason

    def _refuse(self, *args, **kwargs):
        raise GatewayUnavailable(self.reason)

    describe = adopt = make_default = ensure_customer = charge = cancel = payment_metadata = start_setup = (
        confirmation
    ) = _refuse
    pay_invoice = read_invoice = settle_invoice = invoice_of_payment = refunds_of = _refuse


class Ledger(ABC):
    """Where the sandbox keeps what it charged, as a real processor would."""

    @abstractmethod
    def record_once(self, key: str, entry: dict) -> dict:
        """Store entry under key unless one exists; return the stored one."""


# token -> (brand, last4, outcome, decline code)
SANDBOX_CARDS = {
    "tok_visa": ("visa", "4242", SUCCEEDED, None),
    "tok_mastercard": ("mastercard", "4444", SUCCEEDED, None),
    "tok_chargeDeclined": ("visa", "0002", DECLINED, "generic_decline"),
    "tok_chargeDeclinedInsufficientFunds": ("visa", "9995", DECLINED, "insufficient_funds"),
    "tok_chargeDeclinedExpiredCard": ("visa", "0069", DECLINED, "expired_card"),
    "tok_chargeDeclinedProcessingError": ("visa", "0119", ERROR, "processing_error"),
    "tok_chargeCustomerFail": ("visa", "0341", DECLINED, "card_declined"),
    "tok_visaExpiring": ("visa", "1881", SUCCEEDED, None),  # expires 12/2030 (card-expiry pre-dunning)
}
EXPIRY = {"tok_visaExpiring": (12, 2030)}  # every other test card expires 12/2034


class SandboxGateway(PaymentGateway):
    def __init__(self, ledger: Ledger):
        self._ledger = ledger

    def describe(self, token: str) -> PaymentMethod:
        if token not in SANDBOX_CARDS:
            raise UnknownToken("unknown payment method token")  # never echo what was sent
        brand, last4, _, _ = SANDBOX_CARDS[token]
        month, year = EXPIRY.get(token, (12, 2034))
        return PaymentMethod(token, brand, last4, month, year)

    def start_setup(self, customer: str | None) -> dict:
        import uuid

        return {
            "gateway": "sandbox",
            "clientSecret": f"sandbox_seti_{uuid.uuid4().hex}_secret",
            "testPaymentMethods": sorted(SANDBOX_CARDS),
        }

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
        self.describe(token)
        _, _, outcome, code = SANDBOX_CARDS[token]
        account = (metadata or {}).get("accountId")
        entry = {"token": token, "amount": amount.to_json(), "outcome": outcome, "code": code, "account": account}
        # The key answers what it did the first time, whatever is asked now (a processor's replay).
        stored = self._ledger.record_once(idempotency_key, entry)
        if stored.get("account", account) != account:
            # Another account's payment under this key (a key reserved before keys named their account):
            # its answer is never this account's. Left unknown, as a processor's key conflict would be.
            raise OutcomeUnknown(f"sandbox: key {idempotency_key} belongs to another account")
        taken = Money.from_json(stored["amount"]) if stored["outcome"] == SUCCEEDED else None
        return ChargeOutcome(stored["outcome"], stored["code"], taken)
