"""The core's vocabulary, plain data in three families: commands (what someone asks of an account), events
(what happened to it: facts from the billing system, the processor, the mail service or a run) and effects
(what a decision asks the shell to carry out). lifecycle.decide takes a Command or an Event."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pastdue.domain.model import Admin, AttemptOutcome, PaymentMethod, PaymentMode, Remittance
from pastdue.domain.money import Money


@dataclass(frozen=True)
class ProfileSet:
    admin: Admin
    payment_mode: PaymentMode
    currency: str
    payment_method: PaymentMethod | None
    remittance: Remittance | None
    gateway_customer_id: str | None = None
    time_zone: str | None = None  # IANA, e.g. Europe/Paris: the account's pay days are in it
    synthetic: bool = False  # a test account (the smoke script's): left out of metrics and the dashboard


@dataclass(frozen=True)
class GatewayCustomerLinked:
    """The processor's customer of this account, created on first use."""

    customer_id: str


@dataclass(frozen=True)
class SubscriptionSet:
    subscription_id: str
    display_name: str
    plan: str


@dataclass(frozen=True)
class ChargeFailed:
    event_id: str
    subscription_id: str
    charge_id: str
    amount: Money
    decline_code: str | None
    occurred_at: datetime
    # Set by the service when the charge is no longer in the document but in its archive (settled long
    # ago): the report is then a repeat, never a new debt.
    archived: bool = False
    invoice_url: str | None = None  # the charge's invoice in the portal, for the receipt
    # The charge is the processor's own invoice (Stripe Billing's invoice event), and what that invoice's
    # `amount_paid` held when it failed (a partial payment already made there).
    processor_invoice: bool = False
    processor_paid: Money | None = None


@dataclass(frozen=True)
class SweepTick:
    """One sweep's visit. `allow_purge` False holds any deletion due (the run's deletion cap is spent, or
    a dry run, which records what it would have deleted)."""

    allow_purge: bool = True
    dry_run: bool = False


@dataclass(frozen=True)
class AttemptResult:
    """A gateway answer. outcome: succeeded | declined | error; no result at all means unknown."""

    charge_id: str
    key: str
    outcome: AttemptOutcome
    code: str | None = None
    amount: Money | None = None  # what the processor took, when it says; else the attempt's amount
    reference: str | None = None  # the processor's id of the payment
    hard: bool = False  # the processor says never to retry this card
    detail: dict = field(default_factory=dict)  # the processor's advice and network codes, for the history
    invalid: bool = False  # the processor refused the request itself: an operator's problem, not the card


@dataclass(frozen=True)
class AttemptsResolved:
    results: tuple[AttemptResult, ...]
    event_id: str | None = None  # the processor's event that told us, if one did (deduplicated)


@dataclass(frozen=True)
class PayNowRequested:
    """The admin gave a payment method: reserve one attempt per outstanding charge."""

    idempotency_key: str
    request_hash: str
    method: PaymentMethod
    actor: str
    on_session: bool = True  # the admin is there (the portal); the card updater pays off-session


@dataclass(frozen=True)
class PayNowCompleted:
    idempotency_key: str
    method: PaymentMethod
    results: tuple[AttemptResult, ...]
    actor: str


@dataclass(frozen=True)
class PaymentReceived:
    event_id: str
    amount: Money
    reference: str


@dataclass(frozen=True)
class ChargeSettled:
    """The processor says a charge was paid there (a Stripe Billing invoice paid by Stripe's own retry, the
    customer on its hosted page, or pastdue's own attempt whose answer is still on its way)."""

    event_id: str
    charge_id: str
    amount: Money  # the invoice's `amount_paid`, all its payments so far: only what is new counts
    reference: str
    out_of_band: bool = False  # marked paid outside the processor (our own settlement there): no money moved


@dataclass(frozen=True)
class InvoiceStatusChanged:
    """The processor's invoice behind a charge was voided (no longer owed) or marked uncollectible (still
    payable there)."""

    event_id: str
    charge_id: str
    status: str  # void | uncollectible


@dataclass(frozen=True)
class InvoiceSettledThere:
    """The processor's answer to an invoice settlement reserved here (model.InvoiceSettlement)."""

    charge_id: str
    key: str
    outcome: str  # paid_out_of_band | voided | uncollectible | already_paid | already_void | ... | refused
    amount_paid: Money | None = None  # the invoice's `amount_paid` after it
    refused: bool = False  # the processor refused the request: an operator's problem


@dataclass(frozen=True)
class PaymentUnexpected:
    """Money the processor took for a charge already settled here (a second payment of an attempt, a late
    success of an archived charge, an invoice paid there after it was settled here): kept as credit, and
    operators are alerted."""

    event_id: str
    amount: Money
    reference: str
    charge_id: str
    subscription_id: str | None
    reason: str


class ReversalKind(StrEnum):
    """What the processor did with money it collected (or may do): a refund, a failed refund, a dispute and
    its outcome, an inquiry (no money moves), funds withdrawn for a dispute and given back."""

    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    INQUIRY_OPENED = "inquiry_opened"
    INQUIRY_CLOSED = "inquiry_closed"
    FUNDS_WITHDRAWN = "funds_withdrawn"
    FUNDS_REINSTATED = "funds_reinstated"


@dataclass(frozen=True)
class PaymentReversed:
    """The processor gave collected money back, or may: a refund, or a dispute opened, won or lost."""

    event_id: str
    kind: ReversalKind
    # refunds: the processor's charge (its amount refunded is cumulative; a failed refund names its charge
    # too, with the refund's own amount); disputes: the dispute
    processor_id: str
    reference: str | None  # the payment (a Stripe PaymentIntent)
    charge_id: str | None  # the charge it paid, from the payment's metadata
    subscription_id: str | None
    amount: Money  # refunded: the total refunded so far; refund_failed: that refund's; disputes: the amount disputed
    reason: str | None = None
    refund_id: str | None = None  # refund_failed: the refund (each fails once)
    # A combined payment: what it applied to each charge it covered (charge id, subscription id, amount),
    # oldest first; what it gives back is owed again newest charge first, each up to what it had applied.
    allocation: tuple[tuple[str, str, Money], ...] = ()
    # refunded: the charge's refunds that stand at the processor now, each by its id (None: only the total is
    # known). Each refund is counted once by its id, whatever order the events come in; a failed one, never.
    refunds: tuple[tuple[str, Money], ...] | None = None


@dataclass(frozen=True)
class Reactivate:
    subscription_id: str
    actor: str


@dataclass(frozen=True)
class DataPurged:
    subscription_id: str
    items_deleted: int


@dataclass(frozen=True)
class AdminContactChanged:
    email: str
    locale: str | None
    actor: str


@dataclass(frozen=True)
class AdminTransferred:
    admin: Admin
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class EmailBounced:
    address: str
    status: str
    message_id: str


# Effects: what the shell must do after saving the decided state.
@dataclass(frozen=True)
class TryCharge:
    charge_id: str
    key: str
    token: str
    amount: Money
    subscription_id: str | None = None
    reference: str | None = None  # the processor's payment for this key, once known: resolved from it
    resume: bool = False  # sent before with no answer kept: the processor may hold a payment for the key
    on_session: bool = False  # the customer is present: the bank may ask them to authenticate now
    # Payments of earlier attempts that wait for the customer (charge id, attempt key, reference), on this
    # charge or on any a combined payment covers: cancelled first, so that a charge never has two live
    # payments at the processor.
    supersedes: tuple[tuple[str, str, str], ...] = ()
    # The key the processor knows the attempt by (scoped to the account); the attempt's own key if not given.
    processor_key: str | None = None
    # The processor's invoice this charge is (Stripe Billing): collected by paying it, never a payment of ours.
    invoice: str | None = None
    # How many charges this one payment covers (a combined payment's lead: `amount` is their total).
    covers: int = 1


@dataclass(frozen=True)
class SettleInvoice:
    """Settle the processor's invoice of a charge settled here by other means (model.InvoiceSettlement)."""

    charge_id: str
    invoice: str
    action: str  # paid_out_of_band | write_off
    key: str
    partly_paid: bool = False


@dataclass(frozen=True)
class PurgeData:
    subscription_id: str


@dataclass(frozen=True)
class NoticesQueued:
    count: int


# Support's actions (domain/support.py): each names the support principal and a reason.
@dataclass(frozen=True)
class NoticeResent:
    notice_id: str
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class DunningPaused:
    until: datetime
    reason: str
    actor: str


@dataclass(frozen=True)
class DunningResumed:
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class GraceExtended:
    subscription_id: str
    days: int
    reason: str
    actor: str


@dataclass(frozen=True)
class ChargeWrittenOff:
    charge_id: str
    reason: str
    actor: str
    notify: bool = True


# The notice drain's own (domain/outbox.py) and a run's end (domain/quarantine.py).
@dataclass(frozen=True)
class ClaimNotices:
    limit: int
    claim_id: str


@dataclass(frozen=True)
class SendResult:
    notice_id: str
    outcome: str  # sent | failed | throttled
    error: str | None = None
    retry_after_seconds: float = 0
    permanent: bool = False


@dataclass(frozen=True)
class NoticesSent:
    claim_id: str
    results: tuple[SendResult, ...]


@dataclass(frozen=True)
class RunSucceeded:
    """A sweep or drain finished on this account without an error: its count of failures restarts."""


Command = (
    ProfileSet
    | SubscriptionSet
    | PayNowRequested
    | Reactivate
    | AdminContactChanged
    | AdminTransferred
    | SweepTick
    | ClaimNotices
    | NoticeResent
    | DunningPaused
    | DunningResumed
    | GraceExtended
    | ChargeWrittenOff
)
Event = (
    ChargeFailed
    | GatewayCustomerLinked
    | AttemptsResolved
    | PayNowCompleted
    | PaymentReceived
    | PaymentReversed
    | ChargeSettled
    | InvoiceStatusChanged
    | InvoiceSettledThere
    | PaymentUnexpected
    | DataPurged
    | EmailBounced
    | NoticesSent
    | RunSucceeded
)
Effect = TryCharge | SettleInvoice | PurgeData | NoticesQueued
# What lifecycle.decide takes.
Decidable = Command | Event
