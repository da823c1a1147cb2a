"""Events from the payment processor (Stripe): late answers, customer authentications, refreshed cards.

Each event is applied at most once: its id is stored with the account's write, as an item kept as long
as the history (a redelivery, however late, changes nothing and answers "duplicate"); an attempt already
answered ignores another answer (one awaiting the customer's authentication takes the processor's final
word once), and a refreshed card pays with the event id as its Idempotency-Key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pastdue.adapters.gateway import OutcomeUnknown
from pastdue.adapters.stripe_amounts import from_stripe
from pastdue.adapters.stripe_outcomes import decline, of_intent
from pastdue.domain import events as ev
from pastdue.domain.errors import UnknownSubscription
from pastdue.domain.model import SUCCEEDED
from pastdue.services.billing import record_event
from pastdue.services.change import change_once
from pastdue.services.deps import AccountNotFound, Deps
from pastdue.services.effects import answer_of, run_effects
from pastdue.services.portal import card_has_paid, update_payment

log = logging.getLogger("pastdue.gateway")
INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed"}
CARD_UPDATED = "payment_method.automatically_updated"
INVOICE_EVENTS = {"invoice.payment_failed", "invoice.paid"}  # Stripe Billing
REVERSAL_EVENTS = {"charge.refunded", "charge.dispute.created", "charge.dispute.closed"}
# An attempt this young is still being answered by whoever sent it (its API answer is on its way):
# the event is refused with a 503 so that Stripe delivers it again later, instead of racing that writer.
IN_FLIGHT_GRACE = timedelta(minutes=2)


class EventTooEarly(Exception):
    """The event is about an attempt still in flight: deliver it again later."""


def handle_event(deps: Deps, event_id: str, kind: str, obj: dict) -> str:
    """What was done: resolved | paid | recorded | unknown | ignored."""
    if kind in INTENT_EVENTS:
        return _intent(deps, event_id, kind, obj)
    if kind == CARD_UPDATED:
        return _card_updated(deps, event_id, obj)
    if kind in REVERSAL_EVENTS:
        return _reversal(deps, event_id, kind, obj)
    if kind in INVOICE_EVENTS:
        return _invoice(deps, event_id, kind, obj)
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
        answer = update_payment(
            deps, account.account_id, f"stripe:{event_id}", event_id, described, "stripe:card-updater", on_session=False
        )
        log.info("card updated for %s: pay-now came to %s", account.account_id, answer.outcome)
    return "paid" if accounts else "unknown"


def _reversal(deps: Deps, event_id: str, kind: str, obj: dict) -> str:
    """A refund, or a dispute opened or closed, of a payment of ours: recorded on its account, and what was
    given back is owed again if the policy says so (domain/payments.py). Operators are alerted."""
    reference = obj.get("payment_intent")
    currency = str(obj.get("currency") or "").upper()
    amount = obj.get("amount_refunded") if kind == "charge.refunded" else obj.get("amount")
    if not isinstance(reference, str) or not isinstance(amount, int) or len(currency) != 3:
        return "ignored"
    metadata = _object(obj.get("metadata"))
    if not metadata.get("accountId"):
        try:
            metadata = deps.gateway.payment_metadata(reference)  # a dispute carries none: its payment does
        except OutcomeUnknown:
            raise EventTooEarly(f"payment {reference} could not be read from the processor") from None
    account_id = metadata.get("accountId")
    if not isinstance(account_id, str) or not account_id:
        return "ignored"  # not one of ours
    if kind == "charge.refunded":
        reversal = "refunded"
    elif kind == "charge.dispute.created":
        reversal = "dispute_opened"
    elif obj.get("status") in ("won", "lost"):
        reversal = f"dispute_{obj['status']}"
    else:
        return "ignored"  # a dispute closed otherwise (warning_closed and the like): no money moved
    processor_id = str(obj.get("id"))  # the refunded charge (ch_), or the dispute (dp_)
    try:
        event = ev.PaymentReversed(
            event_id,
            reversal,
            processor_id,
            reference,
            metadata.get("chargeId"),
            metadata.get("subscriptionId") or None,
            from_stripe(amount, currency),
            obj.get("reason") if isinstance(obj.get("reason"), str) else None,
        )
        done = change_once(deps, account_id, event_id, event)
    except AccountNotFound:
        return "unknown"
    if done is None:
        return "duplicate"
    log.warning("stripe %s of payment %s on account %s (%s)", reversal, reference, account_id, event_id)
    deps.metrics.emit("pastdue_payments_reversed", 1, kind=reversal)
    run_effects(deps, done)
    return "recorded"


def _invoice(deps: Deps, event_id: str, kind: str, invoice: dict) -> str:
    """Stripe Billing's invoices. `invoice.payment_failed` is a charge failure (the invoice id is the charge
    id, its subscription pastdue's subscription id, the account the one linked to its customer), dunned
    like any other: retries pay the invoice itself. `invoice.paid` settles that charge (Stripe's own retry,
    the customer on the hosted page, or pastdue's attempt whose answer is on its way)."""
    invoice_id, customer = invoice.get("id"), invoice.get("customer")
    currency = str(invoice.get("currency") or "").upper()
    if (
        not isinstance(invoice_id, str)
        or not invoice_id.startswith("in_")
        or not isinstance(customer, str)
        or len(currency) != 3
    ):
        return "ignored"
    accounts = deps.store.by_gateway_customer(customer)
    if not accounts:
        log.warning("stripe invoice %s of customer %s: no account is linked to the customer", invoice_id, customer)
        return "unknown"
    account_id = accounts[0].account_id
    if kind == "invoice.paid":
        paid = invoice.get("amount_paid")
        if not isinstance(paid, int) or paid <= 0:
            return "ignored"
        event = ev.ChargeSettled(event_id, invoice_id, from_stripe(paid, currency), invoice_id)
        done = change_once(deps, account_id, event_id, event)
        if done is None:
            return "duplicate"
        run_effects(deps, done)
        return "resolved"
    remaining = invoice.get("amount_remaining")
    parent = _object(invoice.get("parent"))
    details = _object(parent.get("subscription_details"))
    subscription = details.get("subscription") or invoice.get("subscription")
    if not isinstance(remaining, int) or remaining <= 0 or not isinstance(subscription, str):
        return "ignored"  # nothing left to collect, or not a subscription's invoice
    created = invoice.get("created")
    occurred = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else deps.clock.now()
    failed = ev.ChargeFailed(event_id, subscription, invoice_id, from_stripe(remaining, currency), None, occurred)
    try:
        return record_event(deps, account_id, failed)
    except UnknownSubscription:
        log.warning(
            "stripe invoice %s: subscription %s is not known for account %s", invoice_id, subscription, account_id
        )
        return "unknown"
