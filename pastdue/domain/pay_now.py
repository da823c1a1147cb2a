"""Pay now: the Idempotency-Key's state machine (a request reserved, then completed or answered again),
which charges a new method may pay, one payment for all of them, and its one receipt."""

from __future__ import annotations

from datetime import datetime

from pastdue.domain import events as ev
from pastdue.domain import retries
from pastdue.domain.errors import IdempotencyMismatch
from pastdue.domain.history import RecordKind, record
from pastdue.domain.model import (
    AUTHENTICATION_REQUIRED,
    KEY_DONE,
    KEY_PROCESSING,
    NOT_SENT,
    PAY_NOW_DECLINED,
    REQUIRES_ACTION,
    SETTLED,
    SKIPPED,
    SUCCEEDED,
    Account,
    Attempt,
    AttemptSource,
    Charge,
    PayNowKey,
    PayNowOutcome,
    SettledCharge,
)
from pastdue.domain.money import Money
from pastdue.domain.payments import answers_of, attempt_of, receipt, resolve, total_of
from pastdue.domain.policy import Policy
from pastdue.domain.settlement import (
    combine,
    follows,
    new_attempt,
    settle_states,
    try_charge,
)
from pastdue.domain.support import paused


def _ours(account: Account, entry: PayNowKey) -> list[tuple[str, Attempt]]:
    """The attempts a pay-now reserved, in the order it reserved them. One whose charge has left the
    document (answered for good, settled and archived while the key waited) is no longer the key's."""
    found = ((cid, attempt_of(account, cid, key)) for cid, key in entry.attempts)
    return [(cid, attempt) for cid, attempt in found if attempt is not None]


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


def pay_now_requested(account: Account, event: ev.PayNowRequested, policy: Policy, now: datetime) -> list[ev.Effect]:
    entry = account.idempotency.get(event.idempotency_key)
    if entry is not None:
        if entry.hash != event.request_hash:
            raise IdempotencyMismatch("this Idempotency-Key was used with a different request body")
    else:
        entry = PayNowKey(event.request_hash, now, on_session=event.on_session, method=event.method)
        account.idempotency[event.idempotency_key] = entry
        record(
            account,
            now,
            RecordKind.PAYMENT_METHOD_SUBMITTED,
            event.actor,
            brand=event.method.brand,
            last4=event.method.last4,
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
                    RecordKind.CHARGE_NOT_TRIED,
                    event.actor,
                    charge.subscription_id,
                    chargeId=charge.charge_id,
                    reason=waits,
                )
                continue
            reserved = charge.pending
            if reserved is None:
                reserved = new_attempt(charge, event.method.token, AttemptSource.UPDATE, now, event.on_session)
                new.append((charge, reserved))
            entry.attempts.append((charge.charge_id, reserved.key))
        # Everything the new card pays is one payment: one debit, and at most one bank challenge.
        combine(account, new)
    if entry.status != KEY_PROCESSING:
        return []
    effects: list[ev.Effect] = []
    for charge_id, key in entry.attempts:
        attempt = attempt_of(account, charge_id, key)
        if attempt is not None and attempt.outcome is None and not follows(attempt):
            effects.append(try_charge(account, account.charge_of(charge_id), now))
    return effects


def pay_now_completed(account: Account, event: ev.PayNowCompleted, policy: Policy, now: datetime) -> list[ev.Effect]:
    entry = account.idempotency[event.idempotency_key]
    if entry.status != KEY_PROCESSING:
        return []
    for result in event.results:
        for answer in answers_of(account, result, now, event.actor):
            resolve(account, answer, policy, now, event.actor, event.method)
    ours = _ours(account, entry)
    if any(a.outcome is None for _, a in ours):
        return []  # an answer is still unknown: the same key resumes it
    token = event.method.token
    # The new card's first answer (an attempt never sent, refused for its amount, says nothing of the card).
    first_new = next(
        (a for _, a in ours if a.source == AttemptSource.UPDATE and a.token == token and a.outcome != NOT_SENT), None
    )
    if first_new is not None and first_new.outcome == REQUIRES_ACTION:
        # The bank asks the admin to authenticate this payment now: the card is saved, the charge waits for
        # the confirmation (Stripe's event settles it), and the answer says what the front end needs.
        charge_id = next(cid for cid, a in ours if a is first_new)
        account.payment_method = event.method
        record(
            account,
            now,
            RecordKind.PAYMENT_METHOD_UPDATED,
            event.actor,
            brand=event.method.brand,
            last4=event.method.last4,
        )
        entry.status, entry.response = (
            KEY_DONE,
            PayNowOutcome(AUTHENTICATION_REQUIRED, "authentication_required", charge_id),
        )
        return []
    if first_new is not None and first_new.outcome != SUCCEEDED:
        entry.status, entry.response = KEY_DONE, PayNowOutcome(PAY_NOW_DECLINED, first_new.code or "card_declined")
        record(account, now, RecordKind.PAYMENT_METHOD_DECLINED, event.actor, code=first_new.code)
        return []
    # A charge still open whose only try here was an attempt already in flight (a sweep retry on the old
    # card), or whose try was skipped while the new card's first answer was unknown, gets the new card
    # now: one more round, then done.
    tried = {cid for cid, a in ours if a.source == AttemptSource.UPDATE and a.token == token and a.outcome != SKIPPED}
    again = [
        c
        for c in account.open_charges()
        if c.charge_id not in tried
        and c.pending is None
        and _waits(account, c, token, entry.on_session is not False, policy, now) is None
    ]
    if again:
        reserved = [
            (charge, new_attempt(charge, token, AttemptSource.UPDATE, now, bool(entry.on_session))) for charge in again
        ]
        entry.attempts += [(charge.charge_id, attempt.key) for charge, attempt in reserved]
        combine(account, reserved)
        return [try_charge(account, charge, now) for charge, attempt in reserved if not follows(attempt)]
    account.payment_method = event.method
    record(
        account, now, RecordKind.PAYMENT_METHOD_UPDATED, event.actor, brand=event.method.brand, last4=event.method.last4
    )
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
        receipt(account, now, f"pay:{event.idempotency_key}", total_of(account, settled), taken, settled, policy=policy)
    entry.status, entry.response = (
        KEY_DONE,
        PayNowOutcome(SETTLED, settled=[SettledCharge(c.charge_id, c.amount) for c in settled]),
    )
    return []
