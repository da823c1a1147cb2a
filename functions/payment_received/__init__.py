"""POST /api/webhooks/payment-received (billing system, signed): an invoice payer's transfer arrived."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import PaymentReceived
from pastdue.http import bodies, parse
from pastdue.http.callers import billing_event
from pastdue.http.endpoint import endpoint
from pastdue.http.problems import json_response
from pastdue.services.billing import record_event

bp = func.Blueprint()


@bp.function_name("payment_received")
@bp.route(route="webhooks/payment-received", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def payment_received(req: func.HttpRequest) -> func.HttpResponse:
    body = billing_event(req, bodies.PaymentReceivedEvent)
    parse.created_at(body.created_at)  # required by the contract; the transfer is applied when it is reported
    event = PaymentReceived(body.id, parse.amount(body.data.amount, "data.amount"), body.data.reference)
    return json_response({"status": record_event(bootstrap.deps(), body.data.account_id, event)})
