"""POST /api/webhooks/charge-failed (billing system, signed): a card charge or an invoice failed."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import ChargeFailed
from pastdue.http import parse
from pastdue.http.callers import billing_event
from pastdue.http.endpoint import ID_PATTERN, amount, endpoint, text
from pastdue.http.parse import created_at
from pastdue.http.problems import json_response
from pastdue.services.billing import record_event

bp = func.Blueprint()


@bp.function_name("charge_failed")
@bp.route(route="webhooks/charge-failed", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def charge_failed(req: func.HttpRequest) -> func.HttpResponse:
    body, data, account_id = billing_event(req, "charge.failed", parse.CHARGE_FAILED_DATA)
    event = ChargeFailed(
        event_id=text(body, "id", pattern=ID_PATTERN),
        subscription_id=text(data, "subscriptionId", "data.", pattern=ID_PATTERN),
        charge_id=text(data, "chargeId", "data.", pattern=ID_PATTERN),
        amount=amount(data, "amount", "data."),
        decline_code=text(data, "declineCode", "data.", required=False, max_length=64),
        occurred_at=created_at(body),
        invoice_url=parse.invoice_url(data, bootstrap.settings().branding.portal_url),
    )
    return json_response({"status": record_event(bootstrap.deps(), account_id, event)})
