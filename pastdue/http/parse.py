"""Request bodies and queries of the API turned into domain values, with errors naming the field.

A body's shape (its fields, types, lengths, patterns) is its model in pastdue/http/bodies.py; what a shape
cannot say is checked here: an e-mail address, a time, a known currency or time zone, a portal link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pastdue.domain.model import Admin, PaymentMode, Remittance
from pastdue.domain.money import Money
from pastdue.http import bodies, strict
from pastdue.http.endpoint import ID_PATTERN, checked
from pastdue.http.problems import BadRequest

T = TypeVar("T")


def held(value: str, where: str, rule: Callable[[str], T]) -> T:
    """`value` through one of the strict rules (e-mail, time, currency); its ValueError is a 400 on `where`."""
    try:
        return rule(value)
    except ValueError as error:
        raise BadRequest(f"'{where}' {error}", field=where) from None


def admin(body: bodies.AdminIn, path: str = "admin.") -> Admin:
    return Admin(
        principal_id=body.principal_id,
        email=held(body.email, f"{path}email", strict.mailbox),
        name=body.name,
        locale=body.locale or "en-US",
    )


def email(value: str, where: str = "email") -> str:
    return held(value, where, strict.mailbox)


def created_at(value: str) -> datetime:
    """The event's own time (required): the calendar counts from it, not from its arrival."""
    return held(value, "createdAt", strict.timestamp)


def payment_mode(value: str) -> PaymentMode:
    return PaymentMode(value)


def remittance(body: bodies.RemittanceIn | None) -> Remittance | None:
    return None if body is None else Remittance(body.iban, body.bic, body.reference)


def amount(body: bodies.AmountIn, where: str) -> Money:
    return Money(body.value, held(body.currency, f"{where}.currency", strict.currency))


def invoice_url(value: str | None, portal_url: str) -> str | None:
    """data.invoiceUrl: the charge's invoice in the portal (notices link only to the portal's domain)."""
    from urllib.parse import urlsplit

    if value is None:
        return None
    portal, given = urlsplit(portal_url), urlsplit(value)
    if (given.scheme, given.netloc) != (portal.scheme, portal.netloc) or any(c in value for c in " \"'<>"):
        raise BadRequest(
            f"'data.invoiceUrl' must be a page of the portal ({portal.scheme}://{portal.netloc}/...)",
            field="data.invoiceUrl",
        )
    return value


def time_zone(value: str | None) -> str | None:
    """An IANA time zone the system knows (Europe/Paris, America/New_York, UTC)."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest("'timeZone' must be an IANA time zone, e.g. Europe/Paris", field="timeZone") from None
    return value


def currency(value: str | None) -> str:
    return "EUR" if value is None else held(value, "currency", strict.currency)


def pause_until(value: str) -> datetime:
    return held(value, "until", strict.timestamp)


HISTORY_LIMIT, HISTORY_MAX_LIMIT = 100, 500
CURSOR = re.compile(r"h([1-9][0-9]{0,11})")  # as pastdue/http/views.py writes it
SUPPORT_LIST_LIMIT, SUPPORT_LIST_MAX = 50, 200
SUPPORT_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,4000}")  # base64url of the store's continuation
# What a store continuation holds (Cosmos: a small JSON object or array of ranges and tokens).
CONTINUATION_BYTES, CONTINUATION_DEPTH = 3000, 6
STATES = ("active", "pastDue", "disabled", "deleted")


def _paging(params, known: set[str], default: int, most: int, cursor_pattern: re.Pattern) -> tuple[int, str | None]:
    """The query parameters a paged list shares: none but the known ones, `limit` and `cursor`."""
    unknown = sorted(set(params) - known - {"limit", "cursor"})
    if unknown:
        raise BadRequest(f"unknown query parameter '{unknown[0]}'", field=unknown[0])
    raw = params.get("limit")
    if raw is not None and not (re.fullmatch(r"[0-9]{1,4}", raw) and 1 <= int(raw) <= most):
        raise BadRequest(f"'limit' must be a whole number from 1 to {most}", field="limit")
    cursor = params.get("cursor")
    if cursor is not None and not cursor_pattern.fullmatch(cursor):
        raise BadRequest("'cursor' is not one this API gave (use the 'next' of the page before)", field="cursor")
    return (default if raw is None else int(raw)), cursor


def history_query(params) -> tuple[str | None, int | None, int]:
    """GET history's query: ?subscriptionId=&limit=&cursor= (the `next` of the page before)."""
    limit, cursor = _paging(params, {"subscriptionId"}, HISTORY_LIMIT, HISTORY_MAX_LIMIT, CURSOR)
    subscription_id = params.get("subscriptionId")
    if subscription_id is not None and not ID_PATTERN.fullmatch(subscription_id):
        raise BadRequest("'subscriptionId' is not a valid id", field="subscriptionId")
    found = CURSOR.fullmatch(cursor) if cursor else None  # _paging checked it
    return subscription_id, (int(found.group(1)) if found else None), limit


def support_filter(params):
    """GET /support/accounts: ?state=&disableBefore=&deleteBefore=&email=&limit=&cursor="""
    from pastdue.adapters.store import AccountFilter

    limit, cursor = _paging(
        params,
        {"state", "disableBefore", "deleteBefore", "email"},
        SUPPORT_LIST_LIMIT,
        SUPPORT_LIST_MAX,
        SUPPORT_CURSOR,
    )
    if cursor is not None:
        continuation(cursor)
    state = params.get("state")
    if state is not None and state not in STATES:
        raise BadRequest(f"'state' must be one of {', '.join(STATES)}", field="state")
    disable, delete = (
        checked(params, name, "", strict.timestamp, required=False, max_length=40)
        for name in ("disableBefore", "deleteBefore")
    )
    mail = checked(params, "email", "", strict.mailbox, required=False)
    return AccountFilter(state, disable, delete, mail), limit, cursor


def continuation(cursor: str) -> None:
    """A support-list cursor is the base64url of the store's continuation: it must decode to a small,
    shallow JSON object or array (what the store gives), or it is refused before the store sees it."""
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        value = strict.loads(raw, limit=CONTINUATION_BYTES, depth=CONTINUATION_DEPTH)
    except (ValueError, binascii.Error):
        value = None
    if not isinstance(value, dict | list) or not value:
        raise BadRequest("'cursor' is not one this API gave (use the 'next' of the page before)", field="cursor")
