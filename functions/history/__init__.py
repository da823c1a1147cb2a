"""GET /api/accounts/{accountId}/history: the audit timeline, newest first."""

import azure.functions as func

from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, route_id
from pastdue.http.problems import json_response
from pastdue.views import history_view

bp = func.Blueprint()


@bp.function_name("history")
@bp.route(route="accounts/{accountId}/history", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def history(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"), support_allowed=True)
    return json_response(history_view(account))
