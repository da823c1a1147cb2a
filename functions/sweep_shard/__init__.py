"""sweep_shard: sweeps one shard of a planned run, from its queue message; the last shard closes the run."""

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("pastdue.sweep")


@bp.function_name("sweep_shard")
@bp.queue_trigger(arg_name="message", queue_name="%SWEEP_QUEUE%", connection="SweepQueue")
def sweep_shard(message: func.QueueMessage) -> None:
    from pastdue import bootstrap, runs
    from pastdue.domain.shards import read_task
    from pastdue.services.sweep import ShardGaveUp, close_run
    from pastdue.services.sweep import sweep_shard as sweep

    task = read_task(message.get_body())  # BadTask: retried, then the poison queue (and its alert)
    last_try = (message.dequeue_count or 1) >= bootstrap.queue_tries()
    try:
        closed = sweep(bootstrap.deps(), bootstrap.sweep_runs(), task,
                       bootstrap.settings().sweep_time_budget_seconds, last_try)
    except ShardGaveUp as gave_up:
        if gave_up.summary is not None:  # the failed shard was the run's last: the run is closed all the same
            runs.record("daily_sweep", close_run(bootstrap.deps(), gave_up.summary, bootstrap.drain_all))
        raise  # the host moves the message to the poison queue
    if closed is not None:
        runs.record("daily_sweep", close_run(bootstrap.deps(), closed, bootstrap.drain_all))
