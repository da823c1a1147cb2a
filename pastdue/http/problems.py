"""RFC 9457 problem documents and the errors that become them."""

from __future__ import annotations

import json
import re

import azure.functions as func

from pastdue.adapters.gateway import GatewayUnavailable
from pastdue.adapters.store import StoreUnavailable, UnreadableAccount
from pastdue.domain import errors
from pastdue.domain.model import AUTHENTICATION_REQUIRED, PAY_NOW_DECLINED
from pastdue.services.deps import AccountNotFound, Contention
from pastdue.services.portal import OUTCOME_UNKNOWN
from pastdue.settings import SettingsError

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


# What each failure that is neither the caller's mistake nor a rejection answers: status, title, detail
# (None: the error's own words), type, headers. The nearest class up the line wins.
FAILURES: dict[type[Exception], tuple[int, str, str | None, str, dict[str, str]]] = {
    UnreadableAccount: (
        500,
        "Account unavailable",
        "this account's record needs repair; support has been alerted by the log",
        "account-unreadable",
        {},
    ),
    AccountNotFound: (404, "Not found", "no such account", "not-found", {}),
    StoreUnavailable: (503, "Try again", "storage is busy; retry shortly", "unavailable", {"Retry-After": "2"}),
    Contention: (503, "Try again", None, "contention", {"Retry-After": "1"}),
    GatewayUnavailable: (
        503,
        "Payments unavailable",
        "the payment processor cannot be used right now; nothing was charged or changed: retry later",
        "payments-unavailable",
        {"Retry-After": "60"},
    ),
    SettingsError: (500, "Server misconfigured", "the service is misconfigured", "misconfigured", {}),
}

# What a pay-now that did not settle answers (a settled one is 200 with what it paid).
PAY_NOW_ANSWERS: dict[str, tuple[int, str, str, str, dict[str, str]]] = {
    AUTHENTICATION_REQUIRED: (
        402,
        "Authentication required",
        "the bank asks you to confirm this payment; the card is saved",
        "authentication-required",
        {},
    ),
    PAY_NOW_DECLINED: (
        402,
        "Payment method declined",
        "the new payment method was declined; nothing changed",
        "card-declined",
        {},
    ),
    OUTCOME_UNKNOWN: (
        503,
        "Payment outcome unknown",
        "the payment outcome is not known yet; retry with the same Idempotency-Key",
        "outcome-unknown",
        {"Retry-After": "5"},
    ),
}


def failure(error: Exception) -> func.HttpResponse | None:
    """The problem a known failure answers (FAILURES), or None for one it does not know."""
    found = next((FAILURES[c] for c in type(error).__mro__ if c in FAILURES), None)
    if found is None:
        return None
    status, title, detail, slug, headers = found
    return problem(status, title, detail if detail is not None else str(error), slug, dict(headers))


def pay_now_problem(outcome: str, **extra) -> func.HttpResponse:
    """The problem a pay-now that did not settle answers (PAY_NOW_ANSWERS)."""
    status, title, detail, slug, headers = PAY_NOW_ANSWERS[outcome]
    return problem(status, title, detail, slug, dict(headers), **extra)


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


def saved(body, created: bool) -> func.HttpResponse:
    """A PUT's answer: 201 when it made the resource, 200 when it replaced one."""
    return json_response(body, 201 if created else 200)


def liveness(body: dict) -> func.HttpResponse:
    """GET /api/health: 200 while the app runs on settings it accepts, 503 when it refuses them; never cached."""
    return json_response(body, 200 if body["status"] == "ok" else 503, {"Cache-Control": "no-store"})
