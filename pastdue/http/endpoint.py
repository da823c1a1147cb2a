"""What every HTTP handler shares: the error mapping, JSON input, and who is calling."""

from __future__ import annotations

import functools
import logging
import re
from typing import Literal, TypeVar, overload

import azure.functions as func

from pastdue.adapters.gateway import GatewayUnavailable
from pastdue.adapters.store import UnreadableAccount
from pastdue.domain.errors import Rejected
from pastdue.http import bodies, strict
from pastdue.http.problems import (
    BadRequest,
    HttpProblem,
    PayloadTooLarge,
    UnsupportedMediaType,
    failure,
    from_exception,
    problem,
    rejected,
)
from pastdue.settings import SettingsError

log = logging.getLogger("pastdue.http")
ID_PATTERN = strict.ID_PATTERN
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
B = TypeVar("B", bound=bodies.Body)


def endpoint(handler):
    """Turn every failure into a problem document: 4xx for the caller's mistakes, never a stack trace."""

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        try:
            if req.method.upper() in WRITES:
                require_json(req)
            return handler(req)
        except HttpProblem as error:
            return from_exception(error)
        except Rejected as error:
            return rejected(error)
        except Exception as error:
            if isinstance(error, UnreadableAccount):
                log.error("unreadable account document %s: %s", error.account_id, error.reason)
            elif isinstance(error, GatewayUnavailable):
                log.error("payment refused before it was sent: %s", error)
            elif isinstance(error, SettingsError):
                log.error("configuration error: %s", error)
            known = failure(error)  # problems.FAILURES: what each answers
            if known is not None:
                return known
            log.exception("unhandled error in %s", handler.__name__)
            return problem(500, "Internal error", "an unexpected error occurred", "internal")

    return wrapper


def require_json(req: func.HttpRequest) -> None:
    """Every state change is sent as application/json: a cross-site form (text/plain, urlencoded,
    multipart) cannot send it without a CORS preflight, so no state changes by CSRF."""
    media = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType("send the request with 'Content-Type: application/json'", field="Content-Type")


def read_json(req: func.HttpRequest) -> dict:
    """The body as a JSON object (strict.loads: size, depth, duplicate keys, text that is not Unicode)."""
    try:
        body = strict.loads(req.get_body() or b"null")
    except strict.TooLarge as error:
        raise PayloadTooLarge(str(error)) from None
    except strict.InvalidText as error:
        raise BadRequest(f"request body: {error}", field=error.field) from None
    except ValueError as error:
        raise BadRequest(f"request body: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def read_body(req: func.HttpRequest, model: type[B]) -> B:
    """The body as its typed model (pastdue/http/bodies.py): a field the contract does not name, a
    missing one or one of the wrong shape is a 400 naming it, never silently ignored."""
    return bodies.read(model, read_json(req))


def optional_body(req: func.HttpRequest, model: type[B]) -> B:
    """A body that may be left out: nothing reads as {}; anything sent is read as read_body reads it."""
    return bodies.read(model, read_json(req) if req.get_body() else {})


@overload
def text(
    obj: dict,
    name: str,
    path: str = "",
    required: Literal[True] = True,
    max_length: int = 256,
    pattern: re.Pattern | None = None,
) -> str: ...


@overload
def text(
    obj: dict,
    name: str,
    path: str = "",
    required: bool = True,
    max_length: int = 256,
    pattern: re.Pattern | None = None,
) -> str | None: ...


def text(
    obj: dict,
    name: str,
    path: str = "",
    required: bool = True,
    max_length: int = 256,
    pattern: re.Pattern | None = None,
) -> str | None:
    where = f"{path}{name}"
    value = obj.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{where}' is required", field=where)
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise BadRequest(f"'{where}' must be a non-empty string of at most {max_length} characters", field=where)
    try:
        strict.check_text(value, free_text=pattern is None)
    except ValueError as error:
        raise BadRequest(f"'{where}' {error}", field=where) from None
    if pattern is not None and not pattern.fullmatch(value):
        raise BadRequest(f"'{where}' has an invalid format", field=where)
    return value


def checked(obj: dict, name: str, path: str, rule, required: bool = True, max_length: int = 256):
    """A text field passed through one of the strict rules (e-mail, time, currency)."""
    value = text(obj, name, path, required=required, max_length=max_length)
    if value is None:
        return None
    try:
        return rule(value)
    except ValueError as error:
        raise BadRequest(f"'{path}{name}' {error}", field=f"{path}{name}") from None


@overload
def obj_field(obj: dict, name: str, path: str = "", required: Literal[True] = True) -> dict: ...


@overload
def obj_field(obj: dict, name: str, path: str = "", required: bool = True) -> dict | None: ...


def obj_field(obj: dict, name: str, path: str = "", required: bool = True) -> dict | None:
    """An object field of a body that has no model (Stripe's events, whose shape Stripe may grow)."""
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"'{path}{name}' must be an object", field=f"{path}{name}")
    return value


def route_id(req: func.HttpRequest, name: str) -> str:
    value = req.route_params.get(name, "")
    if not ID_PATTERN.fullmatch(value):
        raise BadRequest(f"'{name}' must be 1-128 letters, digits, '_', '.', ':' or '-'", field=name)
    return value
