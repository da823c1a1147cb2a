"""GET /api/health: liveness, anonymous (no database read, no versions).
GET /api/health/deep: versions and whether Cosmos answers, for support (role Billing.Support)."""

import azure.functions as func

from pastdue.http.endpoint import endpoint

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    from pastdue import bootstrap
    from pastdue.http.problems import liveness
    from pastdue.services.health import live

    return liveness(live(bootstrap.settings))


@bp.function_name("health_deep")
@bp.route(route="health/deep", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def health_deep(req: func.HttpRequest) -> func.HttpResponse:
    from pastdue import bootstrap
    from pastdue.http.callers import is_support, portal_user
    from pastdue.http.problems import Forbidden, json_response
    from pastdue.services.health import check

    if not is_support(portal_user(req)):
        raise Forbidden(f"the role {bootstrap.settings().support_role} is required")
    return json_response(check(bootstrap.ping_store))
