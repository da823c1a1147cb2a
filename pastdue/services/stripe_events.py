"""Events from the payment processor (Stripe): late answers, customer authentications, refreshed cards.

Each event is applied at most once: its id is stored with the account's write, as an item kept as long
as the history (a redelivery, however late, changes nothing and answers "duplicate"); an attempt already
answered ignores another answer (one awaiting the customer's authentication takes the processor's final
word once), and a refreshed card pays with the event id as its Idempotency-Key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pastdue.adapters.gateway import OutcomeUnknown, ProcessorInvoice
from pastdue.adapters.stripe_amounts import from_stripe
from pastdue.adapters.stripe_outcomes import decline, of_intent
from pastdue.domain import events as ev
from pastdue.domain.errors import UnknownSubscription
from pastdue.domain.model import SUCCEEDED, Account, Charge
from pastdue.domain.money import Money
from pastdue.services.billing import record_event
from pastdue.services.change import change_once
from pastdue.services.deps import AccountNotFound, Deps
from pastdue.services.effects import answer_of, run_effects
from pastdue.services.portal import card_has_paid, pay_now, reserve_pay_now

log = logging.getLogger("pastdue.gateway")
INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed"}
CARD_UPDATED = "payment_method.automatically_updated"
INVOICE_EVENTS = {"invoice.payment_failed", "invoice.paid", "invoice.voided", "invoice.marked_uncollectible"}
REVERSAL_EVENTS = {
    "charge.refunded",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
}
# An attempt this young is still being answered by whoever sent it (its API answer is on its way):
# the event is refused with a 503 so that Stripe delivers it again later, instead of racing that writer.
IN_FLIGHT_GRACE = timedelta(minutes=2)


class EventTooEarly(Exception):
    """The event is about an attempt still in flight: deliver it again later."""


def handle_event(deps: Deps, event_id: str, kind: str, obj: dict, created: int | None = None) -> str:
    """What was done: resolved | paid | recorded | unknown | ignored. `created` is the event's own time."""
    if kind in INTENT_EVENTS:
        return _intent(deps, event_id, kind, obj)
    if kind == CARD_UPDATED:
        return _card_updated(deps, event_id, obj)
    if kind in REVERSAL_EVENTS:
        return _reversal(deps, event_id, kind, obj)
    if kind in INVOICE_EVENTS:
        return _invoice(deps, event_id, kind, obj, created)
    log.info("stripe event %s (%s) ignored", event_id, kind)
    return "ignored"


def _object(value: object) -> dict:
    """A JSON object of a Stripe event, or {} when it is absent or not an object."""
    return value if isinstance(value, dict) else {}


def intent_result(kind: str, intent: dict) -> tuple[str, ev.AttemptResult] | None:
    """The account and the attempt's answer a PaymentIntent event carries; None if it is not one of ours
    (a payment made elsewhere in the same Stripe account) or not what its type says. The same mapper as
    the API's answers (adapters/stripe_outcomes.py)."""
    metadata = _object(intent.get("metadata"))
    account_id, charge_id, key = metadata.get("accountId"), metadata.get("chargeId"), metadata.get("attempt")
    if not (
        isinstance(account_id, str)
        and isinstance(charge_id, str)
        and isinstance(key, str)
        and account_id
        and charge_id
        and key
    ):
        return None
    try:
        outcome = (
            of_intent(intent)
            if kind == "payment_intent.succeeded"
            else decline(intent.get("last_payment_error") or {"code": "card_declined"}, intent.get("id"))
        )
    except (TypeError, ValueError):
        return None
    if outcome is None or (kind == "payment_intent.succeeded" and outcome.outcome != SUCCEEDED):
        return None
    return account_id, answer_of(charge_id, key, outcome)


def _intent(deps: Deps, event_id: str, kind: str, intent: dict) -> str:
    found = intent_result(kind, intent)
    if found is None:
        return "ignored"
    account_id, result = found
    charge_id, key = result.charge_id, result.key
    account = deps.store.get(account_id)
    if account is None:
        return "unknown"
    charge = account.charge(charge_id)
    if charge is None and result.outcome == SUCCEEDED:
        return _late_success(deps, event_id, account, charge_id, result)
    attempt = charge.attempt(key) if charge else None
    if attempt is None:
        return "unknown"
    if attempt.reference and result.reference and attempt.reference != result.reference:
        # Not the payment this attempt made (one made elsewhere in the Stripe account with the same
        # metadata): never this attempt's answer.
        log.warning("stripe event %s: payment %s is not attempt %s's", event_id, result.reference, key)
        return "ignored"
    if attempt.outcome is None and deps.clock.now() - attempt.at < IN_FLIGHT_GRACE:
        raise EventTooEarly(f"attempt {key} is still in flight")
    try:
        done = change_once(deps, account_id, event_id, ev.AttemptsResolved((result,), event_id), account=account)
    except AccountNotFound:
        return "unknown"
    if done is None:
        return "duplicate"
    run_effects(deps, done)
    if attempt.source == "update" and attempt.on_session and result.outcome == SUCCEEDED:
        # The admin confirmed the new card's payment with the bank: the card has paid.
        paid = done.account
        if paid.payment_method is not None and paid.payment_method.token == attempt.token:
            card_has_paid(deps, paid, attempt.token)
    return "resolved"


def _late_success(deps: Deps, event_id: str, account: Account, charge_id: str, result: ev.AttemptResult) -> str:
    """A payment succeeded for a charge no longer among the document's open and recent ones (settled, and
    archived or waiting to be): the payment that settled it is nothing new; any other is money no charge
    owes, kept as credit with an operator alert."""
    account_id = account.account_id
    archived = _settled_long_ago(deps, account, charge_id)
    attempt = archived.attempt(result.key) if archived is not None else None
    if archived is None or attempt is None or result.amount is None:
        return "unknown"
    if attempt.outcome == SUCCEEDED and attempt.reference in (None, result.reference):
        return "duplicate"
    unexpected = ev.PaymentUnexpected(
        event_id, result.amount, result.reference or "", charge_id, archived.subscription_id, "archivedCharge"
    )
    return _apply(deps, account_id, event_id, unexpected, "recorded")


def _apply(deps: Deps, account_id: str, event_id: str, event: ev.Decidable, done_as: str) -> str:
    try:
        done = change_once(deps, account_id, event_id, event)
    except AccountNotFound:
        return "unknown"
    if done is None:
        return "duplicate"
    run_effects(deps, done)
    return done_as


def _card_updated(deps: Deps, event_id: str, method: dict) -> str:
    """The card updater refreshed a saved card: like a new card from the admin, every outstanding charge
    of the accounts that use it is paid now, with one receipt."""
    customer, token = method.get("customer"), method.get("id")
    if not isinstance(customer, str) or not isinstance(token, str):
        return "ignored"
    accounts = [
        a
        for a in deps.store.by_gateway_customer(customer)
        if a.payment_method is not None and a.payment_method.token == token
    ]
    for account in accounts:
        described = deps.gateway.describe(token)
        key, actor = f"stripe:{event_id}", "stripe:card-updater"
        # Answered fast: the payments are reserved under the event's key now (one write), and sent after
        # the answer, before Stripe's webhook timeout can matter. If this process stops first, the sweep
        # sends the reserved attempts with their keys, and a redelivery of the event resumes the same key.
        reserve_pay_now(deps, account.account_id, key, event_id, described, actor, on_session=False)

        def pay(account_id=account.account_id, method=described, key=key, actor=actor):
            answer = pay_now(deps, account_id, key, event_id, method, actor, on_session=False)
            log.info("card updated for %s: pay-now came to %s", account_id, answer.outcome)

        (deps.later or _now)(pay)
    return "paid" if accounts else "unknown"


def _now(work) -> None:
    work()


def _reversal(deps: Deps, event_id: str, kind: str, obj: dict) -> str:
    """A refund (or a refund that failed), a dispute or an inquiry, of a payment this app made: recorded on its
    account, and what was given back is owed again if the policy says so (domain/reversals.py). A payment is
    ours only if it is an attempt's own payment (its PaymentIntent is the attempt's reference), or Stripe
    Billing's payment of an invoice dunned here (found through the invoice): the billing system's own
    PaymentIntents may carry an account id too. Operators are alerted."""
    reference = obj.get("payment_intent")
    currency = str(obj.get("currency") or "").upper()
    amount = obj.get("amount_refunded") if kind == "charge.refunded" else obj.get("amount")
    if not isinstance(reference, str) or not isinstance(amount, int) or len(currency) != 3:
        return "ignored"
    reversal = _reversal_kind(kind, obj)
    if reversal is None:
        return "ignored"  # a dispute closed otherwise: no money moved
    found = _payment_of(deps, reference, _object(obj.get("metadata")))
    if found is None:
        return "ignored"  # not one of ours
    account_id, charge = found
    # The refunded charge (ch_) for refunds and failed refunds alike (a refund's amount adds to its charge's
    # total), or the dispute (dp_).
    processor_id = str(obj.get("charge") if kind == "refund.failed" else obj.get("id"))
    money = from_stripe(amount, currency)
    refunds = None
    if reversal == "refunded":
        try:  # each refund that stands now, by its id: events heard in any order count each once
            refunds = deps.gateway.refunds_of(processor_id)
        except OutcomeUnknown:
            raise EventTooEarly(f"the refunds of {processor_id} could not be read from the processor") from None
    if reversal == "refund_failed":
        account = deps.store.get(account_id)
        counted = (account.reversed or {}) if account is not None else {}
        # Counted in a total (before refunds were counted by id): the refund must have been counted first.
        if processor_id in counted and obj.get("id") not in counted and counted[processor_id] < money.value:
            if deps.store.seen_event(account_id, event_id):
                return "duplicate"  # applied before: what it undid is why its refund no longer counts
            raise EventTooEarly(f"refund {obj.get('id')} failed before its refund was recorded")
    paid_by = next((a for a in charge.attempts if a.reference == reference and a.allocation), None)
    event = ev.PaymentReversed(
        event_id,
        reversal,
        processor_id,
        reference,
        charge.charge_id,
        charge.subscription_id,
        money,
        obj.get("reason") if isinstance(obj.get("reason"), str) else None,
        str(obj.get("id")) if reversal == "refund_failed" else None,
        # A combined payment: the charges it covered, as it applied to them.
        tuple((a.charge_id, a.subscription_id, a.amount) for a in paid_by.allocation or ()) if paid_by else (),
        tuple(refunds) if refunds is not None else None,
    )
    answer = _apply(deps, account_id, event_id, event, "recorded")
    if answer == "recorded":
        log.warning("stripe %s of payment %s on account %s (%s)", reversal, reference, account_id, event_id)
        deps.metrics.emit("pastdue_payments_reversed", 1, kind=reversal)
    return answer


def _reversal_kind(kind: str, obj: dict) -> ev.ReversalKind | None:
    status = obj.get("status")
    inquiry = isinstance(status, str) and status.startswith("warning_")  # an inquiry: no money moves
    if kind == "charge.refunded":
        return ev.ReversalKind.REFUNDED
    if kind == "refund.failed":
        return ev.ReversalKind.REFUND_FAILED
    if kind == "charge.dispute.created":
        return ev.ReversalKind.INQUIRY_OPENED if inquiry else ev.ReversalKind.DISPUTE_OPENED
    if kind == "charge.dispute.funds_withdrawn":
        return ev.ReversalKind.FUNDS_WITHDRAWN
    if kind == "charge.dispute.funds_reinstated":
        return ev.ReversalKind.FUNDS_REINSTATED
    if status in ("won", "lost"):
        return ev.ReversalKind(f"dispute_{status}")
    return ev.ReversalKind.INQUIRY_CLOSED if status == "warning_closed" else None


def _payment_of(deps: Deps, reference: str, metadata: dict) -> tuple[str, Charge] | None:
    """The account and charge a payment of ours paid, or None if it is not ours."""
    try:
        if not metadata.get("accountId"):
            metadata = deps.gateway.payment_metadata(reference)  # a dispute carries none: its payment does
        account_id = metadata.get("accountId")
        if isinstance(account_id, str) and account_id:
            charge = _paid_by(deps, account_id, metadata.get("chargeId"), reference)
            if charge is not None:
                return account_id, charge
        # Stripe Billing's own payment (no metadata of ours): through the invoice it paid.
        invoice_id = deps.gateway.invoice_of_payment(reference)
        invoice = deps.gateway.read_invoice(invoice_id) if invoice_id else None
    except OutcomeUnknown:
        raise EventTooEarly(f"payment {reference} could not be read from the processor") from None
    account = _account_of_customer(deps, invoice.customer) if invoice is not None and invoice.customer else None
    if invoice is None or account is None:
        return None
    charge = account.charge(invoice.invoice_id) or _settled_long_ago(deps, account, invoice.invoice_id)
    return (account.account_id, charge) if charge is not None and charge.is_processor_invoice else None


def _paid_by(deps: Deps, account_id: str, charge_id: object, reference: str) -> Charge | None:
    """The account's charge one of whose attempts is this payment (in the document, or archived)."""
    account = deps.store.get(account_id)
    if account is None:
        return None
    charges = list(account.charges)
    if isinstance(charge_id, str) and charge_id and account.charge(charge_id) is None:
        archived = _settled_long_ago(deps, account, charge_id)
        charges += [archived] if archived is not None else []
    return next((c for c in charges if any(a.reference == reference for a in c.attempts)), None)


def _settled_long_ago(deps: Deps, account: Account, charge_id: str) -> Charge | None:
    """A charge settled long enough ago to have left the document's charges: waiting in the document to be
    archived (until the account's next write), or archived."""
    waiting = next((c for c in account.archive_charges if c.charge_id == charge_id), None)
    return waiting or deps.store.archived_charge_of(account.account_id, charge_id)


def _account_of_customer(deps: Deps, customer: str) -> Account | None:
    """The one account linked to a Stripe customer. A customer linked to several accounts is refused (its
    invoices could be any of theirs): operators are alerted, and the link must be made one to one."""
    accounts = deps.store.by_gateway_customer(customer)
    if len(accounts) > 1:
        log.error(
            "stripe customer %s is linked to %d accounts (%s): its invoice events are refused",
            customer,
            len(accounts),
            ", ".join(sorted(a.account_id for a in accounts)),
        )
        deps.metrics.emit("pastdue_stripe_customer_shared", 1)
        return None
    return accounts[0] if accounts else None


def _invoice(deps: Deps, event_id: str, kind: str, invoice: dict, created: int | None) -> str:
    """Stripe Billing's invoices, each read again from Stripe before it changes anything (Stripe does not
    order deliveries and sends them again for days: the event's copy may be stale).
    `invoice.payment_failed` is a charge failure (the invoice id is the charge id, its subscription pastdue's
    subscription id, the account the one linked to its customer), dated by the event, for what the invoice
    still asks, only while it is open; it is dunned like any other: retries pay the invoice itself.
    `invoice.paid` settles that charge with what is new of the money paid there (Stripe's own retry, the
    customer on the hosted page, or pastdue's attempt whose answer is on its way); money paid there for a
    charge already settled here is kept as credit, with an operator alert. `invoice.voided`: no longer owed.
    `invoice.marked_uncollectible`: recorded, still payable."""
    invoice_id, customer = invoice.get("id"), invoice.get("customer")
    currency = str(invoice.get("currency") or "").upper()
    if (
        not isinstance(invoice_id, str)
        or not invoice_id.startswith("in_")
        or not isinstance(customer, str)
        or len(currency) != 3
    ):
        return "ignored"
    found = deps.store.by_gateway_customer(customer)
    if not found:
        log.warning("stripe invoice %s of customer %s: no account is linked to the customer", invoice_id, customer)
        return "unknown"
    account = _account_of_customer(deps, customer)
    if account is None:
        return "unknown"
    account_id = account.account_id
    if kind in ("invoice.voided", "invoice.marked_uncollectible"):
        if account.charge(invoice_id) is None:
            return "ignored"  # not dunned here
        status = "void" if kind == "invoice.voided" else "uncollectible"
        return _apply(deps, account_id, event_id, ev.InvoiceStatusChanged(event_id, invoice_id, status), "recorded")
    if kind == "invoice.paid":
        return _invoice_paid(deps, event_id, account, invoice_id)
    parent = _object(invoice.get("parent"))
    details = _object(parent.get("subscription_details"))
    subscription = details.get("subscription") or invoice.get("subscription")
    if not isinstance(subscription, str):
        return "ignored"  # not a subscription's invoice
    current = _read_invoice(deps, invoice_id)
    if current is None or current.status != "open" or current.amount_remaining.value <= 0:
        log.info("stripe invoice %s is %s now: no debt opened (%s)", invoice_id, current and current.status, event_id)
        return "ignored"  # paid, voided or uncollectible since: the event's copy is stale
    occurred = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else deps.clock.now()
    failed = ev.ChargeFailed(
        event_id,
        subscription,
        invoice_id,
        current.amount_remaining,
        None,
        occurred,
        processor_invoice=True,
        processor_paid=current.paid_there if current.paid_there.value > 0 else None,
    )
    try:
        return record_event(deps, account_id, failed)
    except UnknownSubscription:
        log.warning(
            "stripe invoice %s: subscription %s is not known for account %s", invoice_id, subscription, account_id
        )
        return "unknown"


def _read_invoice(deps: Deps, invoice_id: str) -> ProcessorInvoice | None:
    try:
        return deps.gateway.read_invoice(invoice_id)
    except OutcomeUnknown:
        raise EventTooEarly(f"invoice {invoice_id} could not be read from the processor") from None


def _invoice_paid(deps: Deps, event_id: str, account: Account, invoice_id: str) -> str:
    charge = account.charge(invoice_id)
    archived = None if charge is not None else _settled_long_ago(deps, account, invoice_id)
    if charge is None and archived is None:
        return "ignored"  # an invoice never dunned here
    current = _read_invoice(deps, invoice_id)
    if current is None:
        return "ignored"
    if archived is not None:
        known = archived.processor_paid.value if archived.processor_paid else 0
        new = current.paid_there.value - known
        if new <= 0:
            return "duplicate"
        late = ev.PaymentUnexpected(
            event_id,
            Money(new, current.paid_there.currency),
            invoice_id,
            invoice_id,
            archived.subscription_id,
            "paidAfterArchived",
        )
        return _apply(deps, account.account_id, event_id, late, "recorded")
    settled = ev.ChargeSettled(
        event_id, invoice_id, current.paid_there, invoice_id, out_of_band=current.paid_elsewhere.value > 0
    )
    return _apply(deps, account.account_id, event_id, settled, "resolved")
