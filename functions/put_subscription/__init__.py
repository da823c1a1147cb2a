"""PUT /api/accounts/{accountId}/subscriptions/{subscriptionId} (billing system, signed)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import SubscriptionSet
from pastdue.http import parse
from pastdue.http.callers import billing_system
from pastdue.http.endpoint import endpoint, read_json, route_id, text
from pastdue.http.problems import json_response
from pastdue.http.views import subscription_view
from pastdue.services.billing import put_subscription as save

bp = func.Blueprint()


@bp.function_name("put_subscription")
@bp.route(
    route="accounts/{accountId}/subscriptions/{subscriptionId}", methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS
)
@endpoint
def put_subscription(req: func.HttpRequest) -> func.HttpResponse:
    billing_system(req)
    account_id, subscription_id = route_id(req, "accountId"), route_id(req, "subscriptionId")
    body = read_json(req, parse.SUBSCRIPTION_PUT)
    event = SubscriptionSet(
        subscription_id, text(body, "displayName"), text(body, "plan", required=False, max_length=64) or "default"
    )
    account, created = save(bootstrap.deps(), account_id, event)
    return json_response(subscription_view(account, account.subscriptions[subscription_id]), 201 if created else 200)
