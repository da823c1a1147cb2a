"""POST /api/webhooks/payment-received (billing system, signed): an invoice payer's transfer arrived."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import PaymentReceived
from pastdue.http.callers import billing_system
from pastdue.http.endpoint import ID_PATTERN, amount, endpoint, obj_field, read_json, text
from pastdue.http.problems import BadRequest, json_response
from pastdue.services.billing import record_event

bp = func.Blueprint()


@bp.function_name("payment_received")
@bp.route(route="webhooks/payment-received", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def payment_received(req: func.HttpRequest) -> func.HttpResponse:
    billing_system(req)
    body = read_json(req)
    if body.get("type") != "payment.received":
        raise BadRequest("'type' must be 'payment.received'", field="type")
    data = obj_field(body, "data")
    event = PaymentReceived(text(body, "id", pattern=ID_PATTERN), amount(data, "amount", "data."),
                            text(data, "reference", "data.", max_length=140))
    account_id = text(data, "accountId", "data.", pattern=ID_PATTERN)
    return json_response({"status": record_event(bootstrap.deps(), account_id, event)})
