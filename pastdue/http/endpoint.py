"""What every HTTP handler shares: the error mapping, JSON input, and who is calling."""

from __future__ import annotations

import functools
import logging
import re
from typing import Literal, overload

import azure.functions as func

from pastdue.adapters.gateway import GatewayUnavailable
from pastdue.adapters.store import UnreadableAccount
from pastdue.domain.errors import Rejected
from pastdue.domain.money import Money
from pastdue.http import strict
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
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
AMOUNT_FIELDS = frozenset({"value", "currency"})


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


def read_json(req: func.HttpRequest, fields: frozenset[str] | None = None) -> dict:
    """The body as a JSON object; with `fields`, any other top-level field is refused (the OpenAPI
    schema's additionalProperties: false): a misspelt field is an error, never silently ignored."""
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
    if fields is not None:
        only(body, fields)
    return body


def only(obj: dict, fields: frozenset[str], path: str = "") -> dict:
    """Refuse a field the contract does not name (400 naming it, as far as a name is safe to repeat)."""
    unknown = sorted(set(obj) - fields)
    if unknown:
        name = f"{path}{strict.safe_name(unknown[0])}"
        raise BadRequest(f"unknown field '{name}' (known: {', '.join(sorted(fields))})", field=name)
    return obj


def optional_json(req: func.HttpRequest, fields: frozenset[str]) -> dict:
    """A body that may be left out: nothing is {}; anything sent is read as read_json reads it."""
    return read_json(req, fields) if req.get_body() else {}


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
def obj_field(
    obj: dict, name: str, path: str = "", required: Literal[True] = True, fields: frozenset[str] | None = None
) -> dict: ...


@overload
def obj_field(
    obj: dict, name: str, path: str = "", required: bool = True, fields: frozenset[str] | None = None
) -> dict | None: ...


def obj_field(
    obj: dict, name: str, path: str = "", required: bool = True, fields: frozenset[str] | None = None
) -> dict | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"'{path}{name}' must be an object", field=f"{path}{name}")
    return only(value, fields, f"{path}{name}.") if fields is not None else value


def amount(obj: dict, name: str, path: str = "") -> Money:
    where = f"{path}{name}"
    data = obj.get(name)
    if isinstance(data, dict):
        only(data, AMOUNT_FIELDS, f"{where}.")
    if not isinstance(data, dict) or set(data) != AMOUNT_FIELDS:
        raise BadRequest(f'\'{where}\' must be {{"value": <integer minor units>, "currency": "EUR"}}', field=where)
    try:
        return Money(strict.amount_value(data["value"]), strict.currency(data["currency"]))
    except ValueError as error:
        raise BadRequest(f"'{where}': {error}", field=where) from None


def route_id(req: func.HttpRequest, name: str) -> str:
    value = req.route_params.get(name, "")
    if not ID_PATTERN.fullmatch(value):
        raise BadRequest(f"'{name}' must be 1-128 letters, digits, '_', '.', ':' or '-'", field=name)
    return value
