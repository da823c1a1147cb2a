"""PUT /api/accounts/{accountId} (billing system, signed): create or update an account."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.adapters.gateway import UnknownToken
from pastdue.domain.events import ProfileSet
from pastdue.http import parse
from pastdue.http.callers import billing_system
from pastdue.http.endpoint import endpoint, obj_field, read_json, route_id
from pastdue.http.problems import BadRequest, json_response
from pastdue.services.billing import put_account as save
from pastdue.views import account_view

bp = func.Blueprint()


@bp.function_name("put_account")
@bp.route(route="accounts/{accountId}", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def put_account(req: func.HttpRequest) -> func.HttpResponse:
    billing_system(req)
    account_id, body = route_id(req, "accountId"), read_json(req, parse.ACCOUNT_PUT)
    mode, token, remittance = parse.payment_mode(body), parse.token(body, required=False), parse.remittance(body)
    deps = bootstrap.deps()
    try:
        method = deps.gateway.describe(token) if token else None
    except UnknownToken:
        raise BadRequest("'paymentMethodToken' is not a payment method this gateway knows",
                         field="paymentMethodToken") from None
    if mode == "invoice" and remittance is None:
        existing = deps.store.get(account_id)
        if existing is None or existing.remittance is None:
            raise BadRequest("invoice payers need 'remittance' (iban, bic, reference)", field="remittance")
    admin = parse.admin(obj_field(body, "admin", fields=parse.ADMIN))
    event = ProfileSet(admin, mode, parse.currency(body), method, remittance, parse.gateway_customer(body),
                       parse.time_zone(body), parse.synthetic(body))
    account, created = save(deps, account_id, event)
    return json_response(account_view(account, deps), 201 if created else 200)
