"""GET /api/accounts/{accountId}/payment-confirmations: charges the bank wants the customer to authenticate,
with what Stripe.js needs to confirm each on-session (its PaymentIntent client secret)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, route_id
from pastdue.http.problems import json_response
from pastdue.http.views import confirmation_view
from pastdue.services.portal import confirmations

bp = func.Blueprint()


@bp.function_name("payment_confirmations")
@bp.route(route="accounts/{accountId}/payment-confirmations", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def payment_confirmations(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"))
    found = confirmations(bootstrap.deps(), account)
    return json_response({"accountId": account.account_id, "confirmations": [confirmation_view(c) for c in found]})
