"""PUT /api/accounts/{accountId}/subscriptions/{subscriptionId} (billing system, signed)."""

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.events import SubscriptionSet
from pastdue.http import bodies
from pastdue.http.callers import billing_system
from pastdue.http.endpoint import endpoint, read_body, route_id
from pastdue.http.problems import saved
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
    body = read_body(req, bodies.SubscriptionPut)
    event = SubscriptionSet(subscription_id, body.display_name, body.plan or "default")
    account, created = save(bootstrap.deps(), account_id, event)
    return saved(subscription_view(account, account.subscriptions[subscription_id]), created)
