"""POST /api/webhooks/charge-failed (billing system, signed): a card charge or an invoice failed."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import ChargeFailed
from pastdue.http import bodies, parse
from pastdue.http.callers import billing_event
from pastdue.http.endpoint import endpoint
from pastdue.http.problems import json_response
from pastdue.services.billing import record_event

bp = func.Blueprint()


@bp.function_name("charge_failed")
@bp.route(route="webhooks/charge-failed", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def charge_failed(req: func.HttpRequest) -> func.HttpResponse:
    body = billing_event(req, bodies.ChargeFailedEvent)
    data = body.data
    event = ChargeFailed(
        event_id=body.id,
        subscription_id=data.subscription_id,
        charge_id=data.charge_id,
        amount=parse.amount(data.amount, "data.amount"),
        decline_code=data.decline_code,
        occurred_at=parse.created_at(body.created_at),
        invoice_url=parse.invoice_url(data.invoice_url, bootstrap.settings().branding.portal_url),
    )
    return json_response({"status": record_event(bootstrap.deps(), data.account_id, event)})
