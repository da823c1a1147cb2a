"""Money against charges: paying, credit, the states a payment restores, and the attempts at the gateway."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.domain.events import TryCharge
from pastdue.domain.history import RecordKind, record
from pastdue.domain.model import (
    ACTIVE,
    DISABLED,
    OPEN,
    PAID,
    PAID_OUT_OF_BAND,
    PAST_DUE,
    REQUIRES_ACTION,
    WRITE_OFF,
    Account,
    Attempt,
    AttemptSource,
    Charge,
    InvoiceSettlement,
    Subscription,
)
from pastdue.domain.money import Money
from pastdue.domain.policy import Policy


def pay(account: Account, charge: Charge, amount: Money, now: datetime) -> Money:
    """Apply up to `amount` to the charge; return what is left over."""
    applied = amount.min(charge.outstanding)
    charge.paid = (charge.paid or Money.zero(charge.amount.currency)) + applied
    if charge.outstanding.is_zero:
        charge.status, charge.paid_at = PAID, now
    return amount - applied


def deletion_follows_balance(account: Account, policy: Policy, now: datetime) -> None:
    """A disabled subscription's data deletion waits on what it owes. Paid by a path that does not reactivate
    it, its deletion is cancelled at once (no alert, list or view shows a deletion that will not come), and it
    stays disabled until someone reactivates it. Owed again with no deletion ahead (the payment that paid it
    was refunded, or lost in a dispute), its deletion is scheduled anew a full `delete_after_days` from now,
    with its warnings (a new episode: new notice ids): never sooner than the customer can be told."""
    for sub in account.subscriptions.values():
        if sub.state != DISABLED:
            continue
        owed = not account.balance(sub.subscription_id).is_zero
        if sub.deletion_scheduled_at and not owed:
            cancel_deletion(account, sub, now)
        elif sub.deletion_scheduled_at is None and owed:
            cal = policy.for_plan(sub.plan)
            sub.deletion_scheduled_at = now + timedelta(days=cal.delete_after_days)
            sub.episode += 1
            sub.steps_done = [s for s in sub.steps_done if not s.startswith("warn:") and s != "purge"]
            record(
                account,
                now,
                RecordKind.SUBSCRIPTION_DELETION_SCHEDULED,
                "system",
                sub.subscription_id,
                reason="owed again",
                deletionDate=sub.deletion_scheduled_at,
            )


def cancel_deletion(account: Account, sub: Subscription, now: datetime) -> None:
    """The disabled subscription, paid, keeps its data: its deletion is off, and the history says so."""
    scheduled, sub.deletion_scheduled_at = sub.deletion_scheduled_at, None
    record(
        account,
        now,
        RecordKind.SUBSCRIPTION_DELETION_CANCELLED,
        "system",
        sub.subscription_id,
        reason="balance paid",
        scheduledFor=scheduled,
    )


def settle_states(
    account: Account, now: datetime, actor: str, reactivate_disabled: bool, only: str | None = None
) -> list[str]:
    """Past-due subscriptions with nothing owed are active again; disabled ones too when asked
    (all of them, or `only` the one named)."""
    restored = []
    for sub in account.subscriptions.values():
        if only is not None and sub.subscription_id != only:
            continue
        if sub.state not in (PAST_DUE, DISABLED) or not account.balance(sub.subscription_id).is_zero:
            continue
        if sub.state == DISABLED and not reactivate_disabled:
            continue
        was = sub.state
        sub.state = ACTIVE
        sub.past_due_since = sub.disabled_at = sub.deletion_scheduled_at = None
        sub.steps_done = []
        record(
            account,
            now,
            RecordKind.SUBSCRIPTION_REACTIVATED if was == DISABLED else RecordKind.SUBSCRIPTION_RECOVERED,
            actor,
            sub.subscription_id,
            previous=was,
        )
        restored.append(sub.subscription_id)
    return restored


def apply_credit(account: Account, charge: Charge, now: datetime) -> None:
    if account.credit and account.credit.value > 0 and charge.status == OPEN:
        before = account.credit
        account.credit = pay(account, charge, account.credit, now)
        record(
            account,
            now,
            RecordKind.CREDIT_APPLIED,
            "system",
            charge.subscription_id,
            chargeId=charge.charge_id,
            amount=before - account.credit,
            credit=account.credit,
        )
        reserve_settlement(account, charge, PAID_OUT_OF_BAND, now)


def add_credit(
    account: Account,
    amount: Money,
    now: datetime,
    actor: str,
    reason: str,
    subscription_id: str | None = None,
    **detail,
) -> None:
    """Money taken that no charge owes any more is kept as credit, and the history says so."""
    account.credit = (account.credit or Money.zero(amount.currency)) + amount
    record(
        account,
        now,
        RecordKind.CREDIT_ADDED,
        actor,
        subscription_id,
        amount=amount,
        reason=reason,
        credit=account.credit,
        **detail,
    )
    for charge in account.open_charges():
        if charge.pending is None:  # a charge being collected right now keeps its own attempt
            apply_credit(account, charge, now)


def new_attempt(charge: Charge, token: str, source: AttemptSource, now: datetime, on_session: bool = False) -> Attempt:
    n = len(charge.attempts) + 1
    attempt = Attempt(
        n,
        f"{charge.charge_id}:{n}",
        token,
        source,
        now,
        amount=charge.outstanding,
        on_session=on_session or None,
        scoped=True,
    )
    charge.attempts.append(attempt)
    return attempt


def combine(account: Account, attempts: list[tuple[Charge, Attempt]]) -> None:
    """Make the attempts just reserved on one card one payment (a combined payment): the oldest charge's
    leads, and each attempt names it. A processor's own invoice is paid as itself and never joins one."""
    joined = [(c, a) for c, a in attempts if not c.is_processor_invoice]
    tokens = {a.token for _, a in joined}
    if len(joined) < 2 or len(tokens) != 1:
        return
    joined.sort(key=lambda pair: (pair[0].failed_at, pair[0].charge_id))
    lead = joined[0][1].key
    for _, attempt in joined:
        attempt.payment = lead


def covered(account: Account, payment: str) -> list[tuple[Charge, Attempt]]:
    """The charges a combined payment covers and their attempts, oldest charge first (the lead first)."""
    found = [(c, a) for c in account.charges for a in c.attempts if a.payment == payment]
    return sorted(found, key=lambda pair: (pair[0].failed_at, pair[0].charge_id))


def asked(account: Account, charge: Charge, attempt: Attempt) -> Money:
    """What the attempt's payment asks for: its own amount, or a combined payment's for every charge."""
    members = covered(account, attempt.payment) if attempt.payment is not None else [(charge, attempt)]
    total = Money.zero(account.currency)
    for each, member in members:
        total = total + (member.amount or each.outstanding)
    return total


def follows(attempt: Attempt) -> bool:
    """The attempt is covered by another's payment (a combined payment it does not lead): it is sent, and
    answered, with its lead."""
    return attempt.payment is not None and attempt.payment != attempt.key


def try_charge(account: Account, charge: Charge, now: datetime) -> TryCharge:
    """The gateway call for the charge's attempt in flight. One reserved in an earlier decision is a
    resume (its payment may exist at the processor); a payment still waiting for the customer on the
    attempt before is superseded (cancelled first). A combined payment's lead asks for what every attempt
    it covers reserved."""
    pending = charge.pending
    if pending is None:
        raise ValueError(f"charge {charge.charge_id} has no attempt in flight")
    amount = pending.amount or charge.outstanding
    covers = 1
    covering = covered(account, pending.payment) if pending.payment is not None else [(charge, pending)]
    if pending.payment is not None:
        members = [a for _, a in covering if a.outcome is None]
        for member in members:
            if member is not pending:
                amount = amount + (member.amount or Money.zero(amount.currency))
        covers = len(members)
    waiting: dict[str, tuple[str, str, str]] = {}
    for each, attempt in covering:
        n = each.attempts.index(attempt)
        earlier = each.attempts[n - 1] if n > 0 else None
        if earlier is None or not earlier.reference or earlier.outcome != REQUIRES_ACTION:
            continue
        # One cancel a payment: an earlier combined payment is answered through its lead's attempt.
        if earlier.reference not in waiting or earlier.payment == earlier.key:
            waiting[earlier.reference] = (each.charge_id, earlier.key, earlier.reference)
    return TryCharge(
        charge.charge_id,
        pending.key,
        pending.token,
        amount,
        charge.subscription_id,
        reference=pending.reference,
        resume=pending.at < now,
        on_session=bool(pending.on_session),
        supersedes=tuple(waiting.values()),
        processor_key=pending.processor_key(account.account_id),
        invoice=charge.charge_id if charge.is_processor_invoice else None,
        covers=covers,
    )


def reserve_settlement(account: Account, charge: Charge, action: str, now: datetime) -> None:
    """The charge, a processor's invoice, was just settled here by other means: settle it there too (once)."""
    if not charge.is_processor_invoice or charge.status == OPEN or charge.settle_at_processor is not None:
        return
    # Money received for it, here or there: a write-off then never voids the invoice (only marks it
    # uncollectible), so its record keeps saying money was paid against it.
    partly_paid = any(m is not None and m.value > 0 for m in (charge.paid, charge.processor_paid))
    charge.settle_at_processor = InvoiceSettlement(
        action, f"{account.account_id}:{charge.charge_id}:settle", now, partly_paid=partly_paid and action == WRITE_OFF
    )
    record(
        account,
        now,
        RecordKind.CHARGE_SETTLEMENT_RESERVED,
        "system",
        charge.subscription_id,
        chargeId=charge.charge_id,
        action=action,
    )
