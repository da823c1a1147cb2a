"""email_events: ACS e-mail delivery reports (Event Grid) mark a bounced admin address."""

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("email_events")
@bp.event_grid_trigger(arg_name="event")
def email_events(event: func.EventGridEvent) -> None:
    from pastdue import bootstrap
    from pastdue.services.delivery import handle_delivery_report

    # Raising makes Event Grid retry: only transient failures raise; bad reports are logged and dropped.
    handle_delivery_report(bootstrap.deps(), event.event_type, event.get_json())
