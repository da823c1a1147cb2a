"""GET /api/me/accounts: the billing accounts whose admin is the signed-in user (how the portal finds them)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.http.callers import portal_user
from pastdue.http.endpoint import endpoint
from pastdue.http.problems import json_response
from pastdue.http.views import account_summary
from pastdue.services.portal import accounts_of_admin

bp = func.Blueprint()


@bp.function_name("my_accounts")
@bp.route(route="me/accounts", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def my_accounts(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    deps = bootstrap.deps()
    accounts = accounts_of_admin(deps, principal.object_id)
    return json_response({"accounts": [account_summary(a, deps) for a in accounts]})
