"""Money coming in: the gateway's answers to attempts (and their receipts), payments nobody asked for, and
bank transfers. Pay-now's own request is domain/pay_now.py; money given back, domain/reversals.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pastdue.domain import events as ev
from pastdue.domain import schedule
from pastdue.domain.errors import InvalidEvent
from pastdue.domain.history import RecordKind, record, seen
from pastdue.domain.model import (
    DECLINED,
    ERROR,
    KEY_PROCESSING,
    NOT_SENT,
    OPEN,
    PAID,
    PAID_OUT_OF_BAND,
    PROCESSING,
    REQUIRES_ACTION,
    SKIPPED,
    SUCCEEDED,
    Account,
    Allocated,
    Attempt,
    AttemptSource,
    Charge,
    NoticeKind,
    PaymentMethod,
)
from pastdue.domain.money import Money
from pastdue.domain.notice_queue import paid_for, queue_notice
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import (
    add_credit,
    asked,
    covered,
    follows,
    pay,
    reserve_settlement,
    settle_states,
)

# How long a pay-now is taken to be still sending its payments: after that, an answer for one of its
# attempts (sent by the sweep because the pay-now's sender stopped) gets a receipt of its own.
PAY_NOW_IN_PROGRESS = timedelta(minutes=15)


def attempt_of(account: Account, charge_id: str, key: str) -> Attempt | None:
    charge = account.charge(charge_id)
    return charge.attempt(key) if charge else None


def answers_of(account: Account, result: ev.AttemptResult, now: datetime, actor: str) -> list[ev.AttemptResult]:
    """A payment's answer for each attempt it covers: itself, or for a combined payment, the same answer on
    every charge it covered, with the money it took applied oldest charge first (what is left after the
    last is that charge's surplus: credit). The allocation is kept on the lead attempt and in the history."""
    attempt = attempt_of(account, result.charge_id, result.key)
    if attempt is None or attempt.payment is None:
        return [result]
    members = covered(account, attempt.payment)
    if not members:
        return [result]
    if result.outcome != SUCCEEDED or result.amount is None:
        return [replace(result, charge_id=c.charge_id, key=a.key) for c, a in members]
    lead = members[0][1]
    if lead.outcome == SUCCEEDED and lead.reference == result.reference:
        return [replace(result, charge_id=c.charge_id, key=a.key) for c, a in members]  # applied before
    remaining, answers, allocation = result.amount, [], []
    for n, (charge, member) in enumerate(members):
        share = remaining if n == len(members) - 1 else remaining.min(member.amount or charge.outstanding)
        remaining = remaining - share
        answers.append(replace(result, charge_id=charge.charge_id, key=member.key, amount=share))
        allocation.append(Allocated(charge.charge_id, charge.subscription_id, share))
    lead.allocation = allocation
    record(
        account,
        now,
        RecordKind.PAYMENT_ALLOCATED,
        actor,
        payment=attempt.payment,
        reference=result.reference,
        amount=result.amount,
        allocation=[
            {"chargeId": a.charge_id, "subscriptionId": a.subscription_id, "amount": a.amount} for a in allocation
        ],
    )
    return answers


def resolve(
    account: Account,
    result: ev.AttemptResult,
    policy: Policy,
    now: datetime,
    actor: str,
    method: PaymentMethod | None = None,
) -> Charge | None:
    """Apply a gateway's answer to its attempt. `method`: the card a pay-now was given, saved only once its
    answers are in; a notice about an attempt made with it names it, not the card still on file."""
    charge = account.charge(result.charge_id)
    attempt = charge.attempt(result.key) if charge is not None else None
    if charge is None or attempt is None:
        return None
    if result.outcome == PROCESSING:
        # No outcome yet, but the processor's payment is known: kept, so the attempt is resolved from it.
        if attempt.outcome is None and result.reference and attempt.reference != result.reference:
            attempt.reference = result.reference
            record(
                account,
                now,
                RecordKind.CHARGE_PROCESSING,
                actor,
                charge.subscription_id,
                chargeId=charge.charge_id,
                attempt=attempt.n,
                reference=result.reference,
            )
        return None
    # Money the processor took is always applied: a success is taken whatever the attempt said before (a
    # failed authentication the customer tried again, a decline or an error answered first), once.
    # Otherwise an attempt waiting for the customer's authentication takes the processor's final word
    # once more, and any other answered attempt is final: applying it again changes nothing.
    if result.outcome == attempt.outcome == REQUIRES_ACTION and result.code not in (None, attempt.code):
        # Still waiting for the customer, for another reason (their bank's challenge failed): they may
        # confirm the same payment again, so nothing is final; the history says what happened.
        attempt.code = result.code
        record(
            account,
            now,
            RecordKind.CHARGE_AUTHENTICATION_FAILED,
            actor,
            charge.subscription_id,
            chargeId=charge.charge_id,
            attempt=attempt.n,
            code=result.code,
        )
        return None
    late = None
    if _another_payment(attempt, result):
        # A second payment answered for an attempt that already took money (another PaymentIntent made for
        # the same attempt): real money, which no charge owes any more.
        amount = result.amount or attempt.amount or charge.amount
        unexpected_payment(
            account, now, amount, result.reference or "", charge.charge_id, charge.subscription_id, "secondSuccess"
        )
        return None
    if result.outcome == SUCCEEDED and attempt.outcome not in (None, SUCCEEDED):
        late = attempt.outcome
    elif attempt.outcome is not None and not (attempt.outcome == REQUIRES_ACTION and result.outcome != REQUIRES_ACTION):
        return None
    attempt.outcome, attempt.code = result.outcome, result.code
    attempt.reference = result.reference or attempt.reference
    if result.outcome == SKIPPED:
        return None
    detail = dict(
        chargeId=charge.charge_id,
        attempt=attempt.n,
        source=attempt.source,
        outcome=result.outcome,
        code=result.code,
        **result.detail,
    )
    if result.outcome == SUCCEEDED:
        # Apply what the processor took, not what is owed now: if the charge was settled meanwhile
        # (a transfer, credit, another attempt), the surplus is kept as credit, never lost.
        taken = result.amount or attempt.amount or charge.outstanding
        if charge.is_processor_invoice and result.amount is not None:
            # A processor's invoice answers what it holds paid there in all: only what is new since we last
            # counted is this payment's (not a partial payment made before, nor one counted from its event).
            known = charge.processor_paid or Money.zero(taken.currency)
            taken = Money(max(0, result.amount.value - known.value), taken.currency)
            charge.processor_paid = known + taken
        surplus = pay(account, charge, taken, now)
        if late not in (None, REQUIRES_ACTION):
            detail["unexpected"] = True  # after a decline or an error: operators are alerted (a metric)
        if late is not None:
            detail["previousOutcome"] = late
        record(
            account,
            now,
            RecordKind.CHARGE_SUCCEEDED,
            actor,
            charge.subscription_id,
            amount=taken,
            applied=taken - surplus,
            **detail,
        )
        if surplus.value > 0:
            add_credit(
                account,
                surplus,
                now,
                actor,
                "overpayment",
                charge.subscription_id,
                chargeId=charge.charge_id,
                attempt=attempt.n,
            )
        return charge
    if result.outcome == REQUIRES_ACTION:
        record(account, now, RecordKind.CHARGE_ACTION_REQUIRED, actor, charge.subscription_id, **detail)
        if charge.status == OPEN and not follows(attempt):
            # One payment, one confirmation: a combined payment's lead asks for what it covers in all.
            members = covered(account, attempt.payment) if attempt.payment else [(charge, attempt)]
            waiting = [c for c, _ in members if c.status == OPEN]
            # What the bank asks to confirm is what the payment asks for (reserved when it was sent), even
            # if a transfer paid part of it meanwhile: the surplus, once confirmed, is kept as credit.
            amount = asked(account, charge, attempt)
            extra: dict[str, Any] = {}
            asked_card = _card_of(account, charge.charge_id, attempt, method)
            if asked_card is not None:
                # The card the bank asks about: a pay-now's new card is not on file until its answers are in.
                extra["card"] = {"brand": asked_card.brand, "last4": asked_card.last4}
            queue_notice(
                account,
                now,
                NoticeKind.CONFIRM_PAYMENT,
                f"{attempt.key}:confirm",
                charge.subscription_id,
                policy=policy,
                # Every subscription the payment is for (a pay-now's covers them all), not only its lead's.
                about=list(dict.fromkeys(c.subscription_id for c in waiting)),
                amount=amount,
                balance=account.balance(),
                cancellationDate=min(filter(None, (_deadline(account, c, policy) for c in waiting)), default=None),
                **extra,
            )
        return None
    if result.outcome == DECLINED:
        charge.decline_code = result.code
        hard = result.hard or policy.is_hard(result.code)
        record(account, now, RecordKind.CHARGE_DECLINED, actor, charge.subscription_id, hardDecline=hard, **detail)
        if hard and not charge.hard and attempt.source == AttemptSource.RETRY:
            charge.hard = True
            if follows(attempt):
                return None  # one notice for one payment: its lead's
            # The account's whole balance is what a new card pays; the date is when the service stops.
            queue_notice(
                account,
                now,
                NoticeKind.CARD_DECLINED_FOR_GOOD,
                f"{charge.charge_id}:hard",
                charge.subscription_id,
                policy=policy,
                amount=charge.outstanding,
                declineCode=result.code,
                hardDecline=True,
                balance=account.balance(),
                cancellationDate=_deadline(account, charge, policy),
            )
    elif result.outcome in (ERROR, NOT_SENT):
        if result.outcome == NOT_SENT:
            detail["notSent"] = True  # never reached the card: no attempt cap counts it
        if result.invalid:
            detail["refusedByProcessor"] = True  # the request, not the card: an operator alert (a metric)
        record(account, now, RecordKind.CHARGE_ERROR, actor, charge.subscription_id, **detail)
    return None


def _another_payment(attempt: Attempt, result: ev.AttemptResult) -> bool:
    return (
        result.outcome == SUCCEEDED
        and attempt.outcome == SUCCEEDED
        and result.reference is not None
        and attempt.reference is not None
        and result.reference != attempt.reference
    )


def unexpected_payment(
    account: Account,
    now: datetime,
    amount: Money,
    reference: str,
    charge_id: str,
    subscription_id: str | None,
    reason: str,
    event_id: str | None = None,
) -> None:
    """Money the processor took that no charge owes (any more): the customer's credit, and an operator alert
    (the history's `payment.unexpected`, counted in the metric pastdue_unexpected_payment)."""
    record(
        account,
        now,
        RecordKind.PAYMENT_UNEXPECTED,
        "stripe",
        subscription_id,
        chargeId=charge_id,
        amount=amount,
        reference=reference,
        reason=reason,
        eventId=event_id,
    )
    add_credit(account, amount, now, "stripe", reason, subscription_id, chargeId=charge_id)


def _card_of(account: Account, charge_id: str, attempt, method: PaymentMethod | None) -> PaymentMethod | None:
    """The card an attempt was made with when it is not the one on file: the pay-now's (given with its
    answers, or kept on its Idempotency-Key for an answer the sweep learns later). None: the card on file."""
    if method is not None and method.token == attempt.token:
        return method
    on_file = account.payment_method
    if on_file is not None and on_file.token == attempt.token:
        return None
    for key in account.idempotency.values():
        if key.method is not None and key.method.token == attempt.token and (charge_id, attempt.key) in key.attempts:
            return key.method
    return None


def _deadline(account: Account, charge, policy: Policy):
    """When the charge's subscription is disabled unless paid (None if it is not past due)."""
    sub = account.subscriptions.get(charge.subscription_id)
    return schedule.cancellation_date(sub, policy.for_plan(sub.plan)) if sub is not None else None


def attempts_resolved(account: Account, event: ev.AttemptsResolved, policy: Policy, now: datetime) -> list[ev.Effect]:
    if event.event_id is not None and event.event_id in account.processed_events:
        return []
    changed = False
    receipts: dict[str, list[Charge]] = {}  # one receipt a payment: a combined one lists every charge it paid
    for result in event.results:
        for answer in answers_of(account, result, now, "system"):
            attempt = attempt_of(account, answer.charge_id, answer.key)
            before = (attempt.outcome, attempt.reference) if attempt else None
            paid = resolve(account, answer, policy, now, "system")
            changed = changed or (attempt is not None and (attempt.outcome, attempt.reference) != before)
            if paid is not None and not _in_pay_now(account, answer, now):
                payment = attempt.payment if attempt is not None and attempt.payment else paid.charge_id
                receipts.setdefault(payment, []).append(paid)
    if event.event_id is not None and changed:
        seen(account, event.event_id, now)  # kept only when it did something: no idle writes
    settle_states(account, now, "system", reactivate_disabled=False)
    for payment, charges in receipts.items():  # after the states settled: where each subscription stands now
        per_subscription: dict[str, Money] = {}
        for charge in charges:
            per_subscription[charge.subscription_id] = (
                per_subscription.get(charge.subscription_id, Money.zero(account.currency)) + charge.amount
            )
        only = charges[0].subscription_id if len(per_subscription) == 1 else None
        notice_id = f"{charges[0].charge_id}:paid" if len(charges) == 1 else f"{payment}:paid"
        _receipt(account, now, notice_id, total_of(account, charges), per_subscription, charges, only, policy=policy)
    return []


def _in_pay_now(account: Account, result: ev.AttemptResult, now: datetime) -> bool:
    """The attempt belongs to a pay-now still in progress: its one receipt covers this charge too. One
    reserved long ago whose sender stopped (the sweep sends its attempts) is not: each gets its receipt."""
    return any(
        entry.status == KEY_PROCESSING
        and now - entry.at < PAY_NOW_IN_PROGRESS
        and (result.charge_id, result.key) in entry.attempts
        for entry in account.idempotency.values()
    )


def payment_received(account: Account, event: ev.PaymentReceived, policy: Policy, now: datetime) -> list[ev.Effect]:
    if event.event_id in account.processed_events:
        return []
    if event.amount.currency != account.currency:
        raise InvalidEvent(f"the account is billed in {account.currency}, not {event.amount.currency}")
    if event.amount.value <= 0:
        raise InvalidEvent("a payment must have a positive amount")
    seen(account, event.event_id, now)
    remaining = event.amount
    applied: dict[str, Money] = {}
    covered = []
    for charge in account.open_charges():
        before = remaining
        remaining = pay(account, charge, remaining, now)
        if before != remaining:
            applied[charge.subscription_id] = applied.get(charge.subscription_id, Money.zero(account.currency)) + (
                before - remaining
            )
            # Which charge the money went to, and whether that paid it: the history says so.
            record(
                account,
                now,
                RecordKind.CHARGE_SETTLED,
                "billing",
                charge.subscription_id,
                chargeId=charge.charge_id,
                amount=before - remaining,
                paid=charge.status == PAID,
                eventId=event.event_id,
            )
            covered.append(charge)
            reserve_settlement(account, charge, PAID_OUT_OF_BAND, now)
    if remaining.value > 0:
        account.credit = (account.credit or Money.zero(remaining.currency)) + remaining
    record(
        account,
        now,
        RecordKind.PAYMENT_RECEIVED,
        "billing",
        amount=event.amount,
        reference=event.reference,
        credit=account.credit,
        eventId=event.event_id,
    )
    settle_states(account, now, "billing", reactivate_disabled=True)
    _receipt(
        account,
        now,
        f"{event.event_id}:receipt",
        event.amount,
        applied,
        covered,
        surplus=remaining,
        policy=policy,
        transferReference=event.reference,
    )
    return []


def _receipt(
    account: Account,
    now: datetime,
    notice_id: str,
    amount: Money,
    paid: dict[str, Money],
    charges,
    subscription_id: str | None = None,
    surplus: Money | None = None,
    policy: Policy | None = None,
    **extra,
) -> None:
    """Queue the receipt of a payment: what was received, the balance now, what it paid per subscription,
    the invoice pages of the charges it covered (in order, once), and a surplus kept as credit."""
    invoices = list(dict.fromkeys(c.invoice_url for c in charges if c.invoice_url)) or None
    if surplus is not None and surplus.value > 0:
        extra["credit"] = surplus
    queue_notice(
        account,
        now,
        NoticeKind.PAYMENT_RECEIVED,
        notice_id,
        subscription_id,
        policy=policy,
        amount=amount,
        balance=account.balance(),
        paidFor=paid_for(account, paid),
        invoiceUrls=invoices,
        **extra,
    )


receipt = _receipt  # the receipt of a payment, for domain/invoices.py too


def total_of(account: Account, charges):
    total = Money.zero(account.currency)
    for charge in charges:
        total = total + charge.amount
    return total
