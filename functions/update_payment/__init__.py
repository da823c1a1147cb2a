"""PUT /api/accounts/{accountId}/payment-method: new method, and every outstanding charge paid now."""

import re

import azure.functions as func

from pastdue import bootstrap
from pastdue.adapters.gateway import UnknownToken
from pastdue.domain.model import AUTHENTICATION_REQUIRED, PAY_NOW_DECLINED
from pastdue.http import bodies
from pastdue.http.callers import account_for, portal_user
from pastdue.http.endpoint import endpoint, read_body, route_id
from pastdue.http.problems import BadRequest, json_response, pay_now_problem
from pastdue.http.views import account_view
from pastdue.services.portal import OUTCOME_UNKNOWN, pay_now, payment_method, request_hash

bp = func.Blueprint()
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,128}")


@bp.function_name("update_payment")
@bp.route(route="accounts/{accountId}/payment-method", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def update_payment(req: func.HttpRequest) -> func.HttpResponse:
    principal = portal_user(req)
    account = account_for(principal, route_id(req, "accountId"))
    key = req.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest(
            "header 'Idempotency-Key' is required: 8-128 letters, digits, '_', '.', ':' or '-'", field="Idempotency-Key"
        )
    body = read_body(req, bodies.PaymentMethodPut)
    token = body.payment_method_token
    deps = bootstrap.deps()
    try:
        method = payment_method(deps, account, token)
    except UnknownToken:
        raise BadRequest(
            "'paymentMethodToken' is not a payment method this gateway knows", field="paymentMethodToken"
        ) from None
    # The account read for the caller's rights is the one read: a stale copy (a customer linked just now)
    # is refused by the If-Match write and read again.
    answer = pay_now(
        deps,
        account.account_id,
        key,
        request_hash({"paymentMethodToken": token}),
        method,
        principal.actor,
        account=account,
    )
    if answer.outcome == AUTHENTICATION_REQUIRED:
        # The card is saved; the charge waits for the admin to pass the bank's challenge (Stripe.js).
        return pay_now_problem(answer.outcome, declineCode=answer.code, confirmation=answer.confirmation)
    if answer.outcome == PAY_NOW_DECLINED:
        return pay_now_problem(answer.outcome, declineCode=answer.code)
    if answer.outcome == OUTCOME_UNKNOWN:
        return pay_now_problem(answer.outcome)
    settled = [{"chargeId": c.charge_id, "amount": c.amount.to_json()} for c in answer.settled]
    return json_response({"settled": settled, "account": account_view(answer.account, deps)})
