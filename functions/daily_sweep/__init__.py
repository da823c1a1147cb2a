"""daily_sweep: retries, reminders, disable at the end of grace, deletion warnings and purge."""

import json
import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("pastdue.sweep")


@bp.function_name("daily_sweep")
@bp.timer_trigger(arg_name="timer", schedule="%SWEEP_SCHEDULE%", run_on_startup=False, use_monitor=True)
def daily_sweep(timer: func.TimerRequest) -> None:
    from pastdue import bootstrap, runs
    from pastdue.services.sweep import report_book, run_sweep

    settings = bootstrap.settings()
    summary = run_sweep(bootstrap.deps(), settings.sweep_time_budget_seconds,
                        max_deletions=settings.sweep_max_deletions, dry_run=settings.sweep_deletion_dry_run)
    summary["notices"] = bootstrap.drain_all()
    summary["book"] = report_book(bootstrap.deps())  # accounts by state, revenue at risk, what comes next
    log.info("daily_sweep summary %s", json.dumps(summary, sort_keys=True))
    runs.record("daily_sweep", summary)
