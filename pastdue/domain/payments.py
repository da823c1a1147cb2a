"""Money coming in: gateway answers, paying everything now with a new method, bank transfers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pastdue.domain import events as ev
from pastdue.domain import retries, schedule
from pastdue.domain.errors import IdempotencyMismatch, InvalidEvent
from pastdue.domain.failures import charge_failed
from pastdue.domain.history import record, seen
from pastdue.domain.model import (
    AUTHENTICATION_REQUIRED,
    CARD_DECLINED,
    DECLINED,
    ERROR,
    KEY_DONE,
    KEY_PROCESSING,
    NOT_SENT,
    OPEN,
    PAID,
    PAID_OUT_OF_BAND,
    PROCESSING,
    REQUIRES_ACTION,
    SETTLED,
    SKIPPED,
    SUCCEEDED,
    Account,
    Allocated,
    Attempt,
    Charge,
    PayNowKey,
    PayNowOutcome,
    SettledCharge,
)
from pastdue.domain.money import Money
from pastdue.domain.notice_queue import paid_for, queue_notice
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import (
    add_credit,
    combine,
    covered,
    follows,
    new_attempt,
    pay,
    reserve_settlement,
    settle_states,
    try_charge,
)
from pastdue.domain.support import paused

# How long a pay-now is taken to be still sending its payments: after that, an answer for one of its
# attempts (sent by the sweep because the pay-now's sender stopped) gets a receipt of its own.
PAY_NOW_IN_PROGRESS = timedelta(minutes=15)


def _attempt(account: Account, charge_id: str, key: str) -> Attempt | None:
    charge = account.charge(charge_id)
    return charge.attempt(key) if charge else None


def _ours(account: Account, entry: PayNowKey) -> list[tuple[str, Attempt]]:
    """The attempts a pay-now reserved, in the order it reserved them. One whose charge has left the
    document (answered for good, settled and archived while the key waited) is no longer the key's."""
    found = ((cid, _attempt(account, cid, key)) for cid, key in entry.attempts)
    return [(cid, attempt) for cid, attempt in found if attempt is not None]


def _answers(account: Account, result: ev.AttemptResult, now: datetime, actor: str) -> list[ev.AttemptResult]:
    """A payment's answer for each attempt it covers: itself, or for a combined payment, the same answer on
    every charge it covered, with the money it took applied oldest charge first (what is left after the
    last is that charge's surplus: credit). The allocation is kept on the lead attempt and in the history."""
    attempt = _attempt(account, result.charge_id, result.key)
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
        "payment.allocated",
        actor,
        payment=attempt.payment,
        reference=result.reference,
        amount=result.amount,
        allocation=[
            {"chargeId": a.charge_id, "subscriptionId": a.subscription_id, "amount": a.amount} for a in allocation
        ],
    )
    return answers


def _resolve(account: Account, result: ev.AttemptResult, policy: Policy, now: datetime, actor: str) -> Charge | None:
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
                "charge.processing",
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
            "charge.authentication_failed",
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
            "charge.succeeded",
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
        record(account, now, "charge.action_required", actor, charge.subscription_id, **detail)
        if charge.status == OPEN and not follows(attempt):
            # One payment, one confirmation: a combined payment's lead asks for what it covers in all.
            members = covered(account, attempt.payment) if attempt.payment else [(charge, attempt)]
            waiting = [c for c, _ in members if c.status == OPEN]
            amount = Money.zero(account.currency)
            for each in waiting:
                amount = amount + each.outstanding
            queue_notice(
                account,
                now,
                "confirm_payment",
                f"{attempt.key}:confirm",
                charge.subscription_id,
                policy=policy,
                amount=amount,
                balance=account.balance(),
                cancellationDate=min(filter(None, (_deadline(account, c, policy) for c in waiting)), default=None),
            )
        return None
    if result.outcome == DECLINED:
        charge.decline_code = result.code
        hard = result.hard or policy.is_hard(result.code)
        record(account, now, "charge.declined", actor, charge.subscription_id, hardDecline=hard, **detail)
        if hard and not charge.hard and attempt.source == "retry":
            charge.hard = True
            if follows(attempt):
                return None  # one notice for one payment: its lead's
            # The account's whole balance is what a new card pays; the date is when the service stops.
            queue_notice(
                account,
                now,
                "card_declined",
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
        record(account, now, "charge.error", actor, charge.subscription_id, **detail)
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
        "payment.unexpected",
        "stripe",
        subscription_id,
        chargeId=charge_id,
        amount=amount,
        reference=reference,
        reason=reason,
        eventId=event_id,
    )
    add_credit(account, amount, now, "stripe", reason, subscription_id, chargeId=charge_id)


def _deadline(account: Account, charge, policy: Policy):
    """When the charge's subscription is disabled unless paid (None if it is not past due)."""
    sub = account.subscriptions.get(charge.subscription_id)
    return schedule.cancellation_date(sub, policy.for_plan(sub.plan)) if sub is not None else None


def attempts_resolved(account: Account, event: ev.AttemptsResolved, policy: Policy, now: datetime):
    if event.event_id is not None and event.event_id in account.processed_events:
        return []
    changed = False
    receipts: dict[str, list[Charge]] = {}  # one receipt a payment: a combined one lists every charge it paid
    for result in event.results:
        for answer in _answers(account, result, now, "system"):
            attempt = _attempt(account, answer.charge_id, answer.key)
            before = (attempt.outcome, attempt.reference) if attempt else None
            paid = _resolve(account, answer, policy, now, "system")
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
        _receipt(account, now, notice_id, _total(account, charges), per_subscription, charges, only, policy=policy)
    return []


def _waits(account: Account, charge, token: str, on_session: bool, policy: Policy, now: datetime) -> str | None:
    """Why a pay-now may not charge this now (None: it may). The admin paying now may pay anything. Nobody
    present (the card updater) is a retry like the sweep's: not while support paused dunning, nor past the
    card's or the charge's 30-day attempt cap (card networks fine excessive retries): the sweep takes it."""
    if on_session:
        return None
    sub = account.subscriptions.get(charge.subscription_id)
    if paused(account, now):
        return "dunningPaused"
    if retries.capped(account, charge, token, policy.for_plan(sub.plan) if sub else policy.default, now):
        return "attemptCap"
    return None


def _in_pay_now(account: Account, result: ev.AttemptResult, now: datetime) -> bool:
    """The attempt belongs to a pay-now still in progress: its one receipt covers this charge too. One
    reserved long ago whose sender stopped (the sweep sends its attempts) is not: each gets its receipt."""
    return any(
        entry.status == KEY_PROCESSING
        and now - entry.at < PAY_NOW_IN_PROGRESS
        and (result.charge_id, result.key) in entry.attempts
        for entry in account.idempotency.values()
    )


def pay_now_requested(account: Account, event: ev.PayNowRequested, policy: Policy, now: datetime):
    entry = account.idempotency.get(event.idempotency_key)
    if entry is not None:
        if entry.hash != event.request_hash:
            raise IdempotencyMismatch("this Idempotency-Key was used with a different request body")
    else:
        entry = PayNowKey(event.request_hash, now, on_session=event.on_session)
        account.idempotency[event.idempotency_key] = entry
        record(
            account, now, "payment.method.submitted", event.actor, brand=event.method.brand, last4=event.method.last4
        )
        new: list[tuple[Charge, Attempt]] = []
        for charge in account.open_charges():
            # An attempt already in flight (a sweep retry) is resolved first, with its own key.
            waits = (
                None if charge.pending else _waits(account, charge, event.method.token, event.on_session, policy, now)
            )
            if waits is not None:
                record(
                    account,
                    now,
                    "charge.not_tried",
                    event.actor,
                    charge.subscription_id,
                    chargeId=charge.charge_id,
                    reason=waits,
                )
                continue
            reserved = charge.pending
            if reserved is None:
                reserved = new_attempt(charge, event.method.token, "update", now, event.on_session)
                new.append((charge, reserved))
            entry.attempts.append((charge.charge_id, reserved.key))
        # Everything the new card pays is one payment: one debit, and at most one bank challenge.
        combine(account, new)
    if entry.status != KEY_PROCESSING:
        return []
    effects = []
    for charge_id, key in entry.attempts:
        attempt = _attempt(account, charge_id, key)
        if attempt is not None and attempt.outcome is None and not follows(attempt):
            effects.append(try_charge(account, account.charge_of(charge_id), now))
    return effects


def pay_now_completed(account: Account, event: ev.PayNowCompleted, policy: Policy, now: datetime):
    entry = account.idempotency[event.idempotency_key]
    if entry.status != KEY_PROCESSING:
        return []
    for result in event.results:
        for answer in _answers(account, result, now, event.actor):
            _resolve(account, answer, policy, now, event.actor)
    ours = _ours(account, entry)
    if any(a.outcome is None for _, a in ours):
        return []  # an answer is still unknown: the same key resumes it
    token = event.method.token
    # The new card's first answer (an attempt never sent, refused for its amount, says nothing of the card).
    first_new = next((a for _, a in ours if a.source == "update" and a.token == token and a.outcome != NOT_SENT), None)
    if first_new is not None and first_new.outcome == REQUIRES_ACTION:
        # The bank asks the admin to authenticate this payment now: the card is saved, the charge waits for
        # the confirmation (Stripe's event settles it), and the answer says what the front end needs.
        charge_id = next(cid for cid, a in ours if a is first_new)
        account.payment_method = event.method
        record(account, now, "payment.method.updated", event.actor, brand=event.method.brand, last4=event.method.last4)
        entry.status, entry.response = (
            KEY_DONE,
            PayNowOutcome(AUTHENTICATION_REQUIRED, "authentication_required", charge_id),
        )
        return []
    if first_new is not None and first_new.outcome != SUCCEEDED:
        entry.status, entry.response = KEY_DONE, PayNowOutcome(CARD_DECLINED, first_new.code or "card_declined")
        record(account, now, "payment.method.declined", event.actor, code=first_new.code)
        return []
    # A charge still open whose only try here was an attempt already in flight (a sweep retry on the old
    # card), or whose try was skipped while the new card's first answer was unknown, gets the new card
    # now: one more round, then done.
    tried = {cid for cid, a in ours if a.source == "update" and a.token == token and a.outcome != SKIPPED}
    again = [
        c
        for c in account.open_charges()
        if c.charge_id not in tried
        and c.pending is None
        and _waits(account, c, token, entry.on_session is not False, policy, now) is None
    ]
    if again:
        reserved = [(charge, new_attempt(charge, token, "update", now, bool(entry.on_session))) for charge in again]
        entry.attempts += [(charge.charge_id, attempt.key) for charge, attempt in reserved]
        combine(account, reserved)
        return [try_charge(account, charge, now) for charge, attempt in reserved if not follows(attempt)]
    account.payment_method = event.method
    record(account, now, "payment.method.updated", event.actor, brand=event.method.brand, last4=event.method.last4)
    settle_states(account, now, event.actor, reactivate_disabled=True)
    settled = list({cid: account.charge_of(cid) for cid, a in ours if a.outcome == SUCCEEDED}.values())
    if settled:
        taken: dict[str, Money] = {}
        for cid, a in ours:
            if a.outcome == SUCCEEDED:
                charge = account.charge_of(cid)
                taken[charge.subscription_id] = taken.get(charge.subscription_id, Money.zero(account.currency)) + (
                    a.amount or charge.amount
                )
        _receipt(account, now, f"pay:{event.idempotency_key}", _total(account, settled), taken, settled, policy=policy)
    entry.status, entry.response = (
        KEY_DONE,
        PayNowOutcome(SETTLED, settled=[SettledCharge(c.charge_id, c.amount) for c in settled]),
    )
    return []


def payment_received(account: Account, event: ev.PaymentReceived, policy: Policy, now: datetime):
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
                "charge.settled",
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
        "payment.received",
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
        "payment_received",
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


def _total(account: Account, charges):
    total = Money.zero(account.currency)
    for charge in charges:
        total = total + charge.amount
    return total


REVERSAL_RECORDS = {
    "refunded": "payment.refunded",
    "refund_failed": "payment.refund_failed",
    "dispute_opened": "payment.disputed",
    "dispute_won": "payment.dispute_won",
    "dispute_lost": "payment.dispute_lost",
    # An inquiry (Stripe's `warning_*` statuses) moves no money; funds withdrawn for a dispute come back if
    # it is won: only a lost dispute is money given back.
    "inquiry_opened": "payment.inquiry",
    "inquiry_closed": "payment.inquiry_closed",
    "funds_withdrawn": "payment.dispute_funds_withdrawn",
    "funds_reinstated": "payment.dispute_funds_reinstated",
}


def payment_reversed(account: Account, event: ev.PaymentReversed, policy: Policy, now: datetime):
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
