"""send_notices: every minute, drain the notice outbox within the e-mail quota."""

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("send_notices")
@bp.timer_trigger(arg_name="timer", schedule="0 * * * * *", run_on_startup=False, use_monitor=False)
def send_notices(timer: func.TimerRequest) -> None:
    from pastdue import bootstrap

    bootstrap.drain_all()
