"""sweep_shard: sweeps one shard of a planned run, from its queue message; the last shard closes the run."""

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("pastdue.sweep")


@bp.function_name("sweep_shard")
@bp.queue_trigger(arg_name="message", queue_name="%SWEEP_QUEUE%", connection="SweepQueue")
def sweep_shard(message: func.QueueMessage) -> None:
    from pastdue import bootstrap, timer_summaries
    from pastdue.adapters.shard_queue import read_task
    from pastdue.services.sweep import sweep_and_close

    task = read_task(message.get_body())  # BadTask: retried, then the poison queue (and its alert)
    last_try = (message.dequeue_count or 1) >= bootstrap.queue_tries()
    # A shard that gives up on its last try raises on: the host moves the message to the poison queue.
    sweep_and_close(
        bootstrap.deps(),
        bootstrap.sweep_runs(),
        task,
        bootstrap.settings().sweep_time_budget_seconds,
        last_try,
        bootstrap.drain_all,
        lambda summary: timer_summaries.record("daily_sweep", summary),
    )
