"""POST /api/accounts/{accountId}/transfer-admin (Billing.Support only): the admin left. The body is the new
admin (principalId, email, name, locale) and, optionally, the reason the history keeps."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import AdminTransferred
from pastdue.http import bodies, parse
from pastdue.http.callers import is_support, portal_user
from pastdue.http.endpoint import endpoint, read_body, route_id
from pastdue.http.problems import Forbidden, json_response
from pastdue.http.views import account_view
from pastdue.services.portal import run_admin_request

bp = func.Blueprint()


@bp.function_name("transfer_admin")
@bp.route(route="accounts/{accountId}/transfer-admin", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def transfer_admin(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    if not is_support(principal):
        raise Forbidden(f"the role {bootstrap.settings().support_role} is required")
    account_id = route_id(req, "accountId")
    body = read_body(req, bodies.TransferAdmin)
    event = AdminTransferred(parse.admin(body, path=""), principal.actor, body.reason)
    account = run_admin_request(bootstrap.deps(), account_id, event)
    return json_response(account_view(account, bootstrap.deps()))
