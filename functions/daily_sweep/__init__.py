"""daily_sweep: retries, reminders, disable at the end of grace, deletion warnings and purge."""

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("daily_sweep")
@bp.timer_trigger(arg_name="timer", schedule="%SWEEP_SCHEDULE%", run_on_startup=False, use_monitor=True)
def daily_sweep(timer: func.TimerRequest) -> None:
    from pastdue import bootstrap
    from pastdue.services.sweep import run_sweep

    run_sweep(bootstrap.deps(), bootstrap.settings().sweep_time_budget_seconds)
    bootstrap.drain_all()
