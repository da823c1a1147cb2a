"""Support's API (role Billing.Support only): find accounts, and act on one with a reason.

GET  /api/support/accounts                                                   list (paged)
GET  /api/support/accounts/{accountId}/notices                               the notices it holds
POST /api/support/accounts/{accountId}/notices/{noticeId}/resend             a failed notice, again {reason?}
POST /api/support/accounts/{accountId}/dunning/pause                         {until, reason}
POST /api/support/accounts/{accountId}/dunning/resume                        {reason?}
POST /api/support/accounts/{accountId}/subscriptions/{subscriptionId}/extend-grace   {days, reason}
POST /api/support/accounts/{accountId}/charges/{chargeId}/write-off          {reason, notifyAdmin}
"""

import azure.functions as func

from pastdue import bootstrap
from pastdue.adapters.store import BadCursor
from pastdue.domain import events as ev
from pastdue.http import bodies, parse
from pastdue.http.callers import is_support, portal_user
from pastdue.http.endpoint import endpoint, optional_body, read_body, route_id
from pastdue.http.principal import Principal
from pastdue.http.problems import BadRequest, Forbidden, json_response
from pastdue.http.views import account_view, notices_view, support_summary
from pastdue.services.support import account_notices, find_accounts, run_support_action

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS


def _support(req: func.HttpRequest) -> Principal:
    principal = portal_user(req)
    if not is_support(principal):
        raise Forbidden(f"the role {bootstrap.settings().support_role} is required")
    return principal


def _answer(account_id: str, event) -> func.HttpResponse:
    """Apply one support action and answer the account as it is now."""
    deps = bootstrap.deps()
    return json_response(account_view(run_support_action(deps, account_id, event), deps))


@bp.function_name("support_accounts")
@bp.route(route="support/accounts", methods=["GET"], auth_level=ANONYMOUS)
@endpoint
def support_accounts(req: func.HttpRequest) -> func.HttpResponse:
    _support(req)
    where, limit, cursor = parse.support_filter(req.params)
    try:
        accounts, next_cursor = find_accounts(bootstrap.deps(), where, limit, cursor)
    except BadCursor as error:
        raise BadRequest(str(error), field="cursor") from None
    return json_response({"accounts": [support_summary(a) for a in accounts], "next": next_cursor})


@bp.function_name("support_notices")
@bp.route(route="support/accounts/{accountId}/notices", methods=["GET"], auth_level=ANONYMOUS)
@endpoint
def support_notices(req: func.HttpRequest) -> func.HttpResponse:
    """The notices the account's outbox holds, newest first: their ids are what resend takes."""
    _support(req)
    account_id = route_id(req, "accountId")
    return json_response(notices_view(account_id, account_notices(bootstrap.deps(), account_id)))


@bp.function_name("support_resend_notice")
@bp.route(route="support/accounts/{accountId}/notices/{noticeId}/resend", methods=["POST"], auth_level=ANONYMOUS)
@endpoint
def support_resend_notice(req: func.HttpRequest) -> func.HttpResponse:
    principal = _support(req)
    reason = optional_body(req, bodies.OptionalReason).reason
    event = ev.NoticeResent(route_id(req, "noticeId"), principal.actor, reason)
    return _answer(route_id(req, "accountId"), event)


@bp.function_name("support_pause_dunning")
@bp.route(route="support/accounts/{accountId}/dunning/pause", methods=["POST"], auth_level=ANONYMOUS)
@endpoint
def support_pause_dunning(req: func.HttpRequest) -> func.HttpResponse:
    principal = _support(req)
    body = read_body(req, bodies.PauseDunning)
    event = ev.DunningPaused(parse.pause_until(body.until), body.reason, principal.actor)
    return _answer(route_id(req, "accountId"), event)


@bp.function_name("support_resume_dunning")
@bp.route(route="support/accounts/{accountId}/dunning/resume", methods=["POST"], auth_level=ANONYMOUS)
@endpoint
def support_resume_dunning(req: func.HttpRequest) -> func.HttpResponse:
    principal = _support(req)
    reason = optional_body(req, bodies.OptionalReason).reason
    return _answer(route_id(req, "accountId"), ev.DunningResumed(principal.actor, reason))


@bp.function_name("support_extend_grace")
@bp.route(
    route="support/accounts/{accountId}/subscriptions/{subscriptionId}/extend-grace",
    methods=["POST"],
    auth_level=ANONYMOUS,
)
@endpoint
def support_extend_grace(req: func.HttpRequest) -> func.HttpResponse:
    principal = _support(req)
    body = read_body(req, bodies.ExtendGrace)
    event = ev.GraceExtended(route_id(req, "subscriptionId"), body.days, body.reason, principal.actor)
    return _answer(route_id(req, "accountId"), event)


@bp.function_name("support_write_off")
@bp.route(route="support/accounts/{accountId}/charges/{chargeId}/write-off", methods=["POST"], auth_level=ANONYMOUS)
@endpoint
def support_write_off(req: func.HttpRequest) -> func.HttpResponse:
    principal = _support(req)
    body = read_body(req, bodies.WriteOff)
    event = ev.ChargeWrittenOff(route_id(req, "chargeId"), body.reason, principal.actor, body.notify_admin)
    return _answer(route_id(req, "accountId"), event)
