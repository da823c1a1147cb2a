"""The sweep: only what is due, page by page, within a time budget; the rest stays due.

The timer only plans a run: one queue message per shard (domain/shards.py). Each shard is swept by the
queue-triggered function, and the shard that finishes last closes the run (notices, book, one summary).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pastdue.adapters.shard_queue import ShardQueue, task_message
from pastdue.adapters.store import StoreUnavailable, Unreadable
from pastdue.adapters.sweep_runs import SweepRuns
from pastdue.domain import shards
from pastdue.domain.events import RunSucceeded, SweepTick
from pastdue.domain.model import Account
from pastdue.domain.schedule import purges_due
from pastdue.services.bulkhead import isolate
from pastdue.services.change import change
from pastdue.services.deps import Deps
from pastdue.services.effects import run_effects

log = logging.getLogger("pastdue.sweep")
PAGE_SIZE = 100
WORKERS = 8
PASSES = 3  # resolve answers left pending, then advance the steps they unblock
QUERY_TRIES = 4  # a due-accounts query cut by a transient error is asked again

COUNTED = {
    "charge.succeeded": "chargesRecovered",
    "charge.declined": "chargesDeclined",
    "charge.error": "chargeErrors",
    "charge.action_required": "chargesAwaitingCustomer",
    "notice.queued": "noticesQueued",
    "subscription.disabled": "subscriptionsDisabled",
    "subscription.deletion.started": "deletionsStarted",
    "subscription.data.deleted": "dataPurged",
    "subscription.deletion.dry_run": "deletionsDryRun",
    "subscription.recovered": "subscriptionsRecovered",
}


class DeletionBudget:
    """How many subscriptions one run may start deleting (SWEEP_MAX_DELETIONS): reserved before an
    account's visit, given back if the visit did not delete; past it, deletions wait for the next run."""

    def __init__(self, limit: int, dry_run: bool = False):
        self.left, self.dry_run, self.held = limit, dry_run, 0
        self._lock = threading.Lock()

    def reserve(self, wanted: int) -> bool:
        with self._lock:
            if self.dry_run or wanted > self.left:
                self.held += wanted
                return False
            self.left -= wanted
            return True

    def give_back(self, unused: int) -> None:
        with self._lock:
            self.left += unused


class RunDeletionBudget(DeletionBudget):
    """The cap of a fanned-out run: one counter in the run's record, which every shard takes from."""

    def __init__(self, runs: SweepRuns, run_id: str, dry_run: bool = False):
        super().__init__(0, dry_run)
        self.runs, self.run_id = runs, run_id

    def reserve(self, wanted: int) -> bool:
        if not self.dry_run and self.runs.take_deletions(self.run_id, wanted):
            return True
        with self._lock:
            self.held += wanted
        return False

    def give_back(self, unused: int) -> None:
        self.runs.give_back_deletions(self.run_id, unused)


def plan_sweep(
    deps: Deps, runs: SweepRuns, queue: ShardQueue, shard_count: int, max_deletions: int, dry_run: bool = False
) -> dict:
    """Record the run and put one message per shard on the queue. Every plan is a run of its own (a timer
    fired again plans a second one): a shard swept by two runs, or twice by one, finds only what is still
    due, and a shard already recorded in its run is skipped."""
    now = deps.clock.now()
    tasks = shards.plan(now, shard_count, dry_run)
    runs.open(tasks[0].run_id, len(tasks), now, max_deletions)
    sent = queue.send(task_message(task) for task in tasks)
    log.info("sweep run %s planned: %d shard message(s) sent", tasks[0].run_id, sent)
    return {"runId": tasks[0].run_id, "shards": len(tasks), "messagesSent": sent}


class ShardGaveUp(Exception):
    """A shard failed on the queue's last try: recorded as failed, and its message goes to the poison queue
    (the caller raises it on). `summary` is the run's summary when this record closed the run."""

    def __init__(self, reason: str, summary: dict | None):
        super().__init__(reason)
        self.summary = summary


def sweep_shard(
    deps: Deps, runs: SweepRuns, task: shards.ShardTask, budget_seconds: float, last_try: bool
) -> dict | None:
    """Sweep one shard and record it; returns the run's summary when this shard closed the run. A shard
    recorded before (a redelivered message) is not swept again. On the queue's last try a failure is
    recorded as the shard's, so the run still closes, and raised as ShardGaveUp (to the poison queue)."""
    if runs.finished(task.run_id, task.shard):
        log.info("sweep %s shard %d already recorded: skipped", task.run_id, task.shard)
        return None
    try:
        summary = run_sweep(
            deps,
            budget_seconds,
            dry_run=task.dry_run,
            slots=task.slots,
            deletions=RunDeletionBudget(runs, task.run_id, task.dry_run),
        )
    except Exception as error:
        if not last_try:
            raise  # the queue hands the message out again after its visibility timeout
        reason = f"{type(error).__name__}: {error}"
        log.error("sweep %s shard %d failed on its last try, to the poison queue: %s", task.run_id, task.shard, reason)
        closed = runs.finish(task.run_id, task.shard, failure=reason[:300], at=deps.clock.now())
        raise ShardGaveUp(reason, run_summary(closed) if closed is not None else None) from error
    closed = runs.finish(task.run_id, task.shard, summary, at=deps.clock.now())
    return run_summary(closed) if closed is not None else None


def sweep_and_close(
    deps: Deps,
    runs: SweepRuns,
    task: shards.ShardTask,
    budget_seconds: float,
    last_try: bool,
    drain_notices: Callable[[], dict],
    record: Callable[[dict], None],
) -> None:
    """sweep_shard, then, if this shard closed the run, close_run and hand its summary to `record`; a shard
    that gave up on its last try closes the run first when it was the last, then raises on."""
    try:
        closed = sweep_shard(deps, runs, task, budget_seconds, last_try)
    except ShardGaveUp as gave_up:
        if gave_up.summary is not None:
            record(close_run(deps, gave_up.summary, drain_notices))
        raise
    if closed is not None:
        record(close_run(deps, closed, drain_notices))


def run_summary(run: dict) -> dict:
    """One summary for a fanned-out run: its shards' counts added up."""
    summary = {
        "accountsSeen": 0,
        **shards.combine(list(run["done"].values())),
        "runId": run["id"],
        "shards": run["shards"],
    }
    if run["failed"]:
        summary["shardsFailed"] = len(run["failed"])
        log.error("sweep %s closed with %d failed shard(s): %s", run["id"], len(run["failed"]), run["failed"])
    return summary


def close_run(deps: Deps, summary: dict, drain_notices: Callable[[], dict]) -> dict:
    """After the last shard: the notices the run queued go out, the book is reported, one summary is logged."""
    summary["notices"] = drain_notices()
    summary["book"] = report_book(deps)  # accounts by state, revenue at risk, what comes next
    log.info("daily_sweep summary %s", json.dumps(summary, sort_keys=True))
    return summary


def run_sweep(
    deps: Deps,
    budget_seconds: float,
    page_size: int = PAGE_SIZE,
    workers: int = WORKERS,
    max_deletions: int = 100,
    dry_run: bool = False,
    slots: tuple[int, ...] | None = None,
    deletions: DeletionBudget | None = None,
) -> dict:
    """Sweep what is due now (only these slots when given: one shard), within the time budget and the
    deletion cap (`max_deletions`, or the run's shared one)."""
    started = time.monotonic()
    now = deps.clock.now()
    stats: Counter = Counter()
    quiet = _quiet(deps)
    deletions = deletions or DeletionBudget(max_deletions, dry_run)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for query_try in range(QUERY_TRIES):
            try:
                _sweep_pages(quiet, pool, now, page_size, started, budget_seconds, stats, deletions, slots)
                break
            except StoreUnavailable:
                # The query failed part-way: what was done is no longer due, so asking again is safe.
                log.warning("sweep query interrupted (try %d), asking again", query_try + 1)
                time.sleep(0.5 * (query_try + 1))
    summary = {"accountsSeen": 0, **stats, "seconds": round(time.monotonic() - started, 3)}
    summary["chargesRetried"] = sum(
        summary.get(k, 0) for k in ("chargesRecovered", "chargesDeclined", "chargeErrors", "chargesAwaitingCustomer")
    )
    if deletions.held and not dry_run:
        summary["deletionsHeld"] = deletions.held
        log.error("sweep deletion cap reached: %d subscription(s) to delete wait for the next run", deletions.held)
    log.info("sweep done: %s", summary)
    deps.metrics.emit("pastdue_sweep_duration", summary["seconds"])
    return summary


def report_book(deps: Deps) -> dict | None:
    """After the sweep: the state of the whole book, as metrics for the dashboard (a few counting queries
    and the open balances of the past-due and disabled accounts). Never fails the run."""
    try:
        book = deps.store.snapshot(deps.clock.now(), timedelta(days=7))
    except Exception:  # the sweep's work is done and counted; the dashboard waits for the next run
        log.exception("book metrics not emitted")
        return None
    deps.metrics.emit("pastdue_sweep_backlog", book["stillDue"])
    for state, accounts in book["byState"].items():
        deps.metrics.emit("pastdue_accounts_by_state", accounts, state=state)
    for currency, owed in book["atRisk"].items():
        deps.metrics.emit("pastdue_revenue_at_risk", owed, currency=currency)
    deps.metrics.emit("pastdue_upcoming_disables", book["disablesSoon"])
    deps.metrics.emit("pastdue_upcoming_deletions", book["deletionsSoon"])
    return book


def _quiet(deps: Deps) -> Deps:
    """Notices are drained once at the end of the sweep, not after every account."""
    return dataclasses.replace(deps, after_notices_queued=None)


def _sweep_pages(deps, pool, now, page_size, started, budget_seconds, stats, deletions, slots) -> None:
    for page in deps.store.due(now, page_size, slots):
        for counts in pool.map(lambda account: _process(deps, account, now, deletions), page):
            stats.update(counts)
        log.info("sweep progress: %d accounts, %.1f s", stats["accountsSeen"], time.monotonic() - started)
        if time.monotonic() - started > budget_seconds:
            stats["stoppedOnBudget"] = 1  # what is left is still due: the next run picks it up
            return


def _process(deps: Deps, account: Account | Unreadable, now, deletions: DeletionBudget | None = None) -> Counter:
    counts: Counter = Counter(accountsSeen=1)
    if isinstance(account, Unreadable):
        counts.update(isolate(deps, "sweep", account.account_id, account.reason, permanent=True))
        return counts
    deletions = deletions or DeletionBudget(10**9)
    wanted = purges_due(account, deps.policy, now)
    allowed = deletions.reserve(wanted) if wanted else True
    try:
        for _ in range(PASSES):
            tick = SweepTick(allow_purge=allowed, dry_run=deletions.dry_run)
            account, _, new = run_effects(deps, change(deps, account.account_id, tick, account=account))
            counts.update(COUNTED[e["kind"]] for e in new if e["kind"] in COUNTED)
            if account.next_action_at is None or account.next_action_at > now:
                break
            if all(e["kind"] == "subscription.deletion.dry_run" for e in new):
                break  # only a held deletion is left due: the next run again
        if account.failures:
            change(deps, account.account_id, RunSucceeded())
    except Exception as error:  # a bulkhead: one bad account never stops the sweep
        log.exception("sweep failed for account %s", account.account_id)
        counts.update(isolate(deps, "sweep", account.account_id, f"{type(error).__name__}: {error}"))
    finally:
        if allowed and wanted > counts["deletionsStarted"]:
            deletions.give_back(wanted - counts["deletionsStarted"])
    return counts
