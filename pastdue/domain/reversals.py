"""Money given back after it was collected: refunds, failed refunds, disputes and inquiries. What each
means for the charges it paid (owed again, per policy) and for the account's credit."""

from __future__ import annotations

from datetime import datetime

from pastdue.domain import events as ev
from pastdue.domain.charge_failures import charge_failed
from pastdue.domain.errors import InvalidEvent
from pastdue.domain.history import RecordKind, record, seen
from pastdue.domain.model import (
    Account,
)
from pastdue.domain.money import Money
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import (
    add_credit,
    settle_states,
)

REVERSAL_RECORDS = {
    "refunded": RecordKind.PAYMENT_REFUNDED,
    "refund_failed": RecordKind.PAYMENT_REFUND_FAILED,
    "dispute_opened": RecordKind.PAYMENT_DISPUTED,
    "dispute_won": RecordKind.PAYMENT_DISPUTE_WON,
    "dispute_lost": RecordKind.PAYMENT_DISPUTE_LOST,
    # An inquiry (Stripe's `warning_*` statuses) moves no money; funds withdrawn for a dispute come back if
    # it is won: only a lost dispute is money given back.
    "inquiry_opened": RecordKind.PAYMENT_INQUIRY,
    "inquiry_closed": RecordKind.PAYMENT_INQUIRY_CLOSED,
    "funds_withdrawn": RecordKind.PAYMENT_DISPUTE_FUNDS_WITHDRAWN,
    "funds_reinstated": RecordKind.PAYMENT_DISPUTE_FUNDS_REINSTATED,
}


def payment_reversed(account: Account, event: ev.PaymentReversed, policy: Policy, now: datetime) -> list[ev.Effect]:
    """Collected money given back (a refund, a lost dispute) is recorded, and by the policy owed again: a
    new charge of that amount for the same subscription, dunned like a failure (credit on hand pays it
    first). A dispute opened or won, an inquiry, funds withdrawn or reinstated are recorded only: the
    money's fate is not decided, or it stays. A refund that failed undoes what it did: the money is back,
    kept as credit (which pays the debt it re-opened, if any)."""
    if event.event_id in account.processed_events:
        return []
    if event.amount.currency != account.currency:
        raise InvalidEvent(f"the account is billed in {account.currency}, not {event.amount.currency}")
    seen(account, event.event_id, now)
    given_back = Money.zero(account.currency)
    account.reversed = dict(account.reversed or {})
    by_refund = event.refunds is not None and event.processor_id not in account.reversed
    total = 0  # given back in all by this charge or dispute, this reversal included
    tag = ""  # what names a debt this reversal re-opens (a total can come back after a failed refund: an id)
    if event.kind == "refunded" and by_refund:
        # Each refund that stands is counted once, by its id: heard in any order, after a failed one too.
        for refund_id, amount in event.refunds or ():
            if refund_id in account.reversed:
                total += account.reversed[refund_id]
            else:
                account.reversed[refund_id] = amount.value
                given_back, total, tag = given_back + amount, total + amount.value, refund_id
    elif event.kind in ("refunded", "dispute_lost"):
        # A total refunded (or disputed) so far (counts kept before refunds were counted by id): what is new.
        already = account.reversed.get(event.processor_id, 0)
        given_back = Money(max(0, event.amount.value - already), account.currency)
        account.reversed[event.processor_id] = total = already + given_back.value
    if event.kind == "refund_failed":
        if event.processor_id in account.reversed:
            # Counted in a total (before refunds were counted by id): the failure takes its amount off.
            already = account.reversed[event.processor_id]
            back = Money(min(already, event.amount.value), account.currency)
            account.reversed[event.processor_id] = already - back.value
        elif event.refund_id is not None:
            # By its id: what it gave back (counted, or not yet: heard first, the failure stands for the
            # refund too) comes back once, and the refund is kept as failed (0): never counted after.
            counted = account.reversed.get(event.refund_id)
            back = Money(event.amount.value if counted is None else counted, account.currency)
            account.reversed[event.refund_id] = 0
        else:
            back = Money.zero(account.currency)
        _record_reversal(account, event, now, refund=event.refund_id, back=back)
        if back.value > 0:
            add_credit(account, back, now, "stripe", "refundFailed", event.subscription_id, payment=event.reference)
            settle_states(account, now, "stripe", reactivate_disabled=False)
        return []
    reopen = (
        (policy.reopen_refunds if event.kind == "refunded" else policy.reopen_lost_disputes)
        and given_back.value > 0
        and event.subscription_id in account.subscriptions
    )
    _record_reversal(account, event, now, givenBack=given_back, reason=event.reason, reopened=reopen)
    if not reopen or event.subscription_id is None:
        return []
    code = "refunded" if event.kind == "refunded" else "dispute_lost"
    effects: list = []
    for n, (charge_id, subscription_id, amount) in enumerate(_owed_again(event, given_back, total)):
        if subscription_id not in account.subscriptions:
            continue
        owed = ev.ChargeFailed(
            f"{event.event_id}:owed" + (f":{n}" if n else ""),
            subscription_id,
            f"{charge_id}~{code}~{tag or total}",
            amount,
            code,
            now,
        )
        effects += charge_failed(account, owed, policy, now)
    return effects


def _record_reversal(account: Account, event: ev.PaymentReversed, now: datetime, **detail) -> None:
    """The history's record of a reversal: which payment, charge and processor object, for what amount."""
    record(
        account,
        now,
        REVERSAL_RECORDS[event.kind],
        "stripe",
        event.subscription_id,
        chargeId=event.charge_id,
        payment=event.reference,
        processorId=event.processor_id,
        amount=event.amount,
        **detail,
    )


def _owed_again(event: ev.PaymentReversed, given_back: Money, total: int) -> list[tuple[str, str, Money]]:
    """What a reversal makes owed again, per charge: the payment's own charge, or for a combined payment
    the charges it covered, newest first, each up to what the payment applied to it (what was given back
    before this reversal used the newest first)."""
    if not event.allocation:
        return [(event.charge_id or event.reference or "", event.subscription_id or "", given_back)]
    before = total - given_back.value  # given back by earlier reversals of this payment
    owed = []
    for charge_id, subscription_id, applied in reversed(event.allocation):
        used = min(before, applied.value)
        before -= used
        share = min(given_back.value, applied.value - used)
        if share > 0:
            owed.append((charge_id, subscription_id, Money(share, given_back.currency)))
            given_back = Money(given_back.value - share, given_back.currency)
    if given_back.value > 0:  # more than the payment applied (its surplus went to credit): the lead's
        owed.append((event.charge_id or "", event.subscription_id or "", given_back))
    return owed
