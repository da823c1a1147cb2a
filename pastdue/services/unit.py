"""The dependencies a use case needs, and the one read-decide-write loop they all share."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pastdue.adapters.clock import Clock
from pastdue.adapters.gateway import OutcomeUnknown, PaymentGateway
from pastdue.adapters.store import AccountStore, ConcurrencyConflict, CustomerData, StoreUnavailable
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import Account
from pastdue.domain.policy import Policy
from pastdue.notices.branding import Branding

log = logging.getLogger("pastdue")
MAX_CONFLICTS = 12
GATEWAY_TRIES = 3


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


def change(deps: Deps, account_id: str, event, account: Account | None = None,
           finish: Callable[[Account], None] | None = None) -> tuple[Account, list]:
    """Decide and save; on a 412 re-read and decide again (bounded). `event` may be a callable of the
    account; `finish` may complete the decided account (the shell's part) before it is written."""
    for attempt in range(MAX_CONFLICTS):
        try:
            if account is None:
                account = deps.store.get(account_id)
                if account is None:
                    raise AccountNotFound(account_id)
            decided_event = event(account) if callable(event) else event
            new, effects = decide(account, decided_event, deps.policy, deps.clock.now())
            if finish is not None:
                finish(new)
            if new == account:
                return account, effects  # nothing changed: no write
            return deps.store.replace(new), effects
        except (ConcurrencyConflict, StoreUnavailable):
            # Someone else wrote, or we cannot tell whether our write landed: read again, decide again.
            account = None
            # Jittered backoff, so writers racing on one account spread out instead of colliding again.
            time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
    raise Contention(f"account {account_id} could not be updated after {MAX_CONFLICTS} tries (busy or unavailable)")


def charge_all(deps: Deps, account: Account, tries: list[ev.TryCharge], stop_on_decline_token: str | None = None):
    """Call the gateway for each reserved attempt. Unknown outcomes are retried with the same key;
    what stays unknown is left pending for the next run. Returns the results we are sure of."""
    results: list[ev.AttemptResult] = []
    stopped = False
    for attempt in tries:
        if stopped:
            results.append(ev.AttemptResult(attempt.charge_id, attempt.key, "skipped"))
            continue
        outcome = None
        for n in range(GATEWAY_TRIES):
            try:
                outcome = deps.gateway.charge(
                    attempt.token, attempt.amount, attempt.key, customer=account.gateway_customer_id,
                    metadata={"accountId": account.account_id, "subscriptionId": attempt.subscription_id or "",
                              "chargeId": attempt.charge_id, "attempt": attempt.key})
                break
            except OutcomeUnknown:
                log.warning("gateway outcome unknown for %s (try %d)", attempt.key, n + 1)
                time.sleep(0.05 * (n + 1))
        if outcome is None:
            continue
        results.append(ev.AttemptResult(attempt.charge_id, attempt.key, outcome.outcome, outcome.code,
                                        outcome.amount, outcome.reference, outcome.hard))
        if stop_on_decline_token == attempt.token and outcome.outcome != "succeeded":
            stopped = True  # the new card is refused: do not try it on the other charges
    return results


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
