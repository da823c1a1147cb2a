"""The billing-account aggregate: one document per account, everything the lifecycle needs.

msgspec Structs: the stored document (camelCase keys, defaults left out) is read into the model and written
from it in one pass each (adapters/documents.py), with no field-by-field code of our own on the sweep's hot path."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from msgspec import Meta, Struct, field

from pastdue.domain.money import CurrencyMismatch, Money


class SubscriptionState(StrEnum):
    ACTIVE = "active"
    PAST_DUE = "pastDue"
    DISABLED = "disabled"
    DELETED = "deleted"


class PaymentMode(StrEnum):
    CARD = "card"
    INVOICE = "invoice"


class ChargeStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    WRITTEN_OFF = "writtenOff"


class AttemptOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    ERROR = "error"
    SKIPPED = "skipped"  # reserved but never sent to the gateway
    REQUIRES_ACTION = "requires_action"  # the bank asks the customer to authenticate (SCA), on-session
    # A result that is no outcome yet: the processor holds the payment (its reference) but has not decided.
    PROCESSING = "processing"
    # Refused before it was sent (an amount the processor cannot take): it never reached the card, so it
    # counts toward no attempt cap and says nothing of the card; operators are alerted.
    NOT_SENT = "not_sent"


class AttemptSource(StrEnum):
    """Who sent an attempt: the sweep's retry on its calendar, or a pay-now (the admin present, or the
    processor's card updater) with a new or updated payment method."""

    RETRY = "retry"
    UPDATE = "update"


class NoticeKind(StrEnum):
    """What a notice says (its words: pastdue/notices/catalog_*.yaml, one entry per kind)."""

    PAYMENT_FAILED = "payment_failed"  # a charge failed; a retry or a new card can still pay it
    CARD_DECLINED_FOR_GOOD = "card_declined_for_good"  # the card is refused for good: never tried again
    CONFIRM_PAYMENT = "confirm_payment"  # the bank asks the customer to authenticate
    INVOICE_OVERDUE = "invoice_overdue"
    REMINDER = "reminder"
    FINAL_NOTICE = "final_notice"
    SERVICE_CANCELLED = "service_cancelled"  # the subscription is suspended (its data kept until deletion)
    DELETION_WARNING = "deletion_warning"
    DATA_DELETED = "data_deleted"
    PAYMENT_RECEIVED = "payment_received"
    REACTIVATED = "reactivated"
    CHARGE_WRITTEN_OFF = "charge_written_off"
    CARD_EXPIRING = "card_expiring"
    ADMIN_EMAIL_REPLACED = "admin_email_replaced"
    ADMIN_EMAIL_CHANGED = "admin_email_changed"


# Kinds an earlier release stored under another name, read as today's.
RENAMED_NOTICE_KINDS = {"card_declined": NoticeKind.CARD_DECLINED_FOR_GOOD}


class NoticeStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # No longer true when its turn came (paid meanwhile, the subscription back, replaced by a newer notice):
    # never sent; the history says why (`notice.withdrawn`).
    WITHDRAWN = "withdrawn"


# The states by their short names, as the transitions use them (each is its enum's member: a str too).
ACTIVE, PAST_DUE, DISABLED, DELETED = SubscriptionState
CARD, INVOICE = PaymentMode
OPEN, PAID, WRITTEN_OFF = ChargeStatus
SUCCEEDED, DECLINED, ERROR, SKIPPED, REQUIRES_ACTION, PROCESSING, NOT_SENT = AttemptOutcome
QUEUED, SENDING, SENT, FAILED, WITHDRAWN = NoticeStatus
RETRY, UPDATE = AttemptSource


# Every time of the model is zone-aware (stored in UTC): a stored time without a zone does not load.
Time = Annotated[datetime, Meta(tz=True)]


class Document(Struct, rename="camel", omit_defaults=True):
    """A part of the stored account document: a field at its default is left out of the document."""


class Admin(Document):
    principal_id: str
    email: str
    name: str
    locale: str = "en-US"
    email_undeliverable: bool = False


class PaymentMethod(Document):
    """Display data and the gateway token only: never a card number or CVC."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class Remittance(Document):
    iban: str
    bic: str
    reference: str


class Allocated(Document):
    """What a combined payment applied to one of the charges it covered."""

    charge_id: str
    subscription_id: str
    amount: Money


class Attempt(Document):
    """One try at collecting a charge. outcome None means sent (or about to be) with no answer yet."""

    n: int
    key: str
    token: str
    source: AttemptSource
    at: Time
    outcome: AttemptOutcome | None = None
    code: str | None = None
    # What this attempt asks the processor for, fixed when it is reserved: a retry of the same key
    # asks for the same amount, and a success applies what was really taken.
    amount: Money | None = None
    reference: str | None = None  # the processor's id of this payment (a Stripe PaymentIntent)
    # True when sent while the customer is present (pay-now): authentication is asked then and there. None
    # (not stored) otherwise.
    on_session: bool | None = None
    # True when the processor knows this attempt by a key scoped to its account (`processor_key`): a charge
    # id is unique only within its account (every tenant has an INV-0001). None on attempts reserved before,
    # which keep the key they were sent with.
    scoped: bool | None = None
    # One payment for several charges (a combined payment: pay-now, or the sweep's retries of one day on one
    # card): the key of its lead attempt, the one the processor knows, on every attempt it covers (the lead's
    # own included). None: a payment of this charge alone.
    payment: str | None = None
    # On a combined payment's lead attempt, once it took money: how it was applied, oldest charge first.
    allocation: list[Allocated] | None = None

    def processor_key(self, account_id: str) -> str:
        """The key the processor knows this attempt by: its Idempotency-Key, and the sandbox ledger's id."""
        return f"{account_id}:{self.key}" if self.scoped else self.key


class InvoiceSettlement(Document):
    """A processor's invoice (Stripe Billing) settled here by other means (a transfer, credit, a write-off),
    to be settled there too so that the processor stops collecting it: reserved in the decision that settled
    the charge, with its idempotency key, and recorded once the processor answered (`outcome`). Until then
    the sweep sends it again (schedule.next_action_at)."""

    action: str  # PAID_OUT_OF_BAND (money received here) | WRITE_OFF (void, or uncollectible)
    key: str
    at: Time
    partly_paid: bool = False  # money was received for the charge: a write-off never voids the invoice then
    outcome: str | None = None  # what the processor did (voided, uncollectible, paid_out_of_band, already_paid...)
    done_at: Time | None = None


PAID_OUT_OF_BAND, WRITE_OFF = "paid_out_of_band", "write_off"


class Charge(Document):
    charge_id: str
    subscription_id: str
    amount: Money
    failed_at: Time
    decline_code: str | None = None
    hard: bool = False
    status: ChargeStatus = OPEN
    paid: Money | None = None
    paid_at: Time | None = None
    retry_steps_done: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    invoice_url: str | None = None  # the billing system's invoice page in the portal (receipts link to it)
    # True: the charge is a processor's own invoice (Stripe Billing's, opened by its invoice event): it is
    # collected by paying that invoice and settled there when settled here. False: a charge of the billing
    # system whose id merely looks like one. None: stored before the field (see `is_processor_invoice`).
    processor_invoice: bool | None = None
    # Of the processor's invoice, what its `amount_paid` held that is already counted here (paid before the
    # failure, or applied since): only a payment beyond it is new money.
    processor_paid: Money | None = None
    settle_at_processor: InvoiceSettlement | None = None

    @property
    def is_processor_invoice(self) -> bool:
        if self.processor_invoice is not None:
            return self.processor_invoice
        # A charge stored before the field: Stripe Billing's invoice events were then the only way to an
        # `in_` charge on a `sub_` subscription (docs/design.md, "Payment processors").
        return looks_like_processor_invoice(self.charge_id, self.subscription_id)

    @property
    def settlement_pending(self) -> InvoiceSettlement | None:
        sync = self.settle_at_processor
        return sync if sync is not None and sync.outcome is None else None

    @property
    def outstanding(self) -> Money:
        return self.amount - self.paid if self.paid is not None else self.amount

    @property
    def pending(self) -> Attempt | None:
        last = self.attempts[-1] if self.attempts else None
        return last if last is not None and last.outcome is None else None

    def attempt(self, key: str) -> Attempt | None:
        return next((a for a in self.attempts if a.key == key), None)

    @property
    def awaiting_action(self) -> Attempt | None:
        """The last attempt waits for the customer to authenticate it on-session."""
        last = self.attempts[-1] if self.attempts else None
        return last if self.status == OPEN and last is not None and last.outcome == REQUIRES_ACTION else None


def looks_like_processor_invoice(charge_id: str, subscription_id: str) -> bool:
    return charge_id.startswith("in_") and subscription_id.startswith("sub_")


class Subscription(Document):
    subscription_id: str
    display_name: str
    plan: str = "default"
    state: SubscriptionState = ACTIVE
    past_due_since: Time | None = None
    disabled_at: Time | None = None
    deletion_scheduled_at: Time | None = None
    deleted_at: Time | None = None
    purged_at: Time | None = None
    steps_done: list[str] = field(default_factory=list)
    # Counts past-due episodes: reminder and disable notice ids carry it, so a second episode that
    # starts on the same date as an earlier one still gets its own notices.
    episode: int = 0
    dry_run_noted: str | None = None  # the day a dry run last recorded this subscription's held deletion
    grace_days: int = 0  # days support added before this episode's disable (and its final notice)


class Notice(Document):
    notice_id: str
    # Written as a NoticeKind (queue_notice takes one); read as text, so that a kind this release does not
    # know (a newer release's, before a rollback) fails that notice alone at render, never the whole document.
    kind: str
    to: str
    locale: str
    params: dict
    created_at: Time
    next_try_at: Time
    subscription_id: str | None = None
    status: NoticeStatus = QUEUED
    tries: int = 0
    lease_until: Time | None = None
    claim_id: str | None = None
    sent_at: Time | None = None
    last_error: str | None = None


class Asked(Document):
    """The latest amount a notice asked the customer to pay (its id and when it was queued): a later notice
    asking for another total says that it replaces it. Forgotten once nothing is owed."""

    notice_id: str
    at: Time
    amount: Money


class SettledCharge(Document):
    charge_id: str
    amount: Money


class PayNowResult(StrEnum):
    """What a pay-now came to, kept with its Idempotency-Key."""

    SETTLED = "settled"
    DECLINED = "declined"  # the card was refused (not AttemptOutcome.DECLINED: one attempt's answer)
    AUTHENTICATION_REQUIRED = "authenticationRequired"


SETTLED, PAY_NOW_DECLINED, AUTHENTICATION_REQUIRED = (
    PayNowResult.SETTLED,
    PayNowResult.DECLINED,
    PayNowResult.AUTHENTICATION_REQUIRED,
)


class PayNowOutcome(Document):
    """The outcome of one pay-now, kept with its key so that a replay answers the same (never the
    account: that is read fresh)."""

    result: PayNowResult | None = None
    code: str | None = None  # the decline code (authentication_required when the bank asks)
    charge_id: str | None = None  # the charge waiting for the customer's authentication
    settled: list[SettledCharge] = field(default_factory=list)
    # Documents written before `result` kept an HTTP status instead (200 settled, 402 not): read only.
    status: int | None = None

    @property
    def kind(self) -> PayNowResult:
        if self.result is not None:
            return self.result
        if self.status == 200:
            return SETTLED
        return AUTHENTICATION_REQUIRED if self.code == "authentication_required" else PAY_NOW_DECLINED


class KeyStatus(StrEnum):
    """Where a pay-now's Idempotency-Key stands: its payments being sent, or its outcome kept."""

    PROCESSING = "processing"
    DONE = "done"


KEY_PROCESSING, KEY_DONE = KeyStatus.PROCESSING, KeyStatus.DONE


class PayNowKey(Document):
    """One Idempotency-Key of pay-now: the request it was first used with, the attempts it reserved
    ([charge id, attempt key]), and once done, its outcome."""

    hash: str
    at: Time
    status: KeyStatus = KEY_PROCESSING
    attempts: list[tuple[str, str]] = field(default_factory=list)
    on_session: bool | None = None  # None only in documents written before it was kept
    response: PayNowOutcome | None = None
    # The card the admin gave (display data and its token, never a number): it is saved on the account only
    # once the answers are in, so a notice about an attempt with it, answered later by the sweep, names it.
    method: PaymentMethod | None = None


class DunningPause(Document):
    """Support's pause of dunning: nothing is retried, reminded, disabled or deleted before `until`."""

    until: Time
    reason: str
    actor: str
    at: Time


class Quarantine(Document):
    """Why an account is set aside after repeated failed runs (domain/quarantine.py)."""

    at: Time
    where: str
    reason: str
    failures: int = 0


def _age(charge: Charge) -> tuple[datetime, str]:
    """The order of open charges: oldest failure first (then by id)."""
    return charge.failed_at, charge.charge_id


class Account(Document):
    account_id: str
    admin: Admin
    payment_mode: PaymentMode = CARD
    currency: str = "EUR"
    time_zone: str = "UTC"  # IANA; the account's pay days are in its local time
    # Card-expiry pre-dunning steps done for the card on file (`<token>:<yyyy-mm>:<days>`), so each is sent once.
    expiry_notified: list[str] = field(default_factory=list)
    payment_method: PaymentMethod | None = None
    gateway_customer_id: str | None = None  # the processor's customer (Stripe: cus_...)
    remittance: Remittance | None = None
    credit: Money | None = None
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    outbox: list[Notice] = field(default_factory=list)
    asked: Asked | None = None
    # The audit timeline's newest records {"seq", "at", "kind", "actor", "detail", "subscriptionId"}, not
    # yet archived: written once and never changed, so kept as data. The store writes them as items of
    # their own (ids from `seq`) and leaves them out of the document on its next write (docs/design.md).
    history: list[dict] = field(default_factory=list)
    history_seq: int = 0  # the seq of the newest record ever written
    archived_seq: int = 0  # every record up to this seq is an item of its own, no longer in the document
    # Charges settled long enough ago that no late answer can concern them, waiting to be archived.
    archive_charges: list[Charge] = field(default_factory=list)
    # Set when settled charges were archived early, by count (a burst of events): until SETTLED_KEEP after
    # it, a failure reported again is looked up in the archive however recent it is.
    archived_early_at: Time | None = None
    # Sent notices beyond the newest KEEP_SENT_COUNT (a burst), waiting to be archived as items.
    archive_notices: list[Notice] = field(default_factory=list)
    # Event ids seen (webhooks, gateway events) -> when: kept for PROCESSED_EVENTS_KEEP, then forgotten.
    processed_events: dict[str, str] = field(default_factory=dict)
    # Money the processor gave back, per refunded charge or lost dispute id -> minor units already re-opened
    # (a refund's total grows with each partial refund: only the difference is new).
    reversed: dict[str, int] | None = None
    idempotency: dict[str, PayNowKey] = field(default_factory=dict)
    next_action_at: Time | None = None
    notices_due_at: Time | None = None
    # Support's pause of dunning (domain/support.py).
    dunning_paused: DunningPause | None = None
    # For support's lists (kept by decide from the state): the subscriptions' states, and the earliest
    # disable and deletion to come.
    states: list[SubscriptionState] = field(default_factory=list)
    next_disable_at: Time | None = None
    next_deletion_at: Time | None = None
    open_balance: Money | None = None  # what is owed, when something is (revenue at risk)
    # A test account (the post-deploy smoke script's): served like any other, counted in no metric.
    synthetic: bool = False
    # Bulkheads (domain/quarantine.py): failed runs on this account, and why it is set aside.
    failures: int = 0
    quarantine: Quarantine | None = None
    # Not stored: the store's note of the document this was read from (its _etag, and the history seq,
    # settled charges, sent notices and event ids already written in it), so it knows what is safe to
    # archive on the next write (adapters/documents.py, Stored).
    etag: str | None = None
    stored: Any = None  # adapters/documents.Stored (the model does not know the store)

    def open_charges(self, subscription_id: str | None = None) -> list[Charge]:
        """The open charges (of one subscription, or all), oldest first."""
        found = [
            c
            for c in self.charges
            if c.status == OPEN and (subscription_id is None or c.subscription_id == subscription_id)
        ]
        if len(found) > 1:
            found.sort(key=_age)
        return found

    def balance(self, subscription_id: str | None = None) -> Money:
        # Summed as minor units (the sweep asks this often); a charge in another currency is refused as Money
        # arithmetic refuses it.
        total = 0
        for charge in self.charges:
            if charge.status == OPEN and (subscription_id is None or charge.subscription_id == subscription_id):
                owed = charge.amount if charge.paid is None else charge.outstanding  # (no property call: asked often)
                if owed.currency != self.currency:
                    raise CurrencyMismatch(f"{self.currency} and {owed.currency} cannot be combined")
                total += owed.value
        return Money(total, self.currency)

    def charge(self, charge_id: str) -> Charge | None:
        return next((c for c in self.charges if c.charge_id == charge_id), None)

    def charge_of(self, charge_id: str) -> Charge:
        """A charge the account is known to hold (one of its reserved attempts names it)."""
        charge = self.charge(charge_id)
        if charge is None:
            raise KeyError(f"charge {charge_id} is not on account {self.account_id}")
        return charge
