"""GET /api/accounts/{accountId}: the account view with alerts (the account's admin, or support)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, route_id
from pastdue.http.problems import json_response
from pastdue.http.views import account_view

bp = func.Blueprint()


@bp.function_name("get_account")
@bp.route(route="accounts/{accountId}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def get_account(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"), support_allowed=True)
    return json_response(account_view(account, bootstrap.deps()))
