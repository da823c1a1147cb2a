"""A processor's own invoices (Stripe Billing): one invoice is one charge here, and both sides must agree.

- Settled here by other means (a transfer, credit, a write-off), the invoice is settled there too, or the
  processor's own retries collect it again: the decision that settles the charge reserves the settlement
  (model.InvoiceSettlement, with its idempotency key), the shell carries it out (events.SettleInvoice) and
  records the answer (InvoiceSettledThere); without an answer the sweep sends it again.
- Paid there: only what the invoice's `amount_paid` holds beyond what is already counted here is new money
  (a partial payment made before the failure, or our own payment's echo, is not). New money for a charge
  still open pays it; for a charge already settled here it is kept as credit and operators are alerted.
- Voided there: no longer owed (settled here as written off); marked uncollectible there: recorded, and the
  charge stays payable (pay-now pays an uncollectible invoice).
"""

from __future__ import annotations

from datetime import datetime

from pastdue.domain import events as ev
from pastdue.domain.errors import InvalidEvent
from pastdue.domain.history import RecordKind, record, seen
from pastdue.domain.model import (
    OPEN,
    PAID,
    SUCCEEDED,
    WRITE_OFF,
    WRITTEN_OFF,
    Account,
    Charge,
)
from pastdue.domain.money import Money
from pastdue.domain.payments import attempts_resolved, receipt, unexpected_payment
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import add_credit, pay, settle_states

# What the processor did with a settlement (InvoiceSettledThere.outcome) that says its invoice was paid there
# with money of its own before our settlement reached it.
PAID_THERE = "already_paid"


def settle_invoice(charge: Charge) -> ev.SettleInvoice:
    sync = charge.settlement_pending
    if sync is None:
        raise ValueError(f"charge {charge.charge_id} has no settlement in flight")
    return ev.SettleInvoice(charge.charge_id, charge.charge_id, sync.action, sync.key, sync.partly_paid)


def pending_settlements(account: Account) -> set[str]:
    return {c.charge_id for c in account.charges if c.settlement_pending is not None}


def new_settlements(account: Account, before: set[str]) -> list[ev.Effect]:
    """The settlements a decision reserved: carried out right after it is written."""
    return [
        settle_invoice(c) for c in account.charges if c.settlement_pending is not None and c.charge_id not in before
    ]


def due_settlements(account: Account) -> list[ev.Effect]:
    """Every settlement still without the processor's answer (the sweep sends them again)."""
    return [settle_invoice(c) for c in account.charges if c.settlement_pending is not None]


def invoice_settled_there(
    account: Account, event: ev.InvoiceSettledThere, policy: Policy, now: datetime
) -> list[ev.Effect]:
    charge = account.charge(event.charge_id)
    sync = charge.settle_at_processor if charge is not None else None
    if charge is None or sync is None or sync.key != event.key or sync.outcome is not None:
        return []
    sync.outcome, sync.done_at = event.outcome, now
    detail: dict = {"chargeId": charge.charge_id, "action": sync.action, "outcome": event.outcome}
    if event.refused:
        detail["refusedByProcessor"] = True  # an operator's problem (a metric): the invoice may stay open there
    record(account, now, RecordKind.CHARGE_SETTLEMENT_DONE, "stripe", charge.subscription_id, **detail)
    if event.amount_paid is None:
        return []
    if event.outcome == PAID_THERE:
        _paid_after_settled(account, charge, event.amount_paid, charge.charge_id, now, None)
    elif charge.processor_paid is None or event.amount_paid.value > charge.processor_paid.value:
        charge.processor_paid = event.amount_paid  # marked paid there by us: no money moved
    return []


def charge_settled(account: Account, event: ev.ChargeSettled, policy: Policy, now: datetime) -> list[ev.Effect]:
    """The processor's invoice was paid there (`invoice.paid`): whoever paid it (its own retry, the customer on
    its hosted page, our attempt whose answer is on its way), only what it holds paid there beyond what is
    counted here is new money. A charge still open is paid with it (by our attempt in flight, if one is);
    whatever it still owes then is no longer owed (a credit note lowered the invoice, or it was marked paid
    outside the processor). For a charge already settled here, new money is credit and an operator alert."""
    charge = account.charge(event.charge_id)
    if event.event_id in account.processed_events or charge is None:
        return []
    if event.amount.currency != account.currency:
        raise InvalidEvent(f"the account is billed in {account.currency}, not {event.amount.currency}")
    known = charge.processor_paid or Money.zero(account.currency)
    new = Money(max(0, event.amount.value - known.value), account.currency)
    if charge.status != OPEN:
        if new.value > 0:
            seen(account, event.event_id, now)
            _paid_after_settled(account, charge, event.amount, event.reference, now, event.event_id)
        return []  # otherwise the echo of what was counted (our own payment, or our marking it paid there)
    pending = charge.pending
    if pending is not None and new.value > 0:
        result = ev.AttemptResult(charge.charge_id, pending.key, SUCCEEDED, None, event.amount, event.reference)
        attempts_resolved(account, ev.AttemptsResolved((result,), event.event_id), policy, now)
    elif new.value > 0:
        seen(account, event.event_id, now)
        charge.processor_paid = known + new
        surplus = pay(account, charge, new, now)
        record(
            account,
            now,
            RecordKind.CHARGE_SETTLED,
            "stripe",
            charge.subscription_id,
            chargeId=charge.charge_id,
            amount=new - surplus,
            paid=charge.status == PAID,
            reference=event.reference,
            eventId=event.event_id,
        )
        if surplus.value > 0:
            add_credit(
                account, surplus, now, "stripe", "overpayment", charge.subscription_id, chargeId=charge.charge_id
            )
        settle_states(account, now, "stripe", reactivate_disabled=True)
        receipt(
            account,
            now,
            f"{event.event_id}:receipt",
            new,
            {charge.subscription_id: new - surplus},
            [charge],
            charge.subscription_id,
            surplus=surplus,
        )
    else:
        seen(account, event.event_id, now)
    if charge.status == OPEN and charge.pending is None:
        if event.out_of_band:
            _close(
                account, charge, now, RecordKind.CHARGE_SETTLED_ELSEWHERE, reason="marked paid outside the processor"
            )
        else:
            _close(account, charge, now, RecordKind.CHARGE_REDUCED, reason="the processor's invoice was paid for less")
    return []


def _close(account: Account, charge: Charge, now: datetime, kind: RecordKind, **detail) -> None:
    """Nothing more is owed on the charge, though not all of it was paid here: settled as written off."""
    if charge.status != OPEN:
        return
    left = charge.outstanding
    charge.status = WRITTEN_OFF
    record(
        account,
        now,
        kind,
        "stripe",
        charge.subscription_id,
        chargeId=charge.charge_id,
        amount=left,
        paidBefore=charge.paid,
        **detail,
    )
    settle_states(account, now, "stripe", reactivate_disabled=False)


def _paid_after_settled(
    account: Account, charge: Charge, amount_paid: Money, reference: str, now: datetime, event_id: str | None
) -> None:
    """The invoice was paid there with money of its own after the charge was settled here: what is new is
    the customer's credit, and operators are told (the history's `payment.unexpected`, a metric)."""
    known = charge.processor_paid or Money.zero(account.currency)
    new = Money(max(0, amount_paid.value - known.value), account.currency)
    charge.processor_paid = Money(max(known.value, amount_paid.value), account.currency)
    if new.value > 0:
        unexpected_payment(
            account, now, new, reference, charge.charge_id, charge.subscription_id, "paidAfterSettled", event_id
        )


def payment_unexpected(account: Account, event: ev.PaymentUnexpected, policy: Policy, now: datetime) -> list[ev.Effect]:
    if event.event_id in account.processed_events:
        return []
    if event.amount.currency != account.currency:
        raise InvalidEvent(f"the account is billed in {account.currency}, not {event.amount.currency}")
    seen(account, event.event_id, now)
    unexpected_payment(
        account,
        now,
        event.amount,
        event.reference,
        event.charge_id,
        event.subscription_id,
        event.reason,
        event.event_id,
    )
    return []


def invoice_status_changed(
    account: Account, event: ev.InvoiceStatusChanged, policy: Policy, now: datetime
) -> list[ev.Effect]:
    """Voided there: the charge is no longer owed (settled here, no more dunning). Marked uncollectible
    there: recorded, still payable. Our own settlement's echo changes nothing."""
    charge = account.charge(event.charge_id)
    if event.event_id in account.processed_events or charge is None:
        return []
    ours = charge.settle_at_processor is not None and charge.settle_at_processor.action == WRITE_OFF
    if charge.status != OPEN and ours:
        return []
    seen(account, event.event_id, now)
    if event.status == "void":
        if charge.status == OPEN:
            _close(account, charge, now, RecordKind.CHARGE_VOIDED, reason="the processor's invoice was voided")
        else:
            record(account, now, RecordKind.CHARGE_VOIDED, "stripe", charge.subscription_id, chargeId=charge.charge_id)
        return []
    record(
        account,
        now,
        RecordKind.CHARGE_UNCOLLECTIBLE,
        "stripe",
        charge.subscription_id,
        chargeId=charge.charge_id,
        stillPayable=charge.status == OPEN,
    )
    return []
