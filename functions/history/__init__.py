"""GET /api/accounts/{accountId}/history: the audit timeline, newest first, a page at a time."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, route_id
from pastdue.http.parse import history_query
from pastdue.http.problems import json_response
from pastdue.http.views import history_view
from pastdue.services.portal import history_page

bp = func.Blueprint()


@bp.function_name("history")
@bp.route(route="accounts/{accountId}/history", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def history(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"), support_allowed=True)
    subscription_id, before, limit = history_query(req.params)
    page = history_page(bootstrap.deps(), account.account_id, subscription_id, before, limit)
    return json_response(history_view(account.account_id, page))
