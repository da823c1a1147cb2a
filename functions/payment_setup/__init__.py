"""POST /api/accounts/{accountId}/payment-method/setup: what the front end needs to collect a card
(Stripe: a SetupIntent client secret for Stripe Elements; the sandbox: its equivalent and test methods)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, route_id
from pastdue.http.problems import json_response
from pastdue.services.portal import start_setup

bp = func.Blueprint()


@bp.function_name("payment_setup")
@bp.route(route="accounts/{accountId}/payment-method/setup", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def payment_setup(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"))
    return json_response(start_setup(bootstrap.deps(), account))
