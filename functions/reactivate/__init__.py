"""POST /api/accounts/{accountId}/subscriptions/{subscriptionId}/reactivate (admin or support)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import Reactivate
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, route_id
from pastdue.http.problems import json_response
from pastdue.http.views import subscription_view
from pastdue.services.portal import run_admin_request

bp = func.Blueprint()


@bp.function_name("reactivate")
@bp.route(
    route="accounts/{accountId}/subscriptions/{subscriptionId}/reactivate",
    methods=["POST"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
@endpoint
def reactivate(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"), support_allowed=True)
    subscription_id = route_id(req, "subscriptionId")
    account = run_admin_request(bootstrap.deps(), account.account_id, Reactivate(subscription_id, principal.actor))
    return json_response(subscription_view(account, account.subscriptions[subscription_id]))
