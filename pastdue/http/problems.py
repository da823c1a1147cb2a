"""RFC 9457 problem documents and the errors that become them."""

from __future__ import annotations

import json
import re

import azure.functions as func

from pastdue.domain import errors

PROBLEM_BASE = "https://pastdue.example/problems/"


class HttpProblem(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, headers: dict | None = None, **extra):
        super().__init__(detail)
        self.detail, self.headers, self.extra = detail, headers or {}, extra


class BadRequest(HttpProblem):
    pass


class Unauthorized(HttpProblem):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(HttpProblem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(HttpProblem):
    status, title, slug = 404, "Not found", "not-found"


class PayloadTooLarge(HttpProblem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(HttpProblem):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Unavailable(HttpProblem):
    status, title, slug = 503, "Try again", "unavailable"


# What each of the lifecycle's rejections answers (the nearest class up the line wins).
REJECTIONS: dict[type[errors.Rejected], tuple[int, str]] = {
    errors.Rejected: (422, "Unprocessable request"),
    errors.UnknownSubscription: (404, "Subscription not found"),
    errors.NotOnAccount: (404, "Not found"),
    errors.BalanceOutstanding: (409, "Balance outstanding"),
    errors.SubscriptionGone: (410, "Subscription data deleted"),
    errors.InvalidEvent: (422, "Event cannot be applied"),
    errors.IdempotencyMismatch: (422, "Idempotency-Key reused with another request"),
    errors.Conflict: (409, "Conflict with the account's state"),
}


def rejected(error: errors.Rejected) -> func.HttpResponse:
    """The problem a rejection answers: its status and title from REJECTIONS, its type from its class."""
    status, title = next(REJECTIONS[c] for c in type(error).__mro__ if c in REJECTIONS)
    extra = {"amountDue": error.amount.to_json()} if error.amount else {}
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()
    return problem(status, title, error.detail, slug, **extra)


def problem(status: int, title: str, detail: str, slug: str, headers: dict | None = None, **extra) -> func.HttpResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return func.HttpResponse(
        json.dumps(body), status_code=status, headers=headers or {}, mimetype="application/problem+json"
    )


def from_exception(error: HttpProblem) -> func.HttpResponse:
    return problem(error.status, error.title, error.detail, error.slug, error.headers, **error.extra)


def json_response(body, status: int = 200, headers: dict | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, headers=headers or {}, mimetype="application/json")
