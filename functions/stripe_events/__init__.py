"""POST /api/webhooks/stripe (Stripe, Stripe-Signature): late payment answers, authentications, refreshed cards."""

import logging
import re

import azure.functions as func

from pastdue import bootstrap
from pastdue.http import strict
from pastdue.http.endpoint import endpoint, obj_field, text
from pastdue.http.problems import BadRequest, NotFound, PayloadTooLarge, Unavailable, json_response
from pastdue.http.signing import verify_stripe
from pastdue.services.stripe_events import EventTooEarly, handle_event

bp = func.Blueprint()
log = logging.getLogger("pastdue.http")
EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}")
EVENT_TYPE = re.compile(r"[a-z_]+(\.[a-z_]+)+")
MAX_EVENT_BYTES = 512 * 1024  # Stripe events carry whole objects (docs/openapi.yaml: 413 above)


@bp.function_name("stripe_events")
@bp.route(route="webhooks/stripe", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def stripe_events(req: func.HttpRequest) -> func.HttpResponse:
    settings = bootstrap.settings()
    if settings.payment_gateway != "stripe":
        raise NotFound("the Stripe gateway is not in use (PAYMENT_GATEWAY)")
    if settings.stripe_secret_error:
        log.error("stripe event refused: %s", settings.stripe_secret_error)
        # Stripe delivers it again (with backoff, for up to three days) once the secret resolves.
        raise Unavailable("the Stripe secrets are not available; nothing was accepted", headers={"Retry-After": "60"})
    raw = req.get_body()
    if len(raw) > MAX_EVENT_BYTES:  # refused before the signature is computed over it
        raise PayloadTooLarge(f"a Stripe event is at most {MAX_EVENT_BYTES} bytes")
    verify_stripe(req.headers.get("Stripe-Signature"), raw, settings.stripe_webhook_secrets)
    try:
        event = strict.loads(raw, limit=MAX_EVENT_BYTES, depth=32)
    except ValueError as error:
        raise BadRequest(f"request body: {error}") from None
    if not isinstance(event, dict):
        raise BadRequest("request body must be a Stripe event object")
    event_id = text(event, "id", pattern=EVENT_ID)
    kind = text(event, "type", max_length=100, pattern=EVENT_TYPE)
    obj = obj_field(obj_field(event, "data"), "object", "data.")
    try:
        created = event.get("created") if isinstance(event.get("created"), int) else None
        return json_response({"status": handle_event(bootstrap.deps(), event_id, kind, obj, created)})
    except EventTooEarly as early:
        # Stripe delivers a refused event again later (with backoff, for up to three days).
        raise Unavailable(f"{early}; deliver the event again later", headers={"Retry-After": "60"}) from None
