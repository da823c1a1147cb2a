"""daily_sweep: only what is due, page by page, within a time budget; the rest stays due."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from pastdue.adapters.store import StoreUnavailable, Unreadable
from pastdue.domain.events import SweepTick
from pastdue.domain.model import Account
from pastdue.domain.quarantine import RunSucceeded
from pastdue.services.unit import Deps, change, isolate, run_effects

log = logging.getLogger("pastdue.sweep")
PAGE_SIZE = 100
WORKERS = 8
PASSES = 3  # resolve answers left pending, then advance the steps they unblock
QUERY_TRIES = 4  # a due-accounts query cut by a transient error is asked again

COUNTED = {"charge.succeeded": "chargesRecovered", "charge.declined": "chargesDeclined",
           "notice.queued": "noticesQueued", "subscription.disabled": "subscriptionsDisabled",
           "subscription.data.deleted": "dataPurged", "subscription.recovered": "subscriptionsRecovered"}


def run_sweep(deps: Deps, budget_seconds: float, page_size: int = PAGE_SIZE, workers: int = WORKERS) -> dict:
    started = time.monotonic()
    now = deps.clock.now()
    stats: Counter = Counter()
    quiet = _quiet(deps)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for query_try in range(QUERY_TRIES):
            try:
                _sweep_pages(quiet, pool, now, page_size, started, budget_seconds, stats)
                break
            except StoreUnavailable:
                # The query failed part-way: what was done is no longer due, so asking again is safe.
                log.warning("sweep query interrupted (try %d), asking again", query_try + 1)
                time.sleep(0.5 * (query_try + 1))
    summary = {"accountsSeen": 0, **stats, "seconds": round(time.monotonic() - started, 3)}
    log.info("sweep done: %s", summary)
    return summary


def _quiet(deps: Deps) -> Deps:
    """Notices are drained once at the end of the sweep, not after every account."""
    return dataclasses.replace(deps, after_notices_queued=None)


def _sweep_pages(deps, pool, now, page_size, started, budget_seconds, stats) -> None:
    for page in deps.store.due(now, page_size):
        for counts in pool.map(lambda account: _process(deps, account, now), page):
            stats.update(counts)
        log.info("sweep progress: %d accounts, %.1f s", stats["accountsSeen"], time.monotonic() - started)
        if time.monotonic() - started > budget_seconds:
            stats["stoppedOnBudget"] = 1  # what is left is still due: the next run picks it up
            return


def _process(deps: Deps, account: Account | Unreadable, now) -> Counter:
    counts: Counter = Counter(accountsSeen=1)
    if isinstance(account, Unreadable):
        counts.update(isolate(deps, "sweep", account.account_id, account.reason, permanent=True))
        return counts
    try:
        for _ in range(PASSES):
            before = len(account.history)
            account, effects = change(deps, account.account_id, SweepTick(), account=account)
            account = run_effects(deps, account, effects)
            counts.update(COUNTED[e["kind"]] for e in account.history[before:] if e["kind"] in COUNTED)
            if account.next_action_at is None or account.next_action_at > now:
                break
        if account.failures:
            change(deps, account.account_id, RunSucceeded())
    except Exception as error:  # a bulkhead: one bad account never stops the sweep
        log.exception("sweep failed for account %s", account.account_id)
        counts.update(isolate(deps, "sweep", account.account_id, f"{type(error).__name__}: {error}"))
    return counts
