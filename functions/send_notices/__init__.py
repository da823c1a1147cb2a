"""send_notices: every minute, drain the notice outbox within the e-mail quota."""

import json
import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("pastdue.notices")


@bp.function_name("send_notices")
@bp.timer_trigger(arg_name="timer", schedule="0 * * * * *", run_on_startup=False, use_monitor=False)
def send_notices(timer: func.TimerRequest) -> None:
    from pastdue import bootstrap, timer_summaries

    summary = bootstrap.drain_all()
    log.info("send_notices summary %s", json.dumps(summary, sort_keys=True))
    timer_summaries.record("send_notices", summary)
