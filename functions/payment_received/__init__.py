"""POST /api/webhooks/payment-received (billing system, signed): an invoice payer's transfer arrived."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import PaymentReceived
from pastdue.http import parse
from pastdue.http.callers import billing_event
from pastdue.http.endpoint import ID_PATTERN, amount, endpoint, text
from pastdue.http.parse import created_at
from pastdue.http.problems import json_response
from pastdue.services.billing import record_event

bp = func.Blueprint()


@bp.function_name("payment_received")
@bp.route(route="webhooks/payment-received", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def payment_received(req: func.HttpRequest) -> func.HttpResponse:
    body, data, account_id = billing_event(req, "payment.received", parse.PAYMENT_RECEIVED_DATA)
    event_id = text(body, "id", pattern=ID_PATTERN)
    created_at(body)  # required by the contract; the transfer is applied when it is reported
    event = PaymentReceived(event_id, amount(data, "amount", "data."), text(data, "reference", "data.", max_length=140))
    return json_response({"status": record_event(bootstrap.deps(), account_id, event)})
