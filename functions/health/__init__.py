"""GET /api/health: versions, and whether Cosmos answers. Anonymous."""

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    from pastdue import bootstrap
    from pastdue.http.problems import json_response
    from pastdue.services.health import check

    return json_response(check(bootstrap.ping_store))
