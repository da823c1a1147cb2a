"""PUT /api/accounts/{accountId} (billing system, signed): create or update an account."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.adapters.gateway import UnknownToken
from pastdue.domain.errors import MissingRemittance
from pastdue.domain.events import ProfileSet
from pastdue.http import parse
from pastdue.http.callers import billing_system
from pastdue.http.endpoint import endpoint, obj_field, read_json, route_id
from pastdue.http.problems import BadRequest, json_response
from pastdue.http.views import account_view
from pastdue.services.billing import put_account as save

bp = func.Blueprint()


@bp.function_name("put_account")
@bp.route(route="accounts/{accountId}", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def put_account(req: func.HttpRequest) -> func.HttpResponse:
    billing_system(req)
    account_id, body = route_id(req, "accountId"), read_json(req, parse.ACCOUNT_PUT)
    mode, token, remittance = parse.payment_mode(body), parse.optional_token(body), parse.remittance(body)
    deps = bootstrap.deps()
    try:
        method = deps.gateway.describe(token) if token else None
    except UnknownToken:
        raise BadRequest(
            "'paymentMethodToken' is not a payment method this gateway knows", field="paymentMethodToken"
        ) from None
    admin = parse.admin(obj_field(body, "admin", fields=parse.ADMIN))
    event = ProfileSet(
        admin,
        mode,
        parse.currency(body),
        method,
        remittance,
        parse.gateway_customer(body),
        parse.time_zone(body),
        parse.synthetic(body),
    )
    try:
        account, created = save(deps, account_id, event)
    except MissingRemittance as missing:
        raise BadRequest(missing.detail, field="remittance") from None
    return json_response(account_view(account, deps), 201 if created else 200)
