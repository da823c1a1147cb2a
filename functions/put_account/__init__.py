"""PUT /api/accounts/{accountId} (billing system, signed): create or update an account."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.adapters.gateway import UnknownToken
from pastdue.domain.errors import MissingRemittance
from pastdue.domain.events import ProfileSet
from pastdue.http import bodies, parse
from pastdue.http.callers import billing_system
from pastdue.http.endpoint import endpoint, read_body, route_id
from pastdue.http.problems import BadRequest, saved
from pastdue.http.views import account_view
from pastdue.services.billing import put_account as save

bp = func.Blueprint()


@bp.function_name("put_account")
@bp.route(route="accounts/{accountId}", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def put_account(req: func.HttpRequest) -> func.HttpResponse:
    billing_system(req)
    account_id, body = route_id(req, "accountId"), read_body(req, bodies.AccountPut)
    token = body.payment_method_token
    deps = bootstrap.deps()
    try:
        method = deps.gateway.describe(token) if token else None
    except UnknownToken:
        raise BadRequest(
            "'paymentMethodToken' is not a payment method this gateway knows", field="paymentMethodToken"
        ) from None
    event = ProfileSet(
        parse.admin(body.admin),
        parse.payment_mode(body.payment_mode),
        parse.currency(body.currency),
        method,
        parse.remittance(body.remittance),
        body.gateway_customer_id,
        parse.time_zone(body.time_zone),
        body.synthetic,
    )
    try:
        account, created = save(deps, account_id, event)
    except MissingRemittance as missing:
        raise BadRequest(missing.detail, field="remittance") from None
    return saved(account_view(account, deps), created)
