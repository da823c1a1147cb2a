"""daily_sweep: plans a sweep run (retries, reminders, disable at the end of grace, deletion warnings and
purge): one message per shard on the sweep queue, swept by sweep_shard on as many instances as it takes."""

import json
import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("pastdue.sweep")


@bp.function_name("daily_sweep")
@bp.timer_trigger(arg_name="timer", schedule="%SWEEP_SCHEDULE%", run_on_startup=False, use_monitor=True)
def daily_sweep(timer: func.TimerRequest) -> None:
    from pastdue import bootstrap, timer_summaries
    from pastdue.services.sweep import plan_sweep, sweep_and_close

    settings, deps, queue = bootstrap.settings(), bootstrap.deps(), bootstrap.shard_queue()
    if queue is not None:
        planned = plan_sweep(
            deps,
            bootstrap.sweep_runs(),
            queue,
            settings.sweep_shards,
            settings.sweep_max_deletions,
            settings.sweep_deletion_dry_run,
        )
        log.info("daily_sweep planned %s", json.dumps(planned, sort_keys=True))
        return
    # No queue configured (a single instance): this run sweeps its shards itself, one after the other.
    from pastdue.domain import shards

    ledger = bootstrap.sweep_runs()
    tasks = shards.plan(deps.clock.now(), 1, settings.sweep_deletion_dry_run)
    ledger.open(tasks[0].run_id, 1, deps.clock.now(), settings.sweep_max_deletions)
    # A failure is recorded and the run closed; the timer's failure is what alerts.
    sweep_and_close(
        deps,
        ledger,
        tasks[0],
        settings.sweep_time_budget_seconds,
        True,
        bootstrap.drain_all,
        lambda summary: timer_summaries.record("daily_sweep", summary),
    )
