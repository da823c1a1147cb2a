"""Carrying out what a decision asked for (charges at the gateway, data purges, notices to send), each
answer fed back as an event through change()."""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

from pastdue.adapters.gateway import (
    ChargeOutcome,
    GatewayUnavailable,
    OutcomeUnknown,
)
from pastdue.domain import events as ev
from pastdue.domain.model import NOT_SENT, PROCESSING, SKIPPED, SUCCEEDED, Account
from pastdue.services.change import Changed, change
from pastdue.services.deps import Deps

log = logging.getLogger("pastdue")
GATEWAY_TRIES = 3
PARALLEL_CHARGES = 8  # gateway calls at once for one account (each its own PaymentIntent)


def run_effects(deps: Deps, changed: Changed) -> Changed:
    """Carry out what a decision asked for, feeding each answer back as an event. Returns the account as
    it is then, every effect met and every history record written on the way."""
    account, effects, records = changed
    tries = [e for e in effects if isinstance(e, ev.TryCharge)]
    if tries:
        results = charge_all(deps, account, tries)
        if results:
            account, more, added = change(deps, account.account_id, ev.AttemptsResolved(tuple(results)))
            effects, records = effects + more, records + added
    for settle in [e for e in effects if isinstance(e, ev.SettleInvoice)]:
        answer = settle_invoice(deps, settle)
        if answer is not None:
            account, more, added = change(deps, account.account_id, answer)
            effects, records = effects + more, records + added
    for purge in (e for e in effects if isinstance(e, ev.PurgeData)):
        items = deps.customer_data.purge(purge.subscription_id)
        account, more, added = change(deps, account.account_id, ev.DataPurged(purge.subscription_id, items))
        effects, records = effects + more, records + added
    if deps.after_notices_queued and any(isinstance(e, ev.NoticesQueued) for e in effects):
        deps.after_notices_queued(account.account_id)
    return Changed(account, effects, records)


def charge_all(deps: Deps, account: Account, tries: list[ev.TryCharge], stop_on_decline_token: str | None = None):
    """Call the gateway for each reserved attempt, in parallel (each has its own idempotency key). With
    `stop_on_decline_token` (a new card), that card is tried on one charge first: if it is refused, it
    is not tried on the others (their attempts are answered "skipped"). Unknown outcomes are retried
    with the same key; what stays unknown is left pending for the next run. Returns the results we
    are sure of."""
    results: list[ev.AttemptResult] = []
    for attempt in [t for t in tries if t.supersedes]:
        earlier = _supersede(deps, attempt)
        results += earlier
        if any(a.key == attempt.key for a in earlier):
            tries = [t for t in tries if t is not attempt]
    first, answer = None, None
    for candidate in [t for t in tries if t.token == stop_on_decline_token] if stop_on_decline_token else []:
        # One refused before it was sent (an amount the processor cannot take) says nothing of the card:
        # the next charge is the card's first try.
        first, answer = candidate, _charge_one(deps, account, candidate)
        results += [answer] if answer else []
        if answer is None or answer.outcome != NOT_SENT:
            break
        tries = [t for t in tries if t is not candidate]
        first = None
    if first is not None:
        if answer is None or answer.outcome != "succeeded":
            results += [
                ev.AttemptResult(t.charge_id, t.key, SKIPPED)
                for t in tries
                if t is not first and t.token == first.token
            ]
            tries = [t for t in tries if t.token != first.token]
        else:
            tries = [t for t in tries if t is not first]
    answers: list[ev.AttemptResult | None]
    if len(tries) == 1:
        answers = [_charge_one(deps, account, tries[0])]
    elif tries:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_CHARGES, len(tries)), thread_name_prefix="charge") as pool:
            answers = list(pool.map(lambda attempt: _charge_one(deps, account, attempt), tries))
    else:
        answers = []
    return results + [a for a in answers if a is not None]


def _charge_one(deps: Deps, account: Account, attempt: ev.TryCharge) -> ev.AttemptResult | None:
    """One attempt at the gateway. A lost answer is asked again from what the processor holds (its
    payment once known, else the key); still unknown after GATEWAY_TRIES, the attempt stays in flight
    (with the processor's reference when one was learnt: a `processing` result)."""
    reference, resume = attempt.reference, attempt.resume
    key = attempt.processor_key or attempt.key
    for n in range(GATEWAY_TRIES):
        try:
            if attempt.invoice:  # the processor's own invoice (Stripe Billing): paid as itself, never by ours
                outcome = deps.gateway.pay_invoice(attempt.invoice, attempt.token, key, attempt.on_session)
            else:
                outcome = _charge(deps, account, attempt, key, reference, resume)
        except GatewayUnavailable as error:
            # Nothing was sent: the attempt stays reserved and is sent by a later run, with its key. The
            # gateway alerts operators (once); no account is at fault.
            log.warning("payment %s not sent: %s", attempt.key, error)
            return None
        except OutcomeUnknown as unknown:
            log.warning("gateway outcome unknown for %s (try %d): %s", attempt.key, n + 1, unknown)
            reference, resume = unknown.reference or reference, True
            if n + 1 < GATEWAY_TRIES:
                time.sleep(_pause(unknown, n))
            continue
        if outcome.invalid:
            deps.metrics.emit("pastdue_gateway_refused", 1, code=outcome.code or "invalid")
        return answer_of(attempt.charge_id, attempt.key, outcome)
    if reference and reference != attempt.reference:
        return ev.AttemptResult(attempt.charge_id, attempt.key, PROCESSING, reference=reference)
    return None


def _charge(
    deps: Deps, account: Account, attempt: ev.TryCharge, key: str, reference: str | None, resume: bool
) -> ChargeOutcome:
    """A payment of ours for the attempt, with what the processor needs to find it again."""
    return deps.gateway.charge(
        attempt.token,
        attempt.amount,
        key,
        customer=account.gateway_customer_id,
        metadata={
            "accountId": account.account_id,
            "subscriptionId": attempt.subscription_id or "",
            "chargeId": attempt.charge_id,
            "attempt": attempt.key,
        },
        reference=reference,
        resume=resume,
        on_session=attempt.on_session,
    )


def _pause(unknown: OutcomeUnknown, n: int) -> float:
    """How long to wait before the n+1-th try: a 429 is spaced by what the processor asked (doubling, with
    jitter so that parallel charges do not come back together); a lost answer is asked again soon."""
    if unknown.retry_after:
        return unknown.retry_after * 2**n * random.uniform(1.0, 1.5)
    return 0.05 * (n + 1)


def answer_of(charge_id: str, key: str, outcome: ChargeOutcome, reference: str | None = None) -> ev.AttemptResult:
    """A gateway's outcome (an API answer or an event, through the one mapper) as the attempt's answer."""
    return ev.AttemptResult(
        charge_id,
        key,
        outcome.outcome,
        outcome.code,
        outcome.amount,
        outcome.reference or reference,
        outcome.hard,
        dict(outcome.detail),
        outcome.invalid,
    )


def _supersede(deps: Deps, attempt: ev.TryCharge) -> list[ev.AttemptResult]:
    """Cancel the earlier payments that wait for the customer before a new one is made for the charges it
    covers. One that can no longer be cancelled has an outcome: that is its attempt's answer, and if it
    took the money the new payment is not sent (skipped: what is still owed is tried again)."""
    answers: list[ev.AttemptResult] = []
    for charge_id, key, reference in attempt.supersedes:
        if reference == attempt.invoice:
            continue  # an invoice has no payment of ours to cancel: a new attempt pays it (Stripe pays it once)
        try:
            earlier = deps.gateway.cancel(reference)
        except (OutcomeUnknown, GatewayUnavailable):
            earlier = None
        if earlier is None:
            continue
        answers.append(answer_of(charge_id, key, earlier, reference))
        if earlier.outcome == SUCCEEDED and not any(a.key == attempt.key for a in answers):
            answers.append(ev.AttemptResult(attempt.charge_id, attempt.key, SKIPPED))
    return answers


def settle_invoice(deps: Deps, settle: ev.SettleInvoice) -> ev.InvoiceSettledThere | None:
    """Settle a processor's invoice there (reserved by the decision that settled its charge here), with its
    key; no answer (unavailable, unknown) leaves it reserved, and the sweep sends it again."""
    try:
        done = deps.gateway.settle_invoice(settle.invoice, settle.action, settle.key, settle.partly_paid)
    except (OutcomeUnknown, GatewayUnavailable) as error:
        log.warning("invoice %s not settled at the processor yet (%s): %s", settle.invoice, settle.action, error)
        return None
    if done.refused:
        deps.metrics.emit("pastdue_gateway_refused", 1, code=done.outcome)
    return ev.InvoiceSettledThere(settle.charge_id, settle.key, done.outcome, done.paid_there, done.refused)
