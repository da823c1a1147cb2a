"""PUT /api/accounts/{accountId}/admin-contact: the notification address; clears the bounce alert."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import AdminContactChanged
from pastdue.http import bodies, parse
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, read_body, route_id
from pastdue.http.problems import json_response
from pastdue.http.views import account_view
from pastdue.services.portal import run_admin_request

bp = func.Blueprint()


@bp.function_name("admin_contact")
@bp.route(route="accounts/{accountId}/admin-contact", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def admin_contact(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"), support_allowed=True)
    body = read_body(req, bodies.AdminContactPut)
    event = AdminContactChanged(parse.email(body.email), body.locale, principal.actor)
    deps = bootstrap.deps()
    return json_response(account_view(run_admin_request(deps, account.account_id, event), deps))
