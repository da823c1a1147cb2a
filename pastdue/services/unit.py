"""The dependencies a use case needs, and the one read-decide-write loop they all share."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

from pastdue.adapters.clock import Clock
from pastdue.adapters.gateway import ChargeOutcome, GatewayUnavailable, OutcomeUnknown, PaymentGateway
from pastdue.adapters.store import AccountStore, ConcurrencyConflict, CustomerData, EventSeen, StoreUnavailable
from pastdue.adapters.telemetry import Metrics, current_account
from pastdue.domain import events as ev
from pastdue.domain import retries
from pastdue.domain.errors import Rejected
from pastdue.domain.lifecycle import decide_in_place
from pastdue.domain.model import PAID, PROCESSING, SKIPPED, SUCCEEDED, Account
from pastdue.domain.policy import Policy
from pastdue.notices.branding import Branding

log = logging.getLogger("pastdue")
MAX_CONFLICTS = 12
GATEWAY_TRIES = 3
PARALLEL_CHARGES = 8  # gateway calls at once for one account (each its own PaymentIntent)


class AccountNotFound(Exception):
    pass


class Contention(Exception):
    """Too many concurrent writers on one account; the caller may retry."""


@dataclass
class Deps:
    store: AccountStore
    customer_data: CustomerData
    gateway: PaymentGateway
    policy: Policy
    clock: Clock
    after_notices_queued: Callable[[str], None] | None = None
    branding: Branding = field(default_factory=Branding)
    # When set, every history record a written decision added is appended here: a run counts what it
    # did from it (the document itself keeps only records not yet archived).
    journal: list | None = None
    metrics: Metrics = field(default_factory=Metrics)


def change(deps: Deps, account_id: str, event, account: Account | None = None,
           tries: int = MAX_CONFLICTS) -> tuple[Account, list]:
    """Decide and save; on a 412 re-read and decide again (at most `tries` times). `event` may be a callable
    of the account."""
    current_account.set(account_id)  # on every log line from here on (adapters/telemetry.py)
    for attempt in range(tries):
        try:
            if account is None:
                account = deps.store.get(account_id)
                if account is None:
                    raise AccountNotFound(account_id)
            decided_event = event(account) if callable(event) else event
            # The account is this loop's own (read here, or handed over by the caller, who takes the result
            # instead): decided in place, with only what the metrics compare kept of the state before. The
            # store writes nothing when the document comes out the same.
            before = Before.of(account)
            new, effects = decide_in_place(account, decided_event, deps.policy, deps.clock.now())
            written = deps.store.replace(new)
            log.debug("%s written", type(decided_event).__name__)
            if deps.journal is not None:
                deps.journal.extend(r for r in new.history if r["seq"] > before.history_seq)
            _observe(deps, before, new)
            return written, effects
        except (ConcurrencyConflict, StoreUnavailable):
            # Someone else wrote, or we cannot tell whether our write landed: read again, decide again.
            account = None
            # Jittered backoff, so writers racing on one account spread out instead of colliding again.
            time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
    raise Contention(f"account {account_id} could not be updated after {tries} tries (busy or unavailable)")


class Before(NamedTuple):
    """What change() keeps of an account before deciding on it, for the metrics and the run journal: its
    newest record and what each charge had collected."""

    history_seq: int
    paid: dict[str, tuple[str, int]]  # charge id -> (status, minor units collected)
    handed_over: frozenset[str]  # charges already moved to the archive list

    @classmethod
    def of(cls, account: Account) -> Before:
        return cls(account.history_seq,
                   {c.charge_id: (c.status, c.paid.value if c.paid else 0) for c in account.charges},
                   frozenset(c.charge_id for c in account.archive_charges))


def change_once(deps: Deps, account_id: str, event_id: str, event,
                account: Account | None = None) -> tuple[Account, list] | None:
    """change() for an event that carries an id: None when the id was processed before. No read is spent on
    asking first: the write of a decision creates the id's item with the document (one batch), and an id
    stored before (a redelivery, or a concurrent delivery that wrote first) fails it whole, EventSeen.
    Only a decision that refuses the event is checked against the ids seen (a redelivery after the
    account moved on is a duplicate, not an error)."""
    try:
        return change(deps, account_id, event, account=account)
    except EventSeen:
        return None
    except Rejected:
        if deps.store.seen_event(account_id, event_id):
            return None
        raise


def _observe(deps: Deps, before: Before, after: Account) -> None:
    """What a written decision did to money, as metrics: charges failed, collected (in part or whole), and
    recovered with the days it took. Never fails the write it follows; a test account counts in none."""
    if after.synthetic:
        return
    try:
        for charge in after.charges + after.archive_charges:
            old = before.paid.get(charge.charge_id)
            reason = retries.category(charge.decline_code)
            if old is None and charge.charge_id not in before.handed_over:
                deps.metrics.emit("pastdue_charges_failed", 1, currency=charge.amount.currency, category=reason)
            collected = (charge.paid.value if charge.paid else 0) - (old[1] if old else 0)
            if collected > 0:
                deps.metrics.emit("pastdue_amount_recovered", collected, currency=charge.amount.currency)
            if charge.status == PAID and old is not None and old[0] != PAID:
                days = (charge.paid_at - charge.failed_at).days if charge.paid_at else 0
                deps.metrics.emit("pastdue_charges_recovered", 1, daysSinceFailure=max(0, days), category=reason)
        for entry in after.history:
            if entry["seq"] > before.history_seq and entry["kind"] == "charge.succeeded" \
                    and entry["detail"].get("unexpected"):
                # Money taken after a decline or an error was answered: applied, and operators look at why.
                deps.metrics.emit("pastdue_unexpected_success", 1, previous=entry["detail"].get("previousOutcome"))
    except Exception:
        log.exception("metrics of account %s not emitted", after.account_id)


def charge_all(deps: Deps, account: Account, tries: list[ev.TryCharge], stop_on_decline_token: str | None = None):
    """Call the gateway for each reserved attempt, in parallel (each has its own idempotency key). With
    `stop_on_decline_token` (a new card), that card is tried on one charge first: if it is refused, it
    is not tried on the others (their attempts are answered "skipped"). Unknown outcomes are retried
    with the same key; what stays unknown is left pending for the next run. Returns the results we
    are sure of."""
    results: list[ev.AttemptResult] = []
    for attempt in [t for t in tries if t.supersedes]:
        answers = _supersede(deps, attempt)
        results += answers
        if any(a.key == attempt.key for a in answers):
            tries = [t for t in tries if t is not attempt]
    first = next((t for t in tries if t.token == stop_on_decline_token), None) if stop_on_decline_token else None
    if first is not None:
        answer = _charge_one(deps, account, first)
        results += [answer] if answer else []
        if answer is None or answer.outcome != "succeeded":
            results += [ev.AttemptResult(t.charge_id, t.key, SKIPPED) for t in tries
                        if t is not first and t.token == first.token]
            tries = [t for t in tries if t.token != first.token]
        else:
            tries = [t for t in tries if t is not first]
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
    for n in range(GATEWAY_TRIES):
        try:
            outcome = deps.gateway.charge(
                attempt.token, attempt.amount, attempt.key, customer=account.gateway_customer_id,
                metadata={"accountId": account.account_id, "subscriptionId": attempt.subscription_id or "",
                          "chargeId": attempt.charge_id, "attempt": attempt.key},
                reference=reference, resume=resume, on_session=attempt.on_session)
        except GatewayUnavailable as error:
            # Nothing was sent: the attempt stays reserved and is sent by a later run, with its key.
            log.error("payment %s not sent: %s", attempt.key, error)
            return None
        except OutcomeUnknown as unknown:
            log.warning("gateway outcome unknown for %s (try %d): %s", attempt.key, n + 1, unknown)
            reference, resume = unknown.reference or reference, True
            time.sleep(0.05 * (n + 1))
            continue
        if outcome.invalid:
            deps.metrics.emit("pastdue_gateway_refused", 1, code=outcome.code or "invalid")
        return answer_of(attempt.charge_id, attempt.key, outcome)
    if reference and reference != attempt.reference:
        return ev.AttemptResult(attempt.charge_id, attempt.key, PROCESSING, reference=reference)
    return None


def answer_of(charge_id: str, key: str, outcome: ChargeOutcome, reference: str | None = None) -> ev.AttemptResult:
    """A gateway's outcome (an API answer or an event, through the one mapper) as the attempt's answer."""
    return ev.AttemptResult(charge_id, key, outcome.outcome, outcome.code, outcome.amount,
                            outcome.reference or reference, outcome.hard, dict(outcome.detail), outcome.invalid)


def _supersede(deps: Deps, attempt: ev.TryCharge) -> list[ev.AttemptResult]:
    """Cancel the earlier payment that waits for the customer before a new one is made for the charge.
    If it can no longer be cancelled, it has an outcome: that is the earlier attempt's answer, and if it
    took the money the new attempt is not sent (skipped)."""
    key, reference = attempt.supersedes
    try:
        earlier = deps.gateway.cancel(reference)
    except (OutcomeUnknown, GatewayUnavailable):
        earlier = None
    if earlier is None:
        return []
    answer = answer_of(attempt.charge_id, key, earlier, reference)
    if earlier.outcome == SUCCEEDED:
        return [answer, ev.AttemptResult(attempt.charge_id, attempt.key, SKIPPED)]
    return [answer]


def isolate(deps: Deps, where: str, account_id: str, reason: str, permanent: bool = False) -> dict:
    """Record a failed run on one account (backoff, then quarantine) and return what to count.
    Never raises: the run goes on with the other accounts whatever happens here."""
    counts = {"accountsFailed": 1}
    try:
        outcome = deps.store.record_failure(account_id, where, reason[:300], deps.clock.now(), permanent)
    except Exception:
        log.exception("could not record the failure of account %s", account_id)
        return counts
    if outcome and outcome["quarantined"]:
        log.error("account %s quarantined (%s): %s", account_id, where, reason[:300])
        counts["accountsQuarantined"] = 1
        deps.metrics.emit("pastdue_accounts_quarantined", 1, where=where)
    else:
        log.warning("account %s failed (%s), retried after a backoff: %s", account_id, where, reason[:300])
    return counts


def run_effects(deps: Deps, account: Account, effects: list) -> Account:
    """Carry out what a decision asked for, feeding each answer back as an event."""
    tries = [e for e in effects if isinstance(e, ev.TryCharge)]
    if tries:
        results = charge_all(deps, account, tries)
        if results:
            account, more = change(deps, account.account_id, ev.AttemptsResolved(tuple(results)))
            effects = effects + more
    for purge in (e for e in effects if isinstance(e, ev.PurgeData)):
        items = deps.customer_data.purge(purge.subscription_id)
        account, more = change(deps, account.account_id, ev.DataPurged(purge.subscription_id, items))
        effects = effects + more
    if deps.after_notices_queued and any(isinstance(e, ev.NoticesQueued) for e in effects):
        deps.after_notices_queued(account.account_id)
    return account
