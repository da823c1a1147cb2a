"""Bulkheads: a failure on one account is recorded (backoff, then quarantine) and counted, and the run
goes on with the others."""

from __future__ import annotations

import logging

from pastdue.services.deps import Deps

log = logging.getLogger("pastdue")


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
