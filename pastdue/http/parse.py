"""Request bodies of the API turned into domain values, with errors naming the field."""

from __future__ import annotations

import re

from pastdue.domain.model import CARD, INVOICE, Admin, PaymentMode, Remittance
from pastdue.http import strict
from pastdue.http.endpoint import ID_PATTERN, checked, obj_field, text
from pastdue.http.problems import BadRequest

# The fields each request body may have (docs/openapi.yaml, additionalProperties: false).
ADMIN = frozenset({"principalId", "email", "name", "locale"})
REMITTANCE = frozenset({"iban", "bic", "reference"})
ACCOUNT_PUT = frozenset(
    {
        "admin",
        "paymentMode",
        "paymentMethodToken",
        "gatewayCustomerId",
        "remittance",
        "currency",
        "timeZone",
        "synthetic",
    }
)
SUBSCRIPTION_PUT = frozenset({"displayName", "plan"})
EVENT = frozenset({"id", "type", "createdAt", "data"})
CHARGE_FAILED_DATA = frozenset({"accountId", "subscriptionId", "chargeId", "amount", "declineCode", "invoiceUrl"})
PAYMENT_RECEIVED_DATA = frozenset({"accountId", "amount", "reference"})
PAYMENT_METHOD_PUT = frozenset({"paymentMethodToken"})
ADMIN_CONTACT_PUT = frozenset({"email", "locale"})
PAUSE_DUNNING = frozenset({"until", "reason"})
EXTEND_GRACE = frozenset({"days", "reason"})
WRITE_OFF = frozenset({"reason", "notifyAdmin"})
# Support's actions whose reason is optional (the console always sends one): resend, resume, transfer.
REASON_ONLY = frozenset({"reason"})
TRANSFER_ADMIN = ADMIN | REASON_ONLY

LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# A sandbox token, a Stripe PaymentMethod, or the Stripe SetupIntent a card was set up with.
TOKEN = re.compile(r"(tok|pm|seti)_[A-Za-z0-9_]{1,100}")
CUSTOMER = re.compile(r"cus_[A-Za-z0-9_]{1,100}")


def admin(body: dict, path: str = "admin.") -> Admin:
    return Admin(
        principal_id=text(body, "principalId", path),
        email=email(body, "email", path),
        name=text(body, "name", path),
        locale=locale(body, path) or "en-US",
    )


def email(body: dict, name: str = "email", path: str = "") -> str:
    return checked(body, name, path, strict.mailbox)


def locale(body: dict, path: str = "") -> str | None:
    return text(body, "locale", path, required=False, max_length=35, pattern=LOCALE)


def created_at(body: dict):
    """The event's own time (required): the calendar counts from it, not from its arrival."""
    return checked(body, "createdAt", "", strict.timestamp, max_length=40)


def payment_mode(body: dict) -> PaymentMode:
    mode = body.get("paymentMode")
    if mode not in (CARD, INVOICE):
        raise BadRequest("'paymentMode' must be 'card' or 'invoice'", field="paymentMode")
    return PaymentMode(mode)


def remittance(body: dict) -> Remittance | None:
    data = obj_field(body, "remittance", required=False, fields=REMITTANCE)
    if data is None:
        return None
    return Remittance(
        text(data, "iban", "remittance.", max_length=34),
        text(data, "bic", "remittance.", max_length=11),
        text(data, "reference", "remittance.", max_length=140),
    )


def token(body: dict) -> str:
    return text(body, "paymentMethodToken", max_length=104, pattern=TOKEN)


def optional_token(body: dict) -> str | None:
    return text(body, "paymentMethodToken", required=False, max_length=104, pattern=TOKEN)


def invoice_url(data: dict, portal_url: str) -> str | None:
    """data.invoiceUrl: the charge's invoice in the portal (notices link only to the portal's domain)."""
    from urllib.parse import urlsplit

    value = text(data, "invoiceUrl", "data.", required=False, max_length=2000)
    if value is None:
        return None
    portal, given = urlsplit(portal_url), urlsplit(value)
    if (given.scheme, given.netloc) != (portal.scheme, portal.netloc) or any(c in value for c in " \"'<>"):
        raise BadRequest(
            f"'data.invoiceUrl' must be a page of the portal ({portal.scheme}://{portal.netloc}/...)",
            field="data.invoiceUrl",
        )
    return value


def gateway_customer(body: dict) -> str | None:
    return text(body, "gatewayCustomerId", required=False, max_length=104, pattern=CUSTOMER)


def time_zone(body: dict) -> str | None:
    """An IANA time zone the system knows (Europe/Paris, America/New_York, UTC)."""
    value = text(body, "timeZone", required=False, max_length=64, pattern=re.compile(r"[A-Za-z0-9_+\-/]{1,64}"))
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest("'timeZone' must be an IANA time zone, e.g. Europe/Paris", field="timeZone") from None
    return value


def currency(body: dict) -> str:
    return checked(body, "currency", "", strict.currency, required=False, max_length=3) or "EUR"


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
    mail = email(params, "email") if params.get("email") is not None else None
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


def reason(body: dict) -> str:
    return text(body, "reason", "", max_length=500)


def optional_reason(body: dict) -> str | None:
    """The reason of an action that may go without one; when given, held to the same rule as `reason`."""
    return text(body, "reason", "", required=False, max_length=500)


def pause_until(body: dict):
    return checked(body, "until", "", strict.timestamp, max_length=40)


def grace_days(body: dict) -> int:
    days = body.get("days")
    if type(days) is not int or not 1 <= days <= 365:
        raise BadRequest("'days' must be a whole number of days from 1 to 365", field="days")
    return days


def flag(body: dict, name: str, default: bool) -> bool:
    """An optional true/false field; anything else (1, "yes", null given) is a 400."""
    value = body.get(name, default)
    if type(value) is not bool:
        raise BadRequest(f"'{name}' must be true or false", field=name)
    return value


def synthetic(body: dict) -> bool:
    return flag(body, "synthetic", False)


def notify(body: dict) -> bool:
    return flag(body, "notifyAdmin", True)
